"""Re-ranking (qa/evidence/rerank.py) on the fixture corpus with the word-hash encoder: which evidence moves a
candidate, by exactly how much, and how far down the ranking it reaches."""
from dataclasses import replace

import numpy as np
import pytest

from qa.evidence.features import Evidence
from qa.evidence.rerank import ranked_evidence, rerank, rerank_features
from qa.search.query import Query
from qa_tools.evaluate import Labelled
from qa_tools.fit_confidence import Case, cross_validated, fit_rerank

# Its best sentences in alpha#p1 and beta#p1 hold the same share of its terms (police, use, weapons), so coverage
# cannot tell them apart; beta#p1 is closer to it in meaning as a whole.
QUESTION = "Did the police use weapons against workers in the square?"
ALPHA, BETA = 0, 3  # alpha#p1, beta#p1


def passage_ids(qa, order) -> list[str]:
    return [qa.index.passages[int(i)].passage_id for i in order]


def tied_evidence(qa, order=None) -> Evidence:
    """The question's evidence with every fused score set to 0.5 (and the ranking in `order`, if given), so that
    only the re-ranking evidence orders the candidates."""
    vector = qa.encoder.encode([QUESTION])[0]
    evidence, _ = ranked_evidence(qa.index, QUESTION, Query(QUESTION, vector, (QUESTION,)), qa.settings)
    ranking = evidence.ranking
    tied = replace(ranking, scores=replace(ranking.scores, values=np.full(len(ranking.scores.values), 0.5)),
                   order=ranking.order if order is None else np.asarray(order))
    return replace(evidence, ranking=tied)


def test_the_ranking_before_re_ranking(fixture_qa):
    evidence = tied_evidence(fixture_qa)
    assert passage_ids(fixture_qa, evidence.ranking.order) == [
        "alpha#p1", "beta#p1", "beta#p2", "alpha#p2", "alpha/comment-1#p1"]


def test_features_are_best_sentence_coverage_and_passage_similarity(fixture_qa):
    features = rerank_features(tied_evidence(fixture_qa), np.array([ALPHA, BETA]), False)
    assert features == pytest.approx(np.array([[0.5664565, 0.4564355], [0.5664565, 0.5393599]]), abs=1e-7)


def test_the_passage_closer_in_meaning_wins_what_coverage_ties(fixture_qa):
    evidence = tied_evidence(fixture_qa)
    reranked = rerank(evidence, fixture_qa.settings, "hybrid")
    assert passage_ids(fixture_qa, reranked.order) == [
        "beta#p1", "alpha#p1", "beta#p2", "alpha#p2", "alpha/comment-1#p1"]
    # fused score + 0.3 x best-sentence coverage + 0.75 x passage similarity
    assert reranked.scores[BETA] == pytest.approx(0.5 + 0.3 * 0.5664565 + 0.75 * 0.5393599, abs=1e-7)
    assert reranked.scores[ALPHA] == pytest.approx(0.5 + 0.3 * 0.5664565 + 0.75 * 0.4564355, abs=1e-7)
    alone = rerank(evidence, replace(fixture_qa.settings, rerank_similarity=0.0), "hybrid")
    assert passage_ids(fixture_qa, alone.order)[:2] == ["alpha#p1", "beta#p1"]  # a tie: passage order


def test_only_the_top_rerank_depth_passages_move(fixture_qa):
    evidence = tied_evidence(fixture_qa, order=[2, 1, 4, BETA, ALPHA])  # the fused order reversed
    top_two = rerank(evidence, replace(fixture_qa.settings, rerank_depth=2), "hybrid")
    # alpha/comment-1#p1 and alpha#p2 hold none of the question's terms and share no hashed stem with it: a tie
    assert passage_ids(fixture_qa, top_two.order) == [
        "alpha#p2", "alpha/comment-1#p1", "beta#p2", "beta#p1", "alpha#p1"]
    assert rerank(evidence, replace(fixture_qa.settings, rerank_depth=1), "hybrid") is evidence.ranking


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_bm25_and_dense_rankings_are_kept_as_they_rank(fixture_qa, mode):
    evidence = tied_evidence(fixture_qa)
    assert rerank(evidence, fixture_qa.settings, mode) is evidence.ranking


@pytest.mark.parametrize("gold, weights", [
    (ALPHA, {"rerank_sentence_coverage": 0.0, "rerank_similarity": 0.0}),  # first already
    (BETA, {"rerank_sentence_coverage": 0.0, "rerank_similarity": 0.05}),  # the least similarity that lifts it
])
def test_fit_rerank_takes_the_first_grid_weights_that_rank_gold_best(fixture_qa, gold, weights):
    item = Labelled("articles", "x1", QUESTION, (), True, False, frozenset({gold}), {})
    assert fit_rerank([Case(item, tied_evidence(fixture_qa), 1.0)], fixture_qa.settings) == weights


def test_cross_validation_scores_each_fold_with_weights_chosen_on_the_others():
    corpora = np.array(["a"] * 6 + ["b"] * 4)
    reciprocal = np.array([[0.25] * 10, [1.0] * 6 + [0.5] * 4])  # setting 1 is better on every case
    assert cross_validated(reciprocal, corpora, np.array([0, 1])) == pytest.approx((1.0 + 0.5) / 2)
    assert cross_validated(reciprocal, corpora, np.array([0])) == pytest.approx(0.25)
