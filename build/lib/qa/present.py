"""HTML for the chat's side panel: the list of sources and the source viewer.

All corpus text is escaped; the only markup comes from the fixed templates below."""
from __future__ import annotations

from html import escape

from qa.answer.model import Passage, safe_url, shown_date, shown_location
from qa.corpus.documents import Document
from qa.corpus.text import paragraph_spans

QUOTED_ID = "quoted-passage"  # the first marked stretch, scrolled into view by the chat


def _byline(doc: Document) -> str:
    parts = [doc.publisher, shown_date(doc.date)]
    if doc.kind == "comment":
        parts.insert(0, f"Reader comment by {doc.comment_author}{shown_location(doc)}, posted below this article")
    elif doc.authors:
        parts.append("by " + ", ".join(doc.authors))
    return escape(" · ".join(parts))


def _title(doc: Document) -> str:
    url = safe_url(doc.url)
    title = escape(doc.title)
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{title}</a>' if url else title


def sources_html(documents: list[Document]) -> str:
    """The list of sources, with publisher and date."""
    items = "".join(f"<li>{_title(d)}<br><small>{_byline(d)}</small></li>" for d in documents)
    return f'<div class="sources"><h3>Sources</h3><ol>{items}</ol></div>'


def source_html(doc: Document, start: int | None = None, end: int | None = None) -> str:
    """The whole document, with body[start:end] marked; the first mark carries QUOTED_ID."""
    paragraphs = []
    for p_start, p_end in paragraph_spans(doc.body):
        lo, hi = max(p_start, start or 0), min(p_end, end or 0)
        if start is None or lo >= hi:
            paragraphs.append(f"<p>{escape(doc.body[p_start:p_end])}</p>")
            continue
        mark_id = f' id="{QUOTED_ID}"' if lo == start else ""
        paragraphs.append(f"<p>{escape(doc.body[p_start:lo])}<mark{mark_id}>{escape(doc.body[lo:hi])}</mark>"
                          f"{escape(doc.body[hi:p_end])}</p>")
    kind = "Reader comment" if doc.kind == "comment" else "Article"
    return (f'<article class="source-view"><p><small>{kind}</small></p><h3>{_title(doc)}</h3>'
            f"<p><small>{_byline(doc)}</small></p>{''.join(paragraphs)}</article>")


def passage_choices(passages: list[Passage]) -> list[tuple[str, str]]:
    """(label, passage id) for each quoted passage, numbered as in the answer."""
    return [(f"[{n}] {_short_source(p)}", p.passage_id) for n, p in enumerate(passages, 1)]


def _short_source(p: Passage) -> str:
    if p.kind == "comment":
        return f"Reader comment by {p.comment_author}, below “{p.title}”"
    return f"“{p.title}”, {p.publisher}, {p.date or 'date not stated'}"
