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
from typing import Any

import numpy as np

from qa.cli import common_options, settings_from
from qa.corpus.text import tokenize
from qa.index.encoder import Encoder, MiniLMEncoder
from qa.index.lexical import LexicalIndex
from qa.search.retrieval import dense_scores, fuse
from qa_tools.beir import encode_cached, index_beir, judged_queries, load_beir, ndcg_recall

LEXICAL: dict[str, tuple[Any, ...]] = {"bm25_variant": ("okapi", "l"), "bm25_k1": (0.9, 1.2), "bm25_b": (0.4,),
                                       "stopwords": (True,)}
FUSION: dict[str, tuple[Any, ...]] = {"fusion": ("minmax", "rrf"), "dense_weight": (0.3, 0.4, 0.5, 0.6, 0.7),
          "sentence_weight": (0.0, 0.25, 0.5, 0.75)}


def grid(space: dict) -> list[dict]:
    return [dict(zip(space, values)) for values in itertools.product(*space.values())]


def main(argv: list[str] | None = None, encoder: Encoder | None = None) -> None:
    """`encoder`: the model (default all-MiniLM-L6-v2); the tests pass a fixture encoder."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0], parents=[common_options()])
    ap.add_argument("path", type=Path)
    ap.add_argument("--cache", type=Path, help="where encoded vectors are kept (default: beir-cache in the index folder)")
    ap.add_argument("--sentence-weights", type=float, nargs="+", default=FUSION["sentence_weight"],
                    help="best-sentence shares to try (0 alone needs no sentence vectors)")
    args = ap.parse_args(argv)
    base = settings_from(args)
    cache = args.cache or base.index_dir / "beir-cache"
    data, encoder = load_beir(args.path), encoder or MiniLMEncoder()
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
    index = index_beir(data, encoder, replace(base, sentence_weight=max(args.sentence_weights)), cache)
    vectors = encode_cached(encoder, [data.queries[q] for q in qids], cache)
    similarity = [index.vectors @ v for v in vectors]
    sentence_similarity = [index.sentence_vectors @ v for v in vectors]
    dense_runs = {}
    for weight in args.sentence_weights:
        settings = replace(base, sentence_weight=weight)
        dense = [dense_scores(s, ss, index.sentence_offsets[:-1], settings) for s, ss in zip(similarity, sentence_similarity)]
        dense_runs[weight] = (mean_ndcg(dense), dense)
    results = []
    for bm25_ndcg, lexical_params, lexical_scores in lexical_runs:
        for params in grid({**FUSION, "sentence_weight": args.sentence_weights}):
            settings = replace(base, **lexical_params, **params)
            dense_ndcg, dense = dense_runs[settings.sentence_weight]
            hybrid = mean_ndcg([fuse(lx, d, settings) for lx, d in zip(lexical_scores, dense)])
            results.append((hybrid, dense_ndcg, bm25_ndcg, {**lexical_params, **params}))
    results.sort(key=lambda r: r[0])
    for hybrid, dense_ndcg, bm25, params in results[-10:]:
        print(f"train nDCG@10 hybrid {hybrid:.4f} dense {dense_ndcg:.4f} bm25 {bm25:.4f} | "
              + " ".join(f"--param {k}={v}" for k, v in params.items()))


if __name__ == "__main__":
    main()
