"""The inverted-index BM25 against rank-bm25 itself, the reference implementation."""
import random
from collections import Counter

import numpy as np
import pytest
import rank_bm25
from conftest import ROOT

from qa.corpus.documents import load_corpus
from qa.corpus.text import tokenize
from qa.index.lexical import LexicalIndex
from qa_tools.evaluate import load_questions

REFERENCE = {"okapi": rank_bm25.BM25Okapi, "plus": rank_bm25.BM25Plus, "l": rank_bm25.BM25L}


@pytest.fixture(scope="module")
def passages_and_queries():
    """5,000 passages drawn from the seed corpus's words with their Zipfian frequencies; 40 labelled questions
    and 20 random queries with repeated and unseen terms."""
    rng = random.Random(7)
    counts = Counter(t for d in load_corpus(ROOT / "corpus") for t in tokenize(d.body, stem=True, stopwords=False))
    words, weights = zip(*counts.most_common())
    passages = [rng.choices(words, weights, k=rng.randint(3, 120)) for _ in range(5000)]
    passages[17] = []  # an empty passage
    queries = [tokenize(q.question, stem=True, stopwords=False) for q in load_questions()[:40]]
    queries += [rng.choices(words, weights, k=rng.randint(1, 8)) + ["unseen-term"] for _ in range(20)]
    return passages, queries


@pytest.mark.slow  # rank-bm25, the reference, scores in pure Python
@pytest.mark.parametrize("variant, k1, b", [("okapi", 1.2, 0.75), ("plus", 1.2, 0.75), ("l", 1.2, 0.75), ("l", 0.9, 0.4)])
def test_scores_and_ranking_equal_rank_bm25(passages_and_queries, variant, k1, b):
    passages, queries = passages_and_queries
    lexical = LexicalIndex(passages, variant, k1, b)
    reference = REFERENCE[variant](passages, k1=k1, b=b)
    for query in queries:
        expected = reference.get_scores(query)
        got = lexical.scores(query)
        assert got == pytest.approx(expected, rel=1e-12, abs=0)
        assert np.array_equal(got, expected)  # the same arithmetic, so not even the last bit differs
        passage_order = np.arange(len(passages))
        assert np.array_equal(np.lexsort((passage_order, -got)), np.lexsort((passage_order, -expected)))


@pytest.mark.parametrize("variant", ["okapi", "plus", "l"])
def test_best_is_the_head_of_the_full_ranking_without_scoring_every_passage(passages_and_queries, variant):
    """MaxScore's k best equal the k best of every passage's score (ties by row), with and without a filter,
    without scoring every passage."""
    passages, queries = passages_and_queries
    lexical = LexicalIndex(passages, variant)
    allowed = np.arange(len(passages)) % 3 != 0
    rows = np.arange(len(passages))
    full = {tuple(query): lexical.scores(query) for query in queries}
    scored: list[int] = []  # the k of each best() that scored every passage
    for query in queries:
        scores = full[tuple(query)]
        for k, mask in ((1, None), (10, None), (100, None), (10, allowed)):
            held = scores > lexical.baseline(query)
            if mask is not None:
                held &= mask
            order = rows[held][np.lexsort((rows[held], -scores[held]))][:k]
            lexical.scores = lambda q, k=k: scored.append(k) or full[tuple(q)]
            assert lexical.best(query, k, mask).tolist() == order.tolist()
    if variant != "l":  # BM25L's shares are bounded loosely (they grow with tf), so it prunes less
        assert len(scored) <= 80  # of 240 searches, most of them found from a few postings
    assert lexical.best(["unseen-term"], 10).tolist() == []
    assert lexical.best([], 10).tolist() == []


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown BM25 variant 'bm99'"):
        LexicalIndex([["a"]], "bm99")


@pytest.mark.parametrize("variant", ["okapi", "plus", "l"])
def test_candidates_score_as_in_a_full_ranking_and_as_a_sparse_dot_product(passages_and_queries, variant):
    """scores_of (rank() on candidates) equals scores() to the bit; the sparse dot product the Milvus backend computes
    is the score less a constant per query (BM25Plus's idf * delta of each term), so it orders passages alike; and
    the passages scoring above the baseline are those holding a query term."""
    passages, queries = passages_and_queries
    lexical = LexicalIndex(passages, variant)
    rows = np.arange(0, len(passages), 7)
    for query in queries:
        full = lexical.scores(query)
        assert np.array_equal(lexical.scores_of(query, rows), full[rows])
        weights = lexical.passage_weights(query)
        dots = np.array([sum(weights.get(t, 0.0) * v for t, v in lexical.passage_terms(passages[r], r).items())
                         for r in rows])
        assert full[rows] - dots == pytest.approx(np.full(len(rows), (full[rows] - dots)[0]), abs=1e-9)
        assert np.array_equal(full[rows] > lexical.baseline(query), dots > 0)
        if variant != "plus":
            assert (full[rows] - dots) == pytest.approx(0, abs=1e-9)


def test_postings_built_in_blocks_equal_one_block(passages_and_queries, monkeypatch):
    passages, _ = passages_and_queries
    whole = LexicalIndex(passages)
    monkeypatch.setattr("qa.index.lexical.BLOCK_PASSAGES", 700)  # 8 blocks, the last one short
    blocks = LexicalIndex(passages)
    assert whole.vocabulary == blocks.vocabulary
    for name in ("postings", "frequencies", "starts", "length_norm", "bound"):
        assert np.array_equal(getattr(whole, name), getattr(blocks, name)), name
    assert blocks.frequencies.dtype == np.uint16


def test_champion_lists_answer_broad_queries_on_large_indexes(passages_and_queries, monkeypatch):
    """Past SCORE_ALL_MAX passages, a query too broad for MaxScore's budget is answered from champion lists: the
    candidates are passages holding a query term, allowed, ordered by their exact scores, and nearly the exact top."""
    passages, queries = passages_and_queries
    for name, value in (("SCORE_ALL_MAX", 0), ("MAXSCORE_BUDGET", 300), ("CHAMPIONS", 200), ("RESCORED", 100)):
        monkeypatch.setattr(f"qa.index.lexical.{name}", value)
    lexical = LexicalIndex(passages)
    df = np.diff(lexical.starts)
    assert lexical.champion_starts[-1] == 200 * np.count_nonzero(df > 200)
    allowed = np.arange(len(passages)) % 3 != 0
    hits = broad = 0
    for query in queries:
        scores = lexical.scores(query)
        held = np.flatnonzero(scores > lexical.baseline(query))
        exact = held[np.lexsort((held, -scores[held]))][:10]
        best = lexical.best(query, 10)
        assert np.array_equal(best, best[np.lexsort((best, -scores[best]))]) and (scores[best] > lexical.baseline(query)).all()
        assert allowed[lexical.best(query, 10, allowed)].all()
        hits += len(set(best.tolist()) & set(exact.tolist()))
        broad += sum(df[lexical.vocabulary[t]] for t in set(query) if t in lexical.vocabulary) > 300
    assert broad >= 40  # most queries here take the champion lists
    assert hits / (10 * len(queries)) >= 0.9


@pytest.mark.parametrize("variant, k1, b", [("okapi", 1.2, 0.75), ("plus", 1.2, 0.75), ("l", 0.9, 0.4)])
def test_an_index_restored_from_its_arrays_scores_as_the_one_built(passages_and_queries, variant, k1, b):
    """What a build saves (terms, postings, frequencies, starts) gives back the same index without tokenising the
    passages again: the same lengths, bounds and scores, to the last bit."""
    passages, queries = passages_and_queries
    built = LexicalIndex(passages, variant, k1, b)
    restored = LexicalIndex.stored(*built.arrays(), len(passages), variant, k1, b)
    assert restored.vocabulary == built.vocabulary and restored.average_length == built.average_length
    assert np.array_equal(restored.length_norm, built.length_norm) and restored.idf == built.idf
    assert np.array_equal(restored.bound, built.bound)
    for query in queries:
        assert np.array_equal(restored.scores(query), built.scores(query))
        assert np.array_equal(restored.best(query, 10), built.best(query, 10))


def test_arrays_that_cannot_be_one_index_are_refused(passages_and_queries):
    terms, postings, frequencies, starts = LexicalIndex(passages_and_queries[0][:50]).arrays()
    for damaged in ((terms[:-1], postings, frequencies, starts, 50), (terms, postings[:-1], frequencies, starts, 50),
                    (terms, postings, frequencies, starts[::-1].copy(), 50), (terms, postings, frequencies, starts, 3),
                    (terms, postings.astype(np.int64), frequencies, starts, 50), ([*terms[:-1], terms[0]], postings,
                                                                                  frequencies, starts, 50)):
        with pytest.raises(ValueError):
            LexicalIndex.stored(*damaged)
