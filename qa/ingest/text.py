"""Plain text files (.txt): UTF-8 only; paragraphs where the text leaves a blank line. A text file states no
metadata, so none is given."""
from __future__ import annotations

import platform

from qa.corpus.documents import normalise_body
from qa.ingest.extracted import Extracted, ImportFailure


def extract(data: bytes) -> Extracted:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailure(f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                            "save the file as UTF-8 and import it again") from None
    body = "\n\n".join(" ".join(p.split()) for p in normalise_body(text).split("\n\n"))
    if not any(c.isalnum() for c in body):
        raise ImportFailure("the text file is empty")
    return Extracted(body=body, importer=f"Python {platform.python_version()} (UTF-8 text)")
