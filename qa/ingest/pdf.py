"""PDF files, page by page with pypdf: the text layer's lines, without the headers, footers and page numbers that
repeat on every page, in paragraphs where the page leaves a blank line; document information as metadata.

pypdf's layout mode is used because it keeps the vertical gaps between paragraphs as blank lines (plain mode runs
every line together); the spaces it adds to keep columns in place are white space, normalised away. A page whose text
operators would make layout mode slow (see `_layout_is_bounded`) is read in plain mode: the same words, fewer breaks."""
from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import pypdf
from pypdf._text_extraction._layout_mode import _fixed_width_page as layout_mode
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError
from pypdf.generic import ArrayObject, IndirectObject, NameObject, TextStringObject

from qa.ingest import ocr
from qa.ingest.extracted import Extracted, ImportFailure
from qa.ingest.pdf_ink import visible

EDGE_LINES = 2  # a header or footer is among the first or last this many lines of a page
REPEATS = 0.5  # ... and recurs there, digits aside, on at least this share of the pages (and on two at least)
PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
# A paragraph carries on to the next page unless its last line ends like a sentence or a heading.
ENDS_PARAGRAPH = re.compile(r"[.!?:;…\"”’)\]]$")
HYPHENATED = re.compile(r"(\w+)-$")
LONGEST_WORD = 100  # a word broken at a line's end is looked for in its last this many characters
WORDS = re.compile(r"\w+")


# pypdf's layout mode pads a gap between two texts with up to 10,000 spaces, or 1,000 blank lines: a small crafted page
# of texts placed far apart became a string of gigabytes. White space is normalised here and one blank line is a
# paragraph break, so a gap needs no more than this (a line of a page is ~100 columns wide). The robust test
# pdf-texts-far-apart fails if a pypdf release renames these.
layout_mode.WHITESPACE_LIMIT = 100
layout_mode.NEWLINE_LIMIT = 1
# Layout mode's time grows with the square of the strings a text object shows between two positioning operators
# (each one's place is recomputed from all before it) and of those on one line of a text object (the line's text is
# copied at each): 10,000 strings in one TJ array took 29 s (0.1 s in plain mode). A printed line shows a few
# hundred strings at most, a page in one text object some thousands.
RUN_STRINGS = 300  # most strings shown between two positioning operators (Td, TD, Tm, T*, ', ", BT) in layout mode
TEXT_OBJECT_STRINGS = 10_000  # most strings one text object (BT ... ET) shows in layout mode
POSITIONING = frozenset((b"Td", b"TD", b"Tm", b"T*", b"'", b'"', b"BT", b"ET"))


ENCRYPTED = "the PDF is encrypted with a password; save an unprotected copy and import that"


def _reader(data: bytes) -> pypdf.PdfReader:
    if b"%%EOF" not in data[-2048:]:  # pypdf would read what it can of a cut-off file: a document missing its end
        raise ImportFailure("the PDF cannot be read, it may be truncated or damaged (it does not end with %%EOF)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ImportFailure(f"the PDF cannot be read, it may be truncated or damaged ({exc})") from None
    if encrypted:
        try:  # a PDF with only an owner password opens with the empty user password, as a viewer opens it
            opened = int(reader.decrypt(""))
        except (DependencyError, FileNotDecryptedError, PdfReadError, NotImplementedError):
            opened = 0
        if not opened:
            raise ImportFailure(ENCRYPTED)
    try:
        len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ImportFailure(f"the PDF cannot be read, it may be truncated or damaged ({exc})") from None
    return reader


def _layout_is_bounded(operations: list) -> bool:
    """Whether the page's text operators stay within RUN_STRINGS and TEXT_OBJECT_STRINGS (counted in the content
    stream as pypdf parses it, strings and kerning numbers of a TJ array alike)."""
    run = in_object = 0
    for operands, operator in operations:
        if operator in POSITIONING:
            run = 0
            in_object = 0 if operator in (b"BT", b"ET") else in_object
        if operator == b"TJ" and operands and isinstance(operands[0], ArrayObject):
            shown = len(operands[0])
        else:
            shown = int(operator in (b"Tj", b"'", b'"'))
        run += shown
        in_object += shown
        if run > RUN_STRINGS or in_object > TEXT_OBJECT_STRINGS:
            return False
    return True


@dataclass
class _Read:
    """The pages' lines, and what was left out of them or read from an OCR layer (page numbers from 1)."""

    pages: list[list[str]] = field(default_factory=list)
    hidden: dict[int, int] = field(default_factory=dict)  # page: strings of text a reader cannot see, left out
    ocr_layer: list[int] = field(default_factory=list)  # pages whose text is an OCR layer over a picture


def _key(page: pypdf.PageObject) -> tuple | None:
    """What makes a page's text: its content streams and its resources, as indirect references (None when either is
    a direct object, which no other page can share)."""
    def ref(value) -> tuple | None:
        if value is None:
            return ()
        if isinstance(value, IndirectObject):
            return (value.idnum, value.generation)
        if isinstance(value, ArrayObject) and all(isinstance(v, IndirectObject) for v in value):
            return tuple((v.idnum, v.generation) for v in value)
        return None
    contents, resources = ref(page.get("/Contents")), ref(page.get("/Resources"))
    parent = ref(page.get("/Parent")) if resources == () else ()  # inherited resources: the parent's
    return None if contents is None or resources is None or parent is None else (contents, resources, parent)


def _paints_picture(page: pypdf.PageObject, operations: list) -> bool:
    """Whether the page draws an image: an inline one, or an image XObject its content names."""
    try:
        resources: Any = page["/Resources"].get_object()
        xobjects: Any = resources["/XObject"].get_object()
        images = {name for name, x in xobjects.items() if x.get_object().get("/Subtype") == "/Image"}
    except (KeyError, AttributeError, TypeError, ValueError, PdfReadError):
        images = set()
    return any(op == b"INLINE IMAGE" or (op == b"Do" and operands and operands[0] in images)
               for operands, op in operations)


def _page_lines(reader: pypdf.PdfReader) -> _Read:
    """Each page's lines, white space inside a line collapsed; '' marks a blank line (a paragraph break). Only
    what a reader sees (qa/ingest/pdf_ink.py). Pages that share their content stream and resources are read once:
    a 34 KB file whose 200 pages show one stream took minutes, each page parsing it again."""
    read = _Read()
    known: dict[tuple, tuple[list[str], int, bool]] = {}
    for number, page in enumerate(reader.pages, start=1):
        key = _key(page)
        if key is None or key not in known:
            try:
                contents = page.get_contents()
                operations = contents.operations if contents is not None else []
                box = tuple(float(v) for v in page.cropbox)
                ink = visible(operations, box, _paints_picture(page, operations))  # type: ignore[arg-type]
                if ink.operations is not None and contents is not None:
                    contents.operations = ink.operations
                    page[NameObject("/Contents")] = contents
                bounded = _layout_is_bounded(ink.operations if ink.operations is not None else operations)
                text = page.extract_text(extraction_mode="layout" if bounded else "plain")
            except Exception as exc:  # pypdf raises many types on a damaged content stream
                raise ImportFailure(f"the PDF cannot be read, it may be truncated or damaged ({exc})") from None
            result = ([" ".join(line.split()) for line in text.split("\n")], ink.hidden, ink.ocr_layer)
            if key is not None:
                known[key] = result
        else:
            result = known[key]
        lines, hidden, ocr_layer = result
        read.pages.append(list(lines))
        if hidden:
            read.hidden[number] = hidden
        if ocr_layer:
            read.ocr_layer.append(number)
    return read


def _shape(line: str) -> str:
    """A line with its digits blanked, so that 'Page 3' and 'Page 4' are the same footer."""
    return re.sub(r"\d+", "#", line)


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the first and last EDGE_LINES non-blank lines."""
    filled = [i for i, line in enumerate(lines) if line]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def _without_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Pages without the lines at their top or bottom that recur on most pages, or that are page numbers."""
    if len(pages) < 2:
        return pages
    recurring = Counter(shape for lines in pages for shape in {_shape(lines[i]) for i in _edges(lines)})
    needed = max(2, REPEATS * len(pages))
    cleaned = []
    for lines in pages:
        drop = {i for i in _edges(lines) if recurring[_shape(lines[i])] >= needed or PAGE_NUMBER.match(lines[i])}
        cleaned.append([line for i, line in enumerate(lines) if i not in drop])
    return cleaned


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def _join_lines(lines: list[str], vocabulary: set[str]) -> str:
    """The lines of a paragraph as one. A word broken with a hyphen at a line end is joined without it only when
    the document also has the joined word unbroken and never the hyphenated one ('exam-' 'ple' -> 'example');
    otherwise the hyphen stays ('well-' 'known' -> 'well-known'), as it may be the word's own."""
    pieces = [lines[0]]  # joined once at the end: adding line by line was quadratic in a paragraph's length
    for line in lines[1:]:
        broken = HYPHENATED.search(pieces[-1][-LONGEST_WORD:])
        rest = WORDS.match(line)
        if broken and rest and line[0].islower():
            joined = broken.group(1) + rest.group()
            compound = f"{broken.group(1)}-{rest.group()}".lower()
            if joined.lower() in vocabulary and compound not in vocabulary:
                pieces[-1] = pieces[-1][:-1]
            pieces.append(line)
        else:
            pieces += [" ", line]
    return "".join(pieces)


def _vocabulary(pages: list[list[str]]) -> set[str]:
    """The words and hyphenated words that occur whole inside lines (not broken at a line end)."""
    words: set[str] = set()
    for lines in pages:
        for line in lines:
            inner = line[:-1] if line.endswith("-") else line
            words.update(w.lower() for w in re.findall(r"\w+(?:-\w+)*", inner))
            words.update(w.lower() for w in WORDS.findall(inner))
    return words


def body_and_pages(pages: list[list[str]]) -> tuple[str, tuple[int, ...]]:
    """The body, and the offset in it where each page's text starts. The body is joined once at the end: adding to
    a string page by page (and searching it for its last character) made 20,000 pages take a minute."""
    vocabulary = _vocabulary(pages)
    paragraphs_so_far: list[list[str]] = []  # each paragraph's pieces, one per page it runs over
    length, starts = 0, []  # the length of the body they make
    for lines in pages:
        paragraphs = [_join_lines(p, vocabulary) for p in _paragraphs(lines)]
        if paragraphs and paragraphs_so_far and not ENDS_PARAGRAPH.search(paragraphs_so_far[-1][-1]) and \
                paragraphs[0][:1].islower():
            starts.append(length + 1)  # the paragraph carries on from the page before
            paragraphs_so_far[-1].append(paragraphs[0])
            length += 1 + len(paragraphs[0])
            paragraphs = paragraphs[1:]
        elif paragraphs and paragraphs_so_far:
            starts.append(length + 2)
        else:
            starts.append(length)
        for paragraph in paragraphs:
            length += len(paragraph) + (2 if paragraphs_so_far else 0)
            paragraphs_so_far.append([paragraph])
    return "\n\n".join(" ".join(pieces) for pieces in paragraphs_so_far), tuple(starts)


PDF_DATE = re.compile(r"^D:\s*(\d{4})(\d{2})(\d{2})")


def _info(reader: pypdf.PdfReader) -> dict:
    """The document information dictionary, or {} when it is missing or not a dictionary."""
    try:
        info = reader.metadata
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return info if isinstance(info, dict) else {}


def _text(info: dict, key: str) -> str:
    """An entry of the document information as text. Only a text string states one: pypdf would make "42" of a
    number, "b'\\xff'" of bytes that are no text and "['a']" of an array."""
    try:
        value = info.get(key)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):  # a reference to a missing object
        return ""
    return " ".join(value.split()) if isinstance(value, TextStringObject) else ""


def _date(info: dict) -> str | None:
    """/CreationDate's day as written ('D:YYYYMMDD…'); None when it states no full, real date (pypdf would take
    'D:2020' for 1 January)."""
    match = PDF_DATE.match(_text(info, "/CreationDate"))
    try:
        return dt.date(*map(int, match.groups())).isoformat() if match else None
    except ValueError:  # 2020-02-31
        return None


def extract(data: bytes) -> Extracted:
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd files are not the user's concern
    reader = _reader(data)
    if not reader.pages:
        raise ImportFailure("the PDF has no pages")
    read = _page_lines(reader)
    body, starts = body_and_pages(_without_furniture(read.pages))
    importer = f"pypdf {version('pypdf')}" + (" (OCR layer)" if read.ocr_layer else "")
    if not WORDS.search(body):  # a scan: its pictures read with OCR
        body, starts = body_and_pages(_without_furniture(ocr.pdf_pages(reader)))
        if not WORDS.search(body):
            raise ImportFailure("the PDF has no text, not even in its pictures read with OCR (blank pages?)")
        importer = ocr.importer()
    info = _info(reader)
    authors = tuple(a.strip() for a in _text(info, "/Author").split(";") if a.strip())
    notes = []
    if read.hidden:
        hidden = sum(read.hidden.values())
        notes.append(f"{hidden:,} piece{'s' if hidden > 1 else ''} of text a reader cannot see left out (white on "
                     f"white, off the page, or invisible with no picture under it) on {_pages(read.hidden)}")
    if read.ocr_layer:
        notes.append(f"the text of {_pages(read.ocr_layer)} is an OCR layer over a scanned picture")
    return Extracted(body=body, importer=importer, title=_text(info, "/Title"), date=_date(info), authors=authors,
                     pages=starts, notes=tuple(notes))


def _pages(numbers) -> str:
    listed = sorted(numbers)
    shown = ", ".join(map(str, listed[:10])) + (f" and {len(listed) - 10:,} more" if len(listed) > 10 else "")
    return f"page{'s' if len(listed) > 1 else ''} {shown}"
