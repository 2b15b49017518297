"""The corpus, now: a `QA` notices when the corpus folder or the index changes, and answers from the new corpus.

At most every `Settings.corpus_check_seconds`, an ask takes a fingerprint of the corpus folder: (name, type, size,
mtime_ns, ctime_ns, inode) of each entry from one `os.scandir` (lstat: a FIFO or a dangling link costs nothing
here), the same of the file each symbolic link resolves to (links into sub-folders: an edit there changes nothing in
the folder itself), and the same of `index/CURRENT`. The ctime cannot be set back by a program (`os.utime` sets
mtime, and itself moves ctime), so an edit that keeps size and mtime is seen. Only a file changed within the last
RACY_NS can be changed again within the same filesystem timestamp tick unseen; such a file's content hash is
taken too (as git treats a "racily clean" file). No other file is read on this path.

When the fingerprint differs from the one the served index was made from, the asking thread takes the refresh
lock and every other ask waits for it (up to `corpus_wait_seconds`, then it is refused with a message): no answer
is given from the old index after a change is noticed. The refresh loads the index from disk when another process
rebuilt it for this corpus, or else rebuilds it, re-encoding only text not encoded before (qa/index/cache.py), and
saves it; then one attribute swap makes the new `Snapshot` current. A corpus that no longer loads (a malformed file
added) makes every ask refuse with that file's error until the folder changes again."""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.corpus.collection import Collection, load_collection
from qa.corpus.documents import Document
from qa.errors import CorpusError, IndexUnavailable, QAError, StaleIndex
from qa.index import store
from qa.index.cache import VectorSource
from qa.index.encoder import Encoder
from qa.index.milvus import open_engine
from qa.index.update import open_index, read_changed, updated
from qa.search.fulltext import Corpus

log = logging.getLogger("qa")
# name, file type (S_IFMT), size, mtime_ns, ctime_ns, inode; for a link, the same of what it resolves to; the
# content's digest when the file changed too recently for its times to tell a later change.
Stat = tuple[int, int, int, int, int]
Entry = tuple[str, Stat, Stat | None, str | None]
# Timestamps come from a coarse clock (one kernel tick, 1 to 10 ms); a file whose ctime is this close to now may be
# changed again with the same times and size.
RACY_NS = 100_000_000


def _stat(st: os.stat_result) -> Stat:
    return stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _digest(path: str, limit: int) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(limit + 1)).hexdigest()
    except OSError:
        return None


def _entry(path: str, name: str, lst: os.stat_result, limit: int, seen: Entry | None) -> Entry:
    """The entry's stat, what it links to, and its content's digest while its times cannot tell an edit: changed
    within RACY_NS of now, or racy when last `seen` and unchanged since (read once more: an edit in that same tick
    shows only in the content; None when it is the same, which settles it)."""
    target = None
    if stat.S_ISLNK(lst.st_mode):
        try:
            target = os.stat(path)  # follows every link on the way, into sub-folders too
        except OSError:  # dangling
            target = None
    st = target or lst
    stats = (name, _stat(lst), _stat(target) if target else None)
    digest = None
    if stat.S_ISREG(st.st_mode) and st.st_size <= limit:  # a larger file is refused by the corpus loader anyway
        if st.st_ctime_ns >= time.time_ns() - RACY_NS:
            digest = _digest(path, limit)
        elif seen is not None and seen[3] is not None and seen[:3] == stats:
            now = _digest(path, limit)
            digest = None if now == seen[3] else now
    return (*stats, digest)


def _same(entry: Entry, seen: Entry) -> bool:
    """Whether `entry` shows no change from `seen`: equal, or a racy file's content found unchanged."""
    return entry == seen or (entry[:3] == seen[:3] and entry[3] is None and seen[3] is not None)


def _stat_entry(name: str, st: os.stat_result) -> Entry:
    return name, _stat(st), None, None


@dataclass(frozen=True)
class Fingerprint:
    """What the corpus folder and the index pointer look like, from metadata only."""

    corpus: tuple[Entry, ...]  # sorted by name; () when the folder cannot be listed
    current: Entry | None  # index/CURRENT, None when absent

    @classmethod
    def take(cls, settings: Settings, seen: Fingerprint | None = None) -> Fingerprint:
        """The fingerprint now; `seen`, the one last dealt with, names the racy files to read once more."""
        entries: list[Entry] = []
        earlier = {e[0]: e for e in seen.corpus} if seen else {}
        try:
            with os.scandir(settings.corpus_dir) as listing:
                for entry in listing:
                    try:
                        entries.append(_entry(entry.path, entry.name, entry.stat(follow_symlinks=False),
                                              settings.max_document_bytes, earlier.get(entry.name)))
                    except OSError:  # removed between the listing and the lstat
                        continue
        except OSError:
            entries = []
        return cls(tuple(sorted(entries)), current_entry(settings))

    def matches(self, seen: Fingerprint) -> bool:
        """Whether this fingerprint shows no change from `seen`."""
        return (self.current == seen.current and len(self.corpus) == len(seen.corpus)
                and all(_same(a, b) for a, b in zip(self.corpus, seen.corpus, strict=True)))

    def changes(self, newer: Fingerprint) -> str:
        """What changed, for the log: '1 added (x.md), 1 removed (y.md), 1 edited (z.md)' or 'the index changed'."""
        before, after = {e[0]: e for e in self.corpus}, {e[0]: e for e in newer.corpus}
        parts = []
        for word, names in (("added", sorted(after.keys() - before.keys())),
                            ("removed", sorted(before.keys() - after.keys())),
                            ("edited", sorted(n for n in before.keys() & after.keys()
                                              if not _same(after[n], before[n])))):
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
    documents: list[Document]  # in corpus order
    doc_of_passage: np.ndarray  # passage i belongs to documents[doc_of_passage[i]] (for the source filters)
    collection: Collection  # the folder's collection.yaml: title, description, example questions
    fingerprint: Fingerprint
    search_corpus: Corpus  # what search mode reads (qa/search/fulltext.py)

    @classmethod
    def of(cls, index: store.Index, settings: Settings, fingerprint: Fingerprint) -> Snapshot:
        documents = list(index.documents.values())
        position = {d.id: n for n, d in enumerate(documents)}
        table = index.passages
        doc_of_passage = np.array([position[d] for d in table.doc_ids], dtype=np.int64)[table.doc]
        return cls(index, documents, doc_of_passage, load_collection(settings.corpus_dir, settings), fingerprint,
                   Corpus.of(index, documents, doc_of_passage, settings))


class LiveIndex:
    """The snapshot to answer from, refreshed when the corpus folder or the index changes."""

    def __init__(self, settings: Settings, encoder: Encoder, index: store.Index | None = None):
        self.settings, self.encoder = settings, encoder
        fingerprint = Fingerprint.take(settings)  # before the corpus is read: a change while loading is seen later
        index = index or open_index(settings, encoder)
        self.engine = open_engine(settings)
        index = self._engaged(index)
        self.snapshot = Snapshot.of(index, settings, replace(fingerprint, current=current_entry(settings)))
        self._refresh_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._waiting = 0  # asks that saw a change and wait for the refresh: until it is done, every ask waits
        self._failure: tuple[Fingerprint, QAError] | None = None  # the corpus as it is cannot be used
        self._next_check = time.monotonic() + settings.corpus_check_seconds

    def _engaged(self, index: store.Index) -> store.Index:
        """`index` searched by the chosen engine, brought up to it first (only changed documents are written)."""
        if self.engine is None:
            return index
        started = time.perf_counter()
        sync = self.engine.sync(index)
        if sync.inserted or sync.removed:
            log.warning("%s backend: %s; %s in %.2f s", self.settings.backend, "rebuilt" if sync.rebuilt else "updated",
                        sync, time.perf_counter() - started)
        return replace(index, searcher=self.engine.searcher(index))

    def current(self) -> Snapshot:
        """The snapshot of the corpus as it is now (looked at at most every corpus_check_seconds), or a QAError
        saying why no answer can be given."""
        now = time.monotonic()
        if not self._waiting and now < self._next_check:
            return self._served()
        self._next_check = now + self.settings.corpus_check_seconds
        seen = self._seen()
        fingerprint = Fingerprint.take(self.settings, seen)
        if not self._waiting and fingerprint.matches(seen):
            self._settle(seen, fingerprint)
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

    def look_now(self) -> Snapshot:
        """`current()`, looking at the folder now however recent the last look (after an import of this process)."""
        self._next_check = 0.0
        return self.current()

    def _settle(self, seen: Fingerprint, fingerprint: Fingerprint) -> None:
        """Keep `fingerprint` (racy files found unchanged, so no longer read) in place of `seen`, the same corpus."""
        if fingerprint == seen:
            return
        if self._failure and self._failure[0] is seen:
            self._failure = (fingerprint, self._failure[1])
        elif self.snapshot.fingerprint is seen:
            self.snapshot = replace(self.snapshot, fingerprint=fingerprint)

    def _seen(self) -> Fingerprint:
        """The fingerprint last dealt with: of the served index, or of the corpus that could not be used."""
        return self._failure[0] if self._failure else self.snapshot.fingerprint

    def _served(self) -> Snapshot:
        if self._failure:
            raise self._failure[1]
        return self.snapshot

    def _refresh(self) -> None:
        """Under the refresh lock: make the snapshot match the corpus folder and the index as they are now."""
        fingerprint = Fingerprint.take(self.settings, self._seen())
        if fingerprint.matches(self._seen()):  # another thread refreshed while this one waited
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
                snapshot = Snapshot.of(self._engaged(index), self.settings, fingerprint)
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
        read = read_changed(served, self.settings)  # every file read once; only the changed ones parsed
        identity = store.expected_identity(self.settings, self.encoder, read.checksum)
        if all(served.manifest.get(key) == value for key, value in identity.items()):
            return served, ""  # the corpus bytes are as indexed: a touch, or another process's build
        try:
            return store.load(self.settings, self.encoder, read.checksum), "loaded the index another process saved"
        except StaleIndex:
            pass
        index = updated(served, self.settings, self.encoder, read)  # the changed documents' work alone
        how = "updated"
        if index is None:
            reuse = (VectorSource(served.keys, served.vectors, served.sentence_vectors) if served.keys is not None
                     else store.previous_vectors(self.settings, self.encoder))
            index, how = store.build(self.settings, self.encoder, reuse=reuse), "rebuilt"
        texts = index.manifest["texts"]
        try:
            index = store.reopened(index, store.save(index, self.settings.index_dir), self.settings.in_memory_bytes)
            saved = "saved"
        except IndexUnavailable as exc:
            log.warning("%s. Answering from the index just built in memory.", exc)
            saved = "kept in memory"
        return index, f"{how} ({texts['encoded']} texts encoded, {texts['reused']} reused; {saved})"
