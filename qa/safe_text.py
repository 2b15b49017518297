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


# Characters that change the direction of the text after them: embeddings, overrides, isolates and marks.
BIDI_CONTROL = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FSI, PDI = "\u2068", "\u2069"


def isolated(field: str) -> str:
    """`field` as it is, or, when it holds a direction control, inside first-strong and pop isolates: an override
    in a title then cannot reverse the publisher, date and URL after it (a PDI ends every embedding, override and
    isolate the field opened). Used for plain text; HTML puts such a field in <bdi>."""
    return f"{FSI}{field}{PDI}" if BIDI_CONTROL.search(field) else field
