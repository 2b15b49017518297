"""The passages of an index that give a figure of each measure (killed, injured, detained), so that an answer to a
count question can quote every source's figure, whatever the question's wording."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from qa.corpus.documents import Document
from qa.corpus.figures import may_give_figures, measures_in
from qa.index.table import PassageTable


@dataclass(frozen=True)
class FigurePassages:
    """The rows of the passages that give a figure (ten or more) of each measure. Found with the index, when it is
    built or loaded: found at the first count question instead, they kept that question waiting for a scan of the
    corpus (over two minutes at ten million passages)."""

    by_measure: dict[str, np.ndarray]

    @classmethod
    def of(cls, table: PassageTable, documents: Mapping[str, Document],
           among: Iterable[int] | None = None) -> FigurePassages:
        """The figure passages of the table's documents (`among`: of these positions in `table.doc_ids` only)."""
        by_measure: dict[str, list[int]] = {}
        # A document at a time: its body is read once (from disk for a large corpus), and most documents have no
        # word a figure is stated with, so none of their passages is looked at.
        for k in range(len(table.doc_ids)) if among is None else among:
            body = documents[table.doc_ids[k]].body
            if may_give_figures(body):
                for i in range(int(table.first[k]), int(table.first[k + 1])):
                    for measure in measures_in(body[table.start[i]:table.end[i]]):
                        by_measure.setdefault(measure, []).append(i)
        return cls({m: np.array(rows, dtype=np.int64) for m, rows in by_measure.items()})

    def moved(self, rows: np.ndarray, added: FigurePassages) -> FigurePassages:
        """These figure passages with old row i now at `rows[i]` (gone where -1), joined by `added`'s."""
        by_measure = {}
        for measure in sorted(self.by_measure.keys() | added.by_measure.keys()):
            kept = rows[self.by_measure.get(measure, np.zeros(0, dtype=np.int64))]
            joined = np.sort(np.concatenate([kept[kept >= 0], added.by_measure.get(measure, kept[:0])]))
            if len(joined):
                by_measure[measure] = joined
        return FigurePassages(by_measure)

    def rows(self, measures: list[str]) -> list[int]:
        """The rows giving a figure of any of `measures`, ascending."""
        return sorted({int(i) for m in measures for i in self.by_measure.get(m, ())})
