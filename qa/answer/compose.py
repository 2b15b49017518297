"""Stage 5 of answering: compose the answer from the ranked passages. The best are quoted with their highlights;
a question about a count also quotes every other source's figure; near-duplicates are shown once; and, after the
best passage, quotes are grouped by source when the sources give different figures. Passages are only chosen,
reordered or merged, never changed."""
from __future__ import annotations

from dataclasses import replace

from qa.answer.confidence import Calibration
from qa.answer.decide import Decision
from qa.answer.figures import asked_measures, find_disagreement, find_figures, in_passage_order
from qa.answer.highlight import highlight_spans
from qa.answer.model import Answer, Passage
from qa.config import Settings
from qa.corpus.text import tokenize
from qa.evidence.features import Evidence
from qa.search.query import Query
from qa.search.retrieval import Ranking


def _words(p: Passage) -> set[str]:
    return set(tokenize(p.text, stem=True, stopwords=False))


def near_duplicate(a: Passage, b: Passage, min_overlap: float) -> bool:
    """Two sources making the same claim in near-identical words: the share of shared words (Jaccard)."""
    wa, wb = _words(a), _words(b)
    return a.doc_id != b.doc_id and bool(wa | wb) and len(wa & wb) / len(wa | wb) >= min_overlap


def collapse_duplicates(passages: list[Passage], min_overlap: float) -> list[Passage]:
    """Each near-duplicate joins the first (best) passage that says the same, as an extra citation."""
    kept: list[Passage] = []
    for p in passages:
        twin = next((i for i, q in enumerate(kept) if near_duplicate(q, p, min_overlap)), None)
        if twin is None:
            kept.append(p)
        else:
            kept[twin] = replace(kept[twin], also_in=[*kept[twin].also_in, p])
    return kept


def group_by_source(passages: list[Passage]) -> list[Passage]:
    """Quotes grouped by document, documents in date order (undated last); best first inside a document."""
    first_seen = {p.doc_id: n for n, p in reversed(list(enumerate(passages)))}
    return sorted(passages, key=lambda p: (p.date is None, p.date or "", first_seen[p.doc_id]))


def quote(i: int, ranking: Ranking, evidence: Evidence, calibration: Calibration) -> Passage:
    """Passage `i` of the index, quoted with its score and the sentences that answer marked."""
    index, record = evidence.index, evidence.index.passages[i]
    spans = highlight_spans(record, evidence.sentences(i), calibration)
    return Passage.quote(record, index.documents[record.doc_id], ranking.scores[i], spans)


def choose(ranking: Ranking, k: int, settings: Settings) -> list[int]:
    """The best passage, and up to k - 1 more whose score stays within `relative_cutoff` of it."""
    best = ranking.order[0]
    top_score = ranking.scores[best]
    return [int(i) for i in ranking.order[:k] if i == best or ranking.scores[i] >= settings.relative_cutoff * top_score]


def other_sources_figures(question: str, chosen: list[int], quoted: list[Passage], ranking: Ranking,
                          evidence: Evidence, calibration: Calibration) -> list[Passage]:
    """For a question about a count (killed, injured, detained): every passage of the corpus that gives such a
    figure that no quoted passage of its source gives yet, best ranked first. So the figures shown are every
    source's, whatever the question's wording. `quoted` are the passages of `chosen`, already quoted."""
    measures = asked_measures(question)
    if not measures:
        return []

    def stated(p: Passage) -> set[tuple[str, str]]:
        return {(f.text.lower(), f.source) for f in find_figures(p) if f.measure in measures}

    seen = set().union(*map(stated, quoted))
    position = {int(i): n for n, i in enumerate(ranking.order)}  # unranked passages (large corpora) last
    extra: list[Passage] = []
    candidates = [i for i in evidence.index.figures.rows(measures) if ranking.allowed is None or ranking.allowed[i]]
    for i in sorted(set(candidates) - set(chosen), key=lambda i: (position.get(i, len(position)), i)):
        passage = quote(i, ranking, evidence, calibration)
        if stated(passage) - seen:
            extra.append(passage)
            seen |= stated(passage)
    return extra


def compose(question: str, k: int, every_source: bool, query: Query, ranking: Ranking, evidence: Evidence,
            decision: Decision, calibration: Calibration) -> Answer:
    """The answer quoting the best passages for `question` (k of them; with `every_source`, also other sources'
    figures for a count), opened by the decision's message and carrying its confidence level."""
    settings = evidence.settings
    chosen = choose(ranking, k, settings)
    evidence.read(chosen)  # in one batch
    passages = [quote(i, ranking, evidence, calibration) for i in chosen]
    if every_source:
        passages += other_sources_figures(question, chosen, passages, ranking, evidence, calibration)
    passages = collapse_duplicates(passages, settings.duplicate_overlap)
    disagreement = find_disagreement(question, passages, {d: evidence.index.documents[d].body for d in
                                                          {p.doc_id for p in passages}})
    if disagreement:  # the answer first, then the other quotes grouped by source in date order, and the notice's
        # figures listed in that order
        passages = passages[:1] + group_by_source(passages[1:])
        disagreement = in_passage_order(disagreement, passages)
    return Answer(question, False, passages, decision.message, searched_for=query.text if query.follow_up else None,
                  disagreement=disagreement, confidence=decision.confidence)
