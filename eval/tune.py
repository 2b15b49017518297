"""Grid search of retrieval settings on the dev split: `python eval/tune.py [--split dev]`.

Prints the 15 best settings (hybrid hit@3 and MRR, BM25 and dense MRR), best last, and the abstention
threshold that separates answerable from unanswerable dev questions best."""
from __future__ import annotations

import argparse
import itertools
from dataclasses import replace

import numpy as np

from qa.api import QA
from qa.config import Settings
from qa.encoder import MiniLMEncoder
from qa.evaluate import evaluate, load_questions
from qa.retrieval import rank
from qa.store import build


class CachedEncoder(MiniLMEncoder):
    """Encodes each distinct text once across the whole grid."""

    def __init__(self):
        super().__init__()
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, super().encode(missing)))
        return np.stack([self.cache[t] for t in texts])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    questions = load_questions(split=args.split)
    encoder = CachedEncoder()
    results = []
    grid = itertools.product((10, 20, 30), (True, False), ("okapi", "plus", "l"), (True, False), (True, False))
    for min_words, title, variant, stem, stop in grid:
        base = replace(Settings(), min_passage_words=min_words, index_title=title, bm25_variant=variant,
                       stem=stem, stopwords=stop, min_similarity=-1.0)
        index = build(base, encoder)
        for fusion, weight, sentence in itertools.product(("minmax", "rrf"), (0.3, 0.4, 0.5, 0.6, 0.7),
                                                          (0.0, 0.25, 0.5, 0.75, 1.0)):
            settings = replace(base, fusion=fusion, dense_weight=weight, sentence_weight=sentence)
            report = evaluate(QA(settings, encoder, index), [q for q in questions if q.answerable])
            h = report["hybrid"]
            results.append(((h["hit@3"], h["mrr"]), settings, report))
    results.sort(key=lambda r: r[0])
    for (hit3, mrr), s, rep in results[-15:]:
        print(f"hit@3 {hit3:.3f} MRR {mrr:.3f} | bm25 MRR {rep['bm25']['mrr']:.3f} dense MRR {rep['dense']['mrr']:.3f} | "
              f"words {s.min_passage_words} title {s.index_title} {s.bm25_variant} stem {s.stem} stop {s.stopwords} "
              f"{s.fusion} w={s.dense_weight} sentence={s.sentence_weight}")
    best = results[-1][1]
    qa = QA(best, encoder, build(best, encoder))
    sims = [(float(rank(qa.index, q.question, encoder.encode([q.question])[0], best).similarity.max()), q.answerable)
            for q in questions]
    thresholds = sorted({s for s, _ in sims})
    accuracy = {t: sum((s >= t) == ans for s, ans in sims) / len(sims) for t in thresholds}
    top = max(accuracy.values())
    chosen = [t for t, a in accuracy.items() if a == top]
    print("answerable best-similarity:", sorted(round(s, 3) for s, a in sims if a)[:10], "...")
    print("unanswerable best-similarity:", sorted(round(s, 3) for s, a in sims if not a))
    print(f"threshold range with best accuracy {top:.3f}: {min(chosen):.3f} .. {max(chosen):.3f}")


if __name__ == "__main__":
    main()
