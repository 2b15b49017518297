"""Tune on the dev split: `python -m qa_tools.tune [--split dev] [--top 15]` (retrieval grid) and
`python -m qa_tools.tune --abstention` (abstention thresholds for the retrieval defaults in qa/config.py).
Run it as a module from the repository root so that this checkout's `qa` package is the one imported.

For every index setting (passage merge, title, BM25 variant/k1/b, stemming, stop words) it computes each
question's BM25, passage and sentence similarities once, then scores every fusion setting (min-max or RRF,
dense weight, RRF k, best-sentence share) from them with the engine's own `dense_scores` and `fuse`.
Prints the best settings by hybrid (hit@3, MRR), best last, and for each setting value the best hybrid
(hit@3, MRR) reachable with it, which shows which choices matter and which are ties.

Abstention: for each threshold setting, which dev questions would abstain. Off-topic questions must all abstain
and answerable ones never. Off-topic thresholds: the middle of the range that does that. Answer-type evidence:
among the settings that abstain on no answerable question, the one catching most on-topic unanswerable questions
(ties: the most lenient, to keep a margin for answerable questions)."""
from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qa.answer.decide import closest_meaning, known_share
from qa.api import QA
from qa.cli import common_options, settings_from
from qa.config import Settings
from qa.evidence.question import analyse, lacks_answer_type
from qa.index.encoder import Encoder, MiniLMEncoder
from qa.index.store import Index, build
from qa.search.retrieval import Ranking, dense_scores, fuse, rank
from qa_tools.evaluate import Question, gold_passages, load_questions, questions_option
from qa_tools.metrics import first_rank, order_of, summary

INDEX_GRID: dict[str, tuple[Any, ...]] = {
    "min_passage_words": (10, 20, 30, 40), "index_title": (False, True), "bm25_variant": ("okapi", "plus", "l"),
    "bm25_k1": (0.9, 1.2, 1.6), "bm25_b": (0.5, 0.75, 1.0), "stem": (True, False), "stopwords": (False, True)}
FUSION_GRID: list[dict[str, Any]] = [{"fusion": "minmax", "dense_weight": w, "sentence_weight": s}
               for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8) for s in (0.0, 0.25, 0.5, 0.75, 1.0)]
FUSION_GRID += [{"fusion": "rrf", "dense_weight": w, "sentence_weight": s, "rrf_k": k}
                for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8) for s in (0.0, 0.25, 0.5, 0.75, 1.0) for k in (10, 30, 60)]


class CachedEncoder:
    """Encodes each distinct text once across the whole grid."""

    def __init__(self, inner: Encoder):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.encode(missing)))
        return np.stack([self.cache[t] for t in texts])


@dataclass(frozen=True)
class Signals:
    """One question's scores over one index, computed once and shared by every fusion setting."""

    lexical: np.ndarray
    similarity: np.ndarray
    sentence_similarity: np.ndarray
    gold: frozenset[int]


def evidence_sentences(index: Index, ranking: Ranking, passages: int, sentences: int, margin: float) -> list[str]:
    """The `sentences` sentences of the top `passages` passages most similar to the question, keeping only those
    within `margin` of the best one: where an answer would be (the evidence of the answer-type grid below)."""
    scored = []
    for i in ranking.order[:passages]:
        record, first = index.passages[i], index.sentence_offsets[i]
        scored += [(float(ranking.sentence_similarity[first + j]), record.text[a:b])
                   for j, (a, b) in enumerate(record.sentences)]
    scored.sort(key=lambda s: -s[0])
    return [text for sim, text in scored[:sentences] if sim >= scored[0][0] - margin] if scored else []


def signals(index: Index, settings: Settings, question: Question, vector: np.ndarray, gold: set[int]) -> Signals:
    lexical = rank(index, question.question, vector, settings, "bm25")  # its scores are the BM25 scores
    return Signals(np.asarray(lexical.scores), np.asarray(lexical.similarity), np.asarray(lexical.sentence_similarity),
                   frozenset(gold))


def first_gold_rank(scores: np.ndarray, gold: frozenset[int]) -> int:
    """1-based rank of the best-placed gold passage, ties broken by passage order as in `rank`."""
    return first_rank(order_of(scores), gold)


def evaluate_fusions(index: Index, base: Settings, sigs: list[Signals]) -> list[tuple[Settings, dict]]:
    out = []
    bm25 = summary([first_gold_rank(s.lexical, s.gold) for s in sigs])
    dense_by_share: dict[float, dict] = {}
    for params in FUSION_GRID:
        settings = replace(base, **params)
        dense = [dense_scores(s.similarity, s.sentence_similarity, index.sentence_offsets[:-1], settings) for s in sigs]
        if settings.sentence_weight not in dense_by_share:
            dense_by_share[settings.sentence_weight] = summary([first_gold_rank(d, s.gold) for d, s in zip(dense, sigs)])
        hybrid = summary([first_gold_rank(fuse(s.lexical, d, settings), s.gold) for d, s in zip(dense, sigs)])
        out.append((settings, {"bm25": bm25, "dense": dense_by_share[settings.sentence_weight], "hybrid": hybrid}))
    return out


def describe(s: Settings) -> str:
    fusion = f"rrf k={s.rrf_k}" if s.fusion == "rrf" else "minmax"
    return (f"words {s.min_passage_words} title {s.index_title} {s.bm25_variant} k1={s.bm25_k1} b={s.bm25_b} "
            f"stem {s.stem} stop {s.stopwords} | {fusion} w={s.dense_weight} sentence={s.sentence_weight}")


def calibrate_abstention(questions: list[Question], settings: Settings, encoder: Encoder) -> None:
    index = build(settings, encoder)
    words = index.words.stems
    rankings = [rank(index, q.question, v, settings) for q, v in zip(questions, encoder.encode([q.question for q in questions]))]
    sims = [closest_meaning(r) for r in rankings]
    known = [known_share(analyse(q.question).stems, words) for q in questions]
    print("best dense score and share of content words known to the corpus, lowest similarity first:")
    for kind in ("offtopic", "unanswerable", *sorted({q.type for q in questions if q.answerable})):
        rows = sorted((s, k, q.id) for q, s, k in zip(questions, sims, known) if q.type == kind)
        print(f"  {kind:12} " + " ".join(f"{q}:{s:.2f}/{k:.2f}" for s, k, q in rows[:8]) + (" ..." if len(rows) > 8 else ""))
    print("\noff-topic rule: abstain when similarity < t and known share < k")
    feasible = []
    for k in (0.5, 0.6, 0.67, 0.75, 0.8, 0.9, 1.01):
        ts = [t / 100 for t in range(10, 60)
              if all((s < t / 100 and w < k) == (q.type == "offtopic") for q, s, w in zip(questions, sims, known)
                     if q.type == "offtopic" or q.answerable)]
        print(f"  k={k:.2f}: " + (f"every off-topic abstains and no answerable one for t in [{min(ts):.2f}, {max(ts):.2f}]"
                                  if ts else "no t separates them"))
        feasible += [(k, (min(ts) + max(ts)) / 2)] if ts else []
    if feasible:
        k, t = feasible[len(feasible) // 2]
        print(f"chosen (middle of the feasible ranges): min_known_terms {k:.2f}, min_similarity {t:.2f}")
    # Evidence comes from the passages an answer shows by default; the sentences and margin are tuned.
    passages = settings.evidence_passages
    print(f"\nanswer-type rule over the top {passages} passages (sentences, margin): unanswerable caught | answerable abstained")
    results = []
    for sentences, margin in itertools.product((1, 2, 3, 4), (0.0, 0.05, 0.1, 0.2, 1.0)):
        flagged = {q.id for q, r in zip(questions, rankings)
                   if lacks_answer_type(analyse(q.question), evidence_sentences(index, r, passages, sentences, margin))}
        caught = sorted(q.id for q in questions if q.type == "unanswerable" and q.id in flagged)
        wrong = sorted(q.id for q in questions if q.answerable and q.id in flagged)
        print(f"  {sentences} {margin:4.2f}: {len(caught):2d} {' '.join(caught)} | {' '.join(wrong) or '-'}")
        results.append(((not wrong, len(caught), sentences, margin), (sentences, margin)))
    print("chosen (sentences, margin): {} {}".format(*max(results)[1]))


def main(argv: list[str] | None = None, encoder: Encoder | None = None) -> None:
    """`encoder`: the model (default all-MiniLM-L6-v2); the tests pass a fixture encoder."""
    ap = argparse.ArgumentParser(parents=[common_options(), questions_option()])
    ap.add_argument("--split", default="dev")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--abstention", action="store_true", help="calibrate abstention for the current defaults")
    args = ap.parse_args(argv)
    default = settings_from(args)
    if args.abstention:
        calibrate_abstention(load_questions(args.questions, split=args.split), default, encoder or MiniLMEncoder())
        return
    questions = [q for q in load_questions(args.questions, split=args.split) if q.answerable]
    encoder = CachedEncoder(encoder or MiniLMEncoder())
    vectors = encoder.encode([q.question for q in questions])
    results: list[tuple[Settings, dict]] = []
    keys = list(INDEX_GRID)
    grid = list(itertools.product(*INDEX_GRID.values()))
    for n, values in enumerate(grid, 1):
        print(f"\rindex setting {n}/{len(grid)}", end="", file=sys.stderr, flush=True)
        base = replace(default, **dict(zip(keys, values)))
        index = build(base, encoder)
        qa = QA(base, encoder, index)
        sigs = [signals(index, base, q, v, gold_passages(qa, q)) for q, v in zip(questions, vectors)]
        results.extend(evaluate_fusions(index, base, sigs))

    def key(r):
        return r[1]["hybrid"]["hit@3"], r[1]["hybrid"]["mrr"]

    results.sort(key=key)
    print(f"{len(results)} settings, {len(questions)} answerable {args.split} questions")
    for s, rep in results[-args.top:]:
        h = rep["hybrid"]
        print(f"hit@1 {h['hit@1']:.3f} hit@3 {h['hit@3']:.3f} MRR {h['mrr']:.3f} | bm25 MRR {rep['bm25']['mrr']:.3f} "
              f"dense MRR {rep['dense']['mrr']:.3f} | {describe(s)}")
    print("\nbest hybrid (hit@3, MRR) reachable with each value:")
    best: dict[tuple[str, object], tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    for s, rep in results:
        for name in keys + ["fusion", "dense_weight", "sentence_weight", "rrf_k"]:
            if name == "rrf_k" and s.fusion != "rrf":
                continue
            best[name, getattr(s, name)] = max(best[name, getattr(s, name)], key((s, rep)))
    for (name, value), (hit3, mrr) in sorted(best.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {name:18} {value!s:7} hit@3 {hit3:.3f} MRR {mrr:.3f}")
    for s, rep in results:
        if describe(s) == describe(default):
            h = rep["hybrid"]
            print(f"\ncurrent defaults: hit@1 {h['hit@1']:.3f} hit@3 {h['hit@3']:.3f} MRR {h['mrr']:.3f} | {describe(s)}")


if __name__ == "__main__":
    main()
