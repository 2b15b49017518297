"""Answers limited to chosen sources and to a date range: which passages a search may return."""
from __future__ import annotations

import datetime as dt
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from qa.corpus.documents import Document
from qa.errors import InvalidQuestion


@dataclass(frozen=True)
class Filter:
    """Documents an answer may quote: those of `sources` (document ids; an article's reader comments come with it),
    dated from `since` to `until` inclusive (ISO dates). A document that states no date is left out of a date range."""

    sources: frozenset[str] | None = None
    since: str | None = None
    until: str | None = None

    def admits(self, doc: Document) -> bool:
        if self.sources is not None and doc.id not in self.sources and doc.parent_id not in self.sources:
            return False
        if self.since is None and self.until is None:
            return True
        day = (doc.date or "")[:10]
        return bool(day) and (self.since or "") <= day <= (self.until or "9999-12-31")


def _day(value: object, name: str) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date or its text, None for none, or InvalidQuestion."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise InvalidQuestion(f"{name} is {reprlib.repr(value)}; write a date such as 2011-12-16, or leave it empty")


def validate_filter(sources: Iterable[str] | None, since: object, until: object,
                    documents: Mapping[str, Document]) -> Filter | None:
    """The filter, None when it limits nothing, or InvalidQuestion naming what is wrong."""
    chosen = None
    if sources is not None:
        if isinstance(sources, (str, bytes)) or not all(isinstance(s, str) for s in sources):
            raise InvalidQuestion("sources must be a list of document ids, such as ['amnesty-advisory']")
        chosen = frozenset(sources)
        unknown = sorted(chosen - set(documents))
        if unknown:
            known = [d for d, doc in documents.items() if doc.kind == "article"]
            raise InvalidQuestion(f"unknown source {unknown[0]!r}; choose from the corpus's documents, such as "
                                  + ", ".join(repr(d) for d in known[:5]))
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and first > last:
        raise InvalidQuestion(f"since ({first}) is after until ({last}); swap them")
    return None if chosen is None and first is None and last is None else Filter(chosen, first, last)


def allowed_passages(documents: list[Document], doc_of_passage: np.ndarray, limit: Filter) -> np.ndarray:
    """A bool per passage: whether its document passes `limit`. `doc_of_passage[i]` indexes `documents`."""
    return np.array([limit.admits(d) for d in documents], dtype=bool)[doc_of_passage]
