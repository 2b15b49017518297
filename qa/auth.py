"""Who may use the chat when it listens beyond this machine: users with hashed passwords in a file, and failed logins
rate-limited per client address (docs/RELIABILITY.md, Login).

The file has one user a line, `name:scrypt:N:r:p:SALT:HASH` (hex), written by
`python -m qa.auth FILE NAME` (the password is read from the terminal or standard input, never from the command
line). Passwords are checked with hashlib.scrypt, in constant time; the file holds no password."""
from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import logging
import os
import secrets
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import SettingsError

log = logging.getLogger("qa.auth")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # about 50 ms and 16 MB per check
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}:{salt.hex()}:{digest.hex()}"


def _matches(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split(":")
    given = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                           maxmem=2**26)
    return hmac.compare_digest(given, bytes.fromhex(digest))


def read_users(path: Path) -> dict[str, str]:
    """The users of a password file and their stored hashes, or SettingsError naming the line to fix."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"the users file {path} cannot be read ({exc}); create it with "
                            "'python -m qa.auth FILE NAME'") from None
    users = {}
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, stored = line.partition(":")
        parts = stored.split(":")
        if (not name or len(parts) != 6 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:4])
                or not all(_is_hex(p) for p in parts[4:])):
            raise SettingsError(f"{path} line {n} is not 'name:scrypt:N:r:p:SALT:HASH'; write it with "
                                "'python -m qa.auth FILE NAME'")
        users[name] = stored
    if not users:
        raise SettingsError(f"the users file {path} names no user; add one with 'python -m qa.auth FILE NAME'")
    return users


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return bool(text)


def checker(users: dict[str, str]) -> Callable[[str, str], bool]:
    """Gradio's `auth` callable: True for a known user with the right password. An unknown user costs the same
    time as a known one, so that timing does not tell which names exist."""
    decoy = hash_password(secrets.token_hex(8))

    def check(name: str, password: str) -> bool:
        return _matches(password, users.get(name, decoy)) and name in users
    return check


def needs_login(host: str) -> bool:
    """Whether an app bound to `host` is reachable from other machines."""
    return host not in LOOPBACK_HOSTS and not host.startswith("127.")


@dataclass
class LoginLimiter:
    """At most `attempts` failed logins per client address in `window` seconds; then its logins are refused (429)
    until the oldest failure is older than the window."""

    attempts: int
    window: float = 60.0
    failures: dict[str, deque[float]] = field(default_factory=dict)
    clients: int = 10_000  # addresses remembered at most, the oldest forgotten first

    def blocked(self, client: str, now: float | None = None) -> float:
        """Seconds until `client` may try again (0: it may)."""
        now = time.monotonic() if now is None else now
        recent = self.failures.get(client)
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if not recent:
            self.failures.pop(client, None)
            return 0.0
        return recent[0] + self.window - now if len(recent) >= self.attempts else 0.0

    def failed(self, client: str, user: str, now: float | None = None) -> None:
        """Record a failed login; logged with the user name given and the address, never the password."""
        now = time.monotonic() if now is None else now
        if client not in self.failures and len(self.failures) >= self.clients:
            self.failures.pop(next(iter(self.failures)))
        self.failures.setdefault(client, deque()).append(now)
        log.warning("failed login for user %r from %s (%d in the last %.0f s)", user[:64], client,
                    len(self.failures[client]), self.window)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m qa.auth", description="Add a user, or change a user's password, in "
                                "the users file of `app.py --users FILE`.")
    p.add_argument("file", type=Path)
    p.add_argument("name")
    args = p.parse_args(argv)
    if ":" in args.name or not args.name.strip() or not args.name.isprintable():
        print("error: a user name is printable text without ':'", file=sys.stderr)
        return 2
    password = getpass.getpass(f"password for {args.name}: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("error: the password needs at least 8 characters", file=sys.stderr)
        return 2
    lines = args.file.read_text(encoding="utf-8").splitlines() if args.file.exists() else []
    lines = [line for line in lines if line.partition(":")[0] != args.name] + [f"{args.name}:{hash_password(password)}"]
    args.file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(args.file, 0o600)
    print(f"{args.file}: {args.name} can log in")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
