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
from itertools import islice
from typing import Any

import numpy as np

VARIANTS = ("okapi", "plus", "l")
BLOCK_PASSAGES = 1 << 18  # passages whose postings are sorted together while building
BLOCK_POSTINGS = 1 << 24  # postings whose passages' lengths are summed together when the index is read back
# Past this many passages, a query whose terms are too common for MaxScore to stay within MAXSCORE_BUDGET candidates
# is answered from champion lists (Manning, Raghavan and Schuetze, Introduction to Information Retrieval, 7.1.3)
# instead of every passage's score: for each term in more than CHAMPIONS passages, the CHAMPIONS passages where its
# share is largest. Their RESCORED best by those shares are then scored exactly. Up to it, every passage is scored
# (exact); past it, the candidates' top-10 recall against exact BM25 is measured by `python -m qa bench`.
SCORE_ALL_MAX = 2_000_000
MAXSCORE_BUDGET = 1 << 17
CHAMPIONS = 10_000
RESCORED = 1_000
LEADERS = 1_000  # passages scored exactly for MaxScore's threshold
OKAPI_EPSILON = 0.25
DELTA = {"l": 0.5, "plus": 1.0}


def _blocks(tokenized: Iterable[list[str]]) -> Iterable[list[list[str]]]:
    items = iter(tokenized)
    while block := list(islice(items, BLOCK_PASSAGES)):
        yield block


class LexicalIndex:
    def __init__(self, tokenized: Iterable[list[str]], variant: str = "plus", k1: float = 1.2, b: float = 0.75):
        if variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        self.variant, self.k1, self.b = variant, k1, b
        # Term ids in order of first appearance, as rank-bm25's document-frequency dict (Okapi's mean idf sums in it).
        self.vocabulary: dict[str, int] = {}
        lengths = array("q")
        blocks = [self._block(block, len(lengths), lengths) for block in _blocks(tokenized)]
        self.size = len(lengths)
        if not self.size:
            raise ValueError("BM25 needs at least one passage")
        df = np.zeros(len(self.vocabulary), dtype=np.int64)
        for terms, _, _ in blocks:
            df += np.bincount(terms, minlength=len(self.vocabulary))
        # Term frequencies fit 16 bits unless a passage repeats a word 65,536 times; numpy turns either to float64
        # for the arithmetic, so the scores are the same.
        wide = any(counts.max(initial=0) >= 2**16 for _, _, counts in blocks)
        # Postings grouped by term, passages ascending within each term: each block's postings of a term go after
        # the earlier blocks' (blocks are in passage order), and each block is dropped once placed.
        self.postings = np.empty(int(df.sum()), dtype=np.int32)
        self.frequencies = np.empty(len(self.postings), dtype=np.int32 if wide else np.uint16)
        filled = np.concatenate([[0], np.cumsum(df)[:-1]])
        blocks.reverse()
        while blocks:
            terms, rows, counts = blocks.pop()
            block_df = np.bincount(terms, minlength=len(self.vocabulary))
            within = np.arange(len(terms)) - (np.cumsum(block_df) - block_df)[terms]
            destination = filled[terms] + within
            self.postings[destination], self.frequencies[destination] = rows, counts
            filled += block_df
        self.starts = np.concatenate([[0], np.cumsum(df)])
        self._derive(np.frombuffer(lengths, dtype=np.int64))

    @classmethod
    def stored(cls, terms: list[str], postings: np.ndarray, frequencies: np.ndarray, starts: np.ndarray, size: int,
               variant: str = "plus", k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """The index of `size` passages whose `terms` (in id order), postings, frequencies and starts these are, as
        saved with a build: the passages are not tokenised again. ValueError when the arrays cannot be one index."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        if (postings.dtype != np.int32 or frequencies.dtype not in (np.uint16, np.int32) or starts.dtype != np.int64
                or postings.ndim != 1 or postings.shape != frequencies.shape or starts.shape != (len(terms) + 1,)
                or len(set(terms)) != len(terms) or not all(isinstance(t, str) for t in terms) or size < 1):
            raise ValueError("the postings' arrays do not fit together")
        if (starts[0] != 0 or starts[-1] != len(postings) or np.any(np.diff(starts) < 1)
                or (len(postings) and (postings.min() < 0 or postings.max() >= size or frequencies.min() < 1))):
            raise ValueError("the postings are not grouped by term, each in the passages")
        self = cls.__new__(cls)
        self.variant, self.k1, self.b = variant, k1, b
        self.vocabulary = {t: i for i, t in enumerate(terms)}
        self.postings, self.frequencies, self.starts = postings, frequencies, starts
        # A passage's length is the sum of its terms' frequencies: exact in float64 below 2**53. Summed a block of
        # postings at a time, since bincount copies its weights as float64 (4 GB at ten million passages).
        lengths = np.zeros(size, dtype=np.int64)
        for lo in range(0, len(postings), BLOCK_POSTINGS):
            hi = lo + BLOCK_POSTINGS
            lengths += np.bincount(postings[lo:hi], weights=frequencies[lo:hi], minlength=size).astype(np.int64)
        self.size = size
        self._derive(lengths)
        return self

    def spliced(self, rows: np.ndarray, size: int, added: Iterable[tuple[int, list[str]]]) -> LexicalIndex:
        """This index after an update of the corpus: old passage i is passage `rows[i]` of `size` now (gone where
        -1; those kept stay in order), and `added` gives each new passage's row and tokens. The postings are moved
        and joined, not rebuilt: what a build of the new passages gives, but for the order of the terms, new ones
        coming last (only BM25Okapi's mean idf reads that order, and sums it in another order, so it may differ in
        the last bit)."""
        moved = rows.astype(np.int32)[self.postings]
        kept = moved >= 0
        gone = np.searchsorted(self.starts, np.flatnonzero(~kept), side="right") - 1
        postings, frequencies = moved[kept], self.frequencies[kept]
        del moved, kept
        starts = self.starts - np.concatenate([[0], np.cumsum(np.bincount(gone, minlength=len(self.vocabulary)))])
        vocabulary = dict(self.vocabulary)
        entries = sorted((vocabulary.setdefault(t, len(vocabulary)), row, n)
                         for row, tokens in added for t, n in Counter(tokens).items())
        starts = np.concatenate([starts, np.full(len(vocabulary) - len(self.vocabulary), starts[-1])])
        at = [int(starts[t]) + int(np.searchsorted(postings[starts[t]:starts[t + 1]], row)) for t, row, _ in entries]
        counts = np.array([n for _, _, n in entries], dtype=np.int64)
        wide = frequencies.dtype == np.int32 or counts.max(initial=0) >= 2**16
        postings = np.insert(postings, at, np.array([row for _, row, _ in entries], dtype=np.int32))
        frequencies = np.insert(frequencies.astype(np.int32 if wide else np.uint16, copy=False), at, counts)
        df = np.diff(starts) + np.bincount([t for t, _, _ in entries], minlength=len(vocabulary))
        alive = df > 0  # a term only the removed passages had is dropped, as a build would not have it
        terms = [t for t, a in zip(vocabulary, alive.tolist()) if a]
        return LexicalIndex.stored(terms, postings, frequencies, np.concatenate([[0], np.cumsum(df[alive])]), size,
                                   self.variant, self.k1, self.b)

    def arrays(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """What stored() takes back besides the size: the terms in id order, postings, frequencies, starts."""
        return list(self.vocabulary), self.postings, self.frequencies, self.starts

    def _derive(self, lengths: np.ndarray) -> None:
        """What scoring needs besides the postings, from the passages' lengths in tokens."""
        b = self.b
        self.average_length = avgdl = int(lengths.sum()) / self.size
        # rank-bm25's length normalisation, 1 - b + b * |d| / avgdl, once per passage.
        self.length_norm = 1 - b + b * lengths / avgdl
        self.idf = self._idf(np.diff(self.starts).tolist())
        self.champions = self.size > SCORE_ALL_MAX
        # A champion term's list is champion_rows[champion_starts[t]:champion_starts[t + 1]] (empty for other terms).
        self.champion_starts = np.zeros(len(self.vocabulary) + 1, dtype=np.int64)
        self.champion_rows, self.champion_shares = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        self.bound = self._bounds()

    def _block(self, block: list[list[str]], first: int,
               lengths: array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The postings of passages `block` (rows from `first`) as term ids, rows and term frequencies, sorted by
        term; each passage's length is appended to `lengths`. Built a block at a time, so that the sort's
        temporaries stay small at ten million passages."""
        terms, counts, unique = array("i"), array("i"), array("i")
        for tokens in block:
            freq = Counter(tokens)
            terms.extend(self.vocabulary.setdefault(t, len(self.vocabulary)) for t in freq)
            counts.extend(freq.values())
            lengths.append(len(tokens))
            unique.append(len(freq))
        term_ids = np.frombuffer(terms, dtype=np.int32)
        by_term = np.argsort(term_ids, kind="stable")
        rows = np.repeat(np.arange(first, first + len(block), dtype=np.int32), np.frombuffer(unique, dtype=np.int32))
        return term_ids[by_term], rows[by_term], np.frombuffer(counts, dtype=np.int32)[by_term]

    def _parts(self, tf: Any, norm: Any) -> Any:
        """Each posting's share of its term's score, before the idf (and less BM25Plus's delta, which every passage
        gets): rank-bm25's per-term formula, on arrays or on one posting's numbers."""
        k1 = self.k1
        if self.variant == "okapi":
            return tf * (k1 + 1) / (tf + k1 * norm)
        if self.variant == "l":
            ctd = tf / norm
            return tf * (k1 + 1) * (ctd + DELTA["l"]) / (k1 + ctd + DELTA["l"])
        return (tf * (k1 + 1)) / (k1 * norm + tf)

    def _bounds(self, chunk: int = 1 << 24) -> np.ndarray:
        """Each term's largest share over its postings (see _parts), computed a few million postings at a time; with
        `champions`, also the champion lists."""
        terms = len(self.starts) - 1
        bound = np.zeros(terms)
        rows: list[np.ndarray] = []
        shares: list[np.ndarray] = []
        counts = np.zeros(terms, dtype=np.int64)
        first = 0
        while first < terms:
            last = max(int(np.searchsorted(self.starts, self.starts[first] + chunk, side="right")) - 1, first + 1)
            lo, hi = int(self.starts[first]), int(self.starts[last])
            parts = self._parts(self.frequencies[lo:hi].astype(np.float64), self.length_norm[self.postings[lo:hi]])
            bound[first:last] = np.maximum.reduceat(parts, self.starts[first:last] - lo)
            if self.champions:
                for t in np.flatnonzero(np.diff(self.starts[first:last + 1]) > CHAMPIONS) + first:
                    a, b = int(self.starts[t]) - lo, int(self.starts[t + 1]) - lo
                    top = np.argpartition(-parts[a:b], CHAMPIONS)[:CHAMPIONS]
                    rows.append(self.postings[lo + a + top])
                    shares.append(parts[a + top].astype(np.float32))
                    counts[t] = CHAMPIONS
            first = last
        if rows:
            self.champion_starts = np.concatenate([[0], np.cumsum(counts)])
            self.champion_rows, self.champion_shares = np.concatenate(rows), np.concatenate(shares)
        return bound

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
        norm = float(self.length_norm[row])
        return {token: self._parts(tf, norm) for token, tf in Counter(tokens).items()}

    def best(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """The `k` passages scoring highest for the query among those holding one of its terms (and `allowed`, a
        bool per passage), best first, ties by row: the order of scores(), found without scoring every passage.

        MaxScore (Turtle and Flood, 1995): the postings of the rarest terms bound their passages' scores from below,
        and the other terms are left out of the search for candidates once their largest possible shares together
        are below the k-th best score, since a passage holding only those terms cannot reach it; the passages that
        can are scored exactly (scores_of). A query whose rarest terms exceed the budget is answered by _broad():
        exact up to SCORE_ALL_MAX passages, from champion lists (approximate) past it."""
        # How many times the query holds each term that can raise a score (a positive idf).
        known = (self.vocabulary.get(token) for token in query_tokens)
        times = Counter(t for t in known if t is not None and self.idf[t] > 0)
        if not times:
            return np.zeros(0, dtype=np.int64)
        weight = {t: m * self.idf[t] * self.bound[t] for t, m in times.items()}  # each term's largest share
        terms = sorted(weight, key=lambda t: (self.starts[t + 1] - self.starts[t], t))  # rarest first
        baseline = self.baseline(query_tokens)
        rest = sum(weight.values())
        found = np.zeros(0, dtype=np.int64)
        budget = MAXSCORE_BUDGET if self.champions else self.size // 4
        for n, term in enumerate(terms):
            rest -= weight[term]
            if len(found) + int(self.starts[term + 1] - self.starts[term]) > budget:
                return self._broad(query_tokens, times, k, allowed, baseline)  # scoring them all is faster
            found = np.union1d(found, self.postings[self.starts[term]:self.starts[term + 1]])
            if allowed is not None:
                found = found[allowed[found]]
            if n + 1 == len(terms) or len(found) < k:
                continue
            # The terms so far give each passage found a lower bound of its score (shares are never negative); a
            # passage can reach the k best only if that bound plus every other term's largest share (`rest`) does,
            # and those few are then scored exactly. A passage holding none of the terms so far scores at most
            # `rest`.
            partial = np.zeros(len(found))
            for t in terms[:n + 1]:
                held, share = self._shares(t)
                keep = allowed[held] if allowed is not None else slice(None)
                partial[np.searchsorted(found, held[keep])] += times[t] * self.idf[t] * share[keep]
            # The k-th best exact score among the passages with the best bounds: the k-th best of all is no lower.
            lead = min(len(found), max(LEADERS, k))
            leaders = np.sort(found[np.argpartition(-partial, lead - 1)[:lead]])
            kth = -np.partition(-self.scores_of(query_tokens, leaders), k - 1)[k - 1] - baseline
            margin = 1e-9 * (abs(kth) + rest + 1)  # covers the rounding of the sums
            if rest < kth - margin:
                chosen = found[partial + rest >= kth - margin]
                return self._first(chosen, self.scores_of(query_tokens, chosen), k, None, baseline)
        return self._first(found, self.scores_of(query_tokens, found), k, None, baseline)

    def _shares(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """The term's postings and each one's share (see _parts)."""
        lo, hi = int(self.starts[term]), int(self.starts[term + 1])
        held = self.postings[lo:hi]
        return held, self._parts(self.frequencies[lo:hi].astype(np.float64), self.length_norm[held])

    def _broad(self, query_tokens: list[str], times: Counter[int], k: int, allowed: np.ndarray | None,
               baseline: float) -> np.ndarray:
        """best() for a query whose terms are in many passages: every passage scored (exact) or, past
        SCORE_ALL_MAX passages, the champion lists' best re-scored."""
        if not self.champions:
            scores = self.scores(query_tokens)
            ids = np.flatnonzero(scores > baseline)
            return self._first(ids, scores[ids], k, allowed, baseline)
        rows, shares = [], []
        for term, repeated in times.items():
            lo, hi = int(self.champion_starts[term]), int(self.champion_starts[term + 1])
            if hi > lo:
                held, share = self.champion_rows[lo:hi], self.champion_shares[lo:hi].astype(np.float64)
            else:
                held, share = self._shares(term)
            rows.append(held)
            shares.append(repeated * self.idf[term] * share)
        ids, where = np.unique(np.concatenate(rows), return_inverse=True)
        approximate = np.bincount(where, weights=np.concatenate(shares))
        if allowed is not None:
            approximate[~allowed[ids]] = -np.inf
        pool = np.sort(ids[np.argsort(-approximate, kind="stable")[:RESCORED]]).astype(np.int64)
        return self._first(pool, self.scores_of(query_tokens, pool), k, allowed, baseline)

    @staticmethod
    def _first(ids: np.ndarray, scores: np.ndarray, k: int, allowed: np.ndarray | None, above: float) -> np.ndarray:
        """The `k` best of `ids` by score, ties by row, among `allowed` and scoring above `above`."""
        keep = scores > above
        if allowed is not None:
            keep &= allowed[ids]
        ids, scores = ids[keep], scores[keep]
        return ids[np.lexsort((ids, -scores))[:k]].astype(np.int64)
