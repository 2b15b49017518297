"""The passages of an index that give a figure of each measure (killed, injured, detained), so that an answer to a
count question can quote every source's figure, whatever the question's wording."""
from __future__ import annotations

import threading

from qa.corpus.figures import measures_in
from qa.index.store import Index


class FigurePassages:
    """The passages of an index that give a figure (ten or more) of each measure, listed when a count question is
    first asked (once per index, not per question), so that every source's figure can be quoted."""

    def __init__(self, index: Index):
        self._index = index
        self._by_measure: dict[str, list[int]] | None = None
        self._lock = threading.Lock()

    def of(self, measures: list[str]) -> list[int]:
        with self._lock:
            if self._by_measure is None:
                by_measure: dict[str, list[int]] = {}
                table = self._index.passages
                for i in range(len(table)):
                    for measure in measures_in(table.text(i)):
                        by_measure.setdefault(measure, []).append(i)
                self._by_measure = by_measure
        return sorted({i for m in measures for i in self._by_measure.get(m, [])})
