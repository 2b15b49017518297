"""The index on disk: a folder of readable files (FAISS, JSONL, npy, JSON manifest), never pickle.

`index/CURRENT` names the live build folder. A build is written to a new folder and CURRENT is then
replaced atomically, so a crash mid-build never leaves a half-written index in use."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np

from .config import Settings
from .corpus import Document, corpus_checksum, load_corpus
from .encoder import Encoder
from .errors import IndexUnavailable
from .lexical import LexicalIndex
from .passages import PassageRecord, split_document
from .rows import Rows, open_rows
from .text import tokenize

log = logging.getLogger("qa")
FORMAT_VERSION = 3
FILES = ("passages.jsonl", "dense.faiss", "vectors.npy", "sentences.npy")
# Up to this many passages dense search is exact (flat). Past it, it scans 8-bit scalar-quantised codes (a quarter
# of the memory and memory traffic) for candidates that rank() re-scores exactly from the float vectors
# (top-10 recall against exact search is measured by `python -m qa bench`, docs/PERFORMANCE.md).
FLAT_MAX_PASSAGES = 200_000


@dataclass
class Index:
    """Everything retrieval needs, in memory."""

    documents: dict[str, Document]
    passages: list[PassageRecord]
    dense: faiss.Index
    vectors: np.ndarray | Rows  # one row per passage (read from disk row by row when large)
    sentence_vectors: np.ndarray | Rows  # one row per sentence, passages in order (likewise)
    sentence_offsets: np.ndarray  # passage i owns rows [offsets[i], offsets[i + 1])
    lexical: LexicalIndex
    manifest: dict


def index_text(passage: PassageRecord, doc: Document, settings: Settings) -> str:
    """What is indexed for a passage: its text, with the document title in front when configured."""
    return f"{doc.title}\n{passage.text}" if settings.index_title else passage.text


def _versions() -> dict[str, str]:
    names = ("faiss-cpu", "rank-bm25", "sentence-transformers", "PyStemmer")
    return {n: metadata.version(n) for n in names}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_identity(settings: Settings, encoder: Encoder) -> dict:
    """The fields a manifest must carry for its index to be current."""
    return {"format": FORMAT_VERSION, "corpus_sha256": corpus_checksum(settings.corpus_dir),
            "model": encoder.name, "params": settings.index_params()}


def build(settings: Settings, encoder: Encoder, progress: bool = False) -> Index:
    """Build the index from the corpus in memory (nothing is written)."""
    documents = {d.id: d for d in load_corpus(settings.corpus_dir)}
    passages = [p for d in documents.values() for p in split_document(d, settings.min_passage_words)]
    texts = [index_text(p, documents[p.doc_id], settings) for p in passages]
    sentences = [p.text[a:b] for p in passages for a, b in p.sentences]
    vectors = _encode(encoder, texts + sentences, progress)
    dense = dense_index(encoder.dim, len(texts))
    if not dense.is_trained:
        dense.train(vectors[: len(texts)])
    dense.add(vectors[: len(texts)])
    manifest = {**expected_identity(settings, encoder), "versions": _versions(), "passages": len(passages),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return Index(documents, passages, dense, vectors[: len(texts)], vectors[len(texts):], _sentence_offsets(passages),
                 _lexical(passages, documents, settings), manifest)


def dense_index(dim: int, passages: int) -> faiss.Index:
    """An empty inner-product index for this many passages: flat up to FLAT_MAX_PASSAGES, 8-bit codes past it."""
    if passages <= FLAT_MAX_PASSAGES:
        return faiss.IndexFlatIP(dim)
    return faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)


def _sentence_offsets(passages: list[PassageRecord]) -> np.ndarray:
    """Passage i owns sentence rows [offsets[i], offsets[i + 1])."""
    return np.cumsum([0] + [len(p.sentences) for p in passages]).astype(np.int64)


def _encode(encoder: Encoder, texts: list[str], progress: bool) -> np.ndarray:
    batch = 256
    chunks = range(0, len(texts), batch)
    if progress:
        from tqdm import tqdm
        chunks = tqdm(chunks, desc="encoding", unit="batch")
    parts = [encoder.encode(texts[i:i + batch]) for i in chunks]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)


def _lexical(passages: list[PassageRecord], documents: dict[str, Document], settings: Settings) -> LexicalIndex:
    tokenized = [tokenize(index_text(p, documents[p.doc_id], settings), settings.stem, settings.stopwords)
                 for p in passages]
    return LexicalIndex(tokenized, settings.bm25_variant, settings.bm25_k1, settings.bm25_b)


def save(index: Index, index_dir: Path) -> Path:
    """Write `index` to a new build folder under `index_dir` and make it current. Returns the folder."""
    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        build_dir = Path(tempfile.mkdtemp(prefix="build-", dir=index_dir))
    except OSError as exc:
        raise IndexUnavailable(f"cannot write the index to {index_dir} ({exc.strerror}); "
                               "make it writable or set QA_INDEX_DIR to a writable folder") from None
    try:
        with open(build_dir / "passages.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in index.passages)
        faiss.write_index(index.dense, str(build_dir / "dense.faiss"))
        np.save(build_dir / "vectors.npy", index.vectors, allow_pickle=False)
        np.save(build_dir / "sentences.npy", index.sentence_vectors, allow_pickle=False)
        index.manifest["files"] = {name: _sha256(build_dir / name) for name in FILES}
        (build_dir / "manifest.json").write_text(json.dumps(index.manifest, indent=2) + "\n")
        pointer = index_dir / "CURRENT.tmp"
        pointer.write_text(build_dir.name + "\n")
        os.replace(pointer, index_dir / "CURRENT")
    except OSError as exc:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise IndexUnavailable(f"writing the index to {index_dir} failed ({exc.strerror}); "
                               "free disk space or set QA_INDEX_DIR, then run 'python -m qa index'") from None
    for old in index_dir.glob("build-*"):
        if old != build_dir:
            shutil.rmtree(old, ignore_errors=True)
    return build_dir


def problem(settings: Settings, encoder: Encoder) -> str | None:
    """Why the saved index cannot be used as it is, or None when it is current and intact."""
    index_dir = Path(settings.index_dir)
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return f"no index in {index_dir}"
    build_dir = index_dir / pointer.read_text().strip()
    try:
        manifest = json.loads((build_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return f"the manifest in {build_dir} is missing or unreadable"
    for key, value in expected_identity(settings, encoder).items():
        if manifest.get(key) != value:
            return {"corpus_sha256": "the corpus changed since the index was built"}.get(
                key, f"the index was built with a different {key}")
    for name in FILES:
        path = build_dir / name
        if not path.is_file() or _sha256(path) != manifest.get("files", {}).get(name):
            return f"{name} does not match its checksum in the manifest"
    return None


def load(settings: Settings) -> Index:
    """Read the current build; call `problem()` first to know it is intact and current."""
    index_dir = Path(settings.index_dir)
    build_dir = index_dir / (index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((build_dir / "manifest.json").read_text())
    documents = {d.id: d for d in load_corpus(settings.corpus_dir)}
    with open(build_dir / "passages.jsonl", encoding="utf-8") as f:
        passages = [PassageRecord.from_dict(json.loads(line)) for line in f]
    dense = faiss.read_index(str(build_dir / "dense.faiss"))
    vectors, sentence_vectors = open_rows(build_dir / "vectors.npy"), open_rows(build_dir / "sentences.npy")
    return Index(documents, passages, dense, vectors, sentence_vectors, _sentence_offsets(passages),
                 _lexical(passages, documents, settings), manifest)


def open_index(settings: Settings, encoder: Encoder, progress: bool = False) -> Index:
    """The current index, rebuilt first (with a log line saying why) when it is missing, stale or damaged."""
    reason = problem(settings, encoder)
    if reason is None:
        return load(settings)
    log.warning("rebuilding the index: %s", reason)
    index = build(settings, encoder, progress)
    save(index, settings.index_dir)
    return index
