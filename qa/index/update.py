"""A change to the corpus applied to its index without a rebuild: only the documents added or changed are split,
tokenised and encoded; everything else is moved.

A build reads, splits, tokenises and indexes every document, holds every vector in memory and trains the dense
index: 21 s for one file at 30,000 passages even with every vector reused, and beyond memory at ten million. An
update reads every file's bytes once (the corpus checksum needs them, and each file's sha256 says whether it changed
since the index was built: `Index.files`), parses only the files that changed, and then:
- the passage table, the vectors and their keys are the kept documents' rows, in order, with the new documents'
  rows between them (vectors read from disk stay there, `Spliced`, until the update is saved);
- the BM25 postings are moved and joined (`LexicalIndex.spliced`): the scores are a build's;
- the corpus's words are counted by documents, so a removed document's words are taken off (`CorpusWords.changed`);
- the dense index keeps its training: a flat one gets its codes spliced, an IVF one has the removed rows taken out of
  its lists, the others' ids moved and the new rows added.

A corpus changed while no app ran is updated the same way at the next start (`open_index`, and `python -m qa index
--if-needed`, which `make run` runs first): the saved index (`store.previous`) knows a changed or removed document by
its saved fields (documents.json) and its passages, which is all an update reads of it.

The result is the index a build would make, except for what training decides: an 8-bit or IVF index keeps the value
ranges and lists it was trained with on the corpus of its last build (a vector outside the ranges is clipped, as in
any build), and the BM25 terms first seen in a new document come last (only BM25Okapi's mean idf reads that order,
`tests/test_update.py`). A change that a build alone can make (other settings, model or code; a corpus past a size
where the dense index changes kind) is left to `store.build`."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import faiss
import numpy as np

from qa.config import Settings
from qa.corpus.documents import CorpusFile, CorpusRead, Document, read_corpus
from qa.corpus.passages import PassageRecord, split_document
from qa.corpus.text import tokenize
from qa.errors import IndexUnavailable, StaleIndex
from qa.index.cache import Vectors, VectorSource, text_keys, vectors_for
from qa.index.encoder import Encoder
from qa.index.figures import FigurePassages
from qa.index.rows import Spliced
from qa.index.store import (
    CORPUS_CHANGED,
    Index,
    dense_index,
    encode_texts,
    expected_identity,
    index_text,
    load,
    new_manifest,
    previous,
    rebuild,
    reopened,
    save,
)
from qa.index.table import PassageTable

log = logging.getLogger("qa")


@dataclass(frozen=True)
class Kept:
    """Documents `lo` to `hi` (positions in the old table's doc_ids), unchanged and consecutive."""

    lo: int
    hi: int


Piece = Kept | tuple[Document, list[PassageRecord]]  # kept documents, or a new document with its passages


def read_changed(index: Index, settings: Settings) -> CorpusRead:
    """The corpus folder read once: every file's bytes (the corpus checksum, each file's sha256), and the documents of
    the files `index` does not hold as they are now parsed; the others are the index's own Document objects."""
    where: dict[tuple[str, str], tuple[int, int]] = {}
    position = 0
    for file in index.files or ():
        where[(file.name, file.sha256)] = (position, position + file.documents)
        position += file.documents
    doc_ids = index.passages.doc_ids

    def known(file: CorpusFile) -> list[Document] | None:
        span = where.get((file.name, file.sha256))
        return None if span is None else [index.documents[d] for d in doc_ids[span[0]:span[1]]]

    return read_corpus(settings.corpus_dir, settings, known)


def updated(index: Index, settings: Settings, encoder: Encoder, read: CorpusRead | None = None) -> Index | None:
    """`index` brought up to the corpus folder as it is now (`read`: as read_changed read it, when it has been), or
    None when only a build can: the index does not list its files, or its settings, model, code or dense index's
    kind are not those a build would use now."""
    if index.files is None or index.keys is None:
        return None
    read = read or read_changed(index, settings)
    identity = expected_identity(settings, encoder, read.checksum)
    if any(index.manifest.get(key) != value for key, value in identity.items() if key != "corpus_sha256"):
        return None
    return spliced(index, read.documents, identity, read.files, settings, encoder)


def resumed(settings: Settings, encoder: Encoder) -> Index | None:
    """The saved index brought up to a corpus changed while no app served it (files added, edited or removed by hand
    or by `python -m qa add`), or None when only a build can: the saved one is missing, damaged, or of other
    settings, model or code. A removed document is known by its saved fields and passages (`store.previous`), which
    is all its words are counted off from."""
    read = read_corpus(settings.corpus_dir, settings)
    try:
        index = previous(settings, encoder, read)
    except StaleIndex:
        return None
    return spliced(index, read.documents, expected_identity(settings, encoder, read.checksum), read.files, settings,
                   encoder)


def open_index(settings: Settings, encoder: Encoder, progress: bool = False) -> Index:
    """The current index: loaded; updated when the corpus alone changed since it was saved; otherwise rebuilt. A log
    line says why it was not loaded, and what was done.

    When the index cannot be saved (read-only folder, disk full), it is used from memory for this process and the log
    says so and how to fix it: it was made from the current corpus, so its answers are right; only the next start
    pays for it again (see docs/RELIABILITY.md)."""
    try:
        return load(settings, encoder)
    except StaleIndex as exc:
        why = exc.reason
    index = resumed(settings, encoder) if why == CORPUS_CHANGED else None
    if index is None:
        log.warning("rebuilding the index: %s", why)
        index = rebuild(settings, encoder, progress)
    else:
        texts = index.manifest["texts"]
        log.warning("updating the index: %s (%d texts encoded, %d reused)", why, texts["encoded"], texts["reused"])
    try:
        return reopened(index, save(index, settings.index_dir), settings.in_memory_bytes)
    except IndexUnavailable as exc:
        log.warning("%s. Answering from the index just built in memory; it is lost when this process ends.", exc)
    return index


def spliced(index: Index, documents: list[Document], identity: dict, files: list[CorpusFile] | None,
            settings: Settings, encoder: Encoder) -> Index | None:
    """The index of `documents` (the corpus now, in order), made from `index`: a document that is the very object the
    index holds under its id is kept, any other is new. None when the dense index would change kind, or the kept
    documents are not in their old order."""
    old = index.passages
    pieces = _pieces(index, documents, settings)
    if pieces is None:
        return None
    kept_docs = np.zeros(len(old.doc_ids), dtype=bool)
    for piece in pieces:
        if isinstance(piece, Kept):
            kept_docs[piece.lo:piece.hi] = True
    first, offsets = old.first, old.span_offsets
    counts = [np.diff(first[p.lo:p.hi + 1]) if isinstance(p, Kept) else np.array([len(p[1])]) for p in pieces]
    n = int(sum(c.sum() for c in counts))
    if type(dense_index(encoder.dim, n, settings)) is not type(index.dense):
        return None
    doc_order = [d.id for d in documents]
    by_id = {d.id: d for d in documents}
    fresh = [piece for piece in pieces if not isinstance(piece, Kept)]  # new documents with their passages
    records = [r for _, rs in fresh for r in rs]
    gone = np.flatnonzero(~kept_docs)  # the old positions of documents removed or changed
    vectors, keys = _new_vectors(index, records, by_id, gone, settings, encoder)
    new_rows = len(records)
    # Each piece's rows: (source, lo, hi) of the old arrays for kept documents, of the new ones for a new document.
    rows = np.full(len(old), -1, dtype=np.int64)  # old passage row -> new row, -1 where removed
    added: list[int] = []
    layout: list[tuple[bool, int, int]] = []  # (kept, lo, hi): rows of the old index, or of the new documents
    columns: dict[str, list] = {name: [] for name in ("start", "end", "spans", "span_counts", "vectors", "sentences",
                                                       "keys", "sentence_keys")}
    row = p = s = 0
    for piece in pieces:
        if isinstance(piece, Kept):
            a, b = int(first[piece.lo]), int(first[piece.hi])
            x, y = int(offsets[a]), int(offsets[b])
            rows[a:b] = np.arange(row, row + b - a)
            layout.append((True, a, b))
            parts = {"start": old.start[a:b], "end": old.end[a:b], "spans": old.spans[x:y],
                     "span_counts": np.diff(offsets[a:b + 1]), "vectors": (index.vectors, a, b),
                     "sentences": (index.sentence_vectors, x, y), "keys": (index.keys, a, b),
                     "sentence_keys": (index.keys, len(old) + x, len(old) + y)}
        else:
            doc, recs = piece
            a, b, x = row, row + len(recs), s + sum(len(r.sentences) for r in recs)
            added.extend(range(a, b))
            layout.append((False, p, p + len(recs)))
            parts = {"start": np.array([r.start for r in recs], dtype=np.int64),
                     "end": np.array([r.end for r in recs], dtype=np.int64),
                     "spans": np.array([sp for r in recs for sp in r.sentences], dtype=np.int32).reshape(-1, 2),
                     "span_counts": np.array([len(r.sentences) for r in recs], dtype=np.int64),
                     "vectors": (vectors.rows, p, p + len(recs)),
                     "sentences": (vectors.rows, new_rows + s, new_rows + x),
                     "keys": (keys, p, p + len(recs)), "sentence_keys": (keys, new_rows + s, new_rows + x)}
            p, s = p + len(recs), x
        for name, part in parts.items():
            columns[name].append(part)
        row += b - a
    span_offsets = np.concatenate([[0], np.cumsum(np.concatenate(columns["span_counts"]), dtype=np.int64)])
    table = PassageTable(by_id, doc_order, np.repeat(np.arange(len(documents), dtype=np.int32), np.concatenate(counts)),
                         np.concatenate(columns["start"]), np.concatenate(columns["end"]),
                         np.concatenate(columns["spans"]).astype(np.int32), span_offsets)

    added_rows = np.array(added, dtype=np.int64)
    removed = [(index.documents[old.doc_ids[k]], [old.text(i) for i in range(int(first[k]), int(first[k + 1]))])
               for k in gone.tolist()]
    new_docs = [(doc, [r.text for r in recs]) for doc, recs in fresh]
    lexical = index.lexical.spliced(rows, n, ((i, tokenize(index_text(r, by_id[r.doc_id], settings), settings.stem,
                                                           settings.stopwords)) for i, r in zip(added, records)))
    figures = index.figures.moved(rows, FigurePassages.of(table, by_id, [table.position[d.id] for d, _ in fresh]))
    texts = n + int(span_offsets[-1])
    manifest = {**new_manifest(identity, n, vectors.encoded, texts - vectors.encoded),
                "updated": {"documents": len(fresh), "removed": len(removed)}}
    return Index(by_id, table, _dense(index.dense, rows, layout, vectors.rows[:new_rows], added_rows),
                 _joined(columns["vectors"]), _joined(columns["sentences"]), table.span_offsets, lexical, manifest,
                 index.words.changed(removed, new_docs), figures,
                 None if index.keys is None else _joined(columns["keys"] + columns["sentence_keys"]), files)


def _pieces(index: Index, documents: list[Document], settings: Settings) -> list[Piece] | None:
    """The new corpus as runs of kept documents and new documents with their passages; None when kept documents are
    out of their old order."""
    old = index.passages
    pieces: list[Piece] = []
    last = -1
    for doc in documents:
        k = old.position.get(doc.id)
        if k is not None and index.documents[doc.id] is doc:
            if k <= last:
                return None
            if pieces and isinstance(pieces[-1], Kept) and pieces[-1].hi == k:
                pieces[-1] = Kept(pieces[-1].lo, k + 1)
            else:
                pieces.append(Kept(k, k + 1))
            last = k
        else:
            pieces.append((doc, split_document(doc, settings.min_passage_words, settings.max_passage_chars)))
    return pieces


def _new_vectors(index: Index, records: list[PassageRecord], documents: dict[str, Document], gone: np.ndarray,
                 settings: Settings, encoder: Encoder) -> tuple[Vectors, np.ndarray]:
    """The vectors and keys of the new documents' passages, then of their sentences: reused from the documents they
    replace (at old positions `gone`: removed or changed) where a text is the same, else encoded. An edit re-encodes
    only the passages and sentences it changed."""
    texts = [index_text(r, documents[r.doc_id], settings) for r in records]
    texts += [r.text[a:b] for r in records for a, b in r.sentences]
    keys = text_keys(encoder.name, texts)
    first, offsets, n = index.passages.first, index.passages.span_offsets, len(index.passages)
    passages = np.concatenate([np.arange(first[k], first[k + 1]) for k in gone] or [np.zeros(0)]).astype(np.int64)
    source = None
    if len(passages) and index.keys is not None:
        sentences = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in passages]).astype(np.int64)
        source = VectorSource(index.keys[np.concatenate([passages, n + sentences])], index.vectors[passages],
                              index.sentence_vectors[sentences])
    vectors = vectors_for(keys, texts, source, encoder.dim,
                          lambda missing: encode_texts(encoder, missing, settings.encode_batch, False))
    return vectors, keys


def _joined(pieces: list) -> np.ndarray | Spliced:
    """The rows of `pieces`, (array, lo, hi) each: in memory when every source is, else read through."""
    if all(isinstance(source, np.ndarray) for source, _, _ in pieces):
        return np.concatenate([source[lo:hi] for source, lo, hi in pieces])
    return Spliced(pieces)


def _dense(dense: faiss.Index, rows: np.ndarray, layout: list[tuple[bool, int, int]], vectors: np.ndarray,
           added: np.ndarray) -> faiss.Index:
    """A copy of `dense` (the served index is never changed in place: questions may be searching it) with old row i
    at `rows[i]` (gone where -1) and `vectors` added as rows `added`; `layout` gives the same as runs of rows."""
    if isinstance(dense, faiss.IndexIVF):
        moved = faiss.clone_index(dense)
        bits = np.packbits(rows < 0, bitorder="little")
        moved.remove_ids(faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)))
        lists = moved.invlists  # type: ignore[attr-defined]
        for k in range(moved.nlist):  # type: ignore[attr-defined]
            size = lists.list_size(k)
            if size:
                ids = faiss.rev_swig_ptr(lists.get_ids(k), size)  # the list's own ids, changed where they are
                ids[:] = rows[ids]
        if len(added):
            moved.add_with_ids(vectors, added)
        return moved
    # A flat index (float or 8-bit codes) numbers its rows by position: its codes are spliced in the new order.
    size = dense.sa_code_size()
    codes = faiss.rev_swig_ptr(dense.codes.data(), dense.ntotal * size).reshape(dense.ntotal, size)  # type: ignore[attr-defined]
    new = dense.sa_encode(vectors) if len(vectors) else codes[:0]
    spliced = np.concatenate([(codes if kept else new)[lo:hi] for kept, lo, hi in layout])
    out = faiss.clone_index(dense)
    out.reset()
    faiss.copy_array_to_vector(spliced.ravel(), out.codes)  # type: ignore[attr-defined]
    out.ntotal = len(spliced)
    return out
