"""Stalled and slow clients cut off (docs/RELIABILITY.md, Connections): the app's uvicorn connections, bounded.

- a client has `header_timeout` seconds from connecting (or from its previous response) to send a request's line
  and headers, else the connection is closed: uvicorn itself waits for ever (its keep-alive timer stops at the
  first byte of a request);
- idle keep-alive connections are closed after `keep_alive_timeout` seconds;
- at most `max_connections_per_client` connections per client address (one more is closed as soon as it is
  accepted) and `max_connections` in all: past that, the connection that has waited longest for a request's headers
  is closed for the new one (the new one itself when every connection is busy with a request), so that a flood of
  stalled connections can neither take the process's open files (a 1,024 limit is common) nor lock out a client
  that sends its request at once.
The body's own timeout is the HTTP guard's (qa/web.py). Gradio makes its uvicorn.Config itself, with no way to pass
these, so `bounded_connections` swaps its Server class for one that sets them, for the launch."""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gradio import http_server
from uvicorn.protocols.http.h11_impl import H11Protocol

from qa.config import ServerSettings

log = logging.getLogger("qa.connections")
# Connections accepted in one go: asyncio accepts up to the listen backlog at once before any is closed, so open
# files can reach max_connections + BACKLOG (uvicorn's 2,048 would pass a 1,024 limit by itself).
BACKLOG = 128


def bounded_protocol(settings: ServerSettings) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the deadlines and caps above; the counts are this server's."""
    per_client: Counter[str] = Counter()
    waiting: dict[H11Protocol, None] = {}  # connections awaiting a request's headers, the longest waiting first

    class Bounded(H11Protocol):
        _address = ""
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._address = self.client[0] if self.client else ""
            per_client[self._address] += 1
            if per_client[self._address] > settings.max_connections_per_client:
                log.debug("closing a connection from %s: over %d from one client", self._address,
                          settings.max_connections_per_client)
                transport.close()
            elif len(self.connections) > settings.max_connections and not waiting:
                log.debug("closing a connection from %s: over %d in all", self._address, settings.max_connections)
                transport.close()
            else:
                if len(self.connections) > settings.max_connections:
                    longest = next(iter(waiting))
                    longest._disarm()  # type: ignore[attr-defined]
                    longest.transport.close()
                self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(settings.header_timeout, self._headers_too_slow)
            waiting[self] = None

        def _disarm(self) -> None:
            waiting.pop(self, None)
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _idle(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _headers_too_slow(self) -> None:
            if self._idle() and not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if not self._idle():  # a request's headers are in: its body has the guard's own deadline
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._idle() and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            per_client[self._address] -= 1
            if per_client[self._address] <= 0:
                del per_client[self._address]
            super().connection_lost(exc)

    return Bounded


@contextmanager
def bounded_connections(settings: ServerSettings) -> Iterator[None]:
    """While inside, a Gradio app launched serves its connections with `bounded_protocol` and the keep-alive
    timeout of `settings`."""
    original = http_server.Server

    class Server(original):  # type: ignore[misc, valid-type]
        def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
            config.http = bounded_protocol(settings)
            config.timeout_keep_alive = settings.keep_alive_timeout
            config.backlog = BACKLOG
            super().__init__(config, *args, **kwargs)

    http_server.Server = Server  # type: ignore[misc]
    try:
        yield
    finally:
        http_server.Server = original  # type: ignore[misc]
