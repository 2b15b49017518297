"""Each file is extracted in a worker process with a limit on its time and on its memory: a hostile or damaged file
(a table spanning two billion columns, a page whose markup makes a parser crawl, a bomb) is stopped, reported, and
the next file goes on in a fresh worker. Nothing but extraction runs there; ids, duplicates and writing stay with
the caller, so a killed worker leaves nothing behind."""
from __future__ import annotations

import multiprocessing
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from qa.ingest.extracted import Extracted, ImportFailure


@dataclass(frozen=True)
class Limits:
    """What one file may cost to extract: wall-clock seconds, and the worker's address space in MB."""

    seconds: float = 120.0
    memory_mb: int = 2048


def _address_space() -> int:
    """This process's address space now, in bytes (Linux's VmSize; 0 where /proc does not say)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")), 0)
    except OSError:
        return 0


def _serve(conn: Connection, memory_mb: int) -> None:
    """The worker's loop: (path, data, limit) in, ('ok', Extracted) or ('failed', why) or ('bug', why) out. The
    memory limit is on the address space the worker may add to what it has on starting (the extractors' libraries
    take some hundreds of MB of it)."""
    from qa.ingest.importer import extract_file  # preloaded by the fork server
    limit = _address_space() + memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    too_big = (f"reading it needs more than the {memory_mb:,} MB of memory a file may use (a damaged or hostile "
               "file?); raise --max-memory-mb to try again")
    while True:
        try:
            path, data, size_limit = conn.recv()
            conn.send(("ok", extract_file(Path(path), data, limit=size_limit)))
        except EOFError:  # the caller is done
            return
        except ImportFailure as exc:
            conn.send(("failed", str(exc)))
        except MemoryError:
            conn.send(("failed", too_big))
        except RecursionError:
            conn.send(("failed", "its structure is nested too deeply to be read"))
        except Exception as exc:  # a library's error on a file nobody foresaw
            conn.send(("bug", f"{type(exc).__name__}: {exc}"))


class Worker:
    """A worker process, started when first needed and again after one was stopped. Use as a context manager."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> Connection:
        if self._conn is None:
            # A fork server, not a plain fork: the caller may be the chat app, whose threads a fork would copy
            # mid-operation. It imports the extractors once; each worker after a stopped one is a cheap fork of it.
            # In a process forked from the one that started the fork server, that server is not its child and
            # cannot be used: a fresh interpreter is spawned instead.
            for method in ("forkserver", "spawn"):
                context: Any = multiprocessing.get_context(method)
                if method == "forkserver":
                    context.set_forkserver_preload(["qa.ingest.importer"])
                ours, theirs = context.Pipe()
                process = context.Process(target=_serve, args=(theirs, self.limits.memory_mb), daemon=True,
                                          name="qa-import-worker")
                try:
                    process.start()
                except (ChildProcessError, OSError) as exc:
                    ours.close()
                    theirs.close()
                    if method == "spawn":
                        raise ImportFailure(f"the import's worker process could not be started ({exc})") from None
                    continue
                theirs.close()
                self._process, self._conn = process, ours
                break
        assert self._conn is not None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._process = self._conn = None

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
        self.close()

    def extract(self, path: Path, data: bytes, size_limit: int) -> Extracted:
        """`extract_file` in the worker, or ImportFailure when it fails, runs out of time or memory, or dies."""
        conn = self._start()
        try:
            conn.send((str(path), data, size_limit))
            ready = conn.poll(self.limits.seconds)
            answer = conn.recv() if ready else None
        except (EOFError, OSError):  # the worker died: killed by the kernel for memory, or crashed in a library
            self._stop()
            raise ImportFailure("reading it stopped the import's worker process (out of memory, or a crash in a "
                                "library); the file may be damaged or hostile") from None
        if answer is None:
            self._stop()
            raise ImportFailure(f"reading it took more than {self.limits.seconds:g} s, so it was stopped (a damaged "
                                "or hostile file?); raise --max-seconds to try again")
        kind, value = answer
        if kind == "ok":
            return value
        if kind == "bug":
            raise ImportFailure(f"qa add could not read it ({value}); please report this as a bug, with the file "
                                "if you can")
        raise ImportFailure(value)
