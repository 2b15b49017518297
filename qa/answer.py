"""Answers: quoted passages with citations, or an abstention. Only fixed wording is added."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from .corpus import Document
from .passages import PassageRecord

ABSTAIN_MESSAGE = "The articles do not answer this question, so nothing is quoted."
NOT_ENGLISH_MESSAGE = ("This bot reads English only, and no passage of the (English) articles matches this question, "
                       "so nothing is quoted. Please ask in English.")
ANSWER_HEADING = "Passages quoted word for word from the articles:"
SUGGESTIONS_HEADING = "Questions the articles do answer:"


def citation(source: Document | Passage, markdown: bool = False) -> str:
    """One readable citation built only from the source's stated fields. As Markdown, the text is escaped and
    the title links to the source when its URL is known."""
    text = escape_markdown if markdown else str
    title = text(f"“{source.title}”")
    link = safe_url(source.url) if markdown else None
    if link:
        title = f"[{title}]({link})"
    date = source.date.replace("T", " ") if source.date else "date not stated"
    if source.kind == "comment":
        where = f" ({source.comment_location})" if source.comment_location else ""
        return text(f"Reader comment by {source.comment_author}{where}, {date}, posted below ") + title + \
            text(f" ({source.publisher})")
    by = f", by {', '.join(source.authors)}" if source.authors else ""
    url = f", {source.url}" if source.url and not markdown else ""
    return title + text(f", {source.publisher}, {date}{by}{url}")


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

    @classmethod
    def quote(cls, record: PassageRecord, doc: Document, score: float, highlights: list[tuple[int, int]]) -> Passage:
        return cls(text=record.text, doc_id=doc.id, passage_id=record.passage_id, start=record.start, end=record.end,
                   score=round(float(score), 6), highlights=highlights, title=doc.title, publisher=doc.publisher,
                   date=doc.date, url=doc.url, authors=list(doc.authors), kind=doc.kind,
                   comment_author=doc.comment_author, comment_location=doc.comment_location,
                   citation=citation(doc))


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool
    passages: list[Passage] = field(default_factory=list)
    message: str = ""
    suggestions: list[str] = field(default_factory=list)  # when abstaining: example questions the corpus answers

    def to_dict(self) -> dict:
        data = asdict(self)
        for p in data["passages"]:
            p["highlights"] = [list(h) for h in p["highlights"]]
        return data

    def to_markdown(self) -> str:
        """Markdown for people. Quoted text is escaped so it shows as written, never as markup."""
        if self.abstained:
            examples = "".join(f"\n- {escape_markdown(q)}" for q in self.suggestions)
            return self.message + (f"\n\n{SUGGESTIONS_HEADING}{examples}" if examples else "")
        blocks = [self.message]
        for n, p in enumerate(self.passages, 1):
            quote = _marked(p.text, p.highlights).replace("\n\n", "\n>\n> ")
            blocks.append(f"**[{n}]** {citation(p, markdown=True)}\n\n> {quote}")
        return "\n\n".join(blocks)


def _marked(text: str, highlights: list[tuple[int, int]]) -> str:
    """Escaped text with the highlighted sentences inside <mark> (the only tag, from this fixed template)."""
    out, pos = [], 0
    for start, end in highlights:
        out += [escape_markdown(text[pos:start]), "<mark>", escape_markdown(text[start:end]), "</mark>"]
        pos = end
    return "".join(out + [escape_markdown(text[pos:])])


def escape_markdown(text: str) -> str:
    """Escape Markdown and HTML so that `text` shows exactly as written: `&`, `<` and `>` become entities
    (a renderer that passes raw HTML through would otherwise build tags), inline markup gets a backslash.
    `.` and `-` are left alone so that a URL stays a working link."""
    entities = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    specials = "\\`*_{}[]()#+!|~"
    return "".join(entities.get(c) or ("\\" + c if c in specials else c) for c in text)


def highlight_spans(record: PassageRecord, sentence_sims: np.ndarray, margin: float) -> list[tuple[int, int]]:
    """The passage's best sentence, and any within `margin` of it, as spans in the passage text."""
    if not len(sentence_sims):
        return [(0, len(record.text))]
    best = float(sentence_sims.max())
    return [span for span, sim in zip(record.sentences, sentence_sims) if sim >= best - margin]
