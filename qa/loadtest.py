"""Load against a running chat app over plain HTTP: concurrent clients asking labelled questions through `/ask`.

`python -m qa load` starts the app the way `make run` does, on a free port, unless `--url` names one."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .answer import Answer
from .config import ROOT
from .verify import verify

BUSY_STATUS = 503  # Gradio's answer when its queue is full: 'Queue is full. Max size is N …'


@dataclass
class LoadReport:
    clients: int
    seconds: float
    answered: int = 0
    busy: int = 0
    errors: list[str] = field(default_factory=list)
    ungrounded: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, of answered requests
    rss_mb: list[float] = field(default_factory=list)  # the app's resident memory, sampled once a second

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def to_dict(self) -> dict:
        return {"clients": self.clients, "seconds": round(self.seconds, 1), "answered": self.answered,
                "busy": self.busy, "errors": len(self.errors), "ungrounded": len(self.ungrounded),
                "throughput_per_s": round(self.answered / self.seconds, 2) if self.seconds else 0.0,
                "p50_ms": round(1000 * self.percentile(0.50), 1), "p95_ms": round(1000 * self.percentile(0.95), 1),
                "p99_ms": round(1000 * self.percentile(0.99), 1),
                "rss_mb_first": self.rss_mb[0] if self.rss_mb else None,
                "rss_mb_max": max(self.rss_mb) if self.rss_mb else None,
                "rss_mb_last": self.rss_mb[-1] if self.rss_mb else None,
                "first_errors": self.errors[:3]}


def ask_over_http(client: httpx.Client, url: str, question: str, k: int = 3) -> tuple[int, dict | str]:
    """(HTTP status, Answer.to_dict() or the error text) for one question through the `/ask` endpoint."""
    posted = client.post(f"{url}/gradio_api/call/ask", json={"data": [question, k]})
    if posted.status_code != 200:
        return posted.status_code, posted.text
    stream = client.get(f"{url}/gradio_api/call/ask/{posted.json()['event_id']}")
    event, _, data = stream.text.strip().partition("\n")
    if event != "event: complete":
        return 500 if stream.status_code == 200 else stream.status_code, stream.text
    return 200, json.loads(data.removeprefix("data: "))[0]


def run_load(url: str, questions: list[str], clients: int, seconds: float, app_pid: int | None = None) -> LoadReport:
    """`clients` threads ask the questions in turn for `seconds`; every answer is checked with qa.verify."""
    report, lock, stop = LoadReport(clients, seconds), threading.Lock(), time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        with httpx.Client(timeout=60) as client:
            n = offset
            while time.monotonic() < stop:
                question, n = questions[n % len(questions)], n + 1
                began = time.perf_counter()
                try:
                    status, body = ask_over_http(client, url, question)
                except httpx.HTTPError as exc:
                    status, body = 0, f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - began
                with lock:
                    if status == 200:
                        report.answered += 1
                        report.latencies.append(elapsed)
                        problems = verify(Answer.from_dict(body))
                        if problems:
                            report.ungrounded.append(f"{question!r}: {problems}")
                    elif status == BUSY_STATUS and "Queue is full" in str(body):
                        report.busy += 1
                        time.sleep(0.05)  # a refused client tries again shortly, as a person would
                    else:
                        report.errors.append(f"{question!r}: HTTP {status} {str(body)[:200]}")

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if app_pid:
            report.rss_mb.append(rss_mb(app_pid))
        time.sleep(1)
    report.seconds = time.monotonic() - began
    return report


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants, in MB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return round(total / 1024, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(env: dict[str, str] | None = None, timeout: float = 180) -> Iterator[tuple[str, int]]:
    """(url, pid) of the app started with `make run` on a free port; stopped on exit."""
    port = free_port()
    env = {**os.environ, **(env or {}), "QA_PORT": str(port)}
    proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout
    try:
        while True:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"`make run` did not serve {url} within {timeout:.0f} s") from None
                time.sleep(0.5)
        yield url, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def summary(report: LoadReport) -> str:
    d = report.to_dict()
    return (f"{d['clients']} clients, {d['seconds']} s: {d['answered']} answered ({d['throughput_per_s']}/s), "
            f"{d['busy']} told busy, {d['errors']} errors, {d['ungrounded']} ungrounded; "
            f"latency p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms, p99 {d['p99_ms']} ms; "
            f"app RSS first {d['rss_mb_first']} MB, max {d['rss_mb_max']} MB, last {d['rss_mb_last']} MB"
            + (f"\nfirst errors: {d['first_errors']}" if d["errors"] else ""))
