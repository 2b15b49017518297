"""Plain text files (.txt, and Markdown notes): UTF-8, or the UTF-16 a byte order mark states; paragraphs where the
text leaves a blank line. A text file states no metadata, so none is given."""
from __future__ import annotations

import platform

from qa.corpus.documents import normalise_body
from qa.ingest.extracted import Extracted, ImportFailure

# A byte order mark states the encoding before anything else the file says (as editors and browsers read it).
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def bom_encoding(data: bytes) -> str | None:
    return next((encoding for mark, encoding in BOMS if data.startswith(mark)), None)


def extract(data: bytes) -> Extracted:
    encoding = bom_encoding(data) or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ImportFailure(f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                            "save the file as UTF-8 and import it again") from None
    if "\0" in text:  # valid UTF-8, but no text has NUL: a binary file, or UTF-16 saved without its byte order mark
        raise ImportFailure(f"the file holds NUL bytes (offset {data.find(bytes(1))}), so it "
                            "is not plain text (a binary file, or UTF-16 without a byte order mark?); save it as "
                            "UTF-8 text and import it again")
    body = "\n\n".join(" ".join(p.split()) for p in normalise_body(text).split("\n\n"))
    if not any(c.isalnum() for c in body):
        raise ImportFailure("the text file is empty")
    return Extracted(body=body, importer=f"Python {platform.python_version()} "
                     f"({'UTF-16' if encoding == 'utf-16' else 'UTF-8'} text)")
