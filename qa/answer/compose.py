"""Composing an answer from quoted passages: near-duplicates shown once, and quotes grouped by source when the
sources give different figures. Passages are only reordered or merged, never changed."""
from __future__ import annotations

from dataclasses import replace

from qa.answer.model import Passage
from qa.corpus.text import tokenize


def _words(p: Passage) -> set[str]:
    return set(tokenize(p.text, stem=True, stopwords=False))


def near_duplicate(a: Passage, b: Passage, min_overlap: float) -> bool:
    """Two sources making the same claim in near-identical words: the share of shared words (Jaccard)."""
    wa, wb = _words(a), _words(b)
    return a.doc_id != b.doc_id and bool(wa | wb) and len(wa & wb) / len(wa | wb) >= min_overlap


def collapse_duplicates(passages: list[Passage], min_overlap: float) -> list[Passage]:
    """Each near-duplicate joins the first (best) passage that says the same, as an extra citation."""
    kept: list[Passage] = []
    for p in passages:
        twin = next((i for i, q in enumerate(kept) if near_duplicate(q, p, min_overlap)), None)
        if twin is None:
            kept.append(p)
        else:
            kept[twin] = replace(kept[twin], also_in=[*kept[twin].also_in, p])
    return kept


def group_by_source(passages: list[Passage]) -> list[Passage]:
    """Quotes grouped by document, documents in date order (undated last); best first inside a document."""
    first_seen = {p.doc_id: n for n, p in reversed(list(enumerate(passages)))}
    return sorted(passages, key=lambda p: (p.date is None, p.date or "", first_seen[p.doc_id]))
