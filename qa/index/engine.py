"""The search boundary: what retrieval asks a search engine for, whichever engine holds the index.

An engine returns candidates: the passages its BM25 ranks best and the ones nearest the question's vector, limited to
the documents a filter admits, as rows of the index's own passage list. It never returns text: rank()
(qa/search/retrieval.py) scores the candidates exactly from the index, and every quote is cut from its corpus document
by offset and checked. So the backends differ only in which passages become candidates, and an engine can always be
rebuilt from the corpus folder.

Two implementations: `InProcess`, the index's own arrays (the default; no server), and `MilvusEngine`
(qa/index/milvus.py), the same boundary on Milvus: Milvus Lite in a file here, a Milvus cluster by URI."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import faiss
import numpy as np

if TYPE_CHECKING:
    from qa.index.store import Index


@dataclass(frozen=True)
class Candidates:
    """Passage rows, best first: BM25's best (empty in dense mode) and dense search's nearest."""

    lexical: np.ndarray
    dense: np.ndarray

    def rows(self) -> np.ndarray:
        """Both, ascending and once each."""
        return np.union1d(self.lexical, self.dense).astype(np.int64)


@dataclass(frozen=True)
class Sync:
    """What bringing an engine up to an index wrote: documents (re)inserted and removed, passages written."""

    inserted: int
    removed: int
    passages: int
    rebuilt: bool  # the engine's index was dropped and written whole (a new model, settings or length statistics)

    def __str__(self) -> str:
        return f"{self.inserted} documents written ({self.passages} passages), {self.removed} removed"


class Searcher(Protocol):
    def candidates(self, terms: list[str], vector: np.ndarray, k: int, lexical: bool,
                   allowed: np.ndarray | None) -> Candidates:
        """The `k` best passages by BM25 for `terms` (when `lexical`) and the `k` nearest `vector`, among the
        passages `allowed` (a bool per passage; None: all)."""
        ...


class Engine(Protocol):
    def sync(self, index: Index) -> Sync:
        """Make the engine hold exactly `index`'s passages, writing only the documents that changed."""
        ...

    def searcher(self, index: Index) -> Searcher:
        """Candidates as rows of `index`, which the engine was last synced with. Bound to that one index: a question
        answered from an older snapshot while the engine is synced with a newer one keeps its own rows."""
        ...


class InProcess:
    """The index's own arrays: FAISS for dense search, the numpy BM25 for lexical."""

    def __init__(self, index: Index, probes: int):
        self.index, self.probes = index, probes

    def candidates(self, terms: list[str], vector: np.ndarray, k: int, lexical: bool,
                   allowed: np.ndarray | None) -> Candidates:
        index = self.index
        params: faiss.SearchParameters | None = None
        if isinstance(index.dense, faiss.IndexIVF):
            params = faiss.SearchParametersIVF()
            params.nprobe = self.probes
        if allowed is not None:  # searched among the allowed passages only, so a filter never empties the k best
            params = params or faiss.SearchParameters()
            bits = np.packbits(allowed, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
        found = index.dense.search(vector.reshape(1, -1), k, params=params)[1][0]
        best = index.lexical.best(terms, k, allowed) if lexical else np.empty(0, dtype=np.int64)
        return Candidates(best, found[found >= 0])
