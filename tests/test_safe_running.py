"""Safe to leave running, over HTTP on loopback (docs/RELIABILITY.md, Safe to leave running): nothing typed kept on
disk and no name looked up, a login when asked for on every route, failed logins limited, stalled clients cut off
while questions are still answered under a 1,024 open-file limit, and a session's conversation bounded. Each app is
started as `make run` starts it."""
from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from qa import Answer, verify
from qa.auth import hash_password
from qa.private import MEMORY, PREFIX
from qa_tools.launch import descendants, free_port, running_app
from qa_tools.loadtest import ChatSession, ask_over_http

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What did Amnesty International demand?"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _private_folders(pids: list[int]) -> list[Path]:
    return [f for base in (MEMORY, Path(tempfile.gettempdir())) for p in pids for f in base.glob(f"{PREFIX}{p}-*")]


def _files_holding(marker: str, since: Path, roots: list[Path], skip: Path) -> list[str]:
    """Files under `roots` written after `since` was (find -newer) that hold `marker`, except under `skip`."""
    found = subprocess.run(["find", *map(str, roots), "-xdev", "-type", "f", "-newer", str(since), "-size", "-50M"],
                           capture_output=True, text=True, timeout=120).stdout.split("\n")
    hits = []
    for name in filter(None, found):
        if name.startswith(str(skip)) or "/.venv/" in name or "/proc/" in name:
            continue
        try:
            if marker.encode() in Path(name).read_bytes():
                hits.append(name)
        except OSError:
            continue
    return hits


def test_nothing_typed_is_kept_on_disk_and_no_name_is_looked_up(tmp_path):
    """The app runs with every name lookup and connection it attempts recorded (CPython audit events, in each of its
    processes: qa_tools/netwatch). A question with a unique word is asked, exported and cleared; after the app
    exits, no file written meanwhile holds the word, and nothing but loopback was looked up or connected to."""
    marker = f"Quokka{time.time_ns()}"
    stamp = tmp_path / "stamp"
    stamp.write_text("")
    time.sleep(0.01)
    net = tmp_path / "net.log"
    env = {"QA_INDEX_DIR": str(tmp_path / "index"), "PYTHONPATH": str(ROOT / "qa_tools" / "netwatch"),
           "QA_NETWATCH_LOG": str(net)}
    with running_app(env, log=tmp_path / "app.log") as app:
        pids = [app.pid, *descendants(app.pid)]
        with httpx.Client(timeout=60) as client:
            chat = ChatSession(client, app.url, ChatSession.functions_of(client, app.url))
            outputs = chat.ask(f"{QUESTION} {marker}")
            assert any(isinstance(o, str) and marker in o for o in outputs)  # asked, and shown
            files = [chat.call(name, [None])[0] for name in ("write", "write_2", "write_4")]  # Export quotes: md, csv, json
            download = client.get(files[0]["url"])  # the Markdown export, as a click fetches it
            assert download.status_code == 200 and marker in download.text  # the export holds it, as it should
            folders = _private_folders(pids)
            assert len(folders) == 1 and folders[0].stat().st_mode & 0o777 == 0o700
            exports = folders[0] / "gradio" / "exports"
            assert sorted(f.name for f in exports.glob("*/*")) == ["quotes.csv", "quotes.json", "quotes.md"]
            chat.clear()
            assert list(exports.iterdir()) == []  # Clear chat removes the session's export files
    assert _private_folders(pids) == []  # removed at exit
    roots = [Path(tempfile.gettempdir()), MEMORY, Path("/var/tmp"), Path.home(), ROOT]
    assert _files_holding(marker, stamp, [r for r in roots if r.exists()], skip=tmp_path) == []
    events = [line.split(" ", 2) for line in net.read_text().splitlines()]
    assert {pid for pid, _, _ in events} >= {str(p) for p in pids if p != app.pid}  # every Python process watched
    lookups = {target.strip("'") for _, event, target in events if event.startswith("socket.get")}
    connects = {target for _, event, target in events if event == "socket.connect"}
    assert lookups <= LOOPBACK
    assert all(target.startswith(("('127.0.0.1'", "('::1'", "'/")) for target in connects), connects


# --- a login on every route -----------------------------------------------------------------------------------------

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def login_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("login")
    (folder / "users").write_text(f"alice:{hash_password(PASSWORD)}\n")
    env = {"QA_INDEX_DIR": str(folder / "index"), "QA_USERS": str(folder / "users"), "QA_LOGIN_ATTEMPTS": "3"}
    with running_app(env, log=folder / "app.log") as running:
        yield running


ROUTES = [("GET", "/config", None), ("GET", "/gradio_api/info", None),
          ("POST", "/gradio_api/call/ask", {"data": [QUESTION, 3, None]}),
          ("POST", "/gradio_api/queue/join", {"data": [QUESTION, None, [], "", ""], "fn_index": 0,
                                              "session_hash": "abc", "event_data": None, "trigger_id": None}),
          ("GET", "/gradio_api/queue/data?session_hash=abc", None)]


@pytest.mark.parametrize("method, path, payload", ROUTES, ids=[r[1] for r in ROUTES])
def test_without_a_login_every_route_is_refused(login_app, method, path, payload):
    response = httpx.request(method, login_app.url + path, json=payload, timeout=15)
    assert response.status_code == 401 and "Not authenticated" in response.text


def test_the_page_without_a_login_shows_no_corpus(login_app):
    page = httpx.get(login_app.url, timeout=15).text
    assert "Zhanaozen" not in page and "amnesty" not in page.lower()


def test_with_a_login_ask_answers_over_http_and_through_the_client(login_app):
    with httpx.Client(timeout=60) as client:
        login = client.post(f"{login_app.url}/login", data={"username": "alice", "password": PASSWORD})
        assert login.json() == {"success": True}
        reply = ask_over_http(client, login_app.url, QUESTION)
        assert reply.answer is not None and verify(Answer.from_dict(reply.answer)) == []
        chat = ChatSession(client, login_app.url, ChatSession.functions_of(client, login_app.url))
        assert "Amnesty" in chat.ask(QUESTION)[1]
    from gradio_client import Client
    answer = Client(login_app.url, auth=("alice", PASSWORD), verbose=False).predict(QUESTION, api_name="/ask")
    assert verify(Answer.from_dict(answer)) == []


def test_failed_logins_are_limited_per_address_and_logged_without_the_password(login_app):
    """From 127.0.0.2: three wrong passwords get 400, then even the right one 429; 127.0.0.1 still logs in."""
    wrong = "hunter2-not-it"
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=15) as client:
        statuses = [client.post(f"{login_app.url}/login", data={"username": "alice", "password": p}).status_code
                    for p in (wrong, wrong, wrong)]
        blocked = client.post(f"{login_app.url}/login", data={"username": "alice", "password": PASSWORD})
    assert statuses == [400, 400, 400]
    assert blocked.status_code == 429 and "too many failed logins from this address" in blocked.json()["detail"]
    assert httpx.post(f"{login_app.url}/login", data={"username": "alice", "password": PASSWORD},
                      timeout=15).json() == {"success": True}
    log = login_app.log.read_text()
    assert [line for line in log.splitlines() if "failed login" in line] == [
        f"qa.auth: failed login for user 'alice' from 127.0.0.2 ({n} in the last 60 s)" for n in (1, 2, 3)]
    assert wrong not in log and PASSWORD not in log


@pytest.mark.parametrize("flags, message", [
    (["--host", "0.0.0.0"], "--host 0.0.0.0 lets other machines reach the app; give a users file with --users FILE"),
    (["--share"], "--host 127.0.0.1 --share lets other machines reach the app"),
    (["--host", "0.0.0.0", "--users", "/nonexistent/users"], "the users file /nonexistent/users cannot be read"),
])
def test_the_app_refuses_to_listen_beyond_loopback_without_a_login(flags, message):
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), "--port", str(free_port()), *flags],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.startswith(f"error: {message}") and "Traceback" not in done.stderr


# --- stalled clients, and a bounded conversation ---------------------------------------------------------------------

HEADER_TIMEOUT = 3


@pytest.fixture(scope="module")
def bounded_app(tmp_path_factory):
    """An app under a 1,024 open-file limit, with 3 s header and body timeouts and 3-question conversations."""
    folder = tmp_path_factory.mktemp("bounded")
    env = {"QA_INDEX_DIR": str(folder / "index"), "QA_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "QA_MAX_TURNS": "3",
           "QA_BODY_TIMEOUT": "3"}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with ExitStack() as stack:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # inherited by the app's processes
        try:
            running = stack.enter_context(running_app(env, log=folder / "app.log"))
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        yield running


def _open_files_limit(pid: int) -> int:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines() if "open files" in line)
    return int(line.split()[3])


def _stall(address: str, port: int) -> socket.socket:
    s = socket.socket()
    s.bind((address, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /config HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the headers never end
    return s


def _closed_by_server(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_stalled_clients_are_cut_off_and_questions_still_answered(bounded_app):
    """1,100 connections that never finish their headers, from 40 loopback addresses (27 or 28 each, under the
    per-client cap) while the app may open 1,024 files: the questions asked meanwhile from 127.0.0.1 are answered,
    and every stalled connection is closed within the header timeout."""
    app_pids = [bounded_app.pid, *descendants(bounded_app.pid)]
    assert {_open_files_limit(p) for p in app_pids} == {1024}
    stalled: list[socket.socket] = []
    for n in range(1100):
        try:
            stalled.append(_stall(f"127.0.0.{2 + n % 40}", bounded_app.port))
        except OSError:  # refused while the listen queue is full: the server closes others meanwhile
            stalled.append(socket.socket())
    attacked = time.monotonic()
    answered = []
    with httpx.Client(timeout=30) as client:
        for _ in range(3):
            asked = time.monotonic()
            reply = ask_over_http(client, bounded_app.url, QUESTION)
            answered.append((reply.answer is not None, time.monotonic() - asked))
    assert all(ok for ok, _ in answered) and max(s for _, s in answered) < 15, answered
    time.sleep(max(0.0, attacked + HEADER_TIMEOUT + 2 - time.monotonic()))
    still_open = sum(not _closed_by_server(s) for s in stalled if s.fileno() != -1 and s.getpeername())
    for s in stalled:
        s.close()
    assert still_open == 0


def test_one_client_gets_at_most_its_share_of_connections(bounded_app):
    many = [_stall("127.0.0.99", bounded_app.port) for _ in range(60)]
    time.sleep(0.5)
    closed = sum(_closed_by_server(s) for s in many)
    for s in many:
        s.close()
    assert closed == 60 - 32  # max_connections_per_client


def test_a_slow_body_gets_408(bounded_app):
    with socket.create_connection(("127.0.0.1", bounded_app.port), timeout=60) as s:
        s.sendall(b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"data\"")
        began = time.monotonic()
        first = s.recv(4096)
        answered = time.monotonic() - began
        chunks = [first]
        while chunks[-1]:  # the server closes the connection after its answer, which may come in several pieces
            chunks.append(s.recv(4096))
    response = b"".join(chunks).decode()
    assert response.startswith("HTTP/1.1 408") and "did not arrive within 3 s" in response
    assert 2.5 < answered < 10


def test_a_conversation_stops_at_its_limit_and_goes_on_after_clear(bounded_app):
    with httpx.Client(timeout=60) as client:
        chat = ChatSession(client, bounded_app.url, ChatSession.functions_of(client, bounded_app.url))
        for _ in range(3):
            box, page, *_ = chat.ask(QUESTION)
            assert box == "" and 'class="message limit"' not in page
        box, page, *_ = chat.ask("When was the curfew lifted?")
        assert box == "When was the curfew lifted?"  # not asked: kept in the box
        assert page.count('class="turn"') == 3 and page.endswith(
            '<p class="message limit" role="status">This conversation has reached 3 questions, the limit of one '
            "conversation. Export the quotes you want to keep, then press Clear chat to start a new "
            "conversation.</p>")
        chat.clear()
        box, page, *_ = chat.ask(QUESTION)
        assert box == "" and page.count('class="turn"') == 1


def test_soak_command_reports_resources(bounded_app, cli):
    """`qa load --sessions` against a running app: every question answered or told the limit; no error."""
    code, out, err = cli("load", "--url", bounded_app.url, "--sessions", "2", "--questions", "5")
    report = json.loads(out)
    assert code == 0 and report["errors"] == 0
    assert (report["answered"], report["limits_reached"]) == (8, 2)  # 3 answered, limit, clear, 2 answered; twice


def test_every_event_answers_bad_data_with_a_message(bounded_app):
    """Odd data sent to the viewer's and the source list's events: an answer with a message, never a traceback."""
    with httpx.Client(timeout=60) as client:
        chat = ChatSession(client, bounded_app.url, ChatSession.functions_of(client, bounded_app.url))
        shown = [chat.call("act", [[], []], event_data)[0]
                 for event_data in (None, "x", [1], {"key": None}, {"key": 5}, {"key": ["a"]}, {"key": {"x": 1}},
                                    {"key": "x" * 100_000}, {"key": "amnesty-advisory#p1"})]
        # no id at all: the list of sources, as the viewer's own button asks for it
        assert len(set(shown[:4])) == 1 and "amnesty-advisory" in shown[0]
        assert shown[4:7] == [f"<p>a passage or document id is text, not {kind}</p>" for kind in ("int", "list", "dict")]
        assert shown[7] == ("<p>no passage or document has the id &#x27;xxxxxxxxxxxx...xxxxxxxxxxxxx&#x27;; choose one of the "
                            "answer&#x27;s citations</p>")
        assert '<mark id="quoted-passage">' in shown[8]
        page = chat.call("list_sources", ["beta " * 50_000, 1])[0]
        assert "The search is 250,000 characters long; the limit is 200" in page
        assert "Sources" in chat.call("list_sources", [None, 1])[0]
        assert "Sorry, the question is empty" in chat.call("respond", [None, None, [], None, None])[1]
    assert "Traceback" not in bounded_app.log.read_text()
