"""Re-rank the best candidates with evidence beyond the fused score: a passage whose best sentence holds the
question's rare words (idf-weighted coverage) moves up past one that is only close in meaning, and within the few
best the whole passage's cosine similarity counts again (the fused score gives it only a quarter of the dense
share, the rest to the best sentence); with the reader, a passage one of whose sentences it reads as answering moves
up too; and for 'What did X say?', X's own words come first. Only the top `rerank_depth` passages of the hybrid
ranking are re-scored; the weights were fitted on the dev data of both corpora (qa_tools/fit_confidence.py
`fit_rerank`)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.config import Settings
from qa.evidence.answertype import said_by
from qa.evidence.features import Evidence, gather
from qa.evidence.question import analyse
from qa.evidence.reader import Reader
from qa.index.store import Index
from qa.search.query import Query
from qa.search.retrieval import Ranking, rank

# The settings that weigh what rerank_features gives, column by column (the last with the reader only).
RERANK_WEIGHTS = ("rerank_sentence_coverage", "rerank_similarity", "rerank_reader")


def rerank_features(evidence: Evidence, ids: np.ndarray, reader: bool) -> np.ndarray:
    """One row per passage of `ids`: its best sentence's coverage of the question's terms, the passage's cosine
    similarity to the question, and, with `reader`, the reader's best probability that one of its sentences
    answers (the passages read in one batch)."""
    if reader:
        evidence.read(ids)
    sentences = [evidence.sentences(int(i), reader) for i in ids]
    columns = [np.asarray([float(s.coverage.max(initial=0.0)) for s in sentences]), evidence.ranking.similarity[ids]]
    if reader:
        columns.append(1 / (1 + np.exp(-np.asarray([float(s.reader.max(initial=-20.0)) for s in sentences]))))
    return np.column_stack(columns)


def rerank_weights(settings: Settings, reader: bool) -> np.ndarray:
    return np.array([getattr(settings, name) for name in RERANK_WEIGHTS[:len(RERANK_WEIGHTS) - (not reader)]])


def reads_to_rerank(evidence: Evidence, settings: Settings) -> bool:
    """Whether re-ranking weighs the reader: only then does it read every passage it re-ranks (at weight 0, the
    reader reads only the passages the level and the highlights look at)."""
    return evidence.reader is not None and settings.rerank_reader != 0


def reordered(ranking: Ranking, head: np.ndarray, scores: np.ndarray) -> Ranking:
    """`ranking` with its first passages, `head`, ordered by their new `scores` (ties: passage order, as in
    rank()); the rest keep their order."""
    order = np.concatenate([head[np.lexsort((head, -scores))], ranking.order[len(head):]])
    return replace(ranking, order=order, scores=ranking.scores.updated(head, scores))


def rerank(evidence: Evidence, settings: Settings, mode: str) -> Ranking:
    """The ranking with its top `rerank_depth` passages re-scored and re-ordered (hybrid mode only: BM25 and dense
    alone are kept as they rank, to compare against)."""
    ranking, depth = evidence.ranking, settings.rerank_depth
    if mode != "hybrid" or depth < 2 or len(ranking.order) < 2:
        return ranking
    head, reader = ranking.order[:depth], reads_to_rerank(evidence, settings)
    features = rerank_features(evidence, head, reader)
    return speaker_first(evidence, reordered(ranking, head, ranking.scores[head] + features @ rerank_weights(settings, reader)))


def speaker_first(evidence: Evidence, ranking: Ranking) -> Ranking:
    """'What did X say?': the best-ranked passage that is X's own words (their article's author or publisher, their
    reader comment, which may not name them) comes first, the rest keep their order. Scores are kept: only the order
    moves."""
    who = evidence.question.speaker
    index = evidence.index
    own = next((int(i) for i in ranking.order
                if said_by(index.documents[index.passages[int(i)].doc_id], who)), None) if who else None
    if own is None:
        return ranking
    return replace(ranking, order=np.concatenate([[own], ranking.order[ranking.order != own]]))


def ranked_evidence(index: Index, question: str, query: Query, settings: Settings, mode: str = "hybrid",
                    allowed: np.ndarray | None = None, reader: Reader | None = None) -> tuple[Evidence, Ranking]:
    """Stage 3 in full: the passages ranked by fused scores (`allowed` only), their sentence-level evidence for
    `question`, analysed once here (and read by `reader`, if any), and the best re-ranked by it."""
    ranking = rank(index, query.text, query.vector, settings, mode, allowed)
    evidence = gather(analyse(question, query.text, settings.stem), index, ranking, settings, reader)
    return evidence, rerank(evidence, settings, mode)
