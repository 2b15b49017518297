"""Word files (.docx) with python-docx: the body's paragraphs, table cells and text boxes in document order; the core
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
from lxml.etree import XMLSyntaxError

from qa.ingest.extracted import Extracted, ImportFailure

W3CDTF_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:T|\s*$)")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Elements that wrap a document's content without being content: content controls, custom XML, smart tags, and
# (around runs) insertions, fields and hyperlinks. Their runs are what Word shows.
WRAPPERS = {f"{W}{tag}" for tag in ("sdt", "sdtContent", "customXml", "smartTag", "ins", "moveTo", "fldSimple",
                                    "hyperlink")}
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
DELETED = {f"{W}del", f"{W}moveFrom"}  # tracked deletions and moves away: not shown in the current text
OFF = {"0", "false", "off"}
MAX_NESTING = 64  # tables inside tables (and content controls around them) deeper than this are refused


def _on(element) -> bool:
    """A w:vanish (or other toggle property) present and not switched off."""
    return element is not None and element.get(f"{W}val", "true").lower() not in OFF


def hidden_styles(styles) -> set[str]:
    """Ids of the styles whose run properties hide text (w:vanish), themselves or through the styles they are
    based on."""
    if styles is None:
        return set()
    own: dict[str, bool | None] = {}
    based: dict[str, str] = {}
    for style in styles.iter(f"{W}style"):
        sid = style.get(f"{W}styleId", "")
        vanish = style.find(f"{W}rPr/{W}vanish")
        own[sid] = None if vanish is None else _on(vanish)
        parent = style.find(f"{W}basedOn")
        if parent is not None:
            based[sid] = parent.get(f"{W}val", "")
    hidden = set()
    for sid in own:
        seen, at = set(), sid
        while at in own and at not in seen and own[at] is None:  # inherited: the nearest style that says
            seen.add(at)
            at = based.get(at, "")
        if own.get(at):
            hidden.add(sid)
    return hidden


class _Reader:
    """The text Word shows, paragraph by paragraph: runs inside insertions, content controls, fields, smart tags and
    custom XML; not deleted or moved-away runs, nor hidden ones (w:vanish, on the run or its style); a table's cells
    row by row, each cell element once (a merged cell's continuations are empty cells of their own), so that spans
    and merges cost nothing however large they claim to be."""

    def __init__(self, hidden: set[str]):
        self.hidden = hidden
        self.texts: list[str] = []

    def blocks(self, parent, depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise ImportFailure(f"its tables are nested more than {MAX_NESTING} deep, which no reader shows; it "
                                "may be damaged or hostile")
        for child in parent:
            if child.tag == f"{W}p":
                self.paragraph(child, depth)
            elif child.tag == f"{W}tbl":
                for row in self._within(child, f"{W}tr"):
                    if row.find(f"{W}trPr/{W}del") is None:  # a deleted row
                        for cell in self._within(row, f"{W}tc"):
                            merge = cell.find(f"{W}tcPr/{W}vMerge")
                            if merge is None or merge.get(f"{W}val") == "restart":
                                self.blocks(cell, depth + 1)
            elif child.tag in WRAPPERS:
                self.blocks(child, depth + 1)

    def _within(self, parent, tag: str, depth: int = 0):
        """`parent`'s children of `tag`, also inside content controls and custom XML around them."""
        for child in parent:
            if child.tag == tag:
                yield child
            elif child.tag in WRAPPERS and depth < MAX_NESTING:
                yield from self._within(child, tag, depth + 1)

    def paragraph(self, p, depth: int = 0) -> None:
        style = p.find(f"{W}pPr/{W}pStyle")
        paragraph_hidden = style is not None and style.get(f"{W}val") in self.hidden
        pieces = []
        for run in p.iter(f"{W}r"):
            if self._shown(run, p, paragraph_hidden):
                pieces += [self._text(item) for item in run]
        text = " ".join("".join(pieces).split())
        if text:
            self.texts.append(text)
        # Text boxes anchored in this paragraph are shown: their paragraphs follow it, unless the run that holds the
        # box is deleted or hidden.
        for box in p.iter(f"{W}txbxContent"):
            run = next(box.iterancestors(f"{W}r"), None)
            if self._anchored(box, p) and run is not None and self._shown(run, p, paragraph_hidden):
                self.blocks(box, depth + 1)

    @staticmethod
    def _anchored(box, p) -> bool:
        """Whether text box `box` belongs to paragraph `p` itself (not to a box inside it), and is the copy Word
        reads: a box drawn for newer readers (mc:Choice) comes with the same box for older ones (mc:Fallback), which
        is skipped when the choice is there."""
        for ancestor in box.iterancestors():
            if ancestor is p:
                return True
            if ancestor.tag == f"{W}p":
                return False
            if ancestor.tag == f"{MC}Fallback" and ancestor.getparent().find(f"{MC}Choice") is not None:
                return False
        return False

    def _shown(self, run, p, paragraph_hidden: bool) -> bool:
        for ancestor in run.iterancestors():
            if ancestor is p:
                break
            if ancestor.tag in DELETED or ancestor.tag == f"{W}p":  # deleted, or a text box's own paragraph
                return False
        vanish = run.find(f"{W}rPr/{W}vanish")
        if vanish is not None:
            return not _on(vanish)
        style = run.find(f"{W}rPr/{W}rStyle")
        return not (paragraph_hidden or (style is not None and style.get(f"{W}val") in self.hidden))

    @staticmethod
    def _text(item) -> str:
        if item.tag == f"{W}t":
            return item.text or ""
        if item.tag in (f"{W}tab", f"{W}br", f"{W}cr"):
            return " "
        if item.tag == f"{W}noBreakHyphen":
            return "-"
        return ""  # run properties, field characters and instructions (w:instrText), deleted text, pictures


def _texts(document: Document) -> list[str]:
    """The paragraphs Word shows, in document order, white space collapsed (`_Reader`)."""
    try:
        styles = getattr(document.part.part_related_by(RELATIONSHIP_TYPE.STYLES), "element", None)
    except KeyError:  # no styles part: no style hides anything
        styles = None
    reader = _Reader(hidden_styles(styles))
    reader.blocks(document.element.body)
    return reader.texts


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
