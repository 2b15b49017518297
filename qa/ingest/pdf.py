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
from importlib.metadata import version

import pypdf
from pypdf._text_extraction._layout_mode import _fixed_width_page as layout_mode
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError
from pypdf.generic import ArrayObject, TextStringObject

from qa.ingest.extracted import Extracted, ImportFailure

EDGE_LINES = 2  # a header or footer is among the first or last this many lines of a page
REPEATS = 0.5  # ... and recurs there, digits aside, on at least this share of the pages (and on two at least)
PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?$", re.IGNORECASE)
# A paragraph carries on to the next page unless its last line ends like a sentence or a heading.
ENDS_PARAGRAPH = re.compile(r"[.!?:;…\"”’)\]]$")
HYPHENATED = re.compile(r"(\w+)-$")
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


def _layout_is_bounded(page: pypdf.PageObject) -> bool:
    """Whether the page's text operators stay within RUN_STRINGS and TEXT_OBJECT_STRINGS (counted in the content
    stream as pypdf parses it, strings and kerning numbers of a TJ array alike)."""
    contents = page.get_contents()
    run = in_object = 0
    for operands, operator in contents.operations if contents is not None else ():
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


def _page_lines(reader: pypdf.PdfReader) -> list[list[str]]:
    """Each page's lines, white space inside a line collapsed; '' marks a blank line (a paragraph break)."""
    pages = []
    for page in reader.pages:
        try:
            text = page.extract_text(extraction_mode="layout" if _layout_is_bounded(page) else "plain")
        except Exception as exc:  # pypdf raises many types on a damaged content stream
            raise ImportFailure(f"the PDF cannot be read, it may be truncated or damaged ({exc})") from None
        pages.append([" ".join(line.split()) for line in text.split("\n")])
    return pages


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
    text = lines[0]
    for line in lines[1:]:
        broken = HYPHENATED.search(text)
        rest = WORDS.match(line)
        if broken and rest and line[0].islower():
            joined = broken.group(1) + rest.group()
            compound = f"{broken.group(1)}-{rest.group()}".lower()
            text = text[:-1] + line if joined.lower() in vocabulary and compound not in vocabulary else text + line
        else:
            text = f"{text} {line}"
    return text


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
    pages = _without_furniture(_page_lines(reader))
    body, starts = body_and_pages(pages)
    if not WORDS.search(body):
        raise ImportFailure("the PDF has no text layer (a scanned document?); run OCR on it and import the result")
    info = _info(reader)
    authors = tuple(a.strip() for a in _text(info, "/Author").split(";") if a.strip())
    return Extracted(body=body, importer=f"pypdf {version('pypdf')}", title=_text(info, "/Title"), date=_date(info),
                     authors=authors, pages=starts)
