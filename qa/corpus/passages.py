"""Split documents into paragraph-sized passages with offsets into the document body."""
from __future__ import annotations

from dataclasses import dataclass

from qa.config import MAX_PASSAGE_CHARS
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
    so that a one-line paragraph keeps the context that names what it is about.

    Linear in the body: word counts and each paragraph's last visible character are computed once, and a merged
    span's are read off its paragraphs (only newlines lie between paragraphs, so they add no word and no character)."""
    if len(spans) < 2:
        return list(spans)
    words = [len(body[s:e].split()) for s, e in spans]
    last_visible: list[int] = []  # position of the last non-space character up to each paragraph's end, -1 if none
    for s, e in spans:
        stripped = len(body[s:e].rstrip())
        last_visible.append(s + stripped - 1 if stripped else (last_visible[-1] if last_visible else -1))
    # A merged span is (start, index of its last paragraph, words); `done` are the spans before the current one.
    done: list[tuple[int, int, int]] = []
    current = (spans[0][0], 0, words[0])
    following = 1  # the next paragraph not yet merged
    while len(done) + 1 + len(spans) - following > 1:
        start, last, count = current
        if count >= min_words:
            done.append(current)
            if following == len(spans):
                return [(s, spans[k][1]) for s, k, _ in done]
            current, following = (spans[following][0], following, words[following]), following + 1
            continue
        ends_with_colon = last_visible[last] >= start and body[last_visible[last]] == ":"
        if not done or (ends_with_colon and following < len(spans)):
            current, following = (start, following, count + words[following]), following + 1
        else:
            previous = done.pop()
            current = (previous[0], last, previous[2] + count)
    rest = [(spans[k][0], spans[k][1]) for k in range(following, len(spans))]
    return [(s, spans[k][1]) for s, k, _ in [*done, current]] + rest


def _sentence_pieces(body: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """body[start:end] as consecutive runs of whole sentences of at most `max_chars` each (the white space between
    two runs left out); a sentence longer than that is cut at its last space before the limit, or at the limit."""
    if end - start <= max_chars:
        return [(start, end)]
    sentences = [(start + a, start + b) for p, q in paragraph_spans(body[start:end])
                 for a, b in sentence_spans(body[start:end], p, q)]
    pieces: list[tuple[int, int]] = []
    for a, b in sentences:
        if pieces and b - pieces[-1][0] <= max_chars:
            pieces[-1] = (pieces[-1][0], b)
            continue
        while b - a > max_chars:  # one sentence over the limit
            space = body.rfind(" ", a + 1, a + max_chars + 1)
            cut = space if space > a else a + max_chars
            pieces.append((a, len(body[:cut].rstrip())))
            a = cut + len(body[cut:b]) - len(body[cut:b].lstrip())
        if a < b:
            pieces.append((a, b))
    return pieces


def passage_id(doc_id: str, number: int) -> str:
    """The id of a document's passage `number` (from 1, in order): 'doc#p3'."""
    return f"{doc_id}#p{number}"


def split_document(doc: Document, min_words: int, max_chars: int = MAX_PASSAGE_CHARS) -> list[PassageRecord]:
    """The passages of `doc`: its paragraphs, short ones joined to a neighbour (`min_words`), long ones split at
    sentence boundaries into passages of at most `max_chars` characters (an answer's size stays bounded)."""
    spans = [piece for start, end in _merge_short(paragraph_spans(doc.body), doc.body, min_words)
             for piece in _sentence_pieces(doc.body, start, end, max_chars)]
    records = []
    for n, (start, end) in enumerate(spans):
        text = doc.body[start:end]
        sentences = tuple(s for a, b in paragraph_spans(text) for s in sentence_spans(text, a, b))
        records.append(PassageRecord(passage_id(doc.id, n + 1), doc.id, start, end, text, sentences))
    return records
