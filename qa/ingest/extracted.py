"""What an extractor returns, and the error it raises for a file that cannot be imported."""
from __future__ import annotations

from dataclasses import dataclass

from qa.errors import QAError


class ImportFailure(QAError):
    """A file that cannot be imported; the message says why and, where it can, what to do instead."""


@dataclass(frozen=True)
class Extracted:
    """One file's text and the metadata the file itself states (None or empty when it does not state it).

    `body` is the file's own words with only white space normalised: paragraphs separated by one blank line.
    `pages` (PDF only) holds the body offset where each page starts, first page first."""

    body: str
    importer: str  # the extracting library and its version, e.g. "trafilatura 2.3.1"
    title: str = ""
    publisher: str = ""
    date: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None
    pages: tuple[int, ...] | None = None
    path: str = ""  # how the body was found, when not the format's usual way (shown in the import's summary)
    notes: tuple[str, ...] = ()  # what was left out of the body and why (shown in the import's summary)
