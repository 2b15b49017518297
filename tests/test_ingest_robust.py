"""`qa add` on hostile and odd files (issue 14): each case finishes within its time limit (in a child process, so a
hang is a failure, not a stuck test run), lists every file as added, skipped or failed with a reason that says what
to do, leaves no temporary file or partial document, and what it adds reads back and verifies. Every input is built
here from code."""
from __future__ import annotations

import gzip
import io
import multiprocessing
import os
import resource
import struct
import traceback
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docx
import pypdf
import pytest
from fpdf import FPDF
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, NumberObject, TextStringObject

from qa.corpus.documents import load_corpus
from qa.ingest.containers import squeeze
from qa.ingest.html import _parse, decode, page_text
from qa.ingest.importer import add

TIMEOUT = 20.0  # seconds for one case; the slowest fast case takes about 2 s on a loaded machine

ARTICLE = [
    "The river authority said on Monday that the water level had fallen for the third month in a row, and that "
    "farmers downstream should expect their share to be cut again before the summer.",
    "Engineers have been asked to study whether the old weir can be raised without flooding the meadows on the "
    "north bank, a question the authority has put off for more than a decade.",
    "A public meeting on the plan will be held in the town hall next week, and written comments can be sent to the "
    "authority until the end of the month.",
]
PARAGRAPHS = "".join(f"<p>{p}</p>" for p in ARTICLE)
BODY = "\n\n".join(ARTICLE)


def page(body: str, head: str = "<title>River levels fall again</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def article(inner: str = PARAGRAPHS) -> str:
    return page(f"<article>{inner}</article>")


# ---------------------------------------------------------------------------------------------- PDF builders

def text_pdf(pages: list[list[str]]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        pdf.set_y(30)
        for line in lines:
            pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def rewritten(data: bytes, info: dict | None = None, encrypt: str | None = None) -> bytes:
    """`data` written again by pypdf, with /Info entries replaced by `info` (raw PDF objects) and, if `encrypt`
    is given, encrypted with that user password (RC4, which needs no optional package)."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    if info is not None:
        writer._info.get_object().clear()
        writer._info.get_object().update({NameObject(k): v for k, v in info.items()})
    if encrypt is not None:
        writer.encrypt(user_password=encrypt, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zero_page_pdf() -> bytes:
    out = io.BytesIO()
    pypdf.PdfWriter().write(out)
    return out.getvalue()


def png(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\0" + bytes([200, 30, 30]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def image_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png()), x=20, y=20, w=100)
    return bytes(pdf.output())


def bad_xref_pdf() -> bytes:
    """A PDF whose cross-reference table points at the wrong offsets (as after an editor saved it badly)."""
    data = text_pdf([ARTICLE[:1]])
    start = data.rindex(b"\nxref\n") + 1
    table = data[start:data.index(b"trailer", start)]
    broken = b"\n".join(line[:10].replace(b"0", b"9", 3) + line[10:] if line.endswith(b" n ") else line
                        for line in table.split(b"\n"))
    return data[:start] + broken + data[start + len(table):]


def bad_startxref_pdf() -> bytes:
    data = text_pdf([ARTICLE[:1]])
    at = data.rindex(b"startxref")
    return data[:at] + b"startxref\n999999\n%%EOF\n"


def raw_pdf(content: bytes) -> bytes:
    """A one-page PDF whose page draws `content` (its operators as written, Flate-compressed) in Helvetica /F1."""
    stream = zlib.compress(content, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
               b"/Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return bytes(out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))


WORDS = ("alder birch cedar dogwood elm fir ginkgo hazel iris juniper kale larch maple nettle oak pine quince rowan "
         "sage teak umber vetch willow yew zinnia").split()


def word_of(n: int) -> str:
    """A distinct word for every number (no digits: a line with digits only blanked recurs like a page footer)."""
    out = []
    while True:
        n, r = divmod(n, len(WORDS))
        out.append(WORDS[r])
        if n == 0:
            return "-".join(out)


def many_pages_pdf(n: int) -> bytes:
    return text_pdf([[f"Entry {word_of(k)} of the field log: the {word_of(k + 7)} grove was surveyed."]
                     for k in range(n)])


def far_apart_pdf(n: int) -> bytes:
    """n words on one line, each in its own text object 100,000 units right of the one before: pypdf's layout mode
    padded each gap with 10,000 spaces (20,000 words: a page of 200 million characters from a 100 KB file)."""
    return raw_pdf(b"".join(b"BT /F1 12 Tf %d 700 Td (%s) Tj ET\n" % (k * 100_000, word_of(k).encode())
                            for k in range(n)))


def far_apart_in_one_text_object_pdf(n: int) -> bytes:
    """As far_apart_pdf, but in one text object: layout mode copied the line's text at each word (3,000 words: 30 s)."""
    return raw_pdf(b"BT /F1 12 Tf 72 700 Td " + b"".join(b"(%s) Tj 100000 0 Td " % word_of(k).encode()
                                                         for k in range(n)) + b"ET")


def long_tj_array_pdf(n: int) -> bytes:
    """One TJ array of n words: layout mode recomputed each word's place from all before it (10,000 words: 29 s)."""
    return raw_pdf(b"BT /F1 12 Tf 72 700 Td [" + b"".join(b"(%s ) -120 " % word_of(k).encode() for k in range(n)) +
                   b"] TJ ET")


def words(n: int) -> str:
    return " ".join(map(word_of, range(n)))


# --------------------------------------------------------------------------------------------- Word builders

def make_docx(build: Callable[[docx.document.Document], None]) -> bytes:
    document = docx.Document()
    build(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def table_only(document) -> None:
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Station", (0, 1): "Level", (1, 0): "North weir", (1, 1): "2.4 m"}.items():
        table.cell(r, c).text = text


def image_only(document) -> None:
    document.add_picture(io.BytesIO(png()))


def with_zip_entry(data: bytes, name: str, content: bytes | None) -> bytes:
    """The zip `data` with entry `name` replaced by `content` (None: left out)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != name:
                dst.writestr(item, src.read(item))
        if content is not None:
            dst.writestr(name, content)
    return out.getvalue()


def paragraph_docx(texts: list[str]) -> bytes:
    return make_docx(lambda d: [d.add_paragraph(t) for t in texts])


CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.'
        'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<dc:title>Weir study</dc:title><dc:creator>Ann Writer</dc:creator>'
        '<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created></cp:coreProperties>')


def odd_core_docx(created: str) -> bytes:
    return with_zip_entry(paragraph_docx(ARTICLE), "docProps/core.xml", CORE.format(created=created).encode())


def without_core_properties() -> bytes:
    """A Word file without core properties (no part, no relationship to one), as some converters write it."""
    data = with_zip_entry(paragraph_docx(ARTICLE), "docProps/core.xml", None)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rels = archive.read("_rels/.rels").decode()
    start = rels.rindex("<Relationship ", 0, rels.index("docProps/core.xml"))
    rels = rels[:start] + rels[rels.index("/>", start) + 2:]
    return with_zip_entry(data, "_rels/.rels", rels.encode())


def zip_bomb_docx() -> bytes:
    """A Word file whose document.xml is 200 MB once inflated (200 KB compressed)."""
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
           b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>' + b" " * 200_000_000 +
           b"</w:t></w:r></w:p></w:body></w:document>")
    return with_zip_entry(paragraph_docx(["x"]), "word/document.xml", xml)


# ---------------------------------------------------------------------------------------------------- cases

@dataclass(frozen=True)
class Expect:
    """What `qa add` must say of one file: its status and how its reason starts; for an added file, optionally its
    exact body and metadata."""

    name: str
    status: str
    reason: str = ""
    body: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    files: Callable[[Path], list[Path]]  # builds the inputs in a folder; the paths to give `qa add`
    expect: list[Expect]
    max_mb: float | None = None
    timeout: float = TIMEOUT
    memory_mb: float | None = None  # the most the child may allocate beyond what it had (RLIMIT_AS)


def files(**named: bytes | Callable[[], bytes]) -> Callable[[Path], list[Path]]:
    """Inputs that are plain files, named (a `__` in a keyword is a '.'), given to `qa add` one by one."""
    def build(folder: Path) -> list[Path]:
        paths = []
        for key, data in named.items():
            path = folder / key.replace("__", ".")
            path.write_bytes(data() if callable(data) else data)
            paths.append(path)
        return paths
    return build


def one(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return [path]
    return build


def added(name: str, body: str | None = None, **meta) -> list[Expect]:
    return [Expect(name, "added", body=body, meta=meta)]


def failed(name: str, reason: str) -> list[Expect]:
    return [Expect(name, "failed", reason)]


NO_ARTICLE = "no article text found on the page"
NO_TEXT_LAYER = "the PDF has no text, not even in its pictures read with OCR (blank pages?)"

HTML_CASES = [
    # libxml2 reads 2,048 levels with huge_tree (256 without, and then nothing of the page at all).
    Case("html-nested-2000", one("deep.html", article("<div>" * 2000 + PARAGRAPHS + "</div>" * 2000).encode()),
         added("deep.html", BODY)),
    Case("html-nested-10k", one("deeper.html", article("<div>" * 10_000 + PARAGRAPHS + "</div>" * 10_000).encode()),
         failed("deeper.html", "the page nests its elements more than 2,048 deep, which the HTML parser does not "
                               "read; it cannot be imported whole")),
    Case("html-many-tiny-paragraphs", one("tiny.html", article("".join(
        f"<p>Reading {word_of(k)} was taken at the {word_of(k + 3)} gauge.</p>" for k in range(3000))).encode()),
         added("tiny.html")),
    Case("html-no-body", one("nobody.html", f"<title>River</title>{PARAGRAPHS}".encode()), added("nobody.html", BODY)),
    Case("html-only-script-style", one("script.html", page("<script>var x = 'River levels';</script><style>p {}"
                                                          "</style>").encode()), failed("script.html", NO_ARTICLE)),
    Case("html-meta-charset-lies-latin1-as-utf8",
         one("lie.html", page(PARAGRAPHS.replace("Monday", "Montag, café"), '<meta charset="utf-8">').encode("latin-1")),
         failed("lie.html", "the page is not valid utf-8 (byte 0xe9 at offset")),
    Case("html-latin1-declared", one("latin1.html", page(PARAGRAPHS.replace("Monday", "lundi, café"),
                                                         '<meta charset="iso-8859-1">').encode("latin-1")),
         added("latin1.html", BODY.replace("Monday", "lundi, café"))),
    # Labelled Latin-1, written on Windows: 0x93 and 0x94 are curly quotes (the HTML standard's windows-1252).
    Case("html-latin1-label-windows-quotes", one("quotes.html", page(PARAGRAPHS.replace("Monday", "\u201cMonday\u201d"),
                                                                     '<meta charset="iso-8859-1">').encode("cp1252")),
         added("quotes.html", BODY.replace("Monday", "\u201cMonday\u201d"))),
    Case("html-utf16-bom", one("utf16.html", page(PARAGRAPHS, '<meta charset="utf-16">').encode("utf-16")),
         added("utf16.html", BODY)),
    Case("html-utf8-bom-declares-latin1", one("bom.html", b"\xef\xbb\xbf" + page(
        PARAGRAPHS.replace("Monday", "Montag, café"), '<meta charset="iso-8859-1">').encode()),
         added("bom.html", BODY.replace("Monday", "Montag, café"))),
    Case("html-declares-utf16-without-bom", one("u16.html", page(PARAGRAPHS, '<meta charset="utf-16">').encode()),
         added("u16.html", BODY)),
    Case("html-unknown-charset", one("x.html", page(PARAGRAPHS, '<meta charset="klingon-8">').encode()),
         failed("x.html", "the page declares an unknown character set 'klingon-8'")),
    Case("html-binary-as-html", one("pic.html", png()),
         failed("pic.html", "not UTF-8, and the page declares no other character set (byte 0x89 at offset 0); if it "
                            "is a web page, save it again as UTF-8")),
    Case("html-nul-bytes", one("nul.html", article(PARAGRAPHS.replace(" third", "\0 third")).encode()),
         added("nul.html", BODY)),
    Case("html-control-characters", one("ctl.html", article(PARAGRAPHS.replace(" third", "\x01\x1b third")).encode()),
         added("ctl.html")),
    Case("html-javascript-base-and-canonical", one("js.html", page(
        f"<article>{PARAGRAPHS}</article>", '<base href="javascript:alert(1)"><link rel="canonical" '
        'href="javascript:alert(1)"><meta property="og:url" content="javascript:alert(2)">'
        '<title>River levels</title>').encode()), added("js.html", BODY, url=None)),
    Case("html-huge-attributes", one("attr.html", article(
        f'<div class="{"x" * 2_000_000}" style="{"color:red;" * 100_000}" data-x="{"y " * 500_000}">'
        f'{PARAGRAPHS}</div>').encode()), added("attr.html", BODY), timeout=60),  # 4 s of trafilatura's own, and a
    # worker spawned afresh (this test's forked child cannot use the fork server its parent started)
    Case("html-article-twice", one("twice.html", article(PARAGRAPHS + PARAGRAPHS).encode()), added("twice.html")),
    # trafilatura leaves tables out, but its fallback extractors take a page that is nothing else.
    Case("html-tables-only", one("table.html", page("<table>" + "".join(
        f"<tr><td>{word_of(k)} gauge</td><td>{k} cm</td></tr>" for k in range(40)) + "</table>").encode()),
         added("table.html")),
    Case("html-frameset", one("frames.html", b'<html><head><title>Site</title></head><frameset cols="20%,80%">'
                                             b'<frame src="menu.html"><frame src="story.html"></frameset></html>'),
         failed("frames.html", "the page is a frameset: its text is in the files of its frames (menu.html, "
                               "story.html); import those")),
    Case("xhtml-namespaces", one("x.xhtml.html", (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
        '"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" '
        'xmlns:svg="http://www.w3.org/2000/svg" xml:lang="en"><head><title>River</title></head><body><article>'
        f'{PARAGRAPHS}<svg:svg><svg:text>chart</svg:text></svg:svg></article></body></html>').encode()),
         added("x.xhtml.html", BODY)),
    Case("xhtml-latin1-xml-declaration", one("xl.html", (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>R'
        f'</title></head><body><article>{PARAGRAPHS.replace("Monday", "lundi, café")}</article></body></html>')
        .encode("latin-1")), added("xl.html", BODY.replace("Monday", "lundi, café"))),
    Case("html-gz-not-gzip", one("page.html.gz", article().encode()),
         failed("page.html.gz", "the compressed page cannot be read (")),
    Case("html-gz-truncated", one("cut.html.gz", gzip.compress(article().encode())[:60]),
         failed("cut.html.gz", "the compressed page cannot be read (")),
    Case("html-gz-bomb", one("bomb.html.gz", lambda: gzip.compress(b"<p>" + b"a" * 3 * 2**20, compresslevel=1)),
         failed("bomb.html.gz", "the page is over 1 MB once uncompressed; split it or raise --max-mb"), max_mb=1),
    Case("html-json-ld-deep", one("ld.html", page(f"<article>{PARAGRAPHS}</article>", '<title>R</title><script '
                                                  'type="application/ld+json">' + "[" * 100_000 + "</script>").encode()),
         added("ld.html", BODY)),
    Case("html-odd-dates", one("date.html", page(f"<article>{PARAGRAPHS}</article>", '<title>R</title><meta '
                                                 'property="article:published_time" content="2019-13-45T99:99">')
                                .encode()), added("date.html", BODY, date=None)),
    Case("html-empty-tags", one("empty.html", b"<html><head></head><body></body></html>"),
         failed("empty.html", NO_ARTICLE)),
    Case("html-comment-only", one("comment.html", b"<!-- nothing here -->"),
         failed("comment.html", "the file holds no HTML that can be read")),
]

PDF_CASES = [
    Case("pdf-zero-pages", one("none.pdf", zero_page_pdf()), failed("none.pdf", "the PDF has no pages")),
    Case("pdf-only-images", one("img.pdf", image_pdf()), failed("img.pdf", NO_TEXT_LAYER)),
    Case("pdf-info-odd-types", one("info.pdf", lambda: rewritten(text_pdf([ARTICLE[:1]]), {
        "/Title": NumberObject(42), "/Author": ByteStringObject(b"\xff\xfe\x00"),
        "/CreationDate": TextStringObject("last Tuesday")})),
        added("info.pdf", ARTICLE[0], title="", authors=(), date=None)),
    Case("pdf-info-date-number", one("num.pdf", lambda: rewritten(text_pdf([ARTICLE[:1]]), {
        "/Title": TextStringObject("Weir study"), "/Author": NumberObject(7), "/CreationDate": NumberObject(2020)})),
        added("num.pdf", ARTICLE[0], title="Weir study", authors=(), date=None)),
    Case("pdf-info-year-only", one("year.pdf", lambda: rewritten(text_pdf([ARTICLE[:1]]), {
        "/CreationDate": TextStringObject("D:2020")})), added("year.pdf", ARTICLE[0], date=None)),
    Case("pdf-info-local-date", one("tz.pdf", lambda: rewritten(text_pdf([ARTICLE[:1]]), {
        "/CreationDate": TextStringObject("D:20200517233000-08'00'"), "/Title": TextStringObject(" Weir\n study "),
        "/Author": TextStringObject("Ann Writer; ;Bo Reader")})),
        added("tz.pdf", ARTICLE[0], date="2020-05-17", title="Weir study", authors=("Ann Writer", "Bo Reader"))),
    Case("pdf-info-array-author", one("arr.pdf", lambda: rewritten(text_pdf([ARTICLE[:1]]), {
        "/Author": ArrayObject([TextStringObject("Ann Writer")]), "/Title": NameObject("/Report")})),
        added("arr.pdf", ARTICLE[0], title="", authors=())),
    Case("pdf-info-impossible-date", one("feb.pdf", lambda: rewritten(text_pdf([ARTICLE[:1]]), {
        "/CreationDate": TextStringObject("D:20200231000000Z")})), added("feb.pdf", ARTICLE[0], date=None)),
    Case("pdf-empty-user-password", one("owner.pdf", lambda: rewritten(text_pdf([ARTICLE[:1]]), encrypt="")),
         added("owner.pdf", ARTICLE[0])),
    Case("pdf-malformed-xref", one("xref.pdf", bad_xref_pdf), added("xref.pdf", ARTICLE[0])),
    Case("pdf-startxref-past-end", one("sx.pdf", bad_startxref_pdf), added("sx.pdf", ARTICLE[0])),
    Case("pdf-not-a-pdf", one("fake.pdf", b"%PDF-1.4\nnothing else\n%%EOF\n"),
         failed("fake.pdf", "the PDF cannot be read, it may be truncated or damaged (")),
    Case("pdf-300-pages", one("log.pdf", lambda: many_pages_pdf(300)), added("log.pdf")),
    # pypdf's layout mode made 200 million characters (over 400 MB) of this page; its gaps are capped now. All but
    # the first word start off the page (100,000 units apart), so no reader sees them: they are left out
    # (qa/ingest/pdf_ink.py), before layout mode would have padded the gaps.
    Case("pdf-texts-far-apart", one("far.pdf", lambda: far_apart_pdf(20_000)), added("far.pdf", words(1)),
         memory_mb=300),
    Case("pdf-texts-far-apart-one-text-object", one("line.pdf", lambda: far_apart_in_one_text_object_pdf(3_000)),
         added("line.pdf", words(1)), memory_mb=300),
    # Over 300 strings without a positioning operator: read in plain mode (0.4 s; layout mode took 29 s).
    Case("pdf-long-tj-array", one("tj.pdf", lambda: long_tj_array_pdf(10_000)), added("tj.pdf", words(10_000)),
         memory_mb=300),
]

DOCX_CASES = [
    Case("docx-no-document-xml", one("nodoc.docx", lambda: with_zip_entry(paragraph_docx(ARTICLE), "word/document.xml",
                                                                          None)),
         failed("nodoc.docx", "not a Word (.docx) file that can be read, it may be damaged (")),
    Case("docx-plain-zip", one("zip.docx", lambda: with_zip_entry(b"PK\x05\x06" + b"\0" * 18, "notes.txt", b"hi")),
         failed("zip.docx", "not a Word (.docx) file that can be read, it may be damaged (")),
    Case("docx-malformed-xml", one("xml.docx", lambda: with_zip_entry(paragraph_docx(ARTICLE), "word/document.xml",
                                                                      b"<w:document><unclosed")),
         failed("xml.docx", "not a Word (.docx) file that can be read, it may be damaged (")),
    Case("docx-core-date-words", one("date.docx", lambda: odd_core_docx("last Tuesday")),
         added("date.docx", BODY, title="Weir study", authors=("Ann Writer",), date=None)),
    Case("docx-core-date-impossible", one("feb.docx", lambda: odd_core_docx("2020-02-31T10:00:00Z")),
         added("feb.docx", BODY, date=None)),
    Case("docx-core-date-offset", one("tz.docx", lambda: odd_core_docx("2020-05-17T23:30:00-08:00")),
         added("tz.docx", BODY, date="2020-05-17")),  # the day as written (python-docx's UTC time is the 18th)
    Case("docx-core-year-only", one("year.docx", lambda: odd_core_docx("2003")), added("year.docx", BODY, date=None)),
    Case("docx-no-core-properties", one("nocore.docx", without_core_properties),
         added("nocore.docx", BODY, title="", authors=(), date=None)),  # not python-docx's made-up "Word Document"
    # A damaged core part states no metadata; the body is imported all the same.
    Case("docx-core-malformed", one("core.docx", lambda: with_zip_entry(paragraph_docx(ARTICLE), "docProps/core.xml",
                                                                        b"<cp:coreProperties")),
         added("core.docx", BODY, title="", authors=(), date=None)),
    Case("docx-core-binary", one("bin.docx", lambda: with_zip_entry(paragraph_docx(ARTICLE), "docProps/core.xml", png())),
         added("bin.docx", BODY, title="", authors=(), date=None)),
    Case("docx-core-other-xml", one("other.docx", lambda: with_zip_entry(paragraph_docx(ARTICLE), "docProps/core.xml",
                                                                         b"<title>Weir study</title>")),
         added("other.docx", BODY, title="", authors=(), date=None)),
    # Only the core properties are optional: another part that is not XML is a damaged file.
    Case("docx-styles-malformed", one("styles.docx", lambda: with_zip_entry(paragraph_docx(ARTICLE), "word/styles.xml",
                                                                            b"<w:styles")),
         failed("styles.docx", "not a Word (.docx) file that can be read, it may be damaged (")),
    Case("docx-tables-only", one("t.docx", lambda: make_docx(table_only)),
         added("t.docx", "Station\n\nLevel\n\nNorth weir\n\n2.4 m")),
    Case("docx-images-only", one("pic.docx", lambda: make_docx(image_only)),
         failed("pic.docx", "the Word file has no text (only pictures or empty paragraphs?); a scanned page needs "
                            "OCR first")),
    Case("docx-zip-bomb", one("bomb.docx", zip_bomb_docx),
         failed("bomb.docx", "the Word file is over 50 MB once uncompressed (a damaged or hostile zip?); split it "
                             "or raise --max-mb")),
]

TEXT_CASES = [
    Case("txt-empty", one("empty.txt", b""), failed("empty.txt", "the text file is empty")),
    Case("txt-whitespace", one("ws.txt", b" \t\r\n\n\x0c\xc2\xa0 \n"), failed("ws.txt", "the text file is empty")),
    Case("txt-crlf", one("crlf.txt", "\r\n\r\n".join(ARTICLE).replace(", ", ",\r\n").encode()),
         added("crlf.txt", BODY)),
    Case("txt-nul-byte", one("nul.txt", ARTICLE[0].encode().replace(b" third", b"\0 third")),
         failed("nul.txt", "the file holds NUL bytes (offset ")),
    Case("txt-utf16-without-bom", one("u16.txt", ARTICLE[0].encode("utf-16-le")),
         failed("u16.txt", "the file holds NUL bytes (offset 1)")),
    Case("txt-utf16-bom", one("bom.txt", "\n\n".join(ARTICLE).encode("utf-16")), added("bom.txt", BODY)),
    Case("txt-control-characters", one("ctl.txt", ("\x1b[1m" + ARTICLE[0] + "\x07\x0b\x0c\x1c\u2028\x85" +
                                                   ARTICLE[1]).encode()), added("ctl.txt")),
    Case("txt-latin1", one("l1.txt", "Caf\u00e9".encode("latin-1")),
         failed("l1.txt", "not UTF-8 text (byte 0xe9 at offset 3); save the file as UTF-8 and import it again")),
    Case("txt-long-line", one("line.txt", lambda: b"word " * 800_000), added("line.txt")),
    Case("txt-over-document-limit", one("huge.txt", lambda: b"word " * 1_100_000),
         failed("huge.txt", "its document does not read back from the corpus format (")),
    Case("md-empty", one("e.md", b""), failed("e.md", "the text file is empty")),
    Case("md-dashes-no-closing", one("rule.md", b"---\n\nA note under a rule, with no front matter.\n"),
         added("rule.md", "---\n\nA note under a rule, with no front matter.")),
    Case("md-long-rule", one("long.md", b"----------\n\nA note under a long rule.\n---\n"),
         added("long.md", "----------\n\nA note under a long rule. ---")),
    Case("md-front-matter-list", one("list.md", b"---\n- a\n- b\n---\n\nText.\n"),
         failed("list.md", "not a corpus document: list.md: front matter must be YAML fields (key: value)")),
    Case("md-front-matter-scalar", one("scalar.md", b"---\njust words\n---\n\nText.\n"),
         failed("scalar.md", "not a corpus document: scalar.md: front matter must be YAML fields (key: value)")),
    Case("md-yaml-bomb", one("bomb.md", ("---\nid: bomb\ntitle: T\npublisher: P\na: &a [x, x, x, x, x, x, x, x, x]\n" +
                                         "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in
                                                 zip("abcdefgh", "bcdefghi")) + "---\n\nText.\n").encode()),
         failed("bomb.md", "not a corpus document: bomb.md: front matter uses an anchor or alias (&name or *name, "
                           "line 4); write each value out in full")),
    Case("md-front-matter-deep", one("deep.md", b"---\nid: d\ntitle: T\npublisher: P\nx: " + b"[" * 50_000 +
                                     b"\n---\n\nText.\n"), failed("deep.md", "not a corpus document: deep.md: ")),
    Case("md-utf16-front-matter", one("u16.md", "---\nid: u16\ntitle: T\npublisher: P\n---\n\nA UTF-16 note.\n"
                                                .encode("utf-16")), added("u16.md", "A UTF-16 note.", id="u16", title="T")),
    Case("md-nul-byte", one("nul.md", b"A note\0 with a NUL byte.\n"), failed("nul.md", "the file holds NUL bytes")),
    Case("md-front-matter-crlf", one("crlf.md", b"---\r\nid: crlf\r\ntitle: T\r\npublisher: P\r\n---\r\n\r\nText "
                                                b"of a note.\r\n"), added("crlf.md", "Text of a note.")),
]


def _fifo(folder: Path, name: str) -> Path:
    os.mkfifo(folder / name)
    return folder / name


def name_cases() -> list[Case]:
    def unicode_names(folder: Path) -> list[Path]:
        for name in ("Café über 東京.txt", "東京.txt", "a b.txt", "a-b.txt", "a_b!.txt"):
            (folder / name).write_text(f"A note called {name}.", encoding="utf-8")
        return [folder]

    def not_utf8_name(folder: Path) -> list[Path]:
        path = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9 menu.txt"))  # a Latin-1 name from an old archive
        path.write_text("A note with a Latin-1 name.", encoding="utf-8")
        return [path]

    def long_name(folder: Path) -> list[Path]:
        path = folder / ("n" * 251 + ".txt")
        path.write_text("A note with a very long name.", encoding="utf-8")
        return [path]

    def symlink_loop(folder: Path) -> list[Path]:
        (folder / "a.txt").write_text("A note beside a loop.", encoding="utf-8")
        os.symlink("loop.txt", folder / "loop.txt")
        os.symlink(".", folder / "again")
        os.symlink("..", folder / "up")
        return [folder]

    def unreadable(folder: Path) -> list[Path]:
        path = folder / "locked.txt"
        path.write_text("A note nobody may read.", encoding="utf-8")
        path.chmod(0)
        return [path]

    def fifo_in_folder(folder: Path) -> list[Path]:
        (folder / "a.txt").write_text("A note beside a pipe.", encoding="utf-8")
        _fifo(folder, "pipe.txt")
        return [folder]

    def named_fifo(folder: Path) -> list[Path]:
        return [_fifo(folder, "pipe.html")]

    def folder_like_file(folder: Path) -> list[Path]:
        (folder / "report.pdf").mkdir()
        (folder / "report.pdf" / "inside.txt").write_text("A note inside a folder named like a PDF.", encoding="utf-8")
        (folder / "empty.txt").mkdir()
        return [folder / "report.pdf", folder / "empty.txt"]

    def dangling(folder: Path) -> list[Path]:
        os.symlink("gone.txt", folder / "link.txt")
        return [folder / "link.txt"]

    readable = os.geteuid() == 0  # root reads a file whatever its mode
    return [
        Case("names-unicode-and-collisions", unicode_names,
             [Expect("Café über 東京.txt", "added", meta={"id": "Caf-ber"}), Expect("a b.txt", "added", meta={"id": "a-b"}),
              Expect("a-b.txt", "added", meta={"id": "a-b-2"}), Expect("a_b!.txt", "added", meta={"id": "a_b"}),
              Expect("東京.txt", "added", meta={"id": "document"})]),
        Case("names-not-utf8", not_utf8_name,
             [Expect(os.fsdecode(b"caf\xe9 menu.txt"), "added", meta={"id": "caf-menu", "source_file": "caf\ufffd menu.txt"})]),
        Case("names-very-long", long_name, [Expect("n" * 251 + ".txt", "added", meta={"id": "n" * 80})]),
        Case("names-symlink-loop", symlink_loop,
             [Expect("a.txt", "added"),
              Expect("again", "skipped", "a symbolic link to a folder: not followed; name the folder itself"),
              Expect("loop.txt", "skipped", "a symbolic link to nothing (or to itself)"),
              Expect("up", "skipped", "a symbolic link to a folder: not followed; name the folder itself")]),
        Case("names-unreadable", unreadable,
             added("locked.txt") if readable else failed("locked.txt", "cannot be read (Permission denied); check "
                                                                           "that the file may be read")),
        Case("names-fifo-in-folder", fifo_in_folder,
             [Expect("a.txt", "added"), Expect("pipe.txt", "skipped", "a named pipe (FIFO), not a file")]),
        Case("names-named-fifo", named_fifo, failed("pipe.html", "a named pipe (FIFO), not a file")),
        Case("names-folder-named-like-a-file", folder_like_file,
             [Expect("inside.txt", "added"),
              Expect("empty.txt", "skipped", "no files in this folder (hidden ones are left out)")]),
        Case("names-dangling-link", dangling, failed("link.txt", "a symbolic link to nothing (or to itself)")),
    ]


CASES = HTML_CASES + PDF_CASES + DOCX_CASES + TEXT_CASES + name_cases()

# Large files, each a few seconds (the timings: on the 2-core machine, with other jobs running).
SLOW_CASES = [
    # 20 MB of one paragraph: extracted in about 6 s, then over max_document_bytes (5 MB) as a document.
    Case("html-20mb-one-paragraph", one("big.html", lambda: article("<p>" + "The river rose again. " * 900_000 +
                                                                    "</p>").encode()),
         failed("big.html", "its document does not read back from the corpus format (big.md: over 5,000,000 bytes"),
         timeout=60),
    Case("html-4mb-one-paragraph", one("long.html", lambda: article("<p>" + "The river rose again. " * 180_000 +
                                                                    "</p>").encode()),
         added("long.html", " ".join(["The river rose again."] * 180_000)), timeout=60),
    # 20,000 paragraphs: 1.7 s (4.5 s when each was searched for from the page's start).
    Case("html-20k-paragraphs", one("tiny.html", lambda: article("".join(
        f"<p>Reading {word_of(k)} was taken at the {word_of(k + 3)} gauge.</p>" for k in range(20_000))).encode()),
         added("tiny.html"), timeout=60),
    # 20,000 pages: 8 s (58 s when the body grew page by page).
    Case("pdf-20k-pages", one("log.pdf", lambda: many_pages_pdf(20_000)), added("log.pdf"), timeout=90),
    Case("docx-20k-paragraphs", one("big.docx", lambda: paragraph_docx(
        [f"Paragraph {word_of(k)} of a long report on the weir." for k in range(20_000)])), added("big.docx"),
         timeout=60),
]


def _limit_memory(extra_mb: float) -> None:
    """Let this process allocate at most `extra_mb` more address space than it has (a MemoryError past it)."""
    with open("/proc/self/status", encoding="ascii") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + int(extra_mb * 2**20), resource.getrlimit(resource.RLIMIT_AS)[1]))


def _run_add(paths: list[Path], corpus: Path, max_mb: float | None, timeout: float = TIMEOUT,
             memory_mb: float | None = None) -> list[tuple[str, str, str, str | None]]:
    """`add` in a forked child: (file name, status, reason, id) per outcome; a hang, an exception or (with
    `memory_mb`) more memory than that fails the case."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            if memory_mb is not None:
                _limit_memory(memory_mb)
            report = add(paths, corpus, max_mb, progress=False)
            send.send([(Path(o.file).name, o.status, o.reason, o.doc_id) for o in report.outcomes])
        except BaseException:  # the parent reports it as the case's failure
            send.send(traceback.format_exc())

    process = context.Process(target=child)
    process.start()
    try:
        if not receive.poll(timeout):
            pytest.fail(f"qa add did not finish within {timeout:g} s")
        result = receive.recv()
    finally:
        process.kill()
        process.join()
    if isinstance(result, str):
        pytest.fail(f"qa add raised:\n{result}")
    return result


def _check_added(doc, source: Path, expect: Expect) -> None:
    if expect.body is not None:
        assert doc.body == expect.body
    for name, value in expect.meta.items():
        assert getattr(doc, name) == value, name
    assert doc.source_file == os.fsencode(source.name).decode("utf-8", errors="replace")
    data = source.read_bytes()
    if source.suffix == ".html":  # every paragraph verbatim on its page, as the page shows it
        shown, at = page_text(_parse(decode(data))), 0
        for paragraph in map(squeeze, doc.body.split("\n\n")):  # from the one before, else anywhere: linear
            found = shown.find(paragraph, at)
            at = found if found >= 0 else shown.find(paragraph)
            assert at >= 0, paragraph
    elif doc.importer.startswith("Python "):  # a text file or note: the file's words, in its order
        text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8")
        assert squeeze(doc.body) == squeeze(text)


@pytest.mark.parametrize("case", CASES + [pytest.param(c, marks=pytest.mark.slow) for c in SLOW_CASES],
                         ids=[c.id for c in CASES + SLOW_CASES])
def test_hostile_file(tmp_path, case):
    inputs = tmp_path / "in"
    inputs.mkdir()
    corpus = tmp_path / "corpus"
    paths = case.files(inputs)
    outcomes = _run_add(paths, corpus, case.max_mb, case.timeout, case.memory_mb)
    assert [(name, status) for name, status, _, _ in outcomes] == [(e.name, e.status) for e in case.expect]
    for (_, _, reason, _), expect in zip(outcomes, case.expect):
        assert reason.startswith(expect.reason), reason
        assert "please report this as a bug" not in reason  # each case is handled, not caught by the safety net
    # Nothing half-written: only the documents added, each a corpus document that loads.
    ids = sorted(doc_id for _, status, _, doc_id in outcomes if status == "added")
    assert sorted(p.name for p in corpus.iterdir()) == sorted(f"{i}.md" for i in ids)
    documents = {d.id: d for d in load_corpus(corpus)} if ids else {}
    assert sorted(documents) == ids
    sources = {p.name: p for p in inputs.rglob("*") if p.is_file()}
    for (name, status, _, doc_id), expect in zip(outcomes, case.expect):
        if status == "added":
            _check_added(documents[doc_id], sources[name], expect)


def test_hostile_folder_from_the_command_line(tmp_path):
    """`python -m qa add` over a folder of such files: every file listed, exit status 1, no traceback."""
    import subprocess
    import sys
    folder = tmp_path / "in"
    folder.mkdir()
    files(bad__pdf=b"%PDF-1.4\n%%EOF\n", deep__html=article("<div>" * 2000 + PARAGRAPHS + "</div>" * 2000).encode(),
          nul__txt=b"a\0b", good__txt=b"A good note.")(folder)
    _fifo(folder, "pipe.txt")
    run = subprocess.run([sys.executable, "-m", "qa", "add", str(folder), "--corpus", str(tmp_path / "corpus")],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert run.stdout.startswith("added 2, skipped 1, failed 2\n")
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["deep.md", "good.md"]


def test_a_file_that_cannot_be_read_is_listed(tmp_path, monkeypatch):
    """As root a file's mode does not stop reading it (the names-unreadable case), so the refusal is simulated."""
    import qa.ingest.importer as importer
    locked = tmp_path / "locked.txt"
    locked.write_text("A note nobody may read.", encoding="utf-8")
    (tmp_path / "open.txt").write_text("A note anybody may read.", encoding="utf-8")
    real_open = os.open

    def refusing_open(path, flags, *args):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)
    monkeypatch.setattr(importer.os, "open", refusing_open)
    report = add([tmp_path], tmp_path / "corpus", progress=False)
    assert [(Path(o.file).name, o.status, o.reason) for o in report.outcomes] == [
        ("locked.txt", "failed", "cannot be read (Permission denied); check that the file may be read"),
        ("open.txt", "added", "")]
