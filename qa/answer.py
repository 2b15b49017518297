"""Answers: quoted passages with citations, or an abstention. Only fixed wording is added."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .corpus import Document
from .passages import PassageRecord

ABSTAIN_MESSAGE = "The articles do not answer this question, so nothing is quoted."
NOT_ENGLISH_MESSAGE = ("This bot reads English only, and no passage of the (English) articles matches this question, "
                       "so nothing is quoted. Please ask in English.")
ANSWER_HEADING = "Passages quoted word for word from the articles:"


def citation(doc: Document) -> str:
    """One readable citation built only from the document's stated fields."""
    date = doc.date.replace("T", " ") if doc.date else "date not stated"
    if doc.kind == "comment":
        where = f" ({doc.comment_location})" if doc.comment_location else ""
        return f"Reader comment by {doc.comment_author}{where}, {date}, posted below “{doc.title}” ({doc.publisher})"
    by = f", by {', '.join(doc.authors)}" if doc.authors else ""
    url = f", {doc.url}" if doc.url else ""
    return f"“{doc.title}”, {doc.publisher}, {date}{by}{url}"


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
    citation: str

    @classmethod
    def quote(cls, record: PassageRecord, doc: Document, score: float, highlights: list[tuple[int, int]]) -> Passage:
        return cls(text=record.text, doc_id=doc.id, passage_id=record.passage_id, start=record.start, end=record.end,
                   score=round(float(score), 6), highlights=highlights, title=doc.title, publisher=doc.publisher,
                   date=doc.date, url=doc.url, authors=list(doc.authors), kind=doc.kind,
                   comment_author=doc.comment_author, citation=citation(doc))


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool
    passages: list[Passage] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        for p in data["passages"]:
            p["highlights"] = [list(h) for h in p["highlights"]]
        return data

    def to_markdown(self) -> str:
        """Markdown for people. Quoted text is escaped so it shows as written, never as markup."""
        if self.abstained:
            return self.message
        blocks = [self.message]
        for n, p in enumerate(self.passages, 1):
            quote = _marked(p.text, p.highlights).replace("\n\n", "\n>\n> ")
            blocks.append(f"**[{n}]** {escape_markdown(p.citation)}\n\n> {quote}")
        return "\n\n".join(blocks)


def _marked(text: str, highlights: list[tuple[int, int]]) -> str:
    """Escaped text with the highlighted sentences in bold."""
    out, pos = [], 0
    for start, end in highlights:
        out += [escape_markdown(text[pos:start]), "**", escape_markdown(text[start:end]), "**"]
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
