"""Re-rank the best candidates with sentence-level evidence: a passage whose best sentence holds the question's rare
words (idf-weighted coverage) moves up past one that is only close in meaning. Only the top `rerank_depth`
passages of the hybrid ranking are re-scored; the weights were fitted on the dev data of both corpora
(qa_tools/fit_confidence.py)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.answer.features import Evidence, gather
from qa.config import Settings
from qa.index.store import Index
from qa.search.query import Query
from qa.search.retrieval import Ranking, rank


def rerank_scores(evidence: Evidence, ids: np.ndarray, s: Settings) -> np.ndarray:
    """The fused score of each passage of `ids` plus its weighted passage and best-sentence coverage."""
    extra = []
    for i in ids:
        sentences = evidence.sentences(int(i))
        extra.append(s.rerank_passage_coverage * sentences.passage_coverage
                     + s.rerank_sentence_coverage * float(sentences.coverage.max(initial=0.0)))
    return evidence.ranking.scores[ids] + np.asarray(extra)


def rerank(evidence: Evidence, settings: Settings, mode: str) -> Ranking:
    """The ranking with its top `rerank_depth` passages re-scored and re-ordered (hybrid mode only: BM25 and dense
    alone are kept as they rank, to compare against)."""
    ranking, depth = evidence.ranking, evidence.settings.rerank_depth
    if mode != "hybrid" or depth < 2 or len(ranking.order) < 2:
        return ranking
    head = ranking.order[:depth]
    scores = rerank_scores(evidence, head, settings)
    # Stable on ties: passage order decides, as in rank().
    new_head = head[np.lexsort((head, -scores))]
    all_scores = ranking.scores.copy()
    all_scores[head] = scores
    return replace(ranking, order=np.concatenate([new_head, ranking.order[depth:]]), scores=all_scores)


def ranked_evidence(index: Index, question: str, query: Query, settings: Settings, mode: str = "hybrid",
                    allowed: np.ndarray | None = None) -> tuple[Evidence, Ranking]:
    """Stage 3 in full: the passages ranked by fused scores (`allowed` only), their sentence-level evidence for
    `question`, and the best re-ranked by it."""
    evidence = gather(question, query.text, index, rank(index, query.text, query.vector, settings, mode, allowed), settings)
    return evidence, rerank(evidence, settings, mode)
