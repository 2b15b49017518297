"""Records every name lookup and every connection a Python process attempts, through CPython's audit events.

Put this folder first on PYTHONPATH and name a file in QA_NETWATCH_LOG: each process started so (the app under
`make run`, and everything it starts) appends one line per event, `pid event argument`. Used by the privacy test
(tests/test_private.py): the app must look up no name and connect to nothing but loopback."""
import os
import sys

_LOG = os.environ.get("QA_NETWATCH_LOG")
_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
           "socket.connect", "socket.sendto", "socket.sendmsg"}


def _record(event: str, args: tuple) -> None:
    if event not in _EVENTS:
        return
    target = args[0] if event.startswith("socket.get") else args[1] if len(args) > 1 else None
    with open(_LOG, "a", encoding="utf-8") as log:  # type: ignore[arg-type]
        log.write(f"{os.getpid()} {event} {target!r}\n")


if _LOG:
    sys.addaudithook(_record)
