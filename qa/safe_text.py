"""Corpus text on a terminal: control characters shown as escapes, never obeyed.

A corpus file may hold ANSI escapes (ESC [ 31 m), a carriage return that overwrites the line, or the C1 control CSI
(U+009B); printed raw, a terminal would act on them. `printable` writes each C0 control but newline and tab, DEL
and each C1 control as a visible `\\u001b`-style escape, which is also a valid escape inside a JSON string, so
`--json` output stays valid JSON that decodes to the same text. The CLI applies it to everything it prints from the
corpus or the user (qa/terminal.py, qa/cli.py); only its own highlight marks reach the terminal as controls."""
from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with every terminal control character but newline and tab written as a visible escape."""
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
