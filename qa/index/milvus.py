"""The search boundary on Milvus: Milvus Lite in a file here, a Milvus cluster by URI, through the same MilvusClient.

One collection holds a row per passage: its id, document id and offsets, its vector (exact inner product, FLAT) and
its BM25 terms as a sparse vector (inner product over an inverted index). The sparse side is BM25 written as a dot
product: a passage carries each term's term-frequency part (with its length normalisation), a query each term's idf
from the index (qa/index/lexical.py), so the engine's BM25 order is the in-process one (BM25Plus's constant
idf * delta per query term aside, which moves every passage alike). Terms are hashed to the 32-bit indices Milvus
takes; a rare collision only adds a candidate, since rank() scores candidates from the index itself.

A second collection holds a digest per document, so that `sync` rewrites only the documents that changed: delete by
document id, then upsert (by passage id, so two app replicas syncing the same change at once write it once). It drops
and rewrites everything only when what the rows were computed from changes: the model, the index settings, the
splitting code, or the corpus's mean passage length by more than `AVGDL_DRIFT`."""
from __future__ import annotations

import hashlib
import json
import logging
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.corpus.text import tokenize
from qa.errors import IndexUnavailable
from qa.index.engine import Candidates, Sync
from qa.index.store import Index, index_text

if TYPE_CHECKING:
    from qa.config import Settings

log = logging.getLogger("qa")
PASSAGES, DOCUMENTS = "qa_passages", "qa_documents"
MAX_ID = 1024  # longest passage or document id, in bytes (VARCHAR)
BATCH = 1000  # rows per insert call
AVGDL_DRIFT = 0.1  # the mean passage length may move this much (relative) before every passage is rewritten
FIELDS = ["passage_id", "doc_id", "start", "end"]


def term_index(term: str) -> int:
    """A term's index in the sparse vectors: 32 bits of its CRC (Milvus takes 0 to 2**32 - 2)."""
    return zlib.crc32(term.encode("utf-8")) % (2**32 - 1)


def _sparse(values: dict[str, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for term, value in values.items():
        key = term_index(term)
        out[key] = out.get(key, 0.0) + value
    return out


def _among(doc_ids: list[str]) -> str:
    """A filter admitting these documents. Document ids are letters, digits, '.', '_', '-' and '/' (qa/corpus), so a
    JSON list of them is a Milvus list literal; Milvus Lite takes no filter templates in a search."""
    return f"doc_id in {json.dumps(doc_ids, ensure_ascii=False)}"


class MilvusEngine:
    """Milvus's collections, kept equal to the index by `sync`; `searcher` finds candidates in them."""

    def __init__(self, uri: str, settings: Settings):
        from pymilvus import MilvusClient  # imported only when this backend is chosen: it starts no server before

        self.uri, self.settings = uri, settings
        try:
            if not uri.startswith(("http://", "https://", "tcp://", "unix:")):  # a Milvus Lite file
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            self.client = MilvusClient(uri)
        except Exception as exc:  # pymilvus raises its own types and gRPC's; none may reach the user as a traceback
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> IndexUnavailable:
        return IndexUnavailable(f"the Milvus backend at {self.uri} cannot be used ({exc}); start it or fix "
                                "backend_uri, or set backend = \"inprocess\"")

    def sync(self, index: Index) -> Sync:
        try:
            report = self._sync(index)
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise self._unavailable(exc) from None
        return report

    def searcher(self, index: Index) -> MilvusSearcher:
        return MilvusSearcher(self, index)

    def _identity(self, index: Index) -> str:
        """What every row was computed from, but the documents themselves."""
        manifest = index.manifest
        return hashlib.sha256(json.dumps([manifest.get("model"), manifest.get("params"), manifest.get("code"),
                                          index.vectors.shape[1]], sort_keys=True).encode()).hexdigest()

    def _sync(self, index: Index) -> Sync:
        avgdl = float(index.lexical.average_length)
        stored = self._stored_identity()
        rebuilt = stored is None or stored["identity"] != self._identity(index) or (
            abs(avgdl / stored["avgdl"] - 1) > AVGDL_DRIFT)
        if rebuilt:
            for name in (PASSAGES, DOCUMENTS):
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            self._create(index, avgdl)
        by_doc: dict[str, list[int]] = {}
        for row, p in enumerate(index.passages):
            by_doc.setdefault(p.doc_id, []).append(row)
        digests = {doc_id: self._digest(index, rows) for doc_id, rows in by_doc.items()}
        held = {} if rebuilt else self._stored_digests()
        removed = sorted(held.keys() - digests.keys())
        changed = sorted(d for d in digests if held.get(d) != digests[d])
        gone = removed + [d for d in changed if d in held]
        for lo in range(0, len(gone), BATCH):
            ids = gone[lo:lo + BATCH]
            self.client.delete(PASSAGES, filter=_among(ids))
            self.client.delete(DOCUMENTS, filter=_among(ids))
        rows = [row for d in changed for row in by_doc[d]]
        for lo in range(0, len(rows), BATCH):
            self.client.upsert(PASSAGES, [self._passage(index, row) for row in rows[lo:lo + BATCH]])
        for lo in range(0, len(changed), BATCH):
            self.client.upsert(DOCUMENTS, [{"doc_id": d, "digest": digests[d], "marker": [1.0, 0.0]}
                                           for d in changed[lo:lo + BATCH]])
        if changed or removed:
            # Sealed into segments with their indexes: Milvus Lite otherwise scans the rows still in memory one by one.
            self.client.flush(PASSAGES)
            self.client.flush(DOCUMENTS)
        return Sync(len(changed), len(removed), len(rows), rebuilt)

    def _stored_identity(self) -> dict | None:
        """The identity row (document id "", which no document has): the identity's digest, and the mean passage
        length the rows were written with as its marker's first value."""
        if not (self.client.has_collection(PASSAGES) and self.client.has_collection(DOCUMENTS)):
            return None
        for name in (PASSAGES, DOCUMENTS):  # a server, or a Milvus Lite file opened again, holds them released
            self.client.load_collection(name)
        rows = self.client.query(DOCUMENTS, filter='doc_id == ""', output_fields=["digest", "marker"])
        if len(rows) != 1 or not rows[0]["marker"][0] > 0:
            return None
        return {"identity": rows[0]["digest"], "avgdl": float(rows[0]["marker"][0])}

    def _create(self, index: Index, avgdl: float) -> None:
        from pymilvus import DataType

        dim = index.vectors.shape[1]
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("passage_id", DataType.VARCHAR, max_length=MAX_ID, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("lexical", DataType.SPARSE_FLOAT_VECTOR)
        params = self.client.prepare_index_params()
        params.add_index("dense", index_type="FLAT", metric_type="IP")
        params.add_index("lexical", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        self._create_collection(PASSAGES, schema, params)
        # Milvus wants a vector field in every collection: the documents' is a constant marker.
        schema = self.client.create_schema(auto_id=False)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID, is_primary=True)
        schema.add_field("digest", DataType.VARCHAR, max_length=64)
        schema.add_field("marker", DataType.FLOAT_VECTOR, dim=2)
        params = self.client.prepare_index_params()
        params.add_index("marker", index_type="FLAT", metric_type="IP")
        self._create_collection(DOCUMENTS, schema, params)
        self.client.insert(DOCUMENTS, [{"doc_id": "", "digest": self._identity(index), "marker": [avgdl, 0.0]}])

    def _create_collection(self, name: str, schema: Any, params: Any) -> None:
        # The indexes are asked for without waiting (sync=False): waiting asks the server for a timestamp, which
        # Milvus Lite does not implement (it logs an error); loading the collection waits for them instead.
        self.client.create_collection(name, schema=schema, consistency_level="Strong")
        self.client.create_index(name, params, sync=False)
        self.client.load_collection(name)

    def _stored_digests(self) -> dict[str, str]:
        held: dict[str, str] = {}
        iterator = self.client.query_iterator(DOCUMENTS, batch_size=BATCH, filter='doc_id != ""',
                                              output_fields=["doc_id", "digest"])
        while batch := iterator.next():
            held.update((row["doc_id"], row["digest"]) for row in batch)
        iterator.close()
        return held

    def _text(self, index: Index, row: int) -> str:
        p = index.passages[row]
        return index_text(p, index.documents[p.doc_id], self.settings)

    def _digest(self, index: Index, rows: list[int]) -> str:
        """A document's passages as indexed: ids, offsets and indexed text (the vectors follow from the text and the
        model, which is in the identity). Nothing is tokenised or read from disk, so a sync that writes one document
        costs a hash of the corpus text."""
        digest = hashlib.sha256()
        for row in rows:
            p = index.passages[row]
            digest.update(json.dumps([p.passage_id, p.start, p.end, self._text(index, row)]).encode())
        return digest.hexdigest()

    def _passage(self, index: Index, row: int) -> dict:
        p, s = index.passages[row], self.settings
        terms = index.lexical.passage_terms(tokenize(self._text(index, row), s.stem, s.stopwords), row)
        return {"passage_id": p.passage_id, "doc_id": p.doc_id, "start": p.start, "end": p.end,
                "dense": np.asarray(index.vectors[np.asarray([row])][0], dtype=np.float32).tolist(),
                "lexical": _sparse(terms) or {0: 0.0}}


class MilvusSearcher:
    """Milvus's candidates as rows of one index."""

    def __init__(self, engine: MilvusEngine, index: Index):
        self.engine, self.index = engine, index

    def candidates(self, terms: list[str], vector: np.ndarray, k: int, lexical: bool,
                   allowed: np.ndarray | None) -> Candidates:
        index, client = self.index, self.engine.client
        kwargs: dict[str, Any] = {}
        if allowed is not None:
            table = index.passages
            kwargs = {"filter": _among([table.doc_ids[d] for d in np.unique(table.doc[allowed]).tolist()])}
        limit = min(k, len(index.passages))
        try:
            dense = self._rows(client.search(PASSAGES, data=[vector.astype(np.float32).tolist()], anns_field="dense",
                                             limit=limit, output_fields=FIELDS, search_params={"metric_type": "IP"},
                                             **kwargs))
            best = np.empty(0, dtype=np.int64)
            weights = index.lexical.passage_weights(terms) if lexical else {}
            if weights:
                best = self._rows(client.search(PASSAGES, data=[_sparse(weights)], anns_field="lexical", limit=limit,
                                                output_fields=FIELDS, search_params={"metric_type": "IP"}, **kwargs))
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise self.engine._unavailable(exc) from None
        return Candidates(best, dense)

    def _rows(self, results: Any) -> np.ndarray:
        """The hits as passage rows, each checked against the index: an engine that disagrees with the corpus on a
        passage's document or offsets is out of date, and is never trusted."""
        rows = []
        for hit in results[0]:
            entity = hit["entity"]
            row = self.index.passages.row_of(entity["passage_id"])
            passage = None if row is None else self.index.passages[row]
            if passage is None or (passage.doc_id, passage.start, passage.end) != (
                    entity["doc_id"], entity["start"], entity["end"]):
                raise IndexUnavailable(f"the Milvus backend at {self.engine.uri} holds passage "
                                       f"{entity['passage_id']!r} unlike the corpus; restart the app or run "
                                       "'python -m qa index' to sync it with this corpus")
            rows.append(row)
        return np.asarray(rows, dtype=np.int64)


def open_engine(settings: Settings) -> MilvusEngine | None:
    """The engine `settings.backend` names; None for the in-process index."""
    if settings.backend == "inprocess":
        return None
    return MilvusEngine(settings.backend_uri or str(settings.index_dir / "milvus.db"), settings)
