"""BEIR-format benchmarks (e.g. SciFact) with the same retriever code as the articles: tokenize, LexicalIndex,
dense_scores and fuse. Each document (title + abstract) is one passage; its sentences feed the dense score."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.corpus.text import sentence_spans, tokenize
from qa.errors import QAError
from qa.index.encoder import Encoder
from qa.index.lexical import LexicalIndex
from qa.search.retrieval import MODES, dense_scores, fuse
from qa_tools.metrics import graded_ndcg_recall, order_of


@dataclass(frozen=True)
class BeirSet:
    doc_ids: list[str]
    texts: list[str]  # title + abstract, one per document
    queries: dict[str, str]
    qrels: dict[str, dict[str, dict[str, int]]]  # split -> query id -> doc id -> relevance


def load_beir(path: Path) -> BeirSet:
    """Read corpus.jsonl, queries.jsonl and every qrels/<split>.tsv of a BEIR folder."""
    path = Path(path)
    try:
        with open(path / "corpus.jsonl", encoding="utf-8") as f:
            docs = [json.loads(line) for line in f if line.strip()]
        with open(path / "queries.jsonl", encoding="utf-8") as f:
            queries = {q["_id"]: q["text"] for q in map(json.loads, f) if q}
        qrels = {}
        for tsv in sorted((path / "qrels").glob("*.tsv")):
            judged: dict[str, dict[str, int]] = {}
            with open(tsv, encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    judged.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
            qrels[tsv.stem] = judged
    except (OSError, ValueError, KeyError) as exc:
        raise QAError(f"{path} is not a readable BEIR folder (corpus.jsonl, queries.jsonl, qrels/*.tsv): {exc}") from None
    if not qrels:
        raise QAError(f"{path}/qrels has no .tsv file; a BEIR folder needs qrels/test.tsv")
    return BeirSet([d["_id"] for d in docs], [f"{d.get('title', '')}\n{d['text']}".strip() for d in docs],
                   queries, qrels)


def encode_cached(encoder: Encoder, texts: list[str], cache_dir: Path, batch: int = 256) -> np.ndarray:
    """Unit vectors for `texts`, read from `cache_dir` when the same model already encoded the same texts."""
    digest = hashlib.sha256(encoder.name.encode())
    for text in texts:
        digest.update(hashlib.sha256(text.encode()).digest())
    path = Path(cache_dir) / f"vectors-{digest.hexdigest()[:32]}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    parts = [encoder.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)]
    vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors, allow_pickle=False)
    tmp.replace(path)
    return vectors


@dataclass(frozen=True)
class BeirIndex:
    """The documents of a BEIR set, indexed as the articles are: BM25 over tokens, document and sentence vectors."""

    lexical: LexicalIndex
    vectors: np.ndarray  # one unit row per document
    sentence_vectors: np.ndarray
    sentence_offsets: np.ndarray  # document i owns sentence rows [offsets[i], offsets[i + 1]), as in store.Index


def index_beir(data: BeirSet, encoder: Encoder, settings: Settings, cache_dir: Path) -> BeirIndex:
    tokenized = [tokenize(text, settings.stem, settings.stopwords) for text in data.texts]
    lexical = LexicalIndex(tokenized, settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
    # Sentences are encoded only when they count in the dense score (sentence_weight > 0).
    spans = [sentence_spans(text) if settings.sentence_weight else [] for text in data.texts]
    sentences = [text[a:b] for text, doc_spans in zip(data.texts, spans) for a, b in doc_spans]
    offsets = np.cumsum([0] + [len(s) for s in spans]).astype(np.int64)
    return BeirIndex(lexical, encode_cached(encoder, data.texts, cache_dir),
                     encode_cached(encoder, sentences, cache_dir) if sentences else np.zeros((0, encoder.dim), np.float32),
                     offsets)


def mode_scores(index: BeirIndex, question: str, query_vector: np.ndarray, settings: Settings) -> dict[str, np.ndarray]:
    """Every document's score in each mode, computed as `retrieval.rank` scores passages."""
    dense = dense_scores(index.vectors @ query_vector, index.sentence_vectors @ query_vector, index.sentence_offsets[:-1],
                         settings)
    lexical = index.lexical.scores(tokenize(question, settings.stem, settings.stopwords))
    return {"bm25": lexical, "dense": dense, "hybrid": fuse(lexical, dense, settings)}


def judged_queries(data: BeirSet, split: str) -> dict[str, dict[str, int]]:
    """Query id -> {relevant doc id: gain} for the queries of qrels/<split>.tsv with a relevant document."""
    if split not in data.qrels:
        raise QAError(f"no qrels/{split}.tsv in the BEIR folder; splits there: {', '.join(data.qrels)}")
    judged = {qid: {d: r for d, r in docs.items() if r > 0} for qid, docs in data.qrels[split].items()}
    return {qid: docs for qid, docs in judged.items() if docs}


def ndcg_recall(scores: np.ndarray, doc_ids: list[str], relevant: dict[str, int]) -> tuple[float, float]:
    """nDCG@10 (linear gains, as pytrec_eval) and Recall@100 of one query's scores."""
    return graded_ndcg_recall([doc_ids[i] for i in order_of(scores)[:100]], relevant)


def evaluate_beir(data: BeirSet, index: BeirIndex, query_vectors: dict[str, np.ndarray], settings: Settings,
                  split: str = "test") -> dict:
    """Mean nDCG@10 and Recall@100 per mode over the judged queries of `split`."""
    judged = judged_queries(data, split)
    totals = {mode: np.zeros(2) for mode in MODES}
    for qid, relevant in judged.items():
        for mode, scores in mode_scores(index, data.queries[qid], query_vectors[qid], settings).items():
            totals[mode] += ndcg_recall(scores, data.doc_ids, relevant)
    n = max(len(judged), 1)
    return {"queries": len(judged), "documents": len(data.doc_ids), "split": split,
            **{mode: {"ndcg@10": ndcg / n, "recall@100": recall / n} for mode, (ndcg, recall) in totals.items()}}


def run_beir(path: Path, encoder: Encoder, settings: Settings, cache_dir: Path, split: str = "test") -> dict:
    """Index the BEIR folder at `path` (vectors cached in `cache_dir`) and evaluate every mode on `split`."""
    data = load_beir(path)
    index = index_beir(data, encoder, settings, cache_dir)
    qids = sorted(judged_queries(data, split))
    vectors = encode_cached(encoder, [data.queries[q] for q in qids], cache_dir)
    return evaluate_beir(data, index, dict(zip(qids, vectors)), settings, split)


def format_beir(report: dict) -> str:
    lines = [f"{report['documents']} documents, {report['queries']} {report['split']} queries",
             f"{'mode':8} {'nDCG@10':>8} {'R@100':>7}"]
    lines += [f"{mode:8} {report[mode]['ndcg@10']:8.4f} {report[mode]['recall@100']:7.4f}" for mode in MODES]
    return "\n".join(lines)
