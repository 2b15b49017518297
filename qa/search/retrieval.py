"""Rank passages for a question: BM25, dense, and their fusion."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qa.config import MODES, Settings
from qa.corpus.text import tokenize
from qa.index.engine import InProcess
from qa.index.store import Index


@dataclass(frozen=True)
class Scattered:
    """A value at some rows of a long array (one row per passage, or per sentence) and NaN at every other, holding
    those rows alone: at ten million passages a full array would be 80 MB written and read per question, for the
    few hundred candidates that have a value. Read as an array is: by row, by an array of rows, or by a slice."""

    rows: np.ndarray  # ascending, once each
    values: np.ndarray
    size: int

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: int | np.integer | np.ndarray | slice) -> Any:
        if isinstance(key, slice):
            start, stop, _ = key.indices(self.size)
            lo, hi = np.searchsorted(self.rows, (start, stop))
            if hi - lo == stop - start:  # every row held: a candidate's sentences
                return self.values[lo:hi]
            key = np.arange(start, stop)
        if not len(self.rows):
            return np.full(np.shape(key), np.nan)[()]
        where = np.minimum(np.searchsorted(self.rows, key), len(self.rows) - 1)
        return np.where(self.rows[where] == key, self.values[where], np.nan)[()]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The long array (for tools on small corpora)."""
        full = np.full(self.size, np.nan, dtype=dtype or self.values.dtype)
        full[self.rows] = self.values
        return full

    def nanmax(self) -> float:
        return float(np.nanmax(self.values))

    def updated(self, rows: np.ndarray, values: np.ndarray) -> Scattered:
        """These values with `rows` (held ones) set to `values`."""
        changed = self.values.copy()
        changed[np.searchsorted(self.rows, rows)] = values
        return replace(self, values=changed)


@dataclass(frozen=True)
class Ranking:
    """Passage indices best first, with each one's fused score and dense cosine similarity.

    On corpora larger than `Settings.exact_max_passages`, and always when the index is searched by a search engine
    (qa/index/engine.py), only candidate passages are ranked: `order` holds them alone, and the arrays are NaN for
    every other passage."""

    order: np.ndarray
    scores: Scattered
    similarity: Scattered  # cosine similarity of every passage to the question (used to abstain)
    sentence_similarity: Scattered  # cosine similarity of every sentence, rows as in index.sentence_vectors
    dense: Scattered  # dense score of every passage: its similarity blended with its best sentence's
    allowed: np.ndarray | None = None  # the passages an answer may quote (chosen sources and dates); None: all


def _minmax(x: np.ndarray) -> np.ndarray:
    span = x.max() - x.min()
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def _rrf(*score_lists: np.ndarray, k: int, weights: tuple[float, ...]) -> np.ndarray:
    fused = np.zeros_like(score_lists[0])
    for scores, weight in zip(score_lists, weights):
        ranks = np.empty(len(scores))
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        fused += weight / (k + ranks)
    return fused


def fuse(lexical: np.ndarray, dense: np.ndarray, settings: Settings) -> np.ndarray:
    w = settings.dense_weight
    if settings.fusion == "rrf":
        return _rrf(lexical, dense, k=settings.rrf_k, weights=(1 - w, w))
    return (1 - w) * _minmax(lexical) + w * _minmax(dense)


def dense_scores(similarity: np.ndarray, sentence_similarity: np.ndarray, sentence_starts: np.ndarray,
                 settings: Settings) -> np.ndarray:
    """Passage similarity blended with its best sentence's, so one sentence that answers is not diluted.
    Passage i's sentences start at row `sentence_starts[i]` of `sentence_similarity`."""
    w = settings.sentence_weight
    if w == 0:
        return similarity
    best_sentence = np.maximum.reduceat(sentence_similarity, sentence_starts)
    return (1 - w) * similarity + w * best_sentence


def _sentence_rows(index: Index, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sentence rows of passages `ids`, concatenated, and where each passage's rows start among them."""
    lo, hi = index.sentence_offsets[ids], index.sentence_offsets[ids + 1]
    starts = np.concatenate([[0], np.cumsum(hi - lo)[:-1]])
    return np.repeat(lo - starts, hi - lo) + np.arange((hi - lo).sum()), starts


def rank(index: Index, question: str, query_vector: np.ndarray, settings: Settings, mode: str = "hybrid",
         allowed: np.ndarray | None = None) -> Ranking:
    """Every passage (every candidate, on large corpora) ranked for the question, by `mode`: bm25, dense or hybrid.
    `allowed` (a bool per passage) limits the ranking to those passages (an answer limited to some sources or
    dates): the others get no score, and scores are normalised over the allowed passages alone."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    n = len(index.passages)
    terms = [] if mode == "dense" else tokenize(question, settings.stem, settings.stopwords)
    query = query_vector.reshape(1, -1)
    if index.searcher is None and n <= settings.exact_max_passages:
        ids = np.arange(n) if allowed is None else np.flatnonzero(allowed)
        lexical = None if mode == "dense" else index.lexical.scores(terms)[ids]
        sims, found = index.dense.search(query, n)
        similarity = np.full(n, np.nan)
        similarity[found[0]] = sims[0]
        if allowed is not None:
            similarity[~allowed] = np.nan
        sentences = np.arange(len(index.sentence_vectors))
        sentence_similarity = index.sentence_vectors @ query_vector
        dense = dense_scores(similarity, sentence_similarity, index.sentence_offsets[:-1], settings)[ids]
        passages = np.arange(n)
    else:
        if index.searcher is None and allowed is not None and np.count_nonzero(allowed) <= settings.exact_max_passages:
            ids = np.flatnonzero(allowed)  # few enough to score them all
        else:
            # Candidates: the engine's best by BM25 and by dense search; the rest are never touched.
            searcher = index.searcher or InProcess(index, settings.ivf_probes)
            ids = searcher.candidates(terms, query_vector, settings.candidates, mode != "dense", allowed).rows()
        lexical = None if mode == "dense" else index.lexical.scores_of(terms, ids)
        similarity = (index.vectors[ids] @ query_vector).astype(np.float64)  # exact, whatever the engine
        sentences, starts = _sentence_rows(index, ids)
        sentence_similarity = index.sentence_vectors[sentences] @ query_vector
        dense = dense_scores(similarity, sentence_similarity, starts, settings)
        passages = ids
    if lexical is None:  # dense mode
        candidate_scores = dense
    else:
        candidate_scores = lexical if mode == "bm25" else fuse(lexical, dense, settings)
    # Ties broken by passage order, so rankings are deterministic.
    order = ids[np.lexsort((ids, -candidate_scores))]
    return Ranking(order, Scattered(ids, candidate_scores, n), Scattered(passages, similarity, n),
                   Scattered(sentences, sentence_similarity, len(index.sentence_vectors)),
                   Scattered(ids, dense, n), allowed)
