"""The index's passages as columns, their text cut from the document bodies when asked for.

A list of PassageRecord objects holds every passage's text a second time (the bodies hold it already) and an object,
a string and a tuple per passage and sentence: about 1 KB a passage, so 10 GB at ten million passages. The table
holds four numbers a passage and two a sentence, and makes a passage's record only when one is read."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import overload

import numpy as np

from qa.corpus.documents import Document
from qa.corpus.passages import PassageRecord, passage_id


class Malformed(ValueError):
    """An index file parses but holds something no build writes; the message says what, to be logged."""


class PassageTable(Sequence[PassageRecord]):
    """`table[i]` is passage i's record, as split_document made it. A document's passages are consecutive rows,
    numbered from 1 in their ids (`<doc id>#p<n>`), as split_document numbers them."""

    def __init__(self, documents: Mapping[str, Document], doc_ids: list[str], doc: np.ndarray, start: np.ndarray,
                 end: np.ndarray, spans: np.ndarray, span_offsets: np.ndarray):
        self.documents, self.doc_ids = documents, doc_ids
        self.doc, self.start, self.end = doc, start, end  # doc: the row's document, an index into doc_ids
        self.spans, self.span_offsets = spans, span_offsets  # row i's sentence spans: spans[offsets[i]:offsets[i + 1]]
        self.first = np.searchsorted(doc, np.arange(len(doc_ids) + 1))  # each document's first row, and the end
        self.position = {d: k for k, d in enumerate(doc_ids)}  # each document's index in doc_ids

    @classmethod
    def of(cls, records: Iterable[PassageRecord], documents: Mapping[str, Document]) -> PassageTable:
        """The table of `records`; Malformed when they are not laid out as split_document lays them out."""
        doc_ids: list[str] = []
        doc: list[int] = []
        start: list[int] = []
        end: list[int] = []
        counts: list[int] = []
        spans: list[tuple[int, int]] = []
        for n, record in enumerate(records, 1):
            if not doc_ids or doc_ids[-1] != record.doc_id:
                doc_ids.append(record.doc_id)
                number = 0
            number += 1
            if record.passage_id != passage_id(record.doc_id, number):
                raise Malformed(f"passage {n} ({record.passage_id}) is not numbered in order within its document")
            doc.append(len(doc_ids) - 1)
            start.append(record.start)
            end.append(record.end)
            counts.append(len(record.sentences))
            spans.extend(record.sentences)
        if len(set(doc_ids)) != len(doc_ids):
            raise Malformed("the passages of a document are not consecutive")
        return cls(documents, doc_ids, np.array(doc, dtype=np.int32), np.array(start, dtype=np.int64),
                   np.array(end, dtype=np.int64), np.array(spans, dtype=np.int32).reshape(-1, 2),
                   np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]))

    def __len__(self) -> int:
        return len(self.doc)

    @overload
    def __getitem__(self, i: int) -> PassageRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[PassageRecord]: ...

    def __getitem__(self, i: int | slice) -> PassageRecord | list[PassageRecord]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        i = int(i)
        if not -len(self) <= i < len(self):
            raise IndexError(f"passage row {i} is outside the table's {len(self)} rows")
        i %= len(self)
        k = int(self.doc[i])
        doc_id, start, end = self.doc_ids[k], int(self.start[i]), int(self.end[i])
        spans = self.spans[self.span_offsets[i]:self.span_offsets[i + 1]].tolist()
        return PassageRecord(passage_id(doc_id, i - int(self.first[k]) + 1), doc_id, start, end,
                             self.documents[doc_id].body[start:end], tuple((a, b) for a, b in spans))

    def text(self, i: int) -> str:
        """Passage i's text (its record without the rest)."""
        return self.documents[self.doc_ids[self.doc[i]]].body[self.start[i]:self.end[i]]

    def row_of(self, passage_id: str) -> int | None:
        """The row of the passage with this id, or None when the table has none."""
        doc_id, _, number = passage_id.rpartition("#p")
        k = self.position.get(doc_id)
        if k is None or not (number.isascii() and number.isdigit()) or number != str(int(number)):
            return None
        row = int(self.first[k]) + int(number) - 1
        return row if int(self.first[k]) <= row < int(self.first[k + 1]) else None

    def get(self, passage_id: str) -> PassageRecord | None:
        row = self.row_of(passage_id)
        return None if row is None else self[row]
