"""Tune BM25 and fusion settings for a BEIR folder on its TRAIN queries (never test).

    .venv/bin/python -m qa_tools.tune_beir ../shared/benchmarks/scifact [--cache DIR]

Stage 1 ranks BM25 settings (variant, k1, b, stop words) by BM25 nDCG@10; stage 2 tries fusion settings (min-max or
RRF, dense weight, best-sentence share) with the two best. Vectors come from the same cache as `qa eval --beir`.
Prints the best settings last, as `--param` arguments for `python -m qa eval --beir`."""
from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.config import Settings  # noqa: E402
from qa.corpus.text import tokenize  # noqa: E402
from qa.index.encoder import MiniLMEncoder  # noqa: E402
from qa.index.lexical import LexicalIndex  # noqa: E402
from qa.search.retrieval import dense_scores, fuse  # noqa: E402
from qa_tools.beir import encode_cached, index_beir, judged_queries, load_beir, ndcg_recall  # noqa: E402

LEXICAL = {"bm25_variant": ("okapi", "l"), "bm25_k1": (0.9, 1.2), "bm25_b": (0.4,), "stopwords": (True,)}
FUSION = {"fusion": ("minmax", "rrf"), "dense_weight": (0.3, 0.4, 0.5, 0.6, 0.7),
          "sentence_weight": (0.0, 0.25, 0.5, 0.75)}


def grid(space: dict) -> list[dict]:
    return [dict(zip(space, values)) for values in itertools.product(*space.values())]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("path", type=Path)
    args.add_argument("--cache", type=Path, default=Settings().index_dir / "beir-cache")
    args.add_argument("--sentence-weights", type=float, nargs="+", default=FUSION["sentence_weight"],
                      help="best-sentence shares to try (0 alone needs no sentence vectors)")
    args = args.parse_args()
    data, encoder, base = load_beir(args.path), MiniLMEncoder(), Settings()
    judged = judged_queries(data, "train")
    qids = sorted(judged)

    def mean_ndcg(score_lists) -> float:
        return float(np.mean([ndcg_recall(s, data.doc_ids, judged[q])[0] for q, s in zip(qids, score_lists)]))

    lexical_runs = []
    tokens = {stop: [tokenize(t, base.stem, stop) for t in data.texts] for stop in LEXICAL["stopwords"]}
    for params in grid(LEXICAL):
        settings = replace(base, **params)
        lexical = LexicalIndex(tokens[settings.stopwords], settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
        scores = [lexical.scores(tokenize(data.queries[q], settings.stem, settings.stopwords)) for q in qids]
        lexical_runs.append((mean_ndcg(scores), params, scores))
        print(f"bm25 nDCG@10 {lexical_runs[-1][0]:.4f} {params}", flush=True)
    lexical_runs = sorted(lexical_runs, key=lambda r: r[0])[-2:]
    index = index_beir(data, encoder, replace(base, sentence_weight=max(args.sentence_weights)), args.cache)
    vectors = encode_cached(encoder, [data.queries[q] for q in qids], args.cache)
    similarity = [index.vectors @ v for v in vectors]
    sentence_similarity = [index.sentence_vectors @ v for v in vectors]
    dense_runs = {}
    for weight in args.sentence_weights:
        settings = replace(base, sentence_weight=weight)
        dense = [dense_scores(index, s, ss, settings) for s, ss in zip(similarity, sentence_similarity)]
        dense_runs[weight] = (mean_ndcg(dense), dense)
    results = []
    for bm25_ndcg, lexical_params, lexical_scores in lexical_runs:
        for params in grid({**FUSION, "sentence_weight": args.sentence_weights}):
            settings = replace(base, **lexical_params, **params)
            dense_ndcg, dense = dense_runs[settings.sentence_weight]
            hybrid = mean_ndcg([fuse(lx, d, settings) for lx, d in zip(lexical_scores, dense)])
            results.append((hybrid, dense_ndcg, bm25_ndcg, {**lexical_params, **params}))
    results.sort(key=lambda r: r[0])
    for hybrid, dense, bm25, params in results[-10:]:
        print(f"train nDCG@10 hybrid {hybrid:.4f} dense {dense:.4f} bm25 {bm25:.4f} | "
              + " ".join(f"--param {k}={v}" for k, v in params.items()))


if __name__ == "__main__":
    main()
