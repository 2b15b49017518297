"""Word files (.docx) with python-docx: the body's paragraphs and table cells in document order; the core
properties (title, author, created) as metadata, as the file states them (none when that part is damaged)."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from importlib.metadata import version
from typing import cast

from docx.document import Document
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.exceptions import PackageNotFoundError
from docx.opc.package import Unmarshaller
from docx.opc.part import Part, PartFactory
from docx.opc.parts.coreprops import CorePropertiesPart
from docx.opc.pkgreader import PackageReader
from docx.oxml.coreprops import CT_CoreProperties
from docx.oxml.ns import qn
from docx.package import Package
from docx.table import Table
from lxml.etree import XMLSyntaxError

from qa.ingest.extracted import Extracted, ImportFailure

W3CDTF_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:T|\s*$)")


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


def _unpacked_size(data: bytes) -> int:
    """The size of the zip's members once inflated, as the zip states it (a member is never read past it)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFailure(f"not a Word (.docx) file that can be read, it may be damaged ({exc})") from None


def _part(partname, content_type: str, reltype: str, blob: bytes, package: Package) -> Part:
    """python-docx's part for each part of the file, but core properties that are not XML are kept unread: python-docx
    would refuse the whole file for them, and they only give metadata, of which a damaged part states none."""
    try:
        return cast(Part, PartFactory(partname, content_type, reltype, blob, package))  # its __new__ makes a Part
    except XMLSyntaxError:
        if content_type != CONTENT_TYPE.OPC_CORE_PROPERTIES:
            raise
        return Part(partname, content_type, blob, package)


def _open(data: bytes) -> Document:
    """docx.Document(data), its parts made by `_part`."""
    package = Package()
    Unmarshaller.unmarshal(PackageReader.from_file(io.BytesIO(data)), package, _part)
    main = package.main_document_part
    if main.content_type != CONTENT_TYPE.WML_DOCUMENT_MAIN:
        raise ValueError(f"its main part is {main.content_type}, not a Word document")
    return main.document


def _metadata(document: Document) -> dict:
    """Title, authors and created day of the core properties, if the file has them and they can be read. python-docx
    would make up a part for a file without one (titled "Word Document"); its `created` is a UTC time
    ('2020-05-17T23:30-08:00' would be the 18th) or 1 January of a year given alone. Here the day is taken as
    written, and only a full one."""
    try:
        part = document.part.package.part_related_by(RELATIONSHIP_TYPE.CORE_PROPERTIES)
    except (KeyError, ValueError):
        return {}
    element = part.element if isinstance(part, CorePropertiesPart) else None  # a plain Part: not XML (`_part`)
    if not isinstance(element, CT_CoreProperties):  # XML, but not core properties
        return {}
    created = element.find(qn("dcterms:created"))
    day = W3CDTF_DAY.match(created.text or "") if created is not None else None
    try:
        date = dt.date.fromisoformat(day.group(1)).isoformat() if day else None
    except ValueError:  # 2020-02-31
        date = None
    authors = tuple(a.strip() for a in (element.author_text or "").split(";") if a.strip())
    return {"title": " ".join((element.title_text or "").split()), "authors": authors, "date": date}


def extract(data: bytes, limit: int) -> Extracted:
    """`limit`: the most bytes the file's parts may take once inflated (a zip bomb is refused before it is read)."""
    if _unpacked_size(data) > limit:
        raise ImportFailure(f"the Word file is over {limit // 2**20} MB once uncompressed (a damaged or hostile "
                            "zip?); split it or raise --max-mb")
    try:
        document = _open(data)
        paragraphs = _texts(document)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError) as exc:
        raise ImportFailure(f"not a Word (.docx) file that can be read, it may be damaged ({exc})") from None
    if not paragraphs:
        raise ImportFailure("the Word file has no text (only pictures or empty paragraphs?); a scanned page needs "
                            "OCR first")
    return Extracted(body="\n\n".join(paragraphs), importer=f"python-docx {version('python-docx')}", **_metadata(document))
