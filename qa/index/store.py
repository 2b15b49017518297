"""The index on disk: a folder of readable files (FAISS, JSONL, npy, JSON manifest), never pickle.

`index/CURRENT` names the live build folder. A build is written to a new folder and CURRENT is then
replaced atomically, so a crash mid-build never leaves a half-written index in use."""
from __future__ import annotations

import fcntl
import functools
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

import faiss
import numpy as np

import qa.corpus.figures
import qa.corpus.passages
import qa.corpus.text
import qa.index.figures
import qa.index.words
from qa.config import Settings
from qa.corpus.documents import CorpusFile, CorpusRead, Document, corpus_checksum, corpus_documents, read_corpus
from qa.corpus.passages import PassageRecord, passage_id, split_document
from qa.corpus.shelf import shelve_large
from qa.corpus.text import tokenize
from qa.errors import IndexUnavailable, StaleIndex
from qa.index.cache import KEY_BYTES, VectorSource, text_keys, vectors_for
from qa.index.encoder import Encoder
from qa.index.engine import Searcher
from qa.index.figures import FigurePassages
from qa.index.lexical import LexicalIndex
from qa.index.rows import Rows, RowSource, chunks, open_rows
from qa.index.table import Malformed, PassageTable
from qa.index.words import CorpusWords, stated

log = logging.getLogger("qa")
Fields = tuple[str, str, str, tuple[str, ...], str | None, str | None]  # fields(): documents.json's row of one
FORMAT_VERSION = 7  # 7: documents.json, so that a start updates an index for a change made while no app ran
# 6: files.json, and the words counted by documents (an update without a rebuild, qa/index/update.py)
# 5: the BM25 postings, corpus words and figure passages saved; 4: keys.npy (qa/index/cache.py)
CORPUS_CHANGED = "the corpus changed since the index was built"  # all else as a build now would make it
BUILD_NAME = re.compile(r"^build-[A-Za-z0-9_]+$")
# Characters that str.splitlines() and some JSON Lines readers take for line ends: written as \u escapes, so that a
# passages.jsonl line is always one line, whichever way it is read.
LINE_SEPARATORS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
PASSAGE_FIELDS = {"passage_id": str, "doc_id": str, "start": int, "end": int, "text": str, "sentences": list}
KIND_NAMES = {str: "text", int: "an integer", list: "a list"}


def _passage(row: object, line: int) -> PassageRecord:
    """A passages.jsonl row as a PassageRecord, its types, offsets and sentence spans checked against its text."""
    where = f"line {line}"
    if not isinstance(row, dict) or set(row) != set(PASSAGE_FIELDS):
        raise Malformed(f"{where} is not a passage (an object with {', '.join(PASSAGE_FIELDS)})")
    for name, kind in PASSAGE_FIELDS.items():
        if not isinstance(row[name], kind) or isinstance(row[name], bool):
            raise Malformed(f"{where}: {name} is not {KIND_NAMES[kind]}")
    text, start, end = row["text"], row["start"], row["end"]
    if not 0 <= start or end - start != len(text):
        raise Malformed(f"{where}: offsets [{start}, {end}] do not span its {len(text)} characters of text")
    previous = 0
    for span in row["sentences"]:
        if (not isinstance(span, list) or len(span) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)):
            raise Malformed(f"{where}: a sentence span is not two offsets")
        if not previous <= span[0] < span[1] <= len(text):
            raise Malformed(f"{where}: sentence span {span} is not inside its {len(text)} characters, in order")
        previous = span[1]
    return PassageRecord.from_dict(row)


def _read_passages(data: bytes) -> list[PassageRecord]:
    """passages.jsonl, one JSON object per "\n"-terminated line (split on "\n" only, never str.splitlines)."""
    text = data.decode("utf-8")
    if text and not text.endswith("\n"):
        raise Malformed("has its last line cut off")
    return [_passage(json.loads(line), n) for n, line in enumerate(text.split("\n")[:-1], 1)]


def _passage_lines(table: PassageTable) -> Iterator[bytes]:
    """passages.jsonl's lines: each PassageRecord.to_dict() as json.dumps(..., ensure_ascii=False) writes it, built
    from the table's columns a document at a time (its body read once, not once per passage: a shelved body is read
    from disk each time)."""
    quoted = json.encoder.encode_basestring  # json.dumps's own, without ensure_ascii
    starts, ends, first = table.start.tolist(), table.end.tolist(), table.first.tolist()
    for k, doc_id in enumerate(table.doc_ids):
        body, doc = table.documents[doc_id].body, quoted(doc_id)
        a, b = first[k], first[k + 1]
        spans = table.spans[table.span_offsets[a]:table.span_offsets[b]].tolist()
        offsets = (table.span_offsets[a:b + 1] - table.span_offsets[a]).tolist()
        for n, i in enumerate(range(a, b)):
            start, end = starts[i], ends[i]
            # str() of a list of lists of ints is its JSON
            line = (f'{{"passage_id": {quoted(passage_id(doc_id, n + 1))}, "doc_id": {doc}, "start": {start}, '
                    f'"end": {end}, "text": {quoted(body[start:end])}, "sentences": {spans[offsets[n]:offsets[n + 1]]}}}')
            for char, escape in LINE_SEPARATORS.items():  # inside JSON strings only: JSON syntax outside them is ASCII
                line = line.replace(char, escape)
            yield (line + "\n").encode("utf-8")


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise Malformed(f"is not a list of {what}")
    return value


def _counts(value: object, what: str) -> dict[str, int]:
    if not isinstance(value, dict) or not all(type(n) is int and n > 0 for n in value.values()):
        raise Malformed(f"does not count the documents of its {what}")
    return value


def _read_words(value: object) -> CorpusWords:
    if not isinstance(value, dict) or set(value) != {"stems", "words"}:
        raise Malformed("is not an object with stems and words")
    return CorpusWords(_counts(value["stems"], "stems"), _counts(value["words"], "words"))


def _read_files(value: object) -> list[CorpusFile]:
    if not isinstance(value, list) or not all(
            isinstance(f, list) and len(f) == 3 and isinstance(f[0], str) and isinstance(f[1], str)
            and type(f[2]) is int and f[2] > 0 for f in value):
        raise Malformed("is not a list of files, each a name, a sha256 and a number of documents")
    return [CorpusFile(*f) for f in value]


def _read_fields(value: object) -> list[Fields]:
    if not isinstance(value, list) or not all(
            isinstance(d, list) and len(d) == 6 and all(isinstance(x, str) for x in d[:3])
            and isinstance(d[3], list) and all(isinstance(a, str) for a in d[3])
            and all(x is None or isinstance(x, str) for x in d[4:]) for d in value):
        raise Malformed("is not a list of documents, each an id, a title, a publisher, a list of authors, and a "
                        "comment's author and location (or null)")
    return [(d[0], d[1], d[2], tuple(d[3]), d[4], d[5]) for d in value]


def fields(doc: Document) -> Fields:
    """The document's id and what it states about itself that the corpus's words count (`words.stated`)."""
    return doc.id, *stated(doc)


def _read_figures(value: object) -> FigurePassages:
    if not isinstance(value, dict) or not all(
            isinstance(rows, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in rows)
            for rows in value.values()):
        raise Malformed("is not an object of passage rows by measure")
    return FigurePassages({m: np.array(rows, dtype=np.int64) for m, rows in value.items()})


# Each index file and how it is read (never with pickle): from its bytes, or, for a vector file too large to hold in
# memory (ROW_FILES), from its path row by row (qa/rows.py).
READERS = {
    "passages.jsonl": lambda data, _: _read_passages(data),
    "dense.faiss": lambda data, _: faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8)),
    "vectors.npy": lambda data, limit: _read_npy(data, limit),
    "sentences.npy": lambda data, limit: _read_npy(data, limit),
    "keys.npy": lambda data, limit: _read_npy(data, limit),
    # BM25 (qa/index/lexical.py, LexicalIndex.arrays): saved, so that opening an index tokenises no passage.
    "terms.json": lambda data, _: _strings(json.loads(data), "terms"),
    "postings.npy": lambda data, _: _read_npy(data, 0),
    "frequencies.npy": lambda data, _: _read_npy(data, 0),
    "starts.npy": lambda data, _: _read_npy(data, 0),
    "words.json": lambda data, _: _read_words(json.loads(data)),
    "figures.json": lambda data, _: _read_figures(json.loads(data)),
    "files.json": lambda data, _: _read_files(json.loads(data)),
    # Each document's fields: a document changed while no app ran is known by these and its passages (`previous`).
    "documents.json": lambda data, _: _read_fields(json.loads(data)),
}
FILES = tuple(READERS)
ROW_FILES = ("vectors.npy", "sentences.npy", "keys.npy")


@dataclass
class Index:
    """Everything retrieval needs, in memory."""

    documents: dict[str, Document]
    passages: PassageTable
    dense: faiss.Index
    vectors: RowSource  # one row per passage (read from disk row by row when large)
    sentence_vectors: RowSource  # one row per sentence, passages in order (likewise)
    sentence_offsets: np.ndarray  # passage i owns rows [offsets[i], offsets[i + 1])
    lexical: LexicalIndex
    manifest: dict
    words: CorpusWords  # the passages' words (qa/index/words.py)
    figures: FigurePassages  # the passages giving a figure of each measure (qa/index/figures.py)
    # The key of each vector row, passages then sentences (qa/index/cache.py); None for an index not built by build().
    keys: RowSource | None = None
    # The corpus files the documents were read from, in order (qa/index/update.py); None: not built from a folder.
    files: list[CorpusFile] | None = None
    # What finds candidates for rank() in a search engine synced with this index (qa/index/engine.py); None: the
    # arrays above, exact over every passage of a small corpus.
    searcher: Searcher | None = None


def index_text(passage: PassageRecord, doc: Document, settings: Settings) -> str:
    """What is indexed for a passage: its text, with the document title in front when configured."""
    return f"{doc.title}\n{passage.text}" if settings.index_title else passage.text


def _versions() -> dict[str, str]:
    names = ("faiss-cpu", "PyStemmer", "numpy", "torch")
    return {n: metadata.version(n) for n in names}


@functools.cache
def code_version() -> str:
    """sha256 of the code that turns documents into indexed passages and tokens, and of what the index saves about
    them (the corpus's words, the passages giving figures): a change to it makes a saved index stale, as a change of
    its settings does."""
    digest = hashlib.sha256()
    for module in (qa.corpus.text, qa.corpus.passages, qa.corpus.figures, qa.index.words, qa.index.figures):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def expected_identity(settings: Settings, encoder: Encoder, checksum: str | None = None) -> dict:
    """The fields a manifest must carry for its index to be current (`checksum`: the corpus's, when already read)."""
    return {"format": FORMAT_VERSION, "corpus_sha256": checksum or corpus_checksum(settings.corpus_dir, settings),
            "model": encoder.name, "params": settings.index_params(), "code": code_version()}


def build(settings: Settings, encoder: Encoder, progress: bool = False, reuse: VectorSource | None = None) -> Index:
    """Build the index from the corpus in memory (nothing is written). Vectors whose model and text are in `reuse`
    (a previous build's, see previous_vectors) are copied from it instead of encoded again; the index is the same
    as a full build's (vectors to float tolerance: the encoder's batches differ)."""
    # The checksum is of the bytes the documents were read from: a file edited during the build makes the saved index
    # stale (rebuilt on next load), never wrongly current.
    read = read_corpus(settings.corpus_dir, settings)
    identity = expected_identity(settings, encoder, read.checksum)
    documents = {d.id: d for d in read.documents}
    passages = [p for d in documents.values() for p in split_document(d, settings.min_passage_words,
                                                                            settings.max_passage_chars)]
    texts = [index_text(p, documents[p.doc_id], settings) for p in passages]
    texts += [p.text[a:b] for p in passages for a, b in p.sentences]
    keys = text_keys(encoder.name, texts)
    if reuse is not None and not reuse.valid(encoder.dim):
        reuse = None
    vectors = vectors_for(keys, texts, reuse, encoder.dim,
                          lambda missing: encode_texts(encoder, missing, settings.encode_batch, progress))
    n = len(passages)
    dense = dense_index(encoder.dim, n, settings)
    if not dense.is_trained:
        dense.train(vectors.rows[:n])
    dense.add(vectors.rows[:n])
    manifest = new_manifest(identity, n, vectors.encoded, vectors.reused)
    table = PassageTable.of(passages, documents)
    return Index(documents, table, dense, vectors.rows[:n], vectors.rows[n:], table.span_offsets,
                 _lexical(passages, documents, settings), manifest, _words(passages, documents),
                 FigurePassages.of(table, documents), keys, read.files)


def new_manifest(identity: dict, passages: int, encoded: int, reused: int) -> dict:
    """A new index's manifest: its identity, library versions, size, texts encoded now and reused, and time."""
    return {**identity, "versions": _versions(), "passages": passages, "texts": {"encoded": encoded, "reused": reused},
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


IVF_TRAINING_PER_LIST = 40  # k-means samples this many vectors a list (FAISS's least without a warning is 39)


def dense_index(dim: int, passages: int, settings: Settings) -> faiss.Index:
    """An empty inner-product index for this many passages: flat up to `flat_max_passages`, 8-bit codes past it,
    split into inverted lists past `ivf_min_passages`."""
    if passages <= settings.flat_max_passages:
        return faiss.IndexFlatIP(dim)
    if passages < settings.ivf_min_passages:
        return faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    lists = 2 ** round(np.log2(np.sqrt(passages)))
    ivf = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, lists, faiss.ScalarQuantizer.QT_8bit,
                                        faiss.METRIC_INNER_PRODUCT)
    ivf.cp.max_points_per_centroid = IVF_TRAINING_PER_LIST
    return ivf


def _read_npy(data: bytes | Path, in_memory_bytes: int) -> np.ndarray | Rows:
    return open_rows(data, in_memory_bytes) if isinstance(data, Path) else np.load(io.BytesIO(data), allow_pickle=False)


def encode_texts(encoder: Encoder, texts: list[str], batch: int, progress: bool) -> np.ndarray:
    chunks: Iterable[int] = range(0, len(texts), batch)
    if progress:
        from tqdm import tqdm
        chunks = tqdm(chunks, desc="encoding", unit="batch")
    parts = [encoder.encode(texts[i:i + batch]) for i in chunks]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), np.float32)


def _lexical(passages: list[PassageRecord], documents: dict[str, Document], settings: Settings) -> LexicalIndex:
    tokenized = [tokenize(index_text(p, documents[p.doc_id], settings), settings.stem, settings.stopwords)
                 for p in passages]
    return LexicalIndex(tokenized, settings.bm25_variant, settings.bm25_k1, settings.bm25_b)


def _words(passages: list[PassageRecord], documents: dict[str, Document]) -> CorpusWords:
    texts: dict[str, list[str]] = {}
    for p in passages:
        texts.setdefault(p.doc_id, []).append(p.text)
    return CorpusWords.of((doc, texts.get(doc.id, [])) for doc in documents.values())


def _write(path: Path, write: Callable[[BinaryIO], object]) -> str:
    """Write a file with `write(file)` and flush it to disk, so that a build is complete on disk before CURRENT names
    it. Returns its sha256, read back in chunks: no file is held in memory a second time to be written or hashed."""
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return _sha256_chunked(path)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _save_npy(f: BinaryIO, array: RowSource) -> None:
    if isinstance(array, np.ndarray):
        np.save(f, array, allow_pickle=False)
        return
    # Rows read from disk are written a chunk at a time, never whole in memory.
    np.lib.format.write_array_header_2_0(f, {"descr": np.lib.format.dtype_to_descr(array.dtype),
                                             "fortran_order": False, "shape": array.shape})
    for chunk in chunks(array):
        f.write(np.ascontiguousarray(chunk).tobytes())


def _sync_folder(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(index_dir: Path, exclusive: bool):
    """One writer or any number of readers per index folder, so that no build is deleted while it is written or read.
    The lock is on the folder itself: nothing is created, so a read-only folder can be read."""
    folder = os.open(index_dir, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(folder)  # releases the lock


def save(index: Index, index_dir: Path) -> Path:
    """Write `index` to a new build folder under `index_dir` and make it current. Returns the folder.

    Every file is written and synced into a fresh `build-*` folder first; only then is CURRENT replaced (one atomic
    rename). A failure or crash before that leaves the previous build current and intact; a failed build removes its
    folder. IndexUnavailable says what failed and how to fix it."""
    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with _locked(index_dir, exclusive=True):
            return _save_locked(index, index_dir)
    except OSError as exc:  # the folder cannot be made or opened; failures of the build itself are handled inside
        raise _unwritable(index_dir, exc) from None


def reopened(index: Index, build_dir: Path, in_memory_bytes: int) -> Index:
    """`index`, just saved to `build_dir`, with its vector files read from there when they are read from disk: an
    updated index reads its unchanged rows from the files of the build it came from (Spliced), which the save has
    deleted, and their space is freed only once nothing reads them."""
    def reread(array: RowSource | None, name: str) -> RowSource:
        return array if isinstance(array, np.ndarray) else open_rows(build_dir / name, in_memory_bytes)

    return replace(index, vectors=reread(index.vectors, "vectors.npy"),
                   sentence_vectors=reread(index.sentence_vectors, "sentences.npy"), keys=reread(index.keys, "keys.npy"))


def _unwritable(index_dir: Path, exc: OSError) -> IndexUnavailable:
    return IndexUnavailable(f"cannot write the index to {index_dir} ({exc.strerror or exc}); "
                            "make it writable or set QA_INDEX_DIR to a writable folder")


def _save_locked(index: Index, index_dir: Path) -> Path:
    try:
        build_dir = Path(tempfile.mkdtemp(prefix="build-", dir=index_dir))
    except OSError as exc:
        raise _unwritable(index_dir, exc) from None
    try:
        if index.keys is None or index.files is None:
            raise ValueError("only an index made by build() can be saved: it has no vector keys or corpus files")
        terms, postings, frequencies, starts = index.lexical.arrays()
        files = index.files
        arrays = {"vectors.npy": index.vectors, "sentences.npy": index.sentence_vectors, "keys.npy": index.keys,
                  "postings.npy": postings, "frequencies.npy": frequencies, "starts.npy": starts}
        writers: dict[str, Callable[[BinaryIO], object]] = {
            "passages.jsonl": lambda f: f.writelines(_passage_lines(index.passages)),
            "dense.faiss": lambda f: faiss.write_index(index.dense, faiss.PyCallbackIOWriter(f.write)),  # type: ignore[attr-defined]
            **{name: functools.partial(_save_npy, array=array) for name, array in arrays.items()},
            "terms.json": lambda f: f.write(_json(terms)),
            "words.json": lambda f: f.write(_json({"stems": dict(sorted(index.words.stems.items())),
                                                   "words": dict(sorted(index.words.words.items()))})),
            "figures.json": lambda f: f.write(_json({m: r.tolist() for m, r in index.figures.by_measure.items()})),
            "files.json": lambda f: f.write(_json([[c.name, c.sha256, c.documents] for c in files])),
            "documents.json": lambda f: f.write(_json([fields(d) for d in index.documents.values()]))}
        index.manifest["files"] = {name: _write(build_dir / name, write) for name, write in writers.items()}
        manifest = (json.dumps(index.manifest, indent=2) + "\n").encode()
        _write(build_dir / "manifest.json", lambda f: f.write(manifest))
        _write(build_dir / "CURRENT", lambda f: f.write((build_dir.name + "\n").encode()))
        _sync_folder(build_dir)
        os.replace(build_dir / "CURRENT", index_dir / "CURRENT")
    except BaseException as exc:
        shutil.rmtree(build_dir, ignore_errors=True)
        if isinstance(exc, OSError):
            raise IndexUnavailable(f"writing the index to {index_dir} failed ({exc.strerror or exc}); the previous index "
                                   "is left as it was. Free disk space or set QA_INDEX_DIR to a writable folder, "
                                   "then run 'python -m qa index'") from None
        raise
    try:
        _sync_folder(index_dir)
    except OSError as exc:  # CURRENT is replaced; after a power cut the checks on load would catch a lost rename
        log.warning("could not sync %s (%s)", index_dir, exc.strerror)
    for old in index_dir.glob("build-*"):
        if old != build_dir:
            shutil.rmtree(old, ignore_errors=True)
    return build_dir


def _current_build(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise StaleIndex(f"{pointer} cannot be read", index_dir) from None
    if not BUILD_NAME.match(name):
        raise StaleIndex(f"{pointer} does not name a build folder", index_dir)
    return index_dir / name


def _read_checked(build_dir: Path, manifest: dict, index_dir: Path, in_memory_bytes: int,
                  names: tuple[str, ...] = FILES) -> dict[str, bytes | Path]:
    """Each file's bytes, read once and checked against the manifest's sha256, so the bytes checked are the bytes
    used; a vector file too large to hold in memory is checked in chunks and then read row by row from its path."""
    data: dict[str, bytes | Path] = {}
    signed = manifest.get("files")
    signed = signed if isinstance(signed, dict) else {}
    for name in names:
        path = build_dir / name
        try:
            if name in ROW_FILES and path.stat().st_size > in_memory_bytes:
                data[name], digest = path, _sha256_chunked(path)
            else:
                content = path.read_bytes()
                data[name], digest = content, hashlib.sha256(content).hexdigest()
        except OSError:
            raise StaleIndex(f"{name} is missing or unreadable", index_dir) from None
        if digest != signed.get(name):
            raise StaleIndex(f"{name} does not match its checksum in the manifest", index_dir)
    return data


def _sha256_chunked(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(2**24):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(parsed: dict, manifest: dict, documents: dict[str, Document], dim: int) -> str | None:
    """Why the parsed files disagree with each other or with the corpus, or None. Checked before anything is built
    from them, so that no damage reaches the code that trusts them."""
    passages: list[PassageRecord] = parsed["passages.jsonl"]
    dense, vectors, sentences, keys = (parsed[name] for name in ("dense.faiss", "vectors.npy", "sentences.npy",
                                                                 "keys.npy"))
    n, rows = len(passages), sum(len(p.sentences) for p in passages)
    if dense.ntotal != n or dense.d != dim or manifest.get("passages") != n:
        return "dense.faiss does not match passages.jsonl"
    for name, array, shape, dtype in (("vectors.npy", vectors, (n, dim), np.float32),
                                      ("sentences.npy", sentences, (rows, dim), np.float32),
                                      ("keys.npy", keys, (n + rows, KEY_BYTES), np.uint8)):
        if array.shape != shape or array.dtype != dtype:
            return f"{name} does not match passages.jsonl"
    if len({p.passage_id for p in passages}) != n:
        return "passages.jsonl holds a passage id twice"
    for p in passages:
        doc = documents.get(p.doc_id)
        if doc is None or doc.body[p.start:p.end] != p.text:
            return f"passage {p.passage_id} is not the text of its document in the corpus"
    if {p.doc_id for p in passages} != set(documents):
        return "the passages do not cover the corpus documents"
    if any(len(r) and (r.min() < 0 or r.max() >= n) for r in parsed["figures.json"].by_measure.values()):
        return "figures.json does not match passages.jsonl"
    if sum(f.documents for f in parsed["files.json"]) != len(documents):
        return "files.json does not match the corpus documents"
    if parsed["documents.json"] != [fields(d) for d in documents.values()]:
        return "documents.json does not match the corpus documents"
    return None


def _manifest(build_dir: Path, settings: Settings, encoder: Encoder, checksum: str | None = None,
              corpus: bool = True) -> dict:
    """The build's manifest, if it matches the model and settings, and the corpus unless not `corpus`."""
    index_dir = Path(settings.index_dir)
    try:
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deep to parse
        raise StaleIndex(f"the manifest in {build_dir} is missing or unreadable", index_dir) from None
    if not isinstance(manifest, dict):
        raise StaleIndex(f"the manifest in {build_dir} is not a JSON object", index_dir)
    for key, value in expected_identity(settings, encoder, checksum).items():
        if manifest.get(key) != value and (corpus or key != "corpus_sha256"):
            reason = {"corpus_sha256": CORPUS_CHANGED,
                      "code": "the index was built by a different version of the splitting or tokenising code"}.get(
                key, f"the index was built with a different {key}")
            raise StaleIndex(reason, index_dir)
    return manifest


def load(settings: Settings, encoder: Encoder, checksum: str | None = None) -> Index:
    """The current build, checked before use: its manifest matches the corpus (`checksum`: the corpus's, when already
    read), model and settings, every file matches its checksum, and every passage is its document's text. Otherwise
    StaleIndex says what is wrong."""
    # A corpus too large to hold in memory keeps its texts in a temporary file in the index folder, as the vectors.
    return _loaded(settings, encoder, checksum, lambda _: shelve_large(corpus_documents(settings.corpus_dir, settings),
                                                                       settings.in_memory_bytes, settings.index_dir))


def previous(settings: Settings, encoder: Encoder, read: CorpusRead) -> Index:
    """The current build as it was built, though the corpus (as `read` now) has changed since, for an update
    (qa/index/update.py) rather than a rebuild: the documents of a file unchanged since (same name and sha256) are
    `read`'s own objects, and each document of a changed or removed file is a stand-in: its fields as saved
    (documents.json) and its passages' texts at their offsets. StaleIndex as load() says, the corpus aside."""
    now: dict[tuple[str, str], list[Document]] = {}
    position = 0
    for file in read.files:
        now[(file.name, file.sha256)] = read.documents[position:position + file.documents]
        position += file.documents

    def documents(parsed: dict[str, Any]) -> dict[str, Document]:
        by_doc: dict[str, list[PassageRecord]] = {}
        for p in parsed["passages.jsonl"]:
            by_doc.setdefault(p.doc_id, []).append(p)
        saved, position = parsed["documents.json"], 0
        out: dict[str, Document] = {}
        for file in parsed["files.json"]:
            was = saved[position:position + file.documents]
            position += file.documents
            same = now.get((file.name, file.sha256), [])
            if [fields(d) for d in same] == was:  # parsed by the same code from the same bytes
                out.update((d.id, d) for d in same)
            else:
                out.update((f[0], _stand_in(f, by_doc.get(f[0], []))) for f in was)
        return out

    return _loaded(settings, encoder, read.checksum, documents, corpus=False)


def _stand_in(saved: Fields, passages: list[PassageRecord]) -> Document:
    """A document known by its saved fields and its passages: their texts at their offsets, spaces between."""
    parts, end = [], 0
    for p in sorted(passages, key=lambda p: p.start):
        if p.end > end:
            parts += [" " * (p.start - end), p.text] if p.start >= end else [p.text[end - p.start:]]
            end = p.end
    doc_id, title, publisher, authors, comment_author, comment_location = saved
    return Document(doc_id, title, publisher, None, authors, None, None, "".join(parts),
                    comment_author=comment_author, comment_location=comment_location)


def _loaded(settings: Settings, encoder: Encoder, checksum: str | None,
            documents: Callable[[dict[str, Any]], dict[str, Document]], corpus: bool = True) -> Index:
    """The current build with `documents(its parsed files)`, checked against them (and against the corpus's
    `checksum` when `corpus`)."""
    index_dir = Path(settings.index_dir)
    if not (index_dir / "CURRENT").is_file():
        raise StaleIndex(f"no index in {index_dir}", index_dir)
    with _locked(index_dir, exclusive=False):
        build_dir = _current_build(index_dir)
        manifest = _manifest(build_dir, settings, encoder, checksum, corpus)
        data = _read_checked(build_dir, manifest, index_dir, settings.in_memory_bytes)
    parsed: dict[str, Any] = {}
    for name, read in READERS.items():
        try:
            parsed[name] = read(data[name], settings.in_memory_bytes)
        except Malformed as exc:
            raise StaleIndex(f"{name} {exc}", index_dir) from None
        except (ValueError, KeyError, TypeError, RuntimeError, RecursionError, IndexUnavailable):  # FAISS: RuntimeError
            raise StaleIndex(f"{name} cannot be read", index_dir) from None
    docs = documents(parsed)
    reason = _mismatch(parsed, manifest, docs, encoder.dim)
    if reason:
        raise StaleIndex(reason, index_dir)
    passages = parsed["passages.jsonl"]
    try:
        table = PassageTable.of(passages, docs)
    except Malformed as exc:
        raise StaleIndex(f"passages.jsonl {exc}", index_dir) from None
    terms, postings, frequencies, starts = (parsed[name] for name in ("terms.json", "postings.npy", "frequencies.npy",
                                                                      "starts.npy"))
    try:
        lexical = LexicalIndex.stored(terms, postings, frequencies, starts, len(passages), settings.bm25_variant,
                                      settings.bm25_k1, settings.bm25_b)
    except ValueError as exc:
        raise StaleIndex(f"the BM25 postings (terms.json, postings.npy, frequencies.npy, starts.npy) cannot be used: "
                         f"{exc}", index_dir) from None
    return Index(docs, table, parsed["dense.faiss"], parsed["vectors.npy"], parsed["sentences.npy"],
                 table.span_offsets, lexical, manifest, parsed["words.json"], parsed["figures.json"], parsed["keys.npy"],
                 parsed["files.json"])


def previous_vectors(settings: Settings, encoder: Encoder) -> VectorSource | None:
    """The current build's vectors with their keys, for a rebuild to reuse, even when the corpus or settings have
    changed since: only the model and each file's checksum must hold (a key names the model and the text). None
    when there is no such build."""
    index_dir = Path(settings.index_dir)
    try:
        with _locked(index_dir, exclusive=False):
            build_dir = _current_build(index_dir)
            manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
            if not isinstance(manifest, dict) or manifest.get("model") != encoder.name:
                return None
            data = _read_checked(build_dir, manifest, index_dir, settings.in_memory_bytes,
                                 ("vectors.npy", "sentences.npy", "keys.npy"))
        arrays = [_read_npy(data[name], settings.in_memory_bytes) for name in ("keys.npy", "vectors.npy",
                                                                              "sentences.npy")]
    except (OSError, ValueError, RecursionError, IndexUnavailable):  # StaleIndex is an IndexUnavailable
        return None
    source = VectorSource(*arrays)
    return source if source.valid(encoder.dim) else None


def rebuild(settings: Settings, encoder: Encoder, progress: bool = False) -> Index:
    """build(), reusing the vectors of the current build in the index folder where model and text are unchanged."""
    index = build(settings, encoder, progress, previous_vectors(settings, encoder))
    texts = index.manifest["texts"]
    log.info("built the index: %d texts encoded, %d reused", texts["encoded"], texts["reused"])
    return index


def problem(settings: Settings, encoder: Encoder) -> str | None:
    """Why the saved index cannot be used as it is, or None when it is current and intact."""
    try:
        load(settings, encoder)
    except StaleIndex as exc:
        return exc.reason
    return None
