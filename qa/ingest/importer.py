"""`qa add`, `qa list`, `qa remove`: files into corpus documents, with provenance."""
from __future__ import annotations

from pathlib import Path

from qa.ingest.extracted import Extracted, ImportFailure
from qa.ingest.html import DEFAULT_OPTIONS, HtmlOptions


def extract_file(path: Path, data: bytes, html_options: HtmlOptions = DEFAULT_OPTIONS) -> Extracted:
    """The text and stated metadata of one file, by its extension."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        from qa.ingest import html
        return html.extract(data, html_options)
    raise ImportFailure(f"{suffix or 'no extension'}: not a format qa add reads")
