"""Load against a running chat app over plain HTTP: concurrent clients asking labelled questions through `/ask`.

`python -m qa load` starts the app the way `make run` does, on a free port, unless `--url` names one."""
from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from qa.answer.model import Answer
from qa.errors import QAError
from qa.private import MEMORY, PREFIX
from qa.verify import verify
from qa_tools.evaluate import load_questions
from qa_tools.launch import descendants, running_app, status_mb

BUSY_STATUS = 503  # Gradio's answer when its queue is full: 'Queue is full. Max size is N …'
BUSY_RETRY_S = 1.0  # a client told the app is busy asks again after this long, as a person would


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
                "rss_mb_mid": self.rss_mb[len(self.rss_mb) // 2] if self.rss_mb else None,
                "rss_mb_max": max(self.rss_mb) if self.rss_mb else None,
                "rss_mb_last": self.rss_mb[-1] if self.rss_mb else None,
                "rss_mb_every_10s": self.rss_mb[::10], "first_errors": self.errors[:3], "first_ungrounded": self.ungrounded[:3]}


@dataclass(frozen=True)
class Reply:
    """What one call to `/ask` got: `answer` (Answer.to_dict()) when it was answered, else `error`: Gradio's detail
    for a refused request (status 4xx/5xx) or the message of the result stream's `event: error` (None when Gradio
    gave no message)."""
    status: int
    answer: dict | None = None
    error: str | None = None


def call_ask(client: httpx.Client, url: str, body: bytes) -> Reply:
    """POST `body` (JSON: {"data": [question, k, history]}) to `/ask`, then read its result stream."""
    posted = client.post(f"{url}/gradio_api/call/ask", content=body, headers={"Content-Type": "application/json"})
    if posted.status_code != 200:
        try:
            detail = posted.json().get("detail")
        except ValueError:
            detail = None
        return Reply(posted.status_code, error=detail if isinstance(detail, str) else posted.text)
    stream = client.get(f"{url}/gradio_api/call/ask/{posted.json()['event_id']}")
    for block in stream.text.split("\n\n"):  # server-sent events; heartbeats come before the result
        event, _, data = block.strip().partition("\n")
        payload = json.loads(data.removeprefix("data: ")) if data.startswith("data: ") else None
        if event == "event: complete" and isinstance(payload, list):
            return Reply(stream.status_code, answer=payload[0])
        if event == "event: error":
            return Reply(stream.status_code, error=payload.get("error") if isinstance(payload, dict) else payload)
    return Reply(stream.status_code, error=f"no result in the stream: {stream.text[:200]!r}")


def ask_over_http(client: httpx.Client, url: str, question: str, k: int | None = None) -> Reply:
    return call_ask(client, url, json.dumps({"data": [question, k, None]}).encode())


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
                    reply = ask_over_http(client, url, question)
                except httpx.HTTPError as exc:
                    reply = Reply(0, error=f"{type(exc).__name__}: {exc}")
                elapsed = time.perf_counter() - began
                with lock:
                    if reply.answer is not None:
                        report.answered += 1
                        report.latencies.append(elapsed)
                        problems = verify(Answer.from_dict(reply.answer))
                        if problems:
                            report.ungrounded.append(f"{question!r}: {problems}")
                    elif is_busy(reply):
                        report.busy += 1
                    else:
                        report.errors.append(f"{question!r}: HTTP {reply.status} {str(reply.error)[:200]}")
                if is_busy(reply):
                    time.sleep(BUSY_RETRY_S)

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


def is_busy(reply: Reply) -> bool:
    return reply.status == BUSY_STATUS and (reply.error or "").startswith("Queue is full")


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants, in MB (Linux /proc)."""
    return round(sum(status_mb(p, "VmRSS:") for p in [pid, *descendants(pid)]), 1)


def summary(report: LoadReport) -> str:
    d = report.to_dict()
    return (f"{d['clients']} clients, {d['seconds']} s: {d['answered']} answered ({d['throughput_per_s']}/s), "
            f"{d['busy']} told busy, {d['errors']} errors, {d['ungrounded']} ungrounded; "
            f"latency p50 {d['p50_ms']} ms, p95 {d['p95_ms']} ms, p99 {d['p99_ms']} ms; "
            + (f"app RSS first {d['rss_mb_first']} MB, half-way {d['rss_mb_mid']} MB, max {d['rss_mb_max']} MB, "
               f"last {d['rss_mb_last']} MB"
               if report.rss_mb else "app RSS not measured (an app given by --url)")
            + (f"\nfirst errors: {d['first_errors']}" if d["errors"] else "")
            + (f"\nfirst ungrounded: {d['first_ungrounded']}" if d["ungrounded"] else ""))


def load(url: str | None, clients: int, seconds: float) -> LoadReport:
    """The labelled questions asked round-robin by `clients` for `seconds`, against `url` or, without one, against the
    app started as `make run` starts it. One question is answered first, so the clock starts with the model loaded."""
    questions = [q.question for q in load_questions()]
    if url:
        return _warm_then_run(url, questions, clients, seconds, app_pid=None)
    with running_app() as app:
        return _warm_then_run(app.url, questions, clients, seconds, app_pid=app.pid)


def _warm_then_run(url: str, questions: list[str], clients: int, seconds: float, app_pid: int | None) -> LoadReport:
    url = url.rstrip("/")
    with httpx.Client(timeout=300) as client:
        try:
            first = ask_over_http(client, url, questions[0])
        except httpx.HTTPError as exc:
            raise QAError(f"cannot reach the app at {url} ({exc}); start it with `make run` or leave out --url") from None
    if first.answer is None:
        raise QAError(f"the app at {url} did not answer its first question: HTTP {first.status} {first.error}")
    return run_load(url, questions, clients, seconds, app_pid)



# --- browser sessions: the chat's own events, as its page sends them ------------------------------------------------

class ChatSession:
    """One browser session of the chat, driven over HTTP the way its page drives it: each event joins Gradio's queue
    with this session's hash, and its result comes on the session's event stream. The conversation is kept by the
    server, in the session's state."""

    def __init__(self, client: httpx.Client, url: str, functions: dict[str, int]):
        self.client, self.url, self.functions = client, url.rstrip("/"), functions
        self.session_hash = uuid.uuid4().hex[:11]

    @staticmethod
    def functions_of(client: httpx.Client, url: str) -> dict[str, int]:
        """The app's event functions by name ('respond', 'clear' ...), from its /config."""
        config = client.get(f"{url.rstrip('/')}/config").json()
        return {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}

    def call(self, name: str, data: list, event_data: object = None) -> list:
        """The outputs of event function `name` given `data`; QAError with Gradio's message when it fails."""
        joined = self.client.post(f"{self.url}/gradio_api/queue/join", json={
            "data": data, "fn_index": self.functions[name], "session_hash": self.session_hash,
            "event_data": event_data, "trigger_id": None})
        if joined.status_code != 200:
            raise QAError(f"{name}: HTTP {joined.status_code} {joined.text[:200]}")
        event_id = joined.json()["event_id"]
        with self.client.stream("GET", f"{self.url}/gradio_api/queue/data",
                                params={"session_hash": self.session_hash}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data: "):
                    continue
                message = json.loads(line[6:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success"):
                        raise QAError(f"{name}: {output.get('error')}")
                    return output["data"]
        raise QAError(f"{name}: the event stream ended without a result")

    def ask(self, question: str) -> list:
        """The chat's outputs for a question typed into its box: [box, conversation HTML, state, *exports]."""
        return self.call("respond", [question, None, [], "", ""])

    def clear(self) -> list:
        return self.call("clear", [])


@dataclass(frozen=True)
class Resources:
    """What the app process (with its children) holds: resident memory, open files, and bytes of files in its
    private folder (qa/private.py) and in Gradio's default cache folder."""

    rss_mb: float
    open_files: int
    private_bytes: int
    gradio_tmp_bytes: int


def folder_bytes(folders: list[Path]) -> int:
    return sum(f.stat().st_size for folder in folders for f in folder.rglob("*") if f.is_file())


def resources(pid: int) -> Resources:
    pids = [pid, *descendants(pid)]
    open_files = sum(len(list(Path(f"/proc/{p}/fd").glob("*"))) for p in pids if Path(f"/proc/{p}").exists())
    private = [folder for base in (MEMORY, Path(tempfile.gettempdir())) for p in pids
               for folder in base.glob(f"{PREFIX}{p}-*")]
    return Resources(rss_mb(pid), open_files, folder_bytes(private),
                     folder_bytes([Path(tempfile.gettempdir()) / "gradio"]))


@dataclass
class SoakReport:
    sessions: int
    questions: int  # per session
    seconds: float = 0.0
    answered: int = 0
    limits: int = 0  # questions refused by a session limit (the session then clears, as the message says)
    errors: list[str] = field(default_factory=list)
    largest_reply_bytes: int = 0
    start: Resources | None = None
    end: Resources | None = None
    every_30s: list[Resources] = field(default_factory=list)  # while the sessions ask

    def to_dict(self) -> dict:
        return {"sessions": self.sessions, "questions_per_session": self.questions, "seconds": round(self.seconds, 1),
                "answered": self.answered, "limits_reached": self.limits, "errors": len(self.errors),
                "first_errors": self.errors[:3], "largest_reply_bytes": self.largest_reply_bytes,
                "start": asdict(self.start) if self.start else None, "end": asdict(self.end) if self.end else None,
                "rss_mb_every_30s": [r.rss_mb for r in self.every_30s],
                "open_files_every_30s": [r.open_files for r in self.every_30s],
                "private_bytes_every_30s": [r.private_bytes for r in self.every_30s]}


def run_soak(url: str, sessions: int, questions: list[str], per_session: int, app_pid: int | None) -> SoakReport:
    """`sessions` browser sessions at once, each asking `per_session` questions in turn; a session told it has
    reached a limit clears its chat and goes on. Resources are read before the first question and after the last."""
    report, lock = SoakReport(sessions, per_session), threading.Lock()
    with httpx.Client(timeout=60) as client:
        functions = ChatSession.functions_of(client, url)

    def session_loop(offset: int) -> None:
        with httpx.Client(timeout=120) as client:
            chat = ChatSession(client, url, functions)
            for n in range(per_session):
                try:
                    outputs = chat.ask(questions[(offset + n) % len(questions)])
                    limited = 'class="message limit"' in outputs[1]
                    if limited:
                        chat.clear()
                except (QAError, httpx.HTTPError) as exc:
                    with lock:
                        report.errors.append(f"session {offset}, question {n + 1}: {exc}"[:300])
                    continue
                with lock:
                    report.limits += limited
                    report.answered += not limited
                    report.largest_reply_bytes = max(report.largest_reply_bytes, len(outputs[1].encode()))

    report.start = resources(app_pid) if app_pid else None
    began = time.monotonic()
    threads = [threading.Thread(target=session_loop, args=(i * 7,)) for i in range(sessions)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if app_pid and time.monotonic() - began >= 30 * (len(report.every_30s) + 1):
            report.every_30s.append(resources(app_pid))
    report.seconds = time.monotonic() - began
    report.end = resources(app_pid) if app_pid else None
    return report


def soak(url: str | None, sessions: int, per_session: int, env: dict[str, str | None] | None = None) -> SoakReport:
    """The soak against `url`, or against the app started as `make run` starts it (then with resources)."""
    questions = [q.question for q in load_questions()]
    if url:
        return run_soak(url, sessions, questions, per_session, None)
    with running_app(env) as app:
        with httpx.Client(timeout=300) as client:  # the model loaded before the clock starts
            ask_over_http(client, app.url, questions[0])
        return run_soak(app.url, sessions, questions, per_session, app.pid)
