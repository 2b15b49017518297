"""Pseudo-relevance feedback on the dev split: `python -m qa_tools.prf [--split dev]`.
Run it as a module from the repository root so that this checkout's `qa` package is the one imported.

The first pass is the engine's own hybrid `rank`. Its top m passages then feed back into a second `rank`:
- dense (Rocchio): the query vector becomes normalise(q + beta * mean of their passage vectors);
- lexical (RM3-style): the t most frequent content stems of those passages (stop words and the question's own
  stems left out) are added to the BM25 query, each once, while the question's tokens are repeated r times,
  so the added terms weigh 1/r of the question's;
- both together.
Prints hybrid hit@1, hit@3, MRR and nDCG@10 over the answerable questions for the baseline and every variant,
best (hit@3, then MRR) last."""
from __future__ import annotations

import argparse
import itertools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from qa.api import QA
from qa.cli import common_options, settings_from
from qa.corpus.text import STOPWORDS, WORD, tokenize
from qa.index.encoder import Encoder
from qa.search.retrieval import rank
from qa_tools.evaluate import gold_passages, load_questions, questions_option
from qa_tools.metrics import gold_ranks, ranking_report


@dataclass(frozen=True)
class Feedback:
    m: int = 0  # passages fed back; 0 = none
    beta: float = 0.0  # dense: weight of their mean vector
    terms: int = 0  # lexical: stems added
    repeat: int = 1  # lexical: the question's tokens count this many times as much as each added stem

    def __str__(self) -> str:
        if not self.m:
            return "baseline"
        parts = [f"m={self.m}"]
        if self.beta:
            parts.append(f"beta={self.beta}")
        if self.terms:
            parts.append(f"terms={self.terms} weight=1/{self.repeat}")
        return " ".join(parts)


def expansion_words(qa: QA, question: str, top: np.ndarray, terms: int) -> list[str]:
    """The `terms` stems most frequent in passages `top` that are not stop words or stems of the question, each as
    its most frequent surface word (the query is tokenised again, so stems are not stemmed twice)."""
    own = set(tokenize(question, stem=True, stopwords=True))
    counts: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for i in top:
        words = [w.replace("’", "'").removesuffix("'s") for w in WORD.findall(qa.index.passages[i].text.lower())]
        words = [w for w in words if w not in STOPWORDS and not w.isdigit()]
        for word, stem in zip(words, tokenize(" ".join(words), stem=True, stopwords=False)):
            if stem not in own:
                counts[stem] += 1
                surface.setdefault(stem, Counter())[word] += 1
    # Ties broken by the stem, so the choice is deterministic.
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:terms]
    return [surface[stem].most_common(1)[0][0] for stem, _ in best]


def feedback_rank(qa: QA, question: str, vector: np.ndarray, fb: Feedback) -> np.ndarray:
    first = rank(qa.index, question, vector, qa.settings)
    if not fb.m:
        return first.order
    top = first.order[:fb.m]
    if fb.beta:
        vector = vector + fb.beta * qa.index.vectors[top].mean(axis=0)
        vector = vector / np.linalg.norm(vector)
    text = question
    if fb.terms:
        text = " ".join([question] * fb.repeat + expansion_words(qa, question, top, fb.terms))
    return rank(qa.index, text, vector, qa.settings).order


def scores(orders: list[np.ndarray], golds: list[set[int]]) -> dict[str, float]:
    """hit@1, hit@3, MRR and nDCG@10, as `qa eval` computes them."""
    return ranking_report([gold_ranks(order, gold) for order, gold in zip(orders, golds)])


GRID = ([Feedback()]
        + [Feedback(m, beta) for m in (1, 2, 3) for beta in (0.25, 0.5, 1.0)]
        + [Feedback(m, 0.0, t, r) for m in (1, 2, 3) for t in (3, 5, 10) for r in (1, 2, 3)]
        + [Feedback(m, beta, t, r) for m, beta, t, r in itertools.product((1, 2, 3), (0.25, 0.5), (3, 5, 10), (2, 3))])


def main(argv: list[str] | None = None, encoder: Encoder | None = None) -> None:
    """`encoder`: the model (default all-MiniLM-L6-v2); the tests pass a fixture encoder."""
    ap = argparse.ArgumentParser(parents=[common_options(), questions_option()])
    ap.add_argument("--split", default="dev")
    args = ap.parse_args(argv)
    qa = QA(settings_from(args), encoder)
    questions = [q for q in load_questions(args.questions, split=args.split) if q.answerable]
    golds = [gold_passages(qa, q) for q in questions]
    vectors = qa.encoder.encode([q.question for q in questions])
    rows = []
    for fb in GRID:
        orders = [feedback_rank(qa, q.question, v, fb) for q, v in zip(questions, vectors)]
        rows.append((fb, scores(orders, golds)))
    base = rows[0][1]
    rows.sort(key=lambda r: (r[1]["hit@3"], r[1]["mrr"]))
    print(f"{len(questions)} answerable {args.split} questions, hybrid; baseline "
          + " ".join(f"{k} {v:.3f}" for k, v in base.items()))
    print(f"{'hit@1':>6} {'hit@3':>6} {'MRR':>6} {'nDCG@10':>8}  feedback")
    for fb, m in rows:
        print(f"{m['hit@1']:6.3f} {m['hit@3']:6.3f} {m['mrr']:6.3f} {m['ndcg@10']:8.3f}  {fb}")


if __name__ == "__main__":
    main()
