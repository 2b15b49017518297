"""The app's HTTP guard, one ASGI middleware in front of Gradio's routes (docs/RELIABILITY.md, HTTP):

- a request body over `max_body_bytes` (default 1 MB; a question, k and 20 turns of history need about 120 kB) is
  refused with 413 before it is read: at once when Content-Length says so, else as soon as the bytes received pass
  the limit. At most the limit is held in memory per request, so oversized requests leave memory flat;
- the Host and Origin headers must name this machine (localhost, 127.0.0.1, ::1), the address the app is bound to,
  or a host of the allow-list (`--allowed-host`, `QA_ALLOWED_HOSTS`): a page of another site whose name resolves to
  this machine (DNS rebinding) gets 403, and `/config` never repeats a foreign host;
- a call naming a function index the app does not have (`fn_index` 10**30 or -1 to /gradio_api/queue/join), or one
  with no Python function (a step that only runs JavaScript in the page), gets 422, not Gradio's 500;
- a body that does not arrive within `body_timeout` seconds gets 408;
- with upload from the page on (qa/upload.py), a file upload to /gradio_api/upload may be up to `upload_bytes`
  (`upload_max_mb`) instead, stated in its Content-Length (411 without one, 413 over it), and streams to Gradio's
  parser unbuffered, each part of it within `body_timeout`; with upload off it is bounded like any other request;
- with a login (qa/auth.py), a client address with `login_attempts` failed logins in the last minute gets 429 for
  its next ones until the oldest is a minute old; each failure is logged with the user name, never the password.
"""
from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.middleware import Middleware

from qa.auth import LoginLimiter
from qa.config import ServerSettings

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD = frozenset({"", "0.0.0.0", "::"})  # bound to every address: only the loopback names and the allow-list
API_ROUTE = "/gradio_api/api/"  # then an API name: /gradio_api/api/ask
SHARE_SUFFIX = ".gradio.live"  # --share: the public link's requests arrive with its host
LOGIN_ROUTES = ("/login", "/login/")
UPLOAD_ROUTE = "/gradio_api/upload"
WRONG_LOGIN = 400  # Gradio's answer to a wrong user name or password

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def hostname(value: str) -> str:
    """The host of a Host header or of an origin's authority, without port or IPv6 brackets, lower case."""
    try:
        return (urlsplit("//" + value).hostname or "").lower()
    except ValueError:  # a malformed IPv6 literal or port
        return ""


def allowed_hosts(bound: str, extra: Iterable[str], share: bool = False) -> frozenset[str]:
    """The host names a request may use: this machine, the bound address, and the allow-list."""
    names = set(LOOPBACK) | {hostname(h.strip()) for h in extra if h.strip()}
    if bound not in WILDCARD:
        names.add(hostname(bound))
    if share:
        names.add(SHARE_SUFFIX)
    return frozenset(names)


class Guard:
    """Pure ASGI middleware: see the module's doc. `known_function(i)` tells whether fn_index i names a Python
    function of the app."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str], max_body_bytes: int,
                 known_function: Callable[[int], bool], api_function: Callable[[str], int | None],
                 body_timeout: float = 30.0, logins: LoginLimiter | None = None, upload_bytes: int = 0):
        self.app, self.hosts, self.max_body_bytes, self.known_function = app, hosts, max_body_bytes, known_function
        self.api_function = api_function  # the fn_index of an API name ('ask'), None for no such API
        self.body_timeout, self.logins = body_timeout, logins
        self.upload_bytes = upload_bytes  # 0: upload from the page is off

    def _allowed(self, host: str) -> bool:
        return host in self.hosts or (SHARE_SUFFIX in self.hosts and host.endswith(SHARE_SUFFIX))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers: dict[bytes, list[bytes]] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), []).append(value)
        refusal = self._header_refusal(headers)
        if refusal:
            return await _refuse(scope, receive, send, *refusal)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        if self.upload_bytes and scope.get("path") == UPLOAD_ROUTE:
            refusal = self._upload_refusal(headers)
            if refusal:  # as plain text, as Gradio's own upload refusals: the page shows it as it is
                return await _refuse(scope, receive, send, *refusal, plain=True)
            return await self.app(scope, _timed(receive, self.body_timeout), send)
        try:
            async with asyncio.timeout(self.body_timeout):
                body, refusal = await self._read_body(headers, receive)
        except TimeoutError:
            body, refusal = b"", (408, f"the request body did not arrive within {self.body_timeout:g} s "
                                      "(--body-timeout)")
        if refusal is None and b"fn_index" in body:
            refusal = self._function_refusal(body, scope.get("path", ""))
        if refusal:
            return await _refuse(scope, receive, send, *refusal)
        if self.logins and scope.get("path") in LOGIN_ROUTES and scope.get("method") == "POST":
            return await self._login(scope, body, receive, send)
        return await self.app(scope, _replay(body, receive), send)

    async def _login(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        """Gradio's login, refused with 429 while the client has too many recent failures; failures recorded."""
        assert self.logins is not None
        client = (scope.get("client") or ("",))[0]
        wait = self.logins.blocked(client)
        if wait:
            return await _refuse(scope, receive, send, 429, f"too many failed logins from this address; try again "
                                                              f"in {math.ceil(wait)} s")
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        await self.app(scope, _replay(body, receive), watch)
        if status == WRONG_LOGIN:
            user = parse_qs(body.decode("utf-8", "replace")).get("username", [""])[0]
            self.logins.failed(client, user)

    def _header_refusal(self, headers: dict[bytes, list[bytes]]) -> tuple[int, str] | None:
        hosts = headers.get(b"host", [])
        if len(hosts) != 1:
            return 400, "a request needs exactly one Host header"
        host = hostname(hosts[0].decode("latin-1"))
        if not self._allowed(host):
            return 403, (f"host {host!r} is not this app's; use http://127.0.0.1, or add the name with --allowed-host "
                         "(QA_ALLOWED_HOSTS)")
        for origin in headers.get(b"origin", []):
            parts = urlsplit(origin.decode("latin-1"))
            if parts.scheme not in ("http", "https") or not self._allowed(hostname(parts.netloc)):
                return 403, "requests from pages of other sites are refused"
        return None

    async def _read_body(self, headers: dict[bytes, list[bytes]], receive: Receive) -> tuple[bytes, tuple | None]:
        """The request body, read up to the limit; a refusal instead once it is over."""
        too_large = (413, f"the request body is over {self.max_body_bytes:,} bytes, the limit (--max-body-bytes)")
        for value in headers.get(b"content-length", []):
            if not value.strip().isdigit():
                return b"", (400, "the Content-Length header is not a number")
            if int(value) > self.max_body_bytes:
                return b"", too_large
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", (400, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    def _upload_refusal(self, headers: dict[bytes, list[bytes]]) -> tuple[int, str] | None:
        """An upload is refused before it is read unless its Content-Length is within the upload limit."""
        lengths = headers.get(b"content-length", [])
        if len(lengths) != 1 or not lengths[0].strip().isdigit():
            return 411, "an upload needs one Content-Length header"
        size = int(lengths[0])
        if size > self.upload_bytes:
            return 413, (f"the upload is {size / 2**20:.1f} MB; at most {self.upload_bytes / 2**20:g} MB may be "
                         "uploaded at once (upload_max_mb): upload fewer files at a time")
        return None

    def _function_refusal(self, body: bytes, path: str) -> tuple[int, str] | None:
        """422 for a function index the app does not have (read as pydantic reads an int: 3, 3.0, '3', true), and for
        one that is not the API function its route names: /gradio_api/api/ask runs the `ask` endpoint only, never a
        private function of the page."""
        try:
            data = json.loads(body)
            value = data.get("fn_index") if isinstance(data, dict) else None
            index = None if value is None else int(value) if not isinstance(value, str) else int(value.strip())
            if isinstance(value, float) and not value.is_integer():
                return None  # Gradio refuses it itself (422)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None  # not JSON, or not a number: Gradio's own validation answers (400, 422)
        if index is None:
            return None
        shown = index if index.bit_length() <= 64 else f"a {index.bit_length():,}-bit number"
        if not self.known_function(index):
            return 422, f"fn_index {shown} names no function of this app"
        if path.startswith(API_ROUTE) and index != self.api_function(path[len(API_ROUTE):].strip("/")):
            return 422, f"fn_index {shown} is not the function of {path}"
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then whatever the client sends next (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replay


def _timed(receive: Receive, seconds: float) -> Receive:
    """A receive whose every message arrives within `seconds`, else the client is taken to be gone."""
    async def timed() -> Message:
        try:
            async with asyncio.timeout(seconds):
                return await receive()
        except TimeoutError:
            return {"type": "http.disconnect"}
    return timed


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str, plain: bool = False) -> None:
    """A JSON error ({"detail": ...}, as FastAPI words its own), or `plain` text, and the connection closed: the rest
    of an oversized body is never read."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    payload = detail.encode() if plain else json.dumps({"detail": detail}).encode()
    kind = b"text/plain; charset=utf-8" if plain else b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


# --- wiring into app.py -------------------------------------------------------------------------------------------

def launch_kwargs(blocks: Any, server: ServerSettings, upload: bool = False) -> dict:
    """What `Blocks.launch` needs to put the guard in front of every route: FastAPI's own `middleware` list; with
    `upload` on, uploads bounded by `upload_max_mb`, else Gradio takes no file at all."""
    hosts = allowed_hosts(server.host, server.allowed_hosts.split(","), share=server.share)
    guard = Middleware(Guard, hosts=hosts, max_body_bytes=server.max_body_bytes,
                       known_function=lambda index: index in blocks.fns and blocks.fns[index].fn is not None,
                       api_function=lambda name: next((i for i, fn in blocks.fns.items() if fn.api_name == name), None),
                       body_timeout=server.body_timeout,
                       logins=LoginLimiter(server.login_attempts) if server.users else None,
                       upload_bytes=upload_bytes(server) if upload else 0)
    # max_file_size=0 with upload off: /gradio_api/upload refuses any file instead of storing it.
    return {"app_kwargs": {"middleware": [guard]}, "max_file_size": upload_bytes(server) if upload else 0}


def upload_bytes(server: ServerSettings) -> int:
    return int(server.upload_max_mb * 2**20)
