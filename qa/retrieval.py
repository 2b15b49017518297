"""Rank passages for a question: BM25, dense, and their fusion."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Settings
from .store import Index
from .text import tokenize

MODES = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Ranking:
    """Passage indices best first, with each one's fused score and dense cosine similarity."""

    order: np.ndarray
    scores: np.ndarray
    similarity: np.ndarray  # cosine similarity of every passage to the question (used to abstain)
    sentence_similarity: np.ndarray  # cosine similarity of every sentence, rows as in index.sentence_vectors


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


def dense_scores(index: Index, similarity: np.ndarray, sentence_similarity: np.ndarray, settings: Settings) -> np.ndarray:
    """Passage similarity blended with its best sentence's, so one sentence that answers is not diluted."""
    w = settings.sentence_weight
    if w == 0:
        return similarity
    best_sentence = np.maximum.reduceat(sentence_similarity, index.sentence_offsets[:-1])
    return (1 - w) * similarity + w * best_sentence


def rank(index: Index, question: str, query_vector: np.ndarray, settings: Settings, mode: str = "hybrid") -> Ranking:
    n = len(index.passages)
    sims, ids = index.dense.search(query_vector.reshape(1, -1), n)
    similarity = np.empty(n, dtype=np.float64)
    similarity[ids[0]] = sims[0]
    sentence_similarity = index.sentence_vectors @ query_vector
    dense = dense_scores(index, similarity, sentence_similarity, settings)
    if mode == "dense":
        scores = dense
    else:
        lexical = index.lexical.scores(tokenize(question, settings.stem, settings.stopwords))
        scores = lexical if mode == "bm25" else fuse(lexical, dense, settings)
    # Ties broken by passage order, so rankings are deterministic.
    order = np.lexsort((np.arange(n), -scores))
    return Ranking(order, scores, similarity, sentence_similarity)
