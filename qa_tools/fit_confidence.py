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
3. Confidence: a logistic regression whose label is 'the answer is in the top 3 of an answerable question'. The
   `uncertain` threshold is `--abstain-margin` times the lowest probability of any corpus's answerable questions
   (`--max-abstained` quantile, default 0: the lowest); the `answered` threshold is the highest that still answers
   `--min-answered` of each corpus's answerable questions confidently."""
from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.answer.confidence import FORMAT, Calibration, Logistic
from qa.answer.decide import known_share, vocabulary
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


def fit_question(cases: list[Case], settings: Settings, max_abstained: float, min_answered: float,
                 abstain_margin: float) -> tuple[Logistic, float, float]:
    x, y = [], []
    for c in cases:
        order = rerank(c.evidence, settings, "hybrid").order
        x.append(question_features(c.evidence, order, c.known))
        y.append(float(c.answerable and first_gold_rank(order, c.gold) <= 3))
    xs, ys = np.array(x), np.array(y)
    model = fit_logistic(xs, ys, corpus_weights(cases), QUESTION_FEATURES)
    p = model.probability(xs)
    corpora = sorted({c.corpus for c in cases})
    answerable = {k: np.array([pi for pi, c in zip(p, cases) if c.corpus == k and c.answerable]) for k in corpora}
    uncertain = abstain_margin * min(float(np.quantile(v, max_abstained)) for v in answerable.values())
    answered = min(float(np.quantile(v, 1 - min_answered)) for v in answerable.values())
    print(f"confidence: answered at p >= {answered:.3f}, uncertain at p >= {uncertain:.3f}")
    for k in corpora:
        rows = [(pi, c, yi) for pi, c, yi in zip(p, cases, ys) if c.corpus == k]
        unanswerable = [pi for pi, c, _ in rows if not c.answerable]
        confident = [yi for pi, _, yi in rows if pi >= answered]
        print(f"  {k} (dev): unanswerable flagged {np.mean([pi < answered for pi in unanswerable]):.2f}, "
              f"confident answers right {np.mean(confident) if confident else 1:.2f}")
    return model, round(answered, 4), round(uncertain, 4)


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
    parser.add_argument("--min-answered", type=float, default=0.8,
                        help="share of each corpus's answerable dev questions that must be 'answered'")
    args = parser.parse_args(argv)
    settings = Settings.load()
    qa = QA(settings, MiniLMEncoder())
    cases = dev_cases(qa, args.clapnq, args.cache or settings.index_dir / "clapnq-cache")
    passage_w, sentence_w = fit_rerank(cases, settings)
    fitted = replace(settings, rerank_passage_coverage=passage_w, rerank_sentence_coverage=sentence_w)
    sentence_model, sentence_threshold = fit_sentences(cases)
    question_model, answered, uncertain = fit_question(cases, fitted, args.max_abstained, args.min_answered,
                                                       args.abstain_margin)
    fitted_on = {"articles": "eval/questions.jsonl and eval/followups.jsonl, dev split",
                 "clapnq": f"{args.clapnq.name}, tune half (sha256 of the question id)",
                 "cases": {k: sum(c.corpus == k for c in cases) for k in ("articles", "clapnq")},
                 "rerank": {"rerank_passage_coverage": passage_w, "rerank_sentence_coverage": sentence_w}}
    calibration = Calibration("", question_model, answered, uncertain, sentence_model, sentence_threshold)
    body = calibration.to_dict(fitted_on)
    version = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    body["version"] = version
    args.out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} (version {version}, format {FORMAT})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
