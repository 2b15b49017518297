"""HTML for the chat: the conversation (questions and answers), the list of sources and the source viewer.

Every corpus and user string is escaped, and quotes are shown with `white-space: pre-wrap`, so they appear on screen
character for character: no Markdown is rendered, so nothing turns into a list, link, formula or emphasis. The only
markup comes from the fixed templates below: highlights (<mark>), citation links to a document's stated URL, and the
copy and open buttons. A button's `data-copy` holds the plain text it copies (qa.answer.export); `data-open` the id
of the passage it opens in the source viewer."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape as escape_html
from urllib.parse import urlencode

from qa.answer.export import ALSO_IN, answer_text, differ_lines, filter_text, quote_text
from qa.answer.model import (
    NOTICE_PREFIX,
    SEARCHED_PREFIX,
    SUGGESTIONS_HEADING,
    Answer,
    Passage,
    mark_spans,
    safe_url,
    shown_date,
    shown_location,
)
from qa.config import MAX_FIND_CHARS
from qa.corpus.collection import Collection
from qa.corpus.documents import Document
from qa.corpus.text import paragraph_spans
from qa.safe_text import BIDI_CONTROL, isolated
from qa.search.filters import Filter
from qa.search.fulltext import SearchResults


def escape(text: str) -> str:
    """`text` escaped for HTML, a carriage return as a reference: the parser would make a raw one a line feed."""
    return escape_html(text).replace("\r", "&#13;")


def field(text: str) -> str:
    """An escaped field of a document, in <bdi> when it holds a direction control, which then cannot reorder the
    fields shown after it."""
    return f"<bdi>{escape(text)}</bdi>" if BIDI_CONTROL.search(text) else escape(text)


QUOTED_ID = "quoted-passage"  # the first marked stretch, scrolled into view by the chat
OPEN = "Open in source viewer"
ALL_SOURCES = "All sources"  # back from a document to the list


def _byline(doc: Document) -> str:
    parts = [field(part) for part in (doc.publisher, shown_date(doc.date)) if part]  # a file may state no publisher
    if doc.kind == "comment":
        parts.insert(0, f"Reader comment by {field(doc.comment_author or '')}{field(shown_location(doc))}, "
                        "posted below this article")
    elif doc.authors:
        parts.append("by " + ", ".join(map(field, doc.authors)))
    return " · ".join(parts)


def _title(doc: Document) -> str:
    """The title as the document states it, or its file's name when it states none (an imported file)."""
    return _link(doc.url, doc.title or doc.source_file or doc.id)


DEFAULT_TITLE = "Answers quoted from the documents"
DEFAULT_DESCRIPTION = ("The bot answers only with passages quoted word for word from the documents, each with its "
                       "source; when they do not answer, it says so.")


def intro_html(collection: Collection) -> str:
    """The chat's heading and introduction, as the corpus folder's collection.yaml words them (qa/corpus/collection.py),
    or the product's own neutral wording."""
    return (f"<h1>{escape(collection.title or DEFAULT_TITLE)}</h1>"
            f"<p>{escape(collection.description or DEFAULT_DESCRIPTION)}</p>")


SOURCES_PER_PAGE = 50  # a corpus of thousands of documents is listed a page at a time


def find_sources(documents: list[Document], query: str = "") -> list[Document]:
    """The documents whose title, publisher, authors or date hold every word of `query` (case aside)."""
    words = query.lower().split()
    if not words:
        return documents
    return [d for d in documents
            if all(w in " ".join([d.title, d.publisher, *d.authors, d.date or ""]).lower() for w in words)]


def page_count(found: int, per_page: int = SOURCES_PER_PAGE) -> int:
    return max(1, -(-found // per_page))


@dataclass(frozen=True)
class SourceList:
    """One page of the source list: its HTML, the page shown (clamped to those there are) and how many pages."""

    html: str
    page: int
    pages: int


def source_list(documents: list[Document], query: str = "", page: int = 1,
                per_page: int = SOURCES_PER_PAGE) -> SourceList:
    """The list of sources, with publisher and date: those matching `query`, page `page` of them."""
    if len(query) > MAX_FIND_CHARS:  # every word is looked for in every source: the cost grows with both
        return SourceList(f'<div class="sources"><h3>Sources</h3><p class="count" role="status">The search is '
                          f"{len(query):,} characters long; the limit is {MAX_FIND_CHARS}. Search for fewer words."
                          "</p></div>", 1, 1)
    found = find_sources(documents, query)
    pages = page_count(len(found), per_page)
    page = min(max(page, 1), pages)
    first = (page - 1) * per_page
    shown = found[first:first + per_page]
    items = "".join(f"<li>{_title(d)}<br><small>{_byline(d)}</small> "
                    f"{_button('Read', f'Read the whole of {d.title or d.source_file or d.id}', open=d.id)}</li>"
                    for d in shown)
    status = ""
    if query.strip() or len(found) > per_page:
        matching = f" matching “{escape(query.strip())}”" if query.strip() else ""
        status = (f'<p class="count" role="status">{len(found):,} of {len(documents):,} sources{matching}'
                  + (f"; {first + 1:,}–{first + len(shown):,} shown, page {page} of {pages}" if shown else "")
                  + "</p>")
    start = f' start="{first + 1}"' if first else ""
    return SourceList(f'<div class="sources"><h3>Sources</h3>{status}<ol{start}>{items}</ol></div>', page, pages)


def sources_html(documents: list[Document], query: str = "", page: int = 1, per_page: int = SOURCES_PER_PAGE) -> str:
    return source_list(documents, query, page, per_page).html


def source_choices(documents: list[Document]) -> list[tuple[str, str]]:
    """(label, document id) of each source, for choosing the sources an answer may quote."""
    def label(d: Document) -> str:
        stated = ", ".join(isolated(part) for part in (d.publisher, d.date[:10] if d.date else "undated") if part)
        return f"{isolated(d.title or d.source_file or d.id)} ({stated})"
    return [(label(d), d.id) for d in documents]


def _page_html(number: int) -> str:
    return f'<span class="page-no" role="note">[page {number}]</span>'


def _paragraph_html(body: str, p_start: int, p_end: int, cuts: list[int], mark: tuple[int, int] | None,
                    page_of: dict[int, int]) -> str:
    """One paragraph: body[mark[0]:mark[1]] inside <mark> (the first with QUOTED_ID), and the page number where a
    page of a PDF begins inside it. `cuts`: the offsets where a mark or a page begins or ends."""
    out, pos = [], p_start
    for cut in [c for c in cuts if p_start < c < p_end] + [p_end]:
        text = escape(body[pos:cut])
        if mark and mark[0] <= pos < mark[1]:
            text = (f'<mark id="{QUOTED_ID}">' if pos == mark[0] else "<mark>") + text + "</mark>"
        out.append(text + (_page_html(page_of[cut]) if cut in page_of and cut < p_end else ""))
        pos = cut
    return "".join(out)


def source_html(doc: Document, start: int | None = None, end: int | None = None) -> str:
    """The whole document, with body[start:end] marked (the first mark carries QUOTED_ID) and, for a PDF, the number
    of each page where it begins."""
    pages = doc.pages or ()
    page_of = {offset: n for n, offset in enumerate(pages, 1)}
    mark = (start, end) if start is not None and end is not None else None
    cuts = sorted({*pages, *(mark or ())})
    out, following = [], 0  # the next page whose number is not shown yet
    for p_start, p_end in paragraph_spans(doc.body):
        while following < len(pages) and pages[following] <= p_start:  # pages that begin with a paragraph
            following += 1
            out.append(f"<p>{_page_html(following)}</p>")
        out.append(f"<p>{_paragraph_html(doc.body, p_start, p_end, cuts, mark, page_of)}</p>")
        while following < len(pages) and pages[following] < p_end:
            following += 1
    kind = "Reader comment" if doc.kind == "comment" else "Article"
    return (f'<article class="source-view"><p><small>{kind}</small> {_button(ALL_SOURCES, ALL_SOURCES, open="")}</p>'
            f'<h3>{_title(doc)}</h3>'
            f"<p><small>{_byline(doc)}</small></p>{''.join(out)}</article>")


def _link(url: str | None, text: str) -> str:
    """Escaped `text`, linked to `url` when it is a plain http(s) URL."""
    url = safe_url(url)
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{field(text)}</a>' if url else field(text)


@dataclass(frozen=True)
class Turn:
    """One exchange of the chat: the question as typed, and its answer, or why there is none."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    limit: Filter | None = None  # the sources and dates the answer was limited to
    k: int | None = None  # as asked: None for the default (3, or every source's figure)


MAX_MORE = 10  # "More quotes" asks again for up to this many


def link(turn: Turn, earlier: Sequence[str] = ()) -> str:
    """The query string of a link that asks `turn`'s question again with its k, filters and the earlier questions
    it followed (qa/desk.py reads it back)."""
    pairs: list[tuple[str, str]] = [("q", turn.question)]
    if turn.k is not None:
        pairs.append(("k", str(turn.k)))
    if turn.limit is not None:
        pairs += [("source", s) for s in sorted(turn.limit.sources or ())]
        pairs += [(name, value) for name, value in (("since", turn.limit.since), ("until", turn.limit.until)) if value]
    pairs += [("h", q) for q in earlier]
    return "?" + urlencode(pairs)


def star_key(p: Passage) -> str:
    """What a Star button sends: the passage id and the spans marked where it was starred (qa/desk.py parse_star)."""
    return f"star:{p.passage_id}|" + ",".join(f"{a}-{b}" for a, b in p.highlights)


def error_reply(message: str) -> str:
    """'Sorry, <message>.' with one final period, whether or not the message ends with one."""
    return f"Sorry, {message.rstrip('.')}."


def citation_html(p: Passage) -> str:
    """`p.citation` as it reads, with the title linked to the document's URL when known: the visible text is the
    citation character for character."""
    title = f"“{isolated(p.title)}”"  # as qa.answer.model.citation writes it
    at = p.citation.rfind(title) if p.kind == "comment" else (0 if p.citation.startswith(title) else -1)
    if at < 0:
        return escape(p.citation)
    return escape(p.citation[:at]) + _link(p.url, title) + escape(p.citation[at + len(title):])


def marked_html(text: str, highlights: list[tuple[int, int]]) -> str:
    """Escaped text with the highlighted sentences inside <mark>."""
    return mark_spans(text, highlights, escape, "<mark>", "</mark>")


def _button(label: str, name: str, **data: str) -> str:
    # data-copy: text to copy; data-open: a passage or document id to open in the viewer; data-key: an action the
    # server carries out (star:, unstar:, more:).
    """A button with visible `label` and accessible `name` (which starts with the label)."""
    attrs = "".join(f' data-{key}="{escape(value)}"' for key, value in data.items())
    return f'<button type="button" class="act" aria-label="{escape(name)}"{attrs}>{escape(label)}</button>'


def _quote_html(p: Passage, n: int, noun: str = "quote", keep: str | None = None) -> str:
    """A quote (or a search hit: `noun`) with its citation, near-identical sources and its buttons, the last of them
    `keep` (by default Star, to keep it in the collection)."""
    keep = keep or _button("Star", f"Star {noun} {n}: keep it in the collection", key=star_key(p))
    also = "".join(f'<p class="also">{escape(ALSO_IN)}{citation_html(q)} '
                   f'{_button(OPEN, f"{OPEN}: the same in {q.publisher}", open=q.passage_id)}</p>' for q in p.also_in)
    return (f'<figure class="quote" data-quote="{n}"><blockquote class="quote-text">{marked_html(p.text, p.highlights)}'
            f'</blockquote><figcaption class="citation"><span class="num">[{n}]</span> {citation_html(p)}</figcaption>'
            f'{also}<p class="actions">{_button("Copy quote", f"Copy {noun} {n} with its citation", copy=quote_text(p))} '
            f'{_button(OPEN, f"{OPEN}: {noun} {n}", open=p.passage_id)} '
            f'{keep}</p></figure>')


def _filtered_html(limit: Filter | None) -> str:
    return f'<p class="filtered" role="note">{escape(filter_text(limit))}</p>' if limit else ""


def answer_html(answer: Answer, limit: Filter | None = None, turn: int | None = None, href: str | None = None) -> str:
    """An answer: what it was limited to, its message line as given (which names its confidence), what a follow-up
    searched for, where sources differ (a short list, one line per source), then each quote with its citation and
    controls; with the number of its `turn`, a More quotes button, and a link (`href`) that asks it again."""
    parts = [f'{_filtered_html(limit)}<p class="message">{escape(answer.message)}</p>']
    if answer.abstained:
        if answer.suggestions:
            items = "".join(f"<li>{escape(q)}</li>" for q in answer.suggestions)
            parts.append(f'<p class="label">{escape(SUGGESTIONS_HEADING)}</p><ul class="suggestions">{items}</ul>')
        return "".join(parts)
    if answer.searched_for:
        parts.append(f'<p class="searched"><strong>{escape(SEARCHED_PREFIX.rstrip())}</strong> '
                     f'{field(answer.searched_for)}</p>')
    if answer.disagreement:
        items = "".join(f"<li>{escape(line)}</li>" for line in differ_lines(answer))
        parts.append(f'<div class="differ" role="note"><p class="label"><strong>{escape(NOTICE_PREFIX.rstrip())}'
                     f'</strong></p><ul>{items}</ul></div>')
    parts += [_quote_html(p, n) for n, p in enumerate(answer.passages, 1)]
    actions = []
    if turn is not None and len(answer.passages) < MAX_MORE:
        actions.append(_button("More quotes", f"More quotes for question {turn + 1}: up to {MAX_MORE}",
                               key=f"more:{turn}"))
    if href:
        actions.append(f'<a class="act" href="{escape(href)}" target="_blank" rel="noopener" aria-label="Link to this '
                       f'answer: asks it again in a new page">Link to this answer</a>')
    actions.append(_button("Copy answer", "Copy answer with all its quotes and citations", copy=answer_text(answer, limit)))
    parts.append(f'<p class="actions">{" ".join(actions)}</p>')
    return "".join(parts)


def conversation_html(turns: list[Turn]) -> str:
    """Every question as typed and its answer, oldest first."""
    if not turns:
        return '<p class="empty">Answers appear here, quoted word for word from the documents.</p>'
    out = []
    for n, t in enumerate(turns):
        earlier = [e.question for e in turns[:n] if e.answer]
        reply = (answer_html(t.answer, t.limit, n, link(t, earlier)) if t.answer
                 else f'<p class="message">{escape(error_reply(t.error or ""))}</p>')
        out.append(f'<section class="turn"><div class="asked"><p class="who">You asked</p>'
                   f'<p class="question" data-testid="user">{escape(t.question)}</p></div>'
                   f'<div class="reply" data-testid="bot">{reply}</div></section>')
    return "".join(out)


def search_html(results: SearchResults | None, error: str | None = None) -> str:
    """Search results: the count, what they are limited to, the count per document, then each hit numbered in the
    whole list, with the user's words marked and the controls of a quote."""
    if error is not None:
        return f'<p class="message" role="status">{escape(error_reply(error))}</p>'
    if results is None:
        return ('<p class="empty">Every passage holding all your words is listed here; put "quotation marks" '
                'around an exact phrase.</p>')
    shown = (f"; {results.first:,}–{results.first + len(results.hits) - 1:,} shown, page {results.page} of "
             f"{results.pages}" if results.hits else "")
    order = "best match first" if results.order == "relevance" else "oldest first"
    limit = Filter(frozenset(results.sources) if results.sources is not None else None, results.since, results.until)
    parts = [f'<p class="count" role="status">{results.total:,} passages in {results.matched_documents:,} documents match: '
             f'{escape(results.query)} ({order}){shown}</p>',
             _filtered_html(limit if limit != Filter() else None)]
    if results.documents:
        items = "".join(f"<li>{escape(d.title)}: {d.count:,}</li>" for d in results.documents)
        more = results.matched_documents - len(results.documents)
        parts.append(f'<details class="per-doc"><summary>Matches per document</summary><ul>{items}</ul>'
                     + (f"<p>and {more:,} more documents</p>" if more > 0 else "") + "</details>")
    parts += [_quote_html(p, n, "hit") for n, p in enumerate(results.hits, results.first)]
    return "".join(parts)


def collection_html(passages: list[Passage]) -> str:
    """The starred passages, each with its citation and its Copy, Open and Remove buttons."""
    if not passages:
        return '<p class="empty">Star a quote or a search hit to keep it here; the collection stays in this browser.</p>'
    items = [f'<p class="count" role="status">{len(passages):,} starred passages</p>']
    items += [_quote_html(p, n, "starred passage", _button("Remove", f"Remove starred passage {n} from the collection",
                                                            key=f"unstar:{p.passage_id}"))
              for n, p in enumerate(passages, 1)]
    return "".join(items)
