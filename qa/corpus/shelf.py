"""Documents whose bodies stay on disk: a corpus too large to hold in memory keeps each document's metadata in
memory and its text in one file, read back when a quote is cut from it.

At ten million passages the bodies are about 4 GB as Python strings, and a question reads the bodies of a few
hundred candidates. They are read with `os.pread`, as the large vector files are (qa/index/rows.py): every page a
memory map touches counts in the process's RSS."""
from __future__ import annotations

import logging
import os
import tempfile
from array import array
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import BinaryIO

from qa.corpus.documents import Document
from qa.errors import IndexUnavailable

log = logging.getLogger("qa")
HELD = tuple(f.name for f in fields(Document) if f.name != "body")


class Bodies:
    """Texts appended, UTF-8, to one file (a temporary file, removed when the last document reading it is gone);
    `bodies[k]` is the k-th text added."""

    def __init__(self, file: BinaryIO):
        self._file, self._fd = file, file.fileno()
        self._ends = array("q", [0])  # text k is bytes [ends[k], ends[k + 1])
        self._unflushed = False

    @classmethod
    def temporary(cls, folder: Path | None) -> Bodies:
        """Bodies in a new unnamed file in `folder` (the system's temporary folder for None); OSError when it cannot
        be made there."""
        return cls(tempfile.TemporaryFile(dir=folder))

    def add(self, text: str) -> int:
        data = text.encode("utf-8")
        self._file.write(data)
        self._ends.append(self._ends[-1] + len(data))
        self._unflushed = True
        return len(self._ends) - 2

    def __len__(self) -> int:
        return len(self._ends) - 1

    def __getitem__(self, k: int) -> str:
        if self._unflushed:
            self._file.flush()
            self._unflushed = False
        start, size = self._ends[k], self._ends[k + 1] - self._ends[k]
        data = os.pread(self._fd, size, start)
        if len(data) != size:
            raise IndexUnavailable("a document's text could not be read back from its temporary file; restart the app")
        return data.decode("utf-8")


class ShelvedDocument(Document):
    """A Document whose body is read from its Bodies each time it is asked for, not held. Its other fields are held
    as a Document's are, so filters and listings over every document read no text."""

    _bodies: Bodies
    _row: int

    def __init__(self, doc: Document, bodies: Bodies):  # not Document's __init__: that would hold the body
        for name in HELD:
            object.__setattr__(self, name, getattr(doc, name))
        object.__setattr__(self, "_bodies", bodies)
        object.__setattr__(self, "_row", bodies.add(doc.body))

    @property
    def body(self) -> str:
        return self._bodies[self._row]


class Shelf:
    """Documents added one at a time, held by id in `documents` as they are while their bodies total at most
    `in_memory_bytes` (UTF-8); past that, every body, those added before included, is moved to one temporary file in
    `folder`. Where no file can be made there, they stay in memory, with a log line."""

    def __init__(self, in_memory_bytes: int, folder: Path):
        self.in_memory_bytes, self.folder = in_memory_bytes, folder
        self.documents: dict[str, Document] = {}
        self._held = 0
        self._bodies: Bodies | None = None

    def add(self, doc: Document) -> None:
        if self._bodies is None and self._held <= self.in_memory_bytes:  # once past it without a file, not tried again
            self._held += len(doc.body.encode("utf-8"))
            if self._held > self.in_memory_bytes:
                try:
                    self._bodies = Bodies.temporary(self.folder)
                except OSError as exc:
                    log.warning("the corpus's texts stay in memory: no temporary file can be made in %s (%s)",
                                self.folder, exc.strerror or exc)
                else:
                    self.documents = {k: ShelvedDocument(d, self._bodies) for k, d in self.documents.items()}
        self.documents[doc.id] = doc if self._bodies is None else ShelvedDocument(doc, self._bodies)


def shelve_large(documents: Iterable[Document], in_memory_bytes: int, folder: Path) -> dict[str, Document]:
    """`documents` by id, added to a Shelf (its bodies in a file past `in_memory_bytes`)."""
    shelf = Shelf(in_memory_bytes, folder)
    for doc in documents:
        shelf.add(doc)
    return shelf.documents
