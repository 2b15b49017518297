"""Fit the re-ranking weights, the highlight model and the confidence model on dev data only, and write
qa/answer/calibration.json:

    python -m qa_tools.fit_confidence --clapnq ../shared/benchmarks/clapnq [--out qa/answer/calibration.json]
    python -m qa_tools.fit_confidence --clapnq ../shared/benchmarks/clapnq --reader   # calibration-reader.json

With `--reader`, every fit below also reads the reader's scores (qa/evidence/reader.py): its weight in re-ranking
(the other two kept), its log-odds in the highlight and confidence models; and each figure is printed without them
first, the gate that decides whether the reader is used (docs/EVALUATION.md, "The reader").

Dev data: the articles' dev split of eval/questions.jsonl and of eval/followups.jsonl, and the `tune` half of the
CLAPNQ folder (qa_tools/clapnq.py). The `test` split and the CLAPNQ `report` half are never read here. Each corpus
weighs the same in every fit, so one set of defaults serves both.

1. Re-ranking: the weights of best-sentence coverage and passage similarity (qa/evidence/rerank.py) that maximise the
   mean of the two corpora's MRR, over a grid. They are printed, to be set in qa/config.py.
2. Highlights: a logistic regression over each gold passage's sentences (gold: the articles' gold quotes, CLAPNQ's
   selected sentences), whose regularisation maximises the mean per-passage F1 of the two corpora, cross-validated
   over folds of questions, of the sentences qa/answer/highlight.py marks (as many as maximise the expected F1).
   Printed: each corpus's cross-validated F1 and share of gold passages with an answering sentence marked.
3. Confidence: a logistic regression whose label is 'the answer is in the top 3 of an answerable question'. With
   `--masked-weight` above 0 it also learns from masked twins, each weighing that much of a real question: every
   answerable question searched again with its gold passages excluded, so the corpus no longer answers it and its
   best passages are the nearest on-topic ones that do not (the hard unanswerable kind). Off by default: tried on
   2026-12-02, the twins raised CLAPNQ's out-of-fold dev AUC and lowered the articles'; the fit chosen with them
   (two more features) lost held-out AUC on both corpora against the shipped one. The `uncertain` threshold is
   `--abstain-margin` times the lowest probability of any corpus's real answerable questions (`--max-abstained`
   quantile, default 0: the lowest); the `answered` threshold is the highest that still answers `--min-answered` of
   each corpus's real answerable questions confidently. Printed: the out-of-fold AUC on the real dev questions,
   folds by question (a question and its twin in one fold), without the twins and, if any, with them."""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.answer.confidence import FORMAT, Calibration, Logistic
from qa.answer.decide import known_share
from qa.answer.highlight import answering
from qa.api import QA
from qa.config import Settings
from qa.evidence.features import (
    QUESTION_FEATURES,
    Evidence,
    feature_names,
    gather,
    question_features,
    sentence_features,
)
from qa.evidence.question import analyse
from qa.evidence.reader import Reader
from qa.evidence.rerank import RERANK_WEIGHTS, reordered, rerank, rerank_features
from qa.index.encoder import MiniLMEncoder
from qa.search.followup import Turn
from qa.search.query import build_query
from qa.search.retrieval import rank
from qa_tools.clapnq import clapnq_index, in_split
from qa_tools.evaluate import FOLLOWUPS, Labelled, labelled_articles, labelled_clapnq, load_questions

GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
READER_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0)
L2_GRID = (0.1, 1.0, 10.0, 100.0)  # the highlight model's regularisation, chosen by cross-validation
FOLDS = 5  # cross-validation folds, over questions


@dataclass
class Case:
    """One labelled question (qa_tools/evaluate.py), searched as `ask` searches it."""

    item: Labelled
    evidence: Evidence  # over the ranking before re-ranking
    known: float  # share of the searched text's content terms that occur in the corpus
    masked: bool = False  # searched with its gold passages excluded: a question the corpus no longer answers

    @property
    def corpus(self) -> str:
        return self.item.corpus

    @property
    def answerable(self) -> bool:
        return self.item.answerable and not self.masked

    @property
    def gold(self) -> frozenset[int]:
        return frozenset() if self.masked else self.item.gold

    @property
    def fold(self) -> int:
        return fold_of(self.item.id)


def fold_of(question_id: str) -> int:
    """A question's cross-validation fold, from its id (so a question and its masked twin share one, and a reader
    trained without a fold never saw its questions: qa_tools/train_reader.py --fold)."""
    return int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % FOLDS


def cases_of(qa: QA, items: list[Labelled], masked: bool = False, readers: list[Reader] | None = None) -> list[Case]:
    """The items searched as `ask` searches them; `masked`: each answerable one with its gold passages excluded
    (passages do not overlap, so no other passage holds any part of its gold quotes). `readers`: one per fold, each
    question read by its fold's (cross-fitted: trained without that fold's questions), else by `qa`'s reader."""
    words = qa.index.words.stems
    cases = []
    for item in items:
        if masked and not item.answerable:
            continue
        query = build_query(item.question, [Turn(h) for h in item.history], qa.encoder, qa.settings.max_chain)
        allowed = None
        if masked:
            allowed = np.ones(len(qa.index.passages), dtype=bool)
            allowed[list(item.gold)] = False
        ranking = rank(qa.index, query.text, query.vector, qa.settings, allowed=allowed)
        question = analyse(item.question, query.text, qa.settings.stem)
        reader = readers[fold_of(item.id)] if readers else qa.reader
        cases.append(Case(item, gather(question, qa.index, ranking, qa.settings, reader),
                          known_share(question.search_stems, words), masked))
    return cases


def dev_cases(qa: QA, folder: Path, cache: Path, masked: bool = False,
              readers: list[Reader] | None = None) -> list[Case]:
    """The articles' dev questions and follow-ups, and the CLAPNQ tune half; `masked`: then their masked twins.
    `readers`: as for cases_of."""
    articles = labelled_articles(qa, load_questions(split="dev") + load_questions(FOLLOWUPS, split="dev"))
    settings, index, questions = clapnq_index(folder, cache, qa.settings, qa.encoder)
    clapnq = QA(settings, qa.encoder, index)
    tune = labelled_clapnq(index, in_split(questions, "tune"))
    cases = cases_of(qa, articles, readers=readers) + cases_of(clapnq, tune, readers=readers)
    if not masked:
        return cases
    return cases + cases_of(qa, articles, True, readers) + cases_of(clapnq, tune, True, readers)


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, names: tuple[str, ...], l2: float = 1.0) -> Logistic:
    """Weighted L2-regularised logistic regression by Newton's method, on standardised features."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.column_stack([(x - mean) / scale, np.ones(len(x))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ beta))
        gradient = z.T @ (weights * (p - y)) + penalty * beta
        hessian = (z * (weights * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return Logistic(names, mean, scale, beta[:-1], float(beta[-1]))


def balanced(owners: list[str]) -> dict[str, float]:
    """The weight of one item of each owner (corpus) so that every owner weighs the same in total, the mean 1."""
    counts = Counter(owners)
    return {k: len(owners) / (len(counts) * n) for k, n in counts.items()}


def corpus_weights(cases: list[Case], masked_weight: float = 1.0) -> np.ndarray:
    """Each corpus's real questions weigh the same in total; a masked twin weighs `masked_weight` of a real one."""
    weight = balanced([c.corpus for c in cases if not c.masked])
    return np.array([weight[c.corpus] * (masked_weight if c.masked else 1.0) for c in cases])


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """The share of (positive, negative) pairs that `p` orders right, ties counting half."""
    pos, neg = p[y == 1], p[y == 0]
    return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean())


def first_gold_rank(order: np.ndarray, gold: frozenset[int]) -> int:
    return next(n for n, i in enumerate(order, 1) if int(i) in gold)


def _corpus_mrr(reciprocal: np.ndarray, corpora: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The mean over corpora of each weight setting's MRR (`reciprocal`: settings x cases) on the cases `rows`."""
    return np.mean([reciprocal[:, rows & (corpora == k)].mean(axis=1) for k in np.unique(corpora[rows])], axis=0)


def _first_best(scores: np.ndarray) -> int:
    return int(np.argmax(np.round(scores, 9)))  # the first of equal scores: the smallest weights, in GRID order


def cross_validated(reciprocal: np.ndarray, corpora: np.ndarray, settings: np.ndarray, folds: int = FOLDS,
                    shuffles: int = 5) -> float:
    """The mean MRR of the corpora when the weights are chosen among `settings` (rows of `reciprocal`) on all but
    one fold of the cases and scored on that fold; the mean over seeded shuffles."""
    rng, results = np.random.default_rng(0), []
    for _ in range(shuffles):
        fold = rng.permutation(reciprocal.shape[1]) % folds
        held = np.zeros(reciprocal.shape[1])
        for f in range(folds):
            chosen = settings[_first_best(_corpus_mrr(reciprocal[settings], corpora, fold != f))]
            held[fold == f] = reciprocal[chosen, fold == f]
        results.append(float(_corpus_mrr(held[None, :], corpora, np.ones(len(held), bool))[0]))
    return float(np.mean(results))


def fit_rerank(cases: list[Case], settings: Settings) -> dict[str, float]:
    """The re-ranking weights (qa/evidence/rerank.py RERANK_WEIGHTS), each from GRID, that maximise the mean MRR of
    the corpora. Also printed: that mean under cross-validation, for all the weights and with each held at 0 (what
    each adds on questions it was not fitted on)."""
    answerable = [c for c in cases if c.answerable]
    reader = answerable[0].evidence.reader is not None
    if reader:  # the reader's weight only: the other two stay as fitted without it, so `reader = false` ranks as before
        names: tuple[str, ...] = RERANK_WEIGHTS
        grid = np.array([[settings.rerank_sentence_coverage, settings.rerank_similarity, w] for w in READER_GRID])
    else:
        names = RERANK_WEIGHTS[:-1]
        grid = np.array(list(itertools.product(GRID, repeat=len(names))))
    reciprocal = np.zeros((len(grid), len(answerable)))
    for n, c in enumerate(answerable):
        head = c.evidence.ranking.order[:settings.rerank_depth]
        fused, features = c.evidence.ranking.scores[head], rerank_features(c.evidence, head, c.evidence.reader is not None)
        for g, weights in enumerate(grid):
            order = reordered(c.evidence.ranking, head, fused + features @ weights).order
            reciprocal[g, n] = 1 / first_gold_rank(order, c.gold)
    corpora = np.array([c.corpus for c in answerable])
    scores = _corpus_mrr(reciprocal, corpora, np.ones(len(answerable), bool))
    best = dict(zip(names, (float(w) for w in grid[_first_best(scores)])))
    print(f"re-ranking: {', '.join(f'{k} {v}' for k, v in best.items())} (mean dev MRR {scores.max():.4f})")
    if len(answerable) >= 2 * FOLDS:  # fewer leave folds with nothing to choose the weights on
        families = {"all weights": np.arange(len(grid))}
        families |= {f"{name} at 0": np.flatnonzero(grid[:, k] == 0) for k, name in enumerate(names)
                     if (grid[:, k] == 0).any()}
        print(f"  cross-validated ({FOLDS} folds, 5 shuffles): " + "; ".join(
            f"{family} {cross_validated(reciprocal, corpora, rows):.4f}" for family, rows in families.items()))
    return best


def spans_f1(chosen: set[int], gold: frozenset[int]) -> float:
    hit = len(chosen & gold)
    return 2 * hit / (len(chosen) + len(gold)) if chosen or gold else 1.0


@dataclass(frozen=True)
class GoldPassage:
    """A gold passage of a dev question, its sentences' features and which of them answer."""

    corpus: str
    fold: int  # cross-validation fold, from the question id
    x: np.ndarray  # sentence_features, one row per sentence
    gold: frozenset[int]


def highlight_cases(cases: list[Case]) -> list[GoldPassage]:
    """Every gold passage of the cases with its answering sentences."""
    return [GoldPassage(c.corpus, c.fold, sentence_features(c.evidence.sentences(i), c.evidence.reader is not None),
                        gold)
            for c in cases for i, gold in c.item.gold_sentences.items()]


def fit_highlight(passages: list[GoldPassage], l2: float, names: tuple[str, ...]) -> Logistic:
    """The sentence model over `passages`, reading their first len(names) features; each corpus's sentences weigh
    the same in total."""
    owners = [p.corpus for p in passages for _ in range(len(p.x))]
    weight = balanced(owners)
    weights = np.array([weight[o] for o in owners])
    labels = np.concatenate([np.isin(np.arange(len(p.x)), list(p.gold)).astype(float) for p in passages])
    return fit_logistic(np.vstack([p.x[:, :len(names)] for p in passages]), labels, weights, names, l2)


def highlight_scores(passages: list[GoldPassage], probabilities: list[np.ndarray]) -> dict[str, tuple[float, float]]:
    """Each corpus's mean per-passage F1 of the sentences highlight_spans would mark, and its share of passages
    with an answering sentence marked."""
    scores: dict[str, list[tuple[float, bool]]] = {}
    for passage, p in zip(passages, probabilities):
        chosen = set(answering(p))
        scores.setdefault(passage.corpus, []).append((spans_f1(chosen, passage.gold), bool(chosen & passage.gold)))
    return {k: (float(np.mean([f for f, _ in v])), float(np.mean([m for _, m in v]))) for k, v in sorted(scores.items())}


def fit_sentences(cases: list[Case], reader: bool) -> Logistic:
    """The highlight model, its regularisation the one with the best cross-validated mean of the corpora's F1 (folds
    by question, so a question's passages are never scored by a model fitted on them). With the `reader`, the
    same is printed first without the reader's features: the gate's highlight figures."""
    passages = highlight_cases(cases)
    fitted = None
    for label, names in [("without the reader", feature_names(False)[1]), ("with the reader", feature_names(True)[1])][
            :1 + reader]:
        results = []
        for l2 in L2_GRID:
            held_out: list[np.ndarray] = [np.empty(0)] * len(passages)
            for fold in range(FOLDS):
                model = fit_highlight([p for p in passages if p.fold != fold], l2, names)
                for n, p in enumerate(passages):
                    if p.fold == fold:
                        held_out[n] = model.probability(p.x[:, :len(names)])
            scores = highlight_scores(passages, held_out)
            results.append((float(np.mean([f1 for f1, _ in scores.values()])), l2, scores))
        f1, l2, scores = max(results, key=lambda r: r[0])  # on a tie, the first: the least regularised
        print(f"highlights {label}: cross-validated mean dev F1 on gold passages by L2: "
              + ", ".join(f"{r[1]:g}: {r[0]:.3f}" for r in results) + f"; L2 {l2:g} ("
              + ", ".join(f"{k} F1 {v[0]:.3f}, answering sentence marked {v[1]:.3f}" for k, v in scores.items()) + ")")
        fitted = fit_highlight(passages, l2, names)
    assert fitted is not None
    return fitted


def out_of_fold_auc(cases: list[Case], x: np.ndarray, y: np.ndarray, weights: np.ndarray,
                    names: tuple[str, ...]) -> dict[str, float]:
    """Each corpus's AUC on its real questions, each scored by the model over the first len(names) features fitted
    on the other folds' cases of positive weight."""
    fold, p, x = np.array([c.fold for c in cases]), np.zeros(len(cases)), x[:, :len(names)]
    for f in range(FOLDS):
        train = (fold != f) & (weights > 0)
        p[fold == f] = fit_logistic(x[train], y[train], weights[train], names).probability(x[fold == f])
    real = {k: np.array([c.corpus == k and not c.masked for c in cases]) for k in sorted({c.corpus for c in cases})}
    return {k: auc(y[rows], p[rows]) for k, rows in real.items()}


def fit_question(cases: list[Case], settings: Settings, max_abstained: float, min_answered: float,
                 abstain_margin: float, masked_weight: float = 0.0) -> tuple[Logistic, float, float]:
    """The confidence model over the real cases and the masked ones (weighing `masked_weight`), and its answered and
    uncertain thresholds, set on the real answerable cases alone."""
    x, y = [], []
    for c in cases:
        order = rerank(c.evidence, settings, "hybrid").order
        x.append(question_features(c.evidence, order, c.known))
        y.append(float(c.answerable and first_gold_rank(order, c.gold) <= 3))
    xs, ys, weights = np.array(x), np.array(y), corpus_weights(cases, masked_weight)
    names = feature_names(cases[0].evidence.reader is not None)[0]
    fits = {"real only": np.where([c.masked for c in cases], 0.0, weights)}
    if any(c.masked for c in cases):
        fits[f"with the masked twins at {masked_weight:g}"] = weights
    # With the reader, the same fit without its features first: the gate's confidence figures.
    for label, columns in {"without the reader": QUESTION_FEATURES, "with the reader": names}.items():
        if len(columns) <= xs.shape[1] and (label == "without the reader" or columns != QUESTION_FEATURES):
            print(f"confidence {label}: out-of-fold AUC on the real dev questions ({FOLDS} folds by question): "
                  + "; ".join(f"{name} " + ", ".join(f"{k} {v:.4f}" for k, v in
                                                     out_of_fold_auc(cases, xs, ys, w, columns).items())
                              for name, w in fits.items()))
    model = fit_logistic(xs, ys, weights, names)
    p = model.probability(xs)
    corpora = sorted({c.corpus for c in cases})
    answerable = {k: np.array([pi for pi, c in zip(p, cases) if c.corpus == k and c.answerable]) for k in corpora}
    uncertain = abstain_margin * min(float(np.quantile(v, max_abstained)) for v in answerable.values())
    answered = min(float(np.quantile(v, 1 - min_answered)) for v in answerable.values())
    print(f"confidence: answered at p >= {answered:.3f}, uncertain at p >= {uncertain:.3f}")
    for k in corpora:
        rows = [(pi, c, yi) for pi, c, yi in zip(p, cases, ys) if c.corpus == k and not c.masked]
        unanswerable = [pi for pi, c, _ in rows if not c.answerable]
        confident = [yi for pi, _, yi in rows if pi >= answered]
        print(f"  {k} (dev): unanswerable flagged {np.mean([pi < answered for pi in unanswerable]):.2f}, "
              f"confident answers right {np.mean(confident) if confident else 1:.2f}")
    return model, round(answered, 4), round(uncertain, 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clapnq", type=Path, required=True, help="a CLAPNQ folder (answerable.jsonl, unanswerable.jsonl)")
    parser.add_argument("--cache", type=Path, default=None, help="where the CLAPNQ corpus and index are kept")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: qa/answer/calibration.json, or calibration-reader.json with --reader")
    parser.add_argument("--reader", action="store_true",
                        help="fit with the reader's scores too (the setting reader = true), and print the gate: each "
                             "figure with and without them")
    parser.add_argument("--reader-folds", type=Path, default=None, metavar="DIR",
                        help="with --reader: read each dev question with DIR/reader-fold<K>.safetensors, K its fold, a "
                             "reader trained without its fold's questions (train_reader --domain --fold K), so that "
                             "the fit and the gate stay out of fold for a reader trained on the dev questions")
    parser.add_argument("--max-abstained", type=float, default=0.0,
                        help="share of each corpus's answerable dev questions allowed below the uncertain threshold")
    parser.add_argument("--abstain-margin", type=float, default=0.5,
                        help="the uncertain threshold is this fraction of that quantile: a held-out answerable question "
                             "can fall below the lowest dev one, and abstaining on it costs more than a flag")
    parser.add_argument("--min-answered", type=float, default=0.8,
                        help="share of each corpus's answerable dev questions that must be 'answered'")
    parser.add_argument("--masked-weight", type=float, default=0.0,
                        help="weight of an answerable dev question's masked twin (searched without its gold passages) "
                             "in the confidence fit, relative to a real question; 0: no twins")
    args = parser.parse_args(argv)
    settings = Settings.load(reader=True) if args.reader else Settings.load()
    out = args.out or settings.calibration_file
    qa = QA(settings, MiniLMEncoder())
    readers = None
    if args.reader_folds:
        if not args.reader:
            parser.error("--reader-folds needs --reader")
        readers = [Reader(args.reader_folds / f"reader-fold{k}.safetensors") for k in range(FOLDS)]
    cases = dev_cases(qa, args.clapnq, args.cache or settings.index_dir / "clapnq-cache", args.masked_weight > 0,
                      readers)
    real = [c for c in cases if not c.masked]
    rerank_weights: dict[str, Any] = fit_rerank(real, settings)
    fitted = replace(settings, **rerank_weights)
    sentence_model = fit_sentences(real, qa.reader is not None)
    question_model, answered, uncertain = fit_question(cases, fitted, args.max_abstained, args.min_answered,
                                                       args.abstain_margin, args.masked_weight)
    fitted_on = {"articles": "eval/questions.jsonl and eval/followups.jsonl, dev split",
                 "clapnq": f"{args.clapnq.name}, tune half (sha256 of the question id)",
                 "cases": {k: sum(c.corpus == k for c in real) for k in ("articles", "clapnq")},
                 "rerank": rerank_weights}
    if args.masked_weight > 0:
        fitted_on["masked"] = {"weight": args.masked_weight,
                               "cases": {k: sum(c.corpus == k and c.masked for c in cases) for k in ("articles", "clapnq")}}
    reader = qa.reader.identity.sha256 if qa.reader else None
    calibration = Calibration("", question_model, answered, uncertain, sentence_model, reader)
    body = calibration.to_dict(fitted_on)
    version = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    body["version"] = version
    out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} (version {version}, format {FORMAT})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
