"""Stage 5 of answering: compose the answer from the ranked passages. The best are quoted with their highlights;
a question about a count also quotes other sources' figures; near-duplicates are shown once; and quotes are grouped
by source when the sources give different figures. Passages are only chosen, reordered or merged, never changed."""
from __future__ import annotations

from dataclasses import replace

from qa.answer.figures import asked_measures, find_disagreement, find_figures, in_passage_order
from qa.answer.highlight import highlight_spans
from qa.answer.model import Answer, Passage
from qa.config import Settings
from qa.corpus.text import tokenize
from qa.index.store import Index
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


def quote(i: int, index: Index, ranking: Ranking, settings: Settings) -> Passage:
    """Passage `i` of the index, quoted with the sentences that best answer marked."""
    record = index.passages[i]
    lo, hi = index.sentence_offsets[i], index.sentence_offsets[i + 1]
    spans = highlight_spans(record, ranking.sentence_similarity[lo:hi], settings.highlight_margin)
    return Passage.quote(record, index.documents[record.doc_id], ranking.scores[i], spans)


def choose(ranking: Ranking, k: int, settings: Settings) -> list[int]:
    """The best passage, and up to k - 1 more whose fused score stays within `relative_cutoff` of it."""
    best = ranking.order[0]
    top_score = ranking.scores[best]
    return [int(i) for i in ranking.order[:k] if i == best or ranking.scores[i] >= settings.relative_cutoff * top_score]


def other_sources_figures(question: str, chosen: list[int], quoted: list[Passage], index: Index, ranking: Ranking,
                          settings: Settings) -> list[Passage]:
    """For a question about a count (killed, injured, detained): passages among the best `figure_depth` that
    give such a figure from a source not yet quoted, or a figure not yet quoted, so every version is seen.
    `quoted` are the passages of `chosen`, already quoted."""
    measures = asked_measures(question)
    if not measures:
        return []
    sources = {p.doc_id for p in quoted}
    figures = {f.text.lower() for p in quoted for f in find_figures(p) if f.measure in measures}
    extra: list[Passage] = []
    for i in ranking.order[:settings.figure_depth]:
        if len(chosen) + len(extra) >= settings.max_k:
            break
        if i in chosen:
            continue
        passage = quote(i, index, ranking, settings)
        found = {f.text.lower() for f in find_figures(passage) if f.measure in measures}
        if found and (passage.doc_id not in sources or found - figures):
            extra.append(passage)
            sources.add(passage.doc_id)
            figures |= found
    return extra


def compose(question: str, k: int, every_source: bool, query: Query, ranking: Ranking, index: Index,
            settings: Settings, message: str) -> Answer:
    """The answer quoting the best passages for `question` (k of them; with `every_source`, also other sources'
    figures for a count), opened by `message`."""
    chosen = choose(ranking, k, settings)
    passages = [quote(i, index, ranking, settings) for i in chosen]
    if every_source:
        passages += other_sources_figures(question, chosen, passages, index, ranking, settings)
    passages = collapse_duplicates(passages, settings.duplicate_overlap)
    disagreement = find_disagreement(question, passages)
    if disagreement:  # quotes grouped by source in date order, and the notice's figures listed in that order
        passages = group_by_source(passages)
        disagreement = in_passage_order(disagreement, passages)
    return Answer(question, False, passages, message, searched_for=query.text if query.follow_up else None,
                  disagreement=disagreement)
