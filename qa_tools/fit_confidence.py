"""Fit the re-ranking weights, the highlight model and the confidence model on dev data only, and write
qa/answer/calibration.json:

    python -m qa_tools.fit_confidence --clapnq ../shared/benchmarks/clapnq [--out qa/answer/calibration.json]

Dev data: the articles' dev split of eval/questions.jsonl and of eval/followups.jsonl, and the `tune` half of the
CLAPNQ folder (qa_tools/clapnq.py). The `test` split and the CLAPNQ `report` half are never read here. Each corpus
weighs the same in every fit, so one set of defaults serves both.

1. Re-ranking: the weights of passage and best-sentence coverage (qa/search/rerank.py) that maximise the mean of the
   two corpora's MRR, over a grid. They are printed, to be set in qa/config.py.
2. Highlights: a logistic regression over each gold passage's sentences (gold: the articles' gold quotes, CLAPNQ's
   selected sentences); its threshold maximises the mean per-passage F1 of the two corpora.
3. Confidence: a logistic regression whose label is 'the answer is in the top 3 of an answerable question', its L2
   strength chosen by 10-fold cross-validation (repeated 5 times). The thresholds are read off the out-of-fold
   probabilities (what a question the model was not fitted on gets): `uncertain` is `--abstain-margin` times the
   lowest probability of any corpus's answerable questions (`--max-abstained` quantile, default 0: the lowest);
   `answered` is the highest that still answers `--min-answered` of each corpus's answerable questions, the decision
   rules included."""
from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.answer.confidence import FORMAT, Calibration, Logistic
from qa.answer.decide import abstain_message, capped, corpus_words, known_share, vocabulary
from qa.answer.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    Evidence,
    gather,
    question_features,
    sentence_features,
)
from qa.api import QA
from qa.config import ROOT, Settings
from qa.index.encoder import MiniLMEncoder
from qa.search.followup import Turn
from qa.search.query import build_query
from qa.search.rerank import rerank
from qa.search.retrieval import rank
from qa_tools.clapnq import clapnq_index, in_split
from qa_tools.evaluate import FOLLOWUPS, Labelled, labelled_articles, labelled_clapnq, load_questions

GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


@dataclass
class Case:
    """One labelled question (qa_tools/evaluate.py), searched as `ask` searches it."""

    item: Labelled
    evidence: Evidence  # over the ranking before re-ranking
    known: float  # share of the searched text's content terms that occur in the corpus

    @property
    def corpus(self) -> str:
        return self.item.corpus

    @property
    def answerable(self) -> bool:
        return self.item.answerable

    @property
    def gold(self) -> frozenset[int]:
        return self.item.gold


def cases_of(qa: QA, items: list[Labelled]) -> list[Case]:
    words = vocabulary(qa.index)
    cases = []
    for item in items:
        query = build_query(item.question, [Turn(h) for h in item.history], qa.encoder, qa.settings.max_chain)
        ranking = rank(qa.index, query.text, query.vector, qa.settings)
        cases.append(Case(item, gather(item.question, query.text, qa.index, ranking, qa.settings),
                          known_share(query.text, words)))
    return cases


def dev_cases(qa: QA, folder: Path, cache: Path) -> list[Case]:
    """The articles' dev questions and follow-ups, and the CLAPNQ tune half."""
    articles = labelled_articles(qa, load_questions(split="dev") + load_questions(FOLLOWUPS, split="dev"))
    settings, index, questions = clapnq_index(folder, cache, qa.settings, qa.encoder)
    clapnq = QA(settings, qa.encoder, index)
    return cases_of(qa, articles) + cases_of(clapnq, labelled_clapnq(index, in_split(questions, "tune")))


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


def corpus_weights(cases: list[Case]) -> np.ndarray:
    """Each corpus weighs the same in total."""
    counts = {c.corpus: sum(d.corpus == c.corpus for d in cases) for c in cases}
    return np.array([len(cases) / (len(counts) * counts[c.corpus]) for c in cases])


def first_gold_rank(order: np.ndarray, gold: frozenset[int]) -> int:
    return next(n for n, i in enumerate(order, 1) if int(i) in gold)


def fit_rerank(cases: list[Case], settings: Settings) -> tuple[float, float]:
    """The (passage, sentence) coverage weights that maximise the mean MRR of the corpora."""
    answerable = [c for c in cases if c.answerable]
    best, best_mrr = (0.0, 0.0), -1.0
    for a in GRID:
        for b in GRID:
            s = replace(settings, rerank_passage_coverage=a, rerank_sentence_coverage=b)
            mrr: dict[str, list[float]] = {}
            for c in answerable:
                order = rerank(c.evidence, s, "hybrid").order
                mrr.setdefault(c.corpus, []).append(1 / first_gold_rank(order, c.gold))
            score = float(np.mean([np.mean(v) for v in mrr.values()]))
            if score > best_mrr + 1e-9:
                best, best_mrr = (a, b), score
    print(f"re-ranking: passage coverage {best[0]}, sentence coverage {best[1]} (mean dev MRR {best_mrr:.3f})")
    return best


def spans_f1(chosen: set[int], gold: frozenset[int]) -> float:
    hit = len(chosen & gold)
    return 2 * hit / (len(chosen) + len(gold)) if chosen or gold else 1.0


def fit_sentences(cases: list[Case]) -> tuple[Logistic, float]:
    rows, labels, owners, groups = [], [], [], []
    for c in cases:
        for i, gold in c.item.gold_sentences.items():
            x = sentence_features(c.evidence.sentences(i))
            rows.append(x)
            labels.append(np.isin(np.arange(len(x)), list(gold)).astype(float))
            owners += [c.corpus] * len(x)
            groups.append((c.corpus, len(x), gold))
    x, y = np.vstack(rows), np.concatenate(labels)
    counts = {k: owners.count(k) for k in set(owners)}
    model = fit_logistic(x, y, np.array([len(owners) / (len(counts) * counts[o]) for o in owners]), SENTENCE_FEATURES)
    p_all = model.probability(x)
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.05, 0.95, 0.01):
        f1s: dict[str, list[float]] = {}
        pos = 0
        for corpus, n, gold in groups:
            p = p_all[pos:pos + n]
            pos += n
            chosen = set(np.flatnonzero(p >= t).tolist()) | {int(np.argmax(p))}
            f1s.setdefault(corpus, []).append(spans_f1(chosen, gold))
        score = float(np.mean([np.mean(v) for v in f1s.values()]))
        if score > best_f1 + 1e-9:
            best, best_f1 = float(round(t, 2)), score
    print(f"highlights: threshold {best} (mean dev F1 on gold passages {best_f1:.3f})")
    return model, best


L2_GRID = (0.3, 1.0, 3.0, 10.0)  # the question model's L2 strengths, chosen among by cross-validation
FOLDS = 10
REPEATS = 5  # cross-validation repeated over this many shufflings, its probabilities averaged: steadier thresholds


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """The share of (positive, negative) pairs that `p` orders right, ties counting half."""
    pos, neg = p[y == 1], p[y == 0]
    if not len(pos) or not len(neg):
        return 1.0
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))


def folds_of(corpora: list[str], seed: int = 0) -> np.ndarray:
    """Each case's fold: every corpus dealt in turn over FOLDS folds, in an order shuffled by `seed`."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(corpora), dtype=int)
    for corpus in sorted(set(corpora)):
        ids = np.flatnonzero([c == corpus for c in corpora])
        fold[rng.permutation(ids)] = np.arange(len(ids)) % FOLDS
    return fold


def out_of_fold(x: np.ndarray, y: np.ndarray, weights: np.ndarray, corpora: list[str], l2: float) -> np.ndarray:
    """Each case's probability from models fitted without its fold (what a question not fitted on gets), averaged
    over REPEATS shufflings of the folds."""
    p = np.zeros(len(y))
    for seed in range(REPEATS):
        fold = folds_of(corpora, seed)
        for k in range(FOLDS):
            test = fold == k
            model = fit_logistic(x[~test], y[~test], weights[~test], QUESTION_FEATURES, l2)
            p[test] += model.probability(x[test]) / REPEATS
    return p


@dataclass(frozen=True)
class QuestionFit:
    model: Logistic
    l2: float
    answered: float
    uncertain: float


def fit_question(cases: list[Case], settings: Settings, max_abstained: float, min_answered: float,
                 abstain_margin: float) -> QuestionFit:
    """The question model, its L2 strength (best mean per-corpus AUC of out-of-fold probabilities) and its
    thresholds, chosen on out-of-fold probabilities so that they hold for questions the model was not fitted on
    (in-sample probabilities of the dev questions are higher than held-out ones)."""
    x, y, ruled, capped_by_rule = [], [], [], []
    words = {id(c.evidence.index): corpus_words(c.evidence.index) for c in cases}
    for c in cases:
        ranking = rerank(c.evidence, settings, "hybrid")
        index, corpus = c.evidence.index, words[id(c.evidence.index)]
        x.append(question_features(c.evidence, ranking.order, c.known))
        y.append(float(c.answerable and first_gold_rank(ranking.order, c.gold) <= 3))
        ruled.append(abstain_message(c.item.question, c.known, ranking, corpus.stems, settings) is not None)
        capped_by_rule.append(capped(c.item.question, ranking, index, corpus.words, settings))
    xs, ys, weights = np.array(x), np.array(y), corpus_weights(cases)
    rule, cap = np.array(ruled), np.array(capped_by_rule)
    corpora = sorted({c.corpus for c in cases})
    of = {k: np.array([c.corpus == k for c in cases]) for k in corpora}
    answerable = np.array([c.answerable for c in cases])
    offtopic = np.array([c.item.offtopic for c in cases])
    scored = {l2: out_of_fold(xs, ys, weights, [c.corpus for c in cases], l2) for l2 in L2_GRID}
    l2 = max(L2_GRID, key=lambda v: np.mean([auc(scored[v][of[k]], ys[of[k]]) for k in corpora]))
    p = scored[l2]
    print("confidence: out-of-fold AUC by L2 " + ", ".join(
        f"{v}: " + "/".join(f"{auc(scored[v][of[k]], ys[of[k]]):.3f}" for k in corpora) for v in L2_GRID)
        + f" ({'/'.join(corpora)}); chosen {l2}")

    def answered_share(threshold: float, k: str) -> float:
        m = of[k] & answerable
        return float(np.mean((p[m] >= threshold) & ~cap[m] & ~rule[m]))

    # The highest threshold at which each corpus still answers `min_answered` of its answerable questions, rules
    # included (a capped or ruled-out question is not 'answered' whatever its probability).
    answered = min(max((float(t) for t in p[of[k] & answerable] if answered_share(t, k) >= min_answered),
                       default=0.0) for k in corpora)
    uncertain = abstain_margin * min(float(np.quantile(p[of[k] & answerable & ~rule], max_abstained)) for k in corpora)
    print(f"confidence: answered at p >= {answered:.3f}, uncertain at p >= {uncertain:.3f}; dev, out of fold:")
    level = np.where(rule | (p < uncertain), 2, np.where((p >= answered) & ~cap, 0, 1))  # answered, uncertain, abstained
    for k in corpora:
        a, u = of[k] & answerable, of[k] & ~answerable & ~offtopic
        right = ys[of[k] & (level == 0)]
        print(f"  {k}: answerable answered/uncertain/abstained " + "/".join(f"{np.mean(level[a] == v):.3f}" for v in (0, 1, 2))
              + f"; on-topic unanswerable flagged {np.mean(level[u] > 0):.3f}"
              + f"; 'answered' right {np.mean(right) if len(right) else 1.0:.3f}")
        confident = {t: of[k] & (p >= t) for t in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9)}
        print("    P >= threshold: coverage, risk " + "  ".join(
            f"{t}: {np.mean(p[a] >= t):.2f}, {1 - np.mean(ys[m]) if m.any() else 0.0:.2f}" for t, m in confident.items()))
    model = fit_logistic(xs, ys, weights, QUESTION_FEATURES, l2)
    return QuestionFit(model, l2, round(answered, 4), round(uncertain, 4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clapnq", type=Path, required=True, help="a CLAPNQ folder (answerable.jsonl, unanswerable.jsonl)")
    parser.add_argument("--cache", type=Path, default=None, help="where the CLAPNQ corpus and index are kept")
    parser.add_argument("--out", type=Path, default=ROOT / "qa" / "answer" / "calibration.json")
    parser.add_argument("--max-abstained", type=float, default=0.0,
                        help="share of each corpus's answerable dev questions allowed below the uncertain threshold")
    parser.add_argument("--abstain-margin", type=float, default=0.5,
                        help="the uncertain threshold is this fraction of that quantile: a held-out answerable question "
                             "can fall below the lowest dev one, and abstaining on it costs more than a flag")
    parser.add_argument("--min-answered", type=float, default=0.85,
                        help="share of each corpus's answerable dev questions that must be 'answered'")
    args = parser.parse_args(argv)
    settings = Settings.load()
    qa = QA(settings, MiniLMEncoder())
    cases = dev_cases(qa, args.clapnq, args.cache or settings.index_dir / "clapnq-cache")
    passage_w, sentence_w = fit_rerank(cases, settings)
    fitted = replace(settings, rerank_passage_coverage=passage_w, rerank_sentence_coverage=sentence_w)
    sentence_model, sentence_threshold = fit_sentences(cases)
    question = fit_question(cases, fitted, args.max_abstained, args.min_answered, args.abstain_margin)
    fitted_on = {"articles": "eval/questions.jsonl and eval/followups.jsonl, dev split",
                 "clapnq": f"{args.clapnq.name}, tune half (sha256 of the question id)",
                 "cases": {k: sum(c.corpus == k for c in cases) for k in ("articles", "clapnq")},
                 "rerank": {"rerank_passage_coverage": passage_w, "rerank_sentence_coverage": sentence_w},
                 "question": {"l2": question.l2, "folds": FOLDS, "repeats": REPEATS,
                              "thresholds": "chosen on out-of-fold probabilities of the dev questions"}}
    calibration = Calibration("", question.model, question.answered, question.uncertain, sentence_model,
                              sentence_threshold)
    body = calibration.to_dict(fitted_on)
    version = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    body["version"] = version
    args.out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (version {version}, format {FORMAT})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
