"""Ranking metrics, the one place every tool computes them: `qa eval`, the tuning grids, the PRF trial and BEIR.

Ranks are 1-based. Rankings are best first with ties broken by passage (document) order, as in
`qa.search.retrieval.rank`."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np


def order_of(scores: np.ndarray) -> np.ndarray:
    """Indices best first, ties broken by index, as `rank` orders passages."""
    return np.lexsort((np.arange(len(scores)), -scores))


def gold_ranks(order: Sequence[int] | np.ndarray, gold: Iterable[int]) -> list[int]:
    """The rank of each gold item in `order`, ascending. A ranking of candidates (a large corpus, or a search
    engine's) may leave a gold item out: it counts as ranked after every candidate."""
    position = {int(i): r for r, i in enumerate(np.asarray(order).tolist(), 1)}
    return sorted(position.get(int(i), len(position) + 1) for i in gold)


def first_rank(order: Sequence[int] | np.ndarray, gold: Iterable[int]) -> int:
    """The rank of the best-placed gold item."""
    return gold_ranks(order, gold)[0]


def ndcg(ranks: Sequence[int], k: int = 10) -> float:
    """nDCG@k with binary gains, for the ranks of all relevant items (every gold passage counts)."""
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(ranks), k) + 1))
    return sum(1 / math.log2(r + 1) for r in ranks if r <= k) / ideal


def summary(firsts: Sequence[int]) -> dict[str, float]:
    """hit@1, hit@3 and MRR of the first gold ranks of a set of questions."""
    n = len(firsts)
    return {"hit@1": sum(r == 1 for r in firsts) / n, "hit@3": sum(r <= 3 for r in firsts) / n,
            "mrr": sum(1 / r for r in firsts) / n}


def ranking_report(all_ranks: Sequence[Sequence[int]]) -> dict[str, float]:
    """hit@1, hit@3, MRR and nDCG@10 over questions, given each question's gold ranks (ascending)."""
    return summary([r[0] for r in all_ranks]) | {"ndcg@10": sum(ndcg(r) for r in all_ranks) / len(all_ranks)}


def graded_ndcg_recall(top: Sequence[str], relevant: Mapping[str, int], k: int = 10, depth: int = 100) -> tuple[float, float]:
    """nDCG@k with graded (linear) gains, as pytrec_eval, and Recall@depth, of ids `top` best first."""
    ideal = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(relevant.values(), reverse=True)[:k]))
    dcg = sum(relevant.get(d, 0) / math.log2(r + 2) for r, d in enumerate(top[:k]))
    return dcg / ideal, sum(d in relevant for d in top[:depth]) / len(relevant)
