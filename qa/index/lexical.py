"""Lexical ranking: BM25 over an inverted index held in numpy arrays.

The scores are rank-bm25's (BM25Okapi, BM25L, BM25Plus with their default epsilon and delta): the same formulas,
evaluated in the same order, so they are equal to its `get_scores` to the last bit (tests/test_lexical.py checks
this against rank-bm25 itself). rank-bm25 keeps a dict of term frequencies per passage and loops over every
passage in Python for every query term; here only the postings of the query terms are touched."""
from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

VARIANTS = ("okapi", "plus", "l")
OKAPI_EPSILON = 0.25
DELTA = {"l": 0.5, "plus": 1.0}


class LexicalIndex:
    def __init__(self, tokenized: Iterable[list[str]], variant: str = "plus", k1: float = 1.2, b: float = 0.75):
        if variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        self.variant, self.k1, self.b = variant, k1, b
        # Term ids in order of first appearance, as rank-bm25's document-frequency dict (Okapi's mean idf sums in it).
        self.vocabulary: dict[str, int] = {}
        # Compact int arrays rather than lists: at a million passages there are tens of millions of postings.
        terms, counts, lengths, unique = array("i"), array("i"), array("q"), array("i")
        for tokens in tokenized:
            freq = Counter(tokens)
            terms.extend(self.vocabulary.setdefault(t, len(self.vocabulary)) for t in freq)
            counts.extend(freq.values())
            lengths.append(len(tokens))
            unique.append(len(freq))
        self.size = len(lengths)
        if not self.size:
            raise ValueError("BM25 needs at least one passage")
        term_ids = np.frombuffer(terms, dtype=np.int32)
        df = np.bincount(term_ids, minlength=len(self.vocabulary))
        # Postings grouped by term, passages ascending within each term. Each temporary is dropped as soon as
        # possible: at a million passages each is hundreds of MB, and this is the peak of a build's memory.
        by_term = np.argsort(term_ids, kind="stable")
        del term_ids, terms
        self.postings = np.repeat(np.arange(self.size, dtype=np.int32), np.frombuffer(unique, dtype=np.int32))[by_term]
        self.frequencies = np.frombuffer(counts, dtype=np.int32)[by_term]
        del by_term, counts
        self.starts = np.concatenate([[0], np.cumsum(df)])
        self.average_length = avgdl = sum(lengths) / self.size
        # rank-bm25's length normalisation, 1 - b + b * |d| / avgdl, once per passage.
        self.length_norm = 1 - b + b * np.frombuffer(lengths, dtype=np.int64) / avgdl
        self.idf = self._idf(df.tolist())

    def _idf(self, df: list[int]) -> list[float]:
        n = self.size
        if self.variant == "l":
            return [math.log(n + 1) - math.log(d + 0.5) for d in df]
        if self.variant == "plus":
            return [math.log((n + 1) / d) for d in df]
        idf = [math.log(n - d + 0.5) - math.log(d + 0.5) for d in df]
        if not idf:
            return idf
        total = 0.0
        for value in idf:
            total += value
        floor = OKAPI_EPSILON * (total / len(idf))
        return [floor if value < 0 else value for value in idf]

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage, equal to rank-bm25's `get_scores(query_tokens)`."""
        def matches(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            docs = self.postings[lo:hi]
            return docs, self.frequencies[lo:hi], self.length_norm[docs]

        return self._accumulate(query_tokens, self.size, matches)

    def scores_of(self, query_tokens: list[str], ids: np.ndarray) -> np.ndarray:
        """`scores(query_tokens)[ids]`, to the last bit, touching only passages `ids` (ascending, unique): each term's
        postings are sorted, so its frequency in each passage is found by binary search."""
        def matches(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            where = np.minimum(np.searchsorted(self.postings[lo:hi], ids), hi - lo - 1)
            held = self.postings[lo:hi][where] == ids
            return held, self.frequencies[lo:hi][where][held], self.length_norm[ids[held]]

        return self._accumulate(query_tokens, len(ids), matches)

    def _accumulate(self, query_tokens: list[str], size: int,
                    matches: Callable[[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
        """rank-bm25's arithmetic, in its order, over `size` scores: `matches(lo, hi)` gives, for the postings
        [lo, hi) of a query term, where they fall among the scores, their term frequencies and length norms."""
        k1, scores = self.k1, np.zeros(size)
        for token in query_tokens:  # repeated query terms count again, as in rank-bm25
            term = self.vocabulary.get(token)
            idf = 0.0 if term is None else self.idf[term]
            if term is None or not idf:
                continue  # rank-bm25 adds an exact 0 for this term
            at, tf, norm = matches(self.starts[term], self.starts[term + 1])
            if self.variant == "okapi":
                scores[at] += idf * (tf * (k1 + 1) / (tf + k1 * norm))
            elif self.variant == "l":
                delta = DELTA["l"]
                ctd = tf / norm
                scores[at] += idf * tf * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)
            else:
                # Plus gives passages without the term idf * delta; those with it get their own value.
                delta = DELTA["plus"]
                matched = scores[at] + idf * (delta + (tf * (k1 + 1)) / (k1 * norm + tf))
                scores += idf * (delta + 0.0)
                scores[at] = matched
        return scores

    def baseline(self, query_tokens: list[str]) -> float:
        """The score of a passage holding none of the query's terms (0, or BM25Plus's idf * delta per term): the
        same operations as scores() on such a passage, so every passage scoring above it holds a term."""
        def matches(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            return np.zeros(1, dtype=bool), self.frequencies[:0], self.length_norm[:0]

        return float(self._accumulate(query_tokens, 1, matches)[0])

    def passage_weights(self, query_tokens: list[str]) -> dict[str, float]:
        """Each query term's weight for a sparse dot product (its idf, once per occurrence): with passage_terms as the
        passages' side, the product is the BM25 score, less idf * delta per term for BM25Plus (the same for every
        passage, so the order is BM25's)."""
        weights: dict[str, float] = {}
        for token in query_tokens:
            term = self.vocabulary.get(token)
            if term is not None and self.idf[term]:
                weights[token] = weights.get(token, 0.0) + self.idf[term]
        return weights

    def passage_terms(self, tokens: list[str], row: int) -> dict[str, float]:
        """Passage `row`'s side of that product: for each of its terms (`tokens`, as indexed), BM25's term-frequency
        part with the passage's length normalisation."""
        k1, norm = self.k1, float(self.length_norm[row])
        values = {}
        for token, tf in Counter(tokens).items():
            if self.variant == "okapi":
                values[token] = tf * (k1 + 1) / (tf + k1 * norm)
            elif self.variant == "l":
                ctd = tf / norm
                values[token] = tf * (k1 + 1) * (ctd + DELTA["l"]) / (k1 + ctd + DELTA["l"])
            else:
                values[token] = (tf * (k1 + 1)) / (k1 * norm + tf)
        return values

    def top(self, scores: np.ndarray, n: int) -> np.ndarray:
        """Indices of the `n` best-scoring passages (in no particular order)."""
        if n >= self.size:
            return np.arange(self.size)
        return np.argpartition(-scores, n)[:n]
