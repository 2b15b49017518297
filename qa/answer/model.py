"""Answers: quoted passages with citations, or an abstention. Only fixed wording is added."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from qa.corpus.documents import Document, page_at
from qa.corpus.passages import PassageRecord
from qa.safe_text import isolated

ABSTAIN_MESSAGE = "The documents do not answer this question, so nothing is quoted."
NOT_ENGLISH_MESSAGE = ("This bot reads English only, and no passage of the (English) documents matches this question, "
                       "so nothing is quoted. Please ask in English.")
ANSWER_HEADING = "Passages quoted word for word from the documents:"
NO_MATCH_MESSAGE = "No document matches the chosen sources and dates, so nothing is quoted."
# The heading of an 'uncertain' answer: the closest passages, which may be a near miss rather than an answer.
UNCERTAIN_HEADING = "These passages may not answer your question:"
CONFIDENCE_LEVELS = ("answered", "uncertain", "abstained")
SUGGESTIONS_HEADING = "Questions the documents do answer:"
SEARCHED_PREFIX = "Searched for: "  # then the user's own questions that a follow-up was searched with
NOTICE_PREFIX = "Sources differ: "  # then each figure as its passage words it, with its source


def place(doc: Document, start: int, end: int) -> tuple[int | None, int | None, bool]:
    """The first and last page of `doc` that its text [start, end) is on (None for a document without pages), and
    whether that text was read by OCR (its importer says so: a scan read with Tesseract, or a PDF's OCR layer)."""
    return page_at(doc, start), page_at(doc, max(start, end - 1)), "OCR" in (doc.importer or "")


def marked_pages(doc: Document, start: int, highlights: Sequence[Sequence[int]]) -> tuple[int | None, int | None]:
    """The first and last page of `doc` its highlighted sentences are on (spans of the passage text that starts at
    `start`); None without pages or highlights."""
    spans = [(a, b) for a, b in highlights if a < b]
    if not spans:
        return None, None
    return page_at(doc, start + spans[0][0]), page_at(doc, start + max(b for _, b in spans) - 1)


def pages_cited(page: int | None, last_page: int | None, marked: int | None = None,
                marked_last: int | None = None) -> str:
    """", p. 2" or ", pp. 1–2" for a passage on those pages; when its highlighted sentences are on fewer of them,
    their page comes first and the quote's pages follow: ", p. 2 (quote pp. 1–2)"."""
    def span(first: int, last: int | None) -> str:
        return f"pp. {first}–{last}" if last not in (None, first) else f"p. {first}"
    if page is None:
        return ""
    if marked is None or (marked, marked_last or marked) == (page, last_page or page):
        return f", {span(page, last_page)}"
    return f", {span(marked, marked_last)} (quote {span(page, last_page)})"


def citation(source: Document | Passage, markdown: bool = False, page: int | None = None, last_page: int | None = None,
             ocr: bool = False, marked: tuple[int | None, int | None] = (None, None)) -> str:
    """One readable citation built only from the source's stated fields, the pages a passage spans ("p. 2", or
    "pp. 1–2" across a page break; the page of its highlighted sentences first when they are on fewer: "p. 2 (quote
    pp. 1–2)") and "OCR" when its words were read by OCR (a Passage's own `page`, `last_page`, `highlight_page`,
    `highlight_last_page` and `ocr`; `place` and `marked_pages` give them for a document). A document that does not
    state its title or publisher (an imported file) is cited with what it states and its file's name. As Markdown, the
    text is escaped and the title links to the source when its URL is known."""
    text = escape_markdown if markdown else str
    f = isolated  # a field holding a direction control is isolated, so that it cannot reorder the rest
    if isinstance(source, Passage):
        page, last_page, ocr = source.page, source.last_page, source.ocr
        marked = (source.highlight_page, source.highlight_last_page)
    title = text(f"“{f(source.title)}”" if source.title else f(source.source_file or ""))
    link = safe_url(source.url) if markdown else None
    if link:
        title = f"[{title}]({link})"
    date = shown_date(source.date)
    if source.kind == "comment":
        location = f" ({f(source.comment_location)})" if source.comment_location else ""
        return text(f"Reader comment by {f(source.comment_author or '')}{location}, {f(date)}, posted below ") + \
            title + text(f" ({f(source.publisher)})")
    by = f", by {', '.join(map(f, source.authors))}" if source.authors else ""
    url = f", {f(source.url)}" if source.url and not markdown else ""
    publisher = f", {f(source.publisher)}" if source.publisher else ""
    file = f", file {f(source.source_file)}" if source.source_file and source.title and not source.publisher else ""
    at = pages_cited(page, last_page, *marked)
    return title + text(f"{publisher}, {f(date)}{by}{url}{file}{at}{', OCR' if ocr else ''}")


def shown_date(date: str | None) -> str:
    """A stated date as people read it ('2011-12-21 17:15'), or that none is stated."""
    return date.replace("T", " ") if date else "date not stated"


def shown_location(source: Document | Passage) -> str:
    """' (Washington DC)' for a reader comment that states where it was posted from, else ''."""
    return f" ({source.comment_location})" if source.comment_location else ""


def safe_url(url: str | None) -> str | None:
    """`url` when it is a plain http(s) link that can sit inside Markdown's (…), otherwise None."""
    if url and re.fullmatch(r"https?://[^\s()<>\"']+", url):
        return url
    return None


@dataclass(frozen=True)
class Passage:
    """A passage quoted verbatim: `text == body[start:end]` of document `doc_id`."""

    text: str
    doc_id: str
    passage_id: str
    start: int
    end: int
    score: float
    highlights: list[tuple[int, int]]  # spans in `text` of the sentences that best answer the question
    title: str
    publisher: str
    date: str | None
    url: str | None
    authors: list[str]
    kind: str  # "article" | "comment"
    comment_author: str | None
    comment_location: str | None
    citation: str
    # The same claim in near-identical words from other sources, shown once with every citation.
    also_in: list[Passage] = field(default_factory=list)
    page: int | None = None  # the page of a PDF on which the passage starts
    last_page: int | None = None  # and the one on which it ends
    ocr: bool = False  # its words were read by OCR (a scan), not the file's own characters
    source_file: str | None = None  # an imported document's file, named by a citation that lacks a publisher
    highlight_page: int | None = None  # the page its highlighted sentences start on (a PDF's passage)
    highlight_last_page: int | None = None  # and the one they end on: cited first when fewer than the passage's

    @classmethod
    def quote(cls, record: PassageRecord, doc: Document, score: float, highlights: list[tuple[int, int]]) -> Passage:
        page, last_page, ocr = place(doc, record.start, record.end)
        marked = marked_pages(doc, record.start, highlights)
        return cls(text=record.text, doc_id=doc.id, passage_id=record.passage_id, start=record.start, end=record.end,
                   score=round(float(score), 6), highlights=highlights, title=doc.title, publisher=doc.publisher,
                   date=doc.date, url=doc.url, authors=list(doc.authors), kind=doc.kind,
                   comment_author=doc.comment_author, comment_location=doc.comment_location,
                   citation=citation(doc, page=page, last_page=last_page, ocr=ocr, marked=marked), page=page,
                   last_page=last_page, ocr=ocr, source_file=doc.source_file, highlight_page=marked[0],
                   highlight_last_page=marked[1])


@dataclass(frozen=True)
class Figure:
    """A figure as a quoted passage words it: `text == passage.text[start:end]`."""

    text: str  # the qualifier and the number, e.g. "at least sixteen"
    measure: str  # what it counts: "killed" | "injured" | "detained"
    passage_id: str
    start: int
    end: int
    source: str  # the passage's source as the notice names it


@dataclass(frozen=True)
class Disagreement:
    """Figures for the same thing that differ between sources, and the notice listing them."""

    measure: str
    figures: list[Figure]
    notice: str


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool
    passages: list[Passage] = field(default_factory=list)
    message: str = ""
    suggestions: list[str] = field(default_factory=list)  # when abstaining: example questions the corpus answers
    searched_for: str | None = None  # a follow-up searched together with the turns it leans on
    disagreement: Disagreement | None = None
    # How sure the answer is: 'answered', 'uncertain' (the closest passages, under UNCERTAIN_HEADING) or 'abstained'
    # (nothing quoted). `abstained` is true exactly when it is 'abstained'; left empty, it follows `abstained`.
    confidence: str = ""

    def __post_init__(self) -> None:
        if not self.confidence:
            object.__setattr__(self, "confidence", "abstained" if self.abstained else "answered")

    def to_dict(self) -> dict:
        data = asdict(self)
        for p in data["passages"] + [q for p in data["passages"] for q in p["also_in"]]:
            p["highlights"] = [list(h) for h in p["highlights"]]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The Answer that `to_dict()` gave, e.g. as received from the `/ask` endpoint."""
        def passage(p: dict) -> Passage:
            return Passage(**{**p, "highlights": [tuple(h) for h in p["highlights"]],
                              "also_in": [passage(q) for q in p.get("also_in", [])]})
        d = data.get("disagreement")
        disagreement = Disagreement(d["measure"], [Figure(**f) for f in d["figures"]], d["notice"]) if d else None
        return cls(**{**data, "passages": [passage(p) for p in data["passages"]], "disagreement": disagreement})

    def to_markdown(self) -> str:
        """Markdown for people. Quoted text is escaped so it shows as written, never as markup."""
        if self.abstained:
            examples = "".join(f"\n- {escape_markdown(q)}" for q in self.suggestions)
            return self.message + (f"\n\n{SUGGESTIONS_HEADING}{examples}" if examples else "")
        blocks = [self.message]
        if self.searched_for:
            blocks.append(_labelled(SEARCHED_PREFIX, self.searched_for))
        if self.disagreement:
            blocks.append(_labelled(NOTICE_PREFIX, self.disagreement.notice.removeprefix(NOTICE_PREFIX)))
        for n, p in enumerate(self.passages, 1):
            quote = _marked(p.text, p.highlights).replace("\n\n", "\n>\n> ")
            cited = "; ".join(citation(q, markdown=True) for q in [p, *p.also_in])
            blocks.append(f"**[{n}]** {cited}\n\n> {quote}")
        return "\n\n".join(blocks)


def _labelled(label: str, text: str) -> str:
    """A fixed label in bold, then escaped text: 'Searched for: …', 'Sources differ: …'."""
    return f"**{label.rstrip()}** {escape_markdown(text)}"


def mark_spans(text: str, highlights: list[tuple[int, int]], escape: Callable[[str], str], opening: str,
               closing: str) -> str:
    """`text` escaped for where it is shown (Markdown, HTML, a terminal), each highlighted span between the fixed
    `opening` and `closing` marks: the only markup added."""
    out, pos = [], 0
    for start, end in highlights:
        out += [escape(text[pos:start]), opening, escape(text[start:end]), closing]
        pos = end
    return "".join(out + [escape(text[pos:])])


def _marked(text: str, highlights: list[tuple[int, int]]) -> str:
    """Escaped text with the highlighted sentences inside <mark> (the only tag, from this fixed template)."""
    return mark_spans(text, highlights, escape_markdown, "<mark>", "</mark>")


def escape_markdown(text: str) -> str:
    """Escape Markdown and HTML so that `text` shows exactly as written: `&`, `<` and `>` become entities
    (a renderer that passes raw HTML through would otherwise build tags), inline markup gets a backslash.
    `.` and `-` are left alone so that a URL stays a working link."""
    entities = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    specials = "\\`*_{}[]()#+!|~"
    return "".join(entities.get(c) or ("\\" + c if c in specials else c) for c in text)
