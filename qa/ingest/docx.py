"""Word files (.docx) with python-docx: the body's paragraphs and table cells in document order; the core
properties (title, author, created) as metadata."""
from __future__ import annotations

import io
import zipfile
from importlib.metadata import version

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from qa.ingest.extracted import Extracted, ImportFailure


def _texts(document) -> list[str]:
    """Each paragraph's text, a table's cells row by row (a merged cell once), white space collapsed."""
    texts = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            seen = set()  # the cells' XML elements, kept alive so that a merged cell is known again
            for row in block.rows:
                for cell in row.cells:
                    if cell._tc not in seen:
                        seen.add(cell._tc)
                        texts += [p.text for p in cell.paragraphs]
        else:
            texts.append(block.text)
    return [" ".join(t.split()) for t in texts if t.strip()]


def extract(data: bytes) -> Extracted:
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ImportFailure(f"not a Word (.docx) file that can be read, it may be damaged ({exc})") from None
    paragraphs = _texts(document)
    if not paragraphs:
        raise ImportFailure("the Word file has no text")
    props = document.core_properties
    authors = tuple(a.strip() for a in (props.author or "").split(";") if a.strip())
    return Extracted(body="\n\n".join(paragraphs), importer=f"python-docx {version('python-docx')}",
                     title=" ".join((props.title or "").split()), authors=authors,
                     date=props.created.date().isoformat() if props.created else None)
