"""Start the chat app as `make run` starts it, on a free loopback port: for the load test and the app's tests."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from qa.config import ROOT
from qa.errors import QAError


@dataclass(frozen=True)
class RunningApp:
    url: str
    pid: int  # of `make`; the app is its child (rss_mb counts descendants)
    port: int
    log: Path | None  # the app's output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """The processes started by `pid`, their children and so on (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def status_mb(pid: int | str, field: str) -> float:
    """A memory field of /proc/PID/status ('VmRSS:', 'VmHWM:') in MB; 0 when the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith(field)), 0.0)


def make_run_command() -> list[str]:
    """`make run` with this interpreter's venv, its install assumed done: --assume-old keeps make from reinstalling
    into the venv when pyproject.toml is newer than its stamp, and VENV keeps it from making a new one here."""
    venv = Path(sys.prefix)
    return ["make", "--no-print-directory", f"--assume-old={venv / '.installed'}", "run", f"VENV={venv}"]


@contextmanager
def running_app(env: dict[str, str | None] | None = None, log: Path | None = None, timeout: float = 180) -> Iterator[RunningApp]:
    """The app started with `make run` on a free port, with this process's environment changed by `env` (None
    removes a variable); stopped on exit.
    Its output goes to `log` (discarded without one). QAError when it serves no page within `timeout` seconds."""
    port = free_port()
    changes = {**(env or {}), "QA_PORT": str(port)}
    merged: dict[str, str | None] = {**os.environ, **changes}
    environment = {name: value for name, value in merged.items() if value is not None}
    out: IO[str] | int = log.open("w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(make_run_command(), cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise QAError(f"`make run` served no page at {url} within {timeout:.0f} s"
                                  + (f"; see {log}" if log else "")) from None
                time.sleep(0.5)
        yield RunningApp(url, proc.pid, port, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if not isinstance(out, int):
            out.close()
