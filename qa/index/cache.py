"""Vectors kept by a hash of the model and the exact text encoded, so that a rebuild encodes only text it has not
encoded before: adding one document to a corpus of 600 encodes that document's passages and sentences only.

Each build saves `keys.npy` beside its vectors: row i is the key of vector row i (passage rows, then sentence rows),
the first 16 bytes of sha256(model name, NUL, text as encoded: a passage with its title in front when indexed so).
The next build looks its texts' keys up there and copies the vectors it finds; nothing is pickled."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.index.rows import RowSource

log = logging.getLogger("qa")
KEY_BYTES = 16  # 128 bits: a chance collision among a billion texts is about 1e-21


def text_keys(model: str, texts: Sequence[str]) -> np.ndarray:
    """The key of each text, one row of KEY_BYTES bytes (uint8) each."""
    prefix = hashlib.sha256(model.encode("utf-8") + b"\0")
    digests = []
    for text in texts:
        h = prefix.copy()
        h.update(text.encode("utf-8", "surrogatepass"))
        digests.append(h.digest()[:KEY_BYTES])
    return np.frombuffer(b"".join(digests), np.uint8).reshape(len(texts), KEY_BYTES)


def _as_bytes(keys: RowSource) -> list[bytes]:
    array = np.ascontiguousarray(np.asarray(keys, dtype=np.uint8))
    return array.view(f"V{KEY_BYTES}").ravel().tolist()


@dataclass(frozen=True)
class VectorSource:
    """A previous build's vectors and the key of each row: `keys` has one row per passage row, then per sentence
    row."""

    keys: RowSource
    passages: RowSource
    sentences: RowSource

    def valid(self, dim: int) -> bool:
        """The three arrays agree with each other and with the encoder's dimension."""
        return (len(self.keys) == len(self.passages) + len(self.sentences) and self.keys.shape[1:] == (KEY_BYTES,)
                and self.passages.shape[1:] == (dim,) and self.sentences.shape[1:] == (dim,))


@dataclass(frozen=True)
class Vectors:
    """The vectors of a build's texts, and how many were encoded now rather than reused."""

    rows: np.ndarray
    encoded: int
    reused: int


def vectors_for(keys: np.ndarray, texts: Sequence[str], source: VectorSource | None, dim: int,
                encode: Callable[[list[str]], np.ndarray]) -> Vectors:
    """A vector per text: copied from `source` where its key is there, else encoded (each distinct text once)."""
    out = np.empty((len(texts), dim), np.float32)
    mine = _as_bytes(keys)
    known = {key: row for row, key in enumerate(_as_bytes(source.keys))} if source is not None else {}
    old = np.array([known.get(key, -1) for key in mine], np.int64)
    if source is not None:
        split = len(source.passages)
        for rows, chosen, base in ((source.passages, (old >= 0) & (old < split), 0),
                                   (source.sentences, old >= split, split)):
            targets = np.flatnonzero(chosen)
            if len(targets):
                order = np.argsort(old[targets], kind="stable")  # ascending rows: consecutive ones are read at once
                out[targets[order]] = rows[old[targets[order]] - base]
    missing = np.flatnonzero(old < 0).tolist()
    first: dict[bytes, int] = {}  # each distinct missing text: its first position
    for i in missing:
        first.setdefault(mine[i], i)
    if first:
        position = {key: n for n, key in enumerate(first)}
        encoded = encode([texts[i] for i in first.values()])
        out[missing] = encoded[[position[mine[i]] for i in missing]]
    return Vectors(out, len(first), len(texts) - len(missing))
