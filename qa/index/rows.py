"""Vector files too large to hold in memory, read a few rows at a time.

At a million passages the passage and sentence vectors are 1.5 GB and 5 GB, and a question needs the rows of a few
hundred candidate passages. Those rows are read with `os.pread`: a memory map would do as well for speed, but every
page it touches (and the kernel maps large blocks around each one) counts in the process's RSS, which grew by over
1 GB in a few hundred questions at 1M passages."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.errors import IndexUnavailable


class Rows:
    """Read-only rows of a 2-d .npy file: `rows[ids]` for an array of row numbers, `len(rows)`, `shape`, `nbytes`."""

    def __init__(self, path: Path, shape: tuple[int, int], dtype: np.dtype, offset: int):
        self.path, self.shape, self.dtype, self.offset = path, shape, dtype, offset
        self.row_bytes = shape[1] * dtype.itemsize
        self.nbytes = shape[0] * self.row_bytes
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        """The rows `ids`, in that order; consecutive row numbers are read in one call."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.shape[1]), self.dtype)
        breaks = np.flatnonzero(np.diff(ids) != 1) + 1
        for lo, hi in zip(np.concatenate([[0], breaks]).tolist(), np.concatenate([breaks, [len(ids)]]).tolist()):
            size = (hi - lo) * self.row_bytes
            data = os.pread(self._fd, size, self.offset + int(ids[lo]) * self.row_bytes)
            if len(data) != size:
                raise IndexUnavailable(f"{self.path} is shorter than its header says; run 'python -m qa index'")
            out[lo:hi] = np.frombuffer(data, self.dtype).reshape(hi - lo, self.shape[1])
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Every row (for exact ranking over all passages)."""
        return self[np.arange(len(self))].astype(dtype or self.dtype, copy=False)

    def __del__(self):
        os.close(self._fd)


class Spliced:
    """Rows taken, in order, from slices of other row arrays (in memory or `Rows`): an updated index's vectors, the
    unchanged rows still read from the files they were loaded from. Reads as `Rows` does."""

    def __init__(self, pieces: list[tuple[np.ndarray | Rows | Spliced, int, int]]):
        flat: list[tuple[np.ndarray | Rows, int, int]] = []
        for source, lo, hi in pieces:
            if isinstance(source, Spliced):  # an update of an update: its own pieces, so reads stay one level deep
                flat.extend(source.slice(lo, hi))
            elif hi > lo:
                flat.append((source, lo, hi))
        self.pieces = flat
        self.bounds = np.cumsum([0] + [hi - lo for _, lo, hi in flat])
        first = flat[0][0] if flat else np.zeros((0, 0), np.float32)
        self.shape, self.dtype = (int(self.bounds[-1]), first.shape[1]), first.dtype
        self.nbytes = self.shape[0] * self.shape[1] * self.dtype.itemsize

    def slice(self, lo: int, hi: int) -> list[tuple[np.ndarray | Rows, int, int]]:
        """The pieces that rows [lo, hi) are read from."""
        out = []
        for (source, a, b), start in zip(self.pieces, self.bounds[:-1].tolist()):
            x, y = max(lo, start), min(hi, start + b - a)
            if x < y:
                out.append((source, a + x - start, a + y - start))
        return out

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.shape[1]), self.dtype)
        piece = np.searchsorted(self.bounds, ids, side="right") - 1
        for p in np.unique(piece).tolist():
            chosen = piece == p
            source, lo, _ = self.pieces[p]
            out[chosen] = source[ids[chosen] - int(self.bounds[p]) + lo]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[np.arange(len(self))].astype(dtype or self.dtype, copy=False)


RowSource = np.ndarray | Rows | Spliced  # a 2-d array of rows, in memory or read from disk


def chunks(rows: RowSource, size: int = 1 << 16):
    """The rows `size` at a time, so that an array read from disk is never whole in memory."""
    for i in range(0, len(rows), size):
        yield np.asarray(rows[np.arange(i, min(i + size, len(rows)))])


def open_rows(path: Path, in_memory_bytes: int) -> np.ndarray | Rows:
    """The array in `path`: loaded when at most `in_memory_bytes` (Settings.in_memory_bytes), else a `Rows` reader."""
    path = Path(path)
    if path.stat().st_size <= in_memory_bytes:
        return np.load(path, allow_pickle=False)
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(f)
        if fortran_order or len(shape) != 2 or dtype.hasobject:
            raise IndexUnavailable(f"{path} is not a plain 2-d array; run 'python -m qa index' to rebuild the index")
        return Rows(path, shape, dtype, f.tell())
