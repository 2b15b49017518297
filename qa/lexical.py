"""Lexical ranking with rank-bm25, scoring only the passages that contain a query term."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import rank_bm25

VARIANTS = {"okapi": rank_bm25.BM25Okapi, "plus": rank_bm25.BM25Plus, "l": rank_bm25.BM25L}


class LexicalIndex:
    def __init__(self, tokenized: list[list[str]], variant: str = "plus", k1: float = 1.2, b: float = 0.75):
        if variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        self.size = len(tokenized)
        self.bm25 = VARIANTS[variant](tokenized, k1=k1, b=b)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, tokens in enumerate(tokenized):
            for term in set(tokens):
                postings[term].append(i)
        self.postings = dict(postings)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage. Passages with no query term get the score of an empty match
        (0 for Okapi and L, whose terms are multiplied by the term frequency; a constant for Plus),
        so scores and ranking equal rank-bm25's full `get_scores`."""
        candidates = sorted({i for t in query_tokens for i in self.postings.get(t, ())})
        full = np.full(self.size, self._empty_match_score(query_tokens), dtype=np.float64)
        if candidates:
            full[candidates] = self.bm25.get_batch_scores(query_tokens, candidates)
        return full

    def _empty_match_score(self, query_tokens: list[str]) -> float:
        bm = self.bm25
        if isinstance(bm, rank_bm25.BM25Plus):
            return sum((bm.idf.get(q) or 0) * bm.delta for q in query_tokens)
        return 0.0
