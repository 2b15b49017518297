"""Split documents into paragraph-sized passages with offsets into the document body."""
from __future__ import annotations

from dataclasses import dataclass

from qa.corpus.documents import Document
from qa.corpus.text import paragraph_spans, sentence_spans


@dataclass(frozen=True)
class PassageRecord:
    """An indexed passage: `doc.body[start:end] == text`. Sentence spans are offsets into `text`."""

    passage_id: str
    doc_id: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict:
        return {"passage_id": self.passage_id, "doc_id": self.doc_id, "start": self.start, "end": self.end,
                "text": self.text, "sentences": [list(s) for s in self.sentences]}

    @classmethod
    def from_dict(cls, data: dict) -> PassageRecord:
        return cls(data["passage_id"], data["doc_id"], data["start"], data["end"], data["text"],
                   tuple((a, b) for a, b in data["sentences"]))


def _merge_short(spans: list[tuple[int, int]], body: str, min_words: int) -> list[tuple[int, int]]:
    """Join each short paragraph to the previous one (to the next if it ends with ':' or comes first),
    so that a one-line paragraph keeps the context that names what it is about."""
    merged = list(spans)
    i = 0
    while len(merged) > 1 and i < len(merged):
        start, end = merged[i]
        if len(body[start:end].split()) >= min_words:
            i += 1
            continue
        forward = i == 0 or (body[start:end].rstrip().endswith(":") and i + 1 < len(merged))
        if forward:
            merged[i:i + 2] = [(start, merged[i + 1][1])]
        else:
            merged[i - 1:i + 1] = [(merged[i - 1][0], end)]
            i -= 1
    return merged


def split_document(doc: Document, min_words: int) -> list[PassageRecord]:
    records = []
    for n, (start, end) in enumerate(_merge_short(paragraph_spans(doc.body), doc.body, min_words)):
        text = doc.body[start:end]
        sentences = tuple(s for a, b in paragraph_spans(text) for s in sentence_spans(text, a, b))
        records.append(PassageRecord(f"{doc.id}#p{n + 1}", doc.id, start, end, text, sentences))
    return records
