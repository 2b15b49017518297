"""The corpus, now: a `QA` notices when the corpus folder or the index changes, and answers from the new corpus.

At most every `Settings.corpus_check_seconds`, an ask takes a fingerprint of the corpus folder: (name, type, size,
mtime_ns, inode) of each entry from one `os.scandir` (lstat only: nothing is opened or followed, so a FIFO or a
dangling link costs nothing here), and the same of `index/CURRENT`. No file is read on this path.

When the fingerprint differs from the one the served index was made from, the asking thread takes the refresh
lock and every other ask waits for it (up to `corpus_wait_seconds`, then it is refused with a message): no answer
is given from the old index after a change is noticed. The refresh loads the index from disk when another process
rebuilt it for this corpus, or else rebuilds it, re-encoding only text not encoded before (qa/index/cache.py), and
saves it; then one attribute swap makes the new `Snapshot` current. A corpus that no longer loads (a malformed file
added) makes every ask refuse with that file's error until the folder changes again."""
from __future__ import annotations

import logging
import os
import stat
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.answer.compose import FigurePassages
from qa.answer.decide import CorpusWords, corpus_words
from qa.config import Settings
from qa.corpus.collection import Collection, load_collection
from qa.corpus.documents import Document
from qa.corpus.passages import PassageRecord
from qa.errors import CorpusError, IndexUnavailable, QAError, StaleIndex
from qa.index import store
from qa.index.cache import VectorSource
from qa.index.encoder import Encoder
from qa.search.fulltext import Corpus

log = logging.getLogger("qa")
Entry = tuple[str, int, int, int, int]  # name, file type (S_IFMT), size, mtime_ns, inode


def _stat_entry(name: str, st: os.stat_result) -> Entry:
    return name, stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ino


@dataclass(frozen=True)
class Fingerprint:
    """What the corpus folder and the index pointer look like, from metadata only."""

    corpus: tuple[Entry, ...]  # sorted by name; () when the folder cannot be listed
    current: Entry | None  # index/CURRENT, None when absent

    @classmethod
    def take(cls, settings: Settings) -> Fingerprint:
        entries: list[Entry] = []
        try:
            with os.scandir(settings.corpus_dir) as listing:
                for entry in listing:
                    try:
                        entries.append(_stat_entry(entry.name, entry.stat(follow_symlinks=False)))
                    except OSError:  # removed between the listing and the lstat
                        continue
        except OSError:
            entries = []
        return cls(tuple(sorted(entries)), current_entry(settings))

    def changes(self, newer: Fingerprint) -> str:
        """What changed, for the log: '1 added (x.md), 1 removed (y.md), 1 edited (z.md)' or 'the index changed'."""
        before, after = {e[0]: e for e in self.corpus}, {e[0]: e for e in newer.corpus}
        parts = []
        for word, names in (("added", sorted(after.keys() - before.keys())),
                            ("removed", sorted(before.keys() - after.keys())),
                            ("edited", sorted(n for n in before.keys() & after.keys() if before[n] != after[n]))):
            if names:
                parts.append(f"{len(names)} {word} ({', '.join(map(_printable, names))})")
        return ", ".join(parts) or "the index changed"


def current_entry(settings: Settings) -> Entry | None:
    try:
        return _stat_entry("CURRENT", os.lstat(Path(settings.index_dir) / "CURRENT"))
    except OSError:
        return None


def _printable(name: str) -> str:
    """A file name for the log line: bytes that are not UTF-8 shown as \\x escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Snapshot:
    """One index and everything derived from it, swapped as a whole: a thread that took a snapshot answers from it
    alone, whatever happens meanwhile."""

    index: store.Index
    passages_by_id: dict[str, PassageRecord]
    documents: list[Document]  # in corpus order
    doc_of_passage: np.ndarray  # passage i belongs to documents[doc_of_passage[i]] (for the source filters)
    words: CorpusWords  # the corpus's vocabulary and known names (the decide stage's)
    figures: FigurePassages  # passages giving a figure of each measure (the compose stage's)
    collection: Collection  # the folder's collection.yaml: title, description, example questions
    fingerprint: Fingerprint
    search_corpus: Corpus  # what search mode reads (qa/search/fulltext.py)

    @classmethod
    def of(cls, index: store.Index, settings: Settings, fingerprint: Fingerprint) -> Snapshot:
        documents = list(index.documents.values())
        position = {d.id: n for n, d in enumerate(documents)}
        doc_of_passage = np.array([position[p.doc_id] for p in index.passages], dtype=np.int64)
        return cls(index, {p.passage_id: p for p in index.passages}, documents, doc_of_passage, corpus_words(index),
                   FigurePassages(index), load_collection(settings.corpus_dir, settings), fingerprint,
                   Corpus.of(index, documents, doc_of_passage, settings))


class LiveIndex:
    """The snapshot to answer from, refreshed when the corpus folder or the index changes."""

    def __init__(self, settings: Settings, encoder: Encoder, index: store.Index | None = None):
        self.settings, self.encoder = settings, encoder
        fingerprint = Fingerprint.take(settings)  # before the corpus is read: a change while loading is seen later
        index = index or store.open_index(settings, encoder)
        self.snapshot = Snapshot.of(index, settings, replace(fingerprint, current=current_entry(settings)))
        self._refresh_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0  # asks that saw a change and wait for the refresh: until it is done, every ask waits
        self._failure: tuple[Fingerprint, QAError] | None = None  # the corpus as it is cannot be used
        self._next_check = time.monotonic() + settings.corpus_check_seconds

    def current(self) -> Snapshot:
        """The snapshot of the corpus as it is now (looked at at most every corpus_check_seconds), or a QAError
        saying why no answer can be given."""
        now = time.monotonic()
        if not self._waiting and now < self._next_check:
            return self._served()
        self._next_check = now + self.settings.corpus_check_seconds
        if not self._waiting and Fingerprint.take(self.settings) == self._seen():
            return self._served()
        with self._count_lock:
            self._waiting += 1
        try:
            if not self._refresh_lock.acquire(timeout=max(0.0, self.settings.corpus_wait_seconds)):
                raise IndexUnavailable("the corpus changed and its index is still being rebuilt; ask again in a "
                                       "moment")
            try:
                self._refresh()
            finally:
                self._refresh_lock.release()
        finally:
            with self._count_lock:
                self._waiting -= 1
        return self._served()

    def _seen(self) -> Fingerprint:
        """The fingerprint last dealt with: of the served index, or of the corpus that could not be used."""
        return self._failure[0] if self._failure else self.snapshot.fingerprint

    def _served(self) -> Snapshot:
        if self._failure:
            raise self._failure[1]
        return self.snapshot

    def _refresh(self) -> None:
        """Under the refresh lock: make the snapshot match the corpus folder and the index as they are now."""
        fingerprint = Fingerprint.take(self.settings)
        if fingerprint == self._seen():  # another thread refreshed while this one waited
            return
        old, started = self.snapshot, time.perf_counter()
        change = self._seen().changes(fingerprint)
        try:
            index, how = self._index_for_corpus(old.index)
            fingerprint = replace(fingerprint, current=current_entry(self.settings))  # after a save of our own
            if index is old.index:  # nothing to derive again; collection.yaml may have changed
                snapshot = replace(old, collection=load_collection(self.settings.corpus_dir, self.settings),
                                   fingerprint=fingerprint)
            else:
                snapshot = Snapshot.of(index, self.settings, fingerprint)
        except (CorpusError, IndexUnavailable, OSError) as exc:  # OSError: an entry the corpus loader cannot read
            self._failure = (fingerprint, CorpusError(f"the corpus changed and cannot be used ({exc}); answers "
                                                      "resume when the folder is fixed"))
            log.warning("corpus changed: %s; cannot be used: %s", change, exc)
            return
        self.snapshot = snapshot  # the swap: one attribute
        self._failure = None
        if how:
            log.warning("corpus changed: %s; %s in %.2f s", change, how, time.perf_counter() - started)
        else:
            log.info("corpus folder changed (%s) but no document did", change)

    def _index_for_corpus(self, served: store.Index) -> tuple[store.Index, str]:
        """The index of the corpus as it is now, and how it was got ('' when the served one still holds)."""
        identity = store.expected_identity(self.settings, self.encoder)
        if all(served.manifest.get(key) == value for key, value in identity.items()):
            return served, ""  # the corpus bytes are as indexed: a touch, or another process's build
        try:
            return store.load(self.settings, self.encoder), "loaded the index another process saved"
        except StaleIndex:
            pass
        reuse = (VectorSource(served.keys, served.vectors, served.sentence_vectors) if served.keys is not None
                 else store.previous_vectors(self.settings, self.encoder))
        index = store.build(self.settings, self.encoder, reuse=reuse)
        texts = index.manifest["texts"]
        try:
            store.save(index, self.settings.index_dir)
            saved = "saved"
        except IndexUnavailable as exc:
            log.warning("%s. Answering from the index just built in memory.", exc)
            saved = "kept in memory"
        return index, f"rebuilt ({texts['encoded']} texts encoded, {texts['reused']} reused; {saved})"
