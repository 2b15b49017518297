"""Import fidelity (issue 25): what a Word file shows and only that; every character of a web page's paragraph kept
or the paragraph reported; dates and URLs only as the page states them about itself; the fallback that never loses
an article; files that cost too much stopped in the worker; runs side by side; odd names and claims. Every file is
made here: Word files from python-docx with raw WordprocessingML, pages as HTML text."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from test_ingest import NEWS, NEWS_HEAD, only_doc, write

from qa.corpus.documents import load_corpus
from qa.ingest.docx import extract as docx_extract
from qa.ingest.html import extract as html_extract
from qa.ingest.importer import TEMPORARY, add
from qa.ingest.worker import Limits

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
WPS = 'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
V = 'xmlns:v="urn:schemas-microsoft-com:vml"'
LIMIT = 50 * 2**20
VANISH_OFF, VANISH_FALSE, SECRET = "<w:vanish w:val='0'/>", "<w:vanish w:val='false'/>", "<w:rStyle w:val='Secret'/>"


@pytest.fixture
def corpus(tmp_path) -> Path:
    return tmp_path / "corpus"


def run(text: str, props: str = "") -> str:
    return f'<w:r>{f"<w:rPr>{props}</w:rPr>" if props else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'


def word(*paragraphs: str, styles: str = "") -> bytes:
    """A Word file whose body is these raw paragraph (or table, content control ...) elements; `styles`: raw
    w:style elements added to its styles part."""
    document = docx.Document()
    body = document.element.body
    for xml in paragraphs:
        body.insert(len(body) - 1, parse_xml(xml.replace("<w:p>", f"<w:p {W}>", 1) if xml.startswith("<w:p>")
                                             else xml.replace(">", f" {W}>", 1)))
    if styles:
        root = document.styles.element
        for style in parse_xml(f"<w:styles {W}>{styles}</w:styles>"):
            root.append(style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# Each case: raw body elements, and the body Word shows.
WORD_CASES = [
    ("tracked insertion", [f"<w:p>{run('The four officers were ')}<w:ins w:id='1' w:author='E' w:date='2020-01-01T00:00:00Z'>"
                           f"{run('not ')}</w:ins>{run('charged.')}</w:p>"], "The four officers were not charged."),
    ("tracked deletion", [f"<w:p>{run('The officers were ')}<w:del w:id='1' w:author='E' w:date='2020-01-01T00:00:00Z'>"
                          f"<w:r><w:delText>never </w:delText></w:r></w:del>{run('charged.')}</w:p>"],
     "The officers were charged."),
    ("moved text", ["<w:p>" + run("Kept. ") + "<w:moveFrom w:id='1' w:author='E' w:date='2020-01-01T00:00:00Z'>"
                    + run("Moved away. ") + "</w:moveFrom><w:moveTo w:id='2' w:author='E' w:date='2020-01-01T00:00:00Z'>"
                    + run("Moved here.") + "</w:moveTo></w:p>"], "Kept. Moved here."),
    ("hidden run", [f"<w:p>{run('Shown. ')}{run('Hidden words. ', '<w:vanish/>')}{run('Shown again.')}</w:p>"],
     "Shown. Shown again."),
    ("vanish switched off", [f"<w:p>{run('Shown. ')}{run('Also shown.', VANISH_OFF)}</w:p>"],
     "Shown. Also shown."),
    ("hidden paragraph", [f"<w:p>{run('A hidden note.', '<w:vanish/>')}</w:p>", f"<w:p>{run('The text.')}</w:p>"],
     "The text."),
    ("inline content control", [f"<w:p>{run('Signed by ')}<w:sdt><w:sdtPr/><w:sdtContent>{run('Dana Roe')}"
                                f"</w:sdtContent></w:sdt>{run('.')}</w:p>"], "Signed by Dana Roe."),
    ("block content control", [f"<w:sdt><w:sdtPr/><w:sdtContent><w:p>{run('Inside a control.')}</w:p></w:sdtContent>"
                               "</w:sdt>"], "Inside a control."),
    ("simple field", [f"<w:p>{run('Page ')}<w:fldSimple w:instr=' PAGE '>{run('7')}</w:fldSimple>{run(' of the report.')}"
                      "</w:p>"], "Page 7 of the report."),
    ("complex field", ["<w:p>" + run("See ") + "<w:r><w:fldChar w:fldCharType='begin'/></w:r><w:r><w:instrText> REF x "
                       "</w:instrText></w:r><w:r><w:fldChar w:fldCharType='separate'/></w:r>" + run("section 4")
                       + "<w:r><w:fldChar w:fldCharType='end'/></w:r>" + run(".") + "</w:p>"], "See section 4."),
    ("smart tag and custom XML", ["<w:p>" + run("Met in ") + "<w:smartTag w:uri='u' w:element='place'>" + run("Astana")
                                  + "</w:smartTag>" + run(" on ") + "<w:customXml w:element='date'>" + run("Monday")
                                  + "</w:customXml>" + run(".") + "</w:p>"], "Met in Astana on Monday."),
    ("hyperlink", [f"<w:p>{run('Read ')}<w:hyperlink w:anchor='a'>{run('the report')}</w:hyperlink>{run('.')}</w:p>"],
     "Read the report."),
    ("table cell in a control, merged cells once", [
        "<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"
        f"<w:tr><w:tc><w:tcPr><w:vMerge w:val='restart'/></w:tcPr><w:p>{run('Merged')}</w:p></w:tc>"
        f"<w:sdt><w:sdtContent><w:tc><w:p>{run('In a control')}</w:p></w:tc></w:sdtContent></w:sdt></w:tr>"
        f"<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p>{run('Below')}</w:p></w:tc></w:tr></w:tbl>"],
     "Merged\n\nIn a control\n\nBelow"),
    ("text box, its fallback copy once", [
        f"<w:p>{run('The report says:')}<w:r><mc:AlternateContent {MC}><mc:Choice Requires='wps'><w:drawing>"
        f"<wps:txbx {WPS}><w:txbxContent><w:p>{run('Forty-two were detained.')}</w:p></w:txbxContent></wps:txbx>"
        f"</w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape {V}><v:textbox><w:txbxContent><w:p>"
        f"{run('Forty-two were detained.')}</w:p></w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
        f"</mc:AlternateContent></w:r></w:p>", f"<w:p>{run('After the box.')}</w:p>"],
     "The report says:\n\nForty-two were detained.\n\nAfter the box."),
    ("legacy text box, and a box inside a box", [
        f"<w:p><w:r><w:pict><v:shape {V}><v:textbox><w:txbxContent><w:p>{run('Outer box.')}<w:r><w:pict>"
        f"<v:shape {V}><v:textbox><w:txbxContent><w:p>{run('Inner box.')}</w:p></w:txbxContent></v:textbox>"
        f"</v:shape></w:pict></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"],
     "Outer box.\n\nInner box."),
    ("deleted and hidden text boxes", [
        f"<w:p>{run('Kept.')}<w:del w:id='1' w:author='E' w:date='2020-01-01T00:00:00Z'><w:r><w:pict><v:shape {V}>"
        f"<v:textbox><w:txbxContent><w:p>{run('A deleted box.')}</w:p></w:txbxContent></v:textbox></v:shape>"
        f"</w:pict></w:r></w:del><w:r><w:rPr><w:vanish/></w:rPr><w:pict><v:shape {V}><v:textbox><w:txbxContent>"
        f"<w:p>{run('A hidden box.')}</w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"], "Kept."),
    ("deleted table row", [
        "<w:tbl><w:tblGrid><w:gridCol/></w:tblGrid>"
        f"<w:tr><w:tc><w:p>{run('Kept row')}</w:p></w:tc></w:tr>"
        "<w:tr><w:trPr><w:del w:id='1' w:author='E' w:date='2020-01-01T00:00:00Z'/></w:trPr>"
        f"<w:tc><w:p>{run('Deleted row')}</w:p></w:tc></w:tr></w:tbl>"], "Kept row"),
]


@pytest.mark.parametrize("elements, body", [c[1:] for c in WORD_CASES], ids=[c[0] for c in WORD_CASES])
def test_word_text_as_word_shows_it(elements, body):
    assert docx_extract(word(*elements), LIMIT).body == body


def test_word_hidden_by_style():
    """A character style, or a paragraph style through the style it is based on, that hides its text."""
    styles = ("<w:style w:type='character' w:styleId='Secret'><w:rPr><w:vanish/></w:rPr></w:style>"
              "<w:style w:type='paragraph' w:styleId='HiddenBase'><w:rPr><w:vanish/></w:rPr></w:style>"
              "<w:style w:type='paragraph' w:styleId='HiddenNote'><w:basedOn w:val='HiddenBase'/></w:style>")
    data = word(f"<w:p>{run('Shown. ')}{run('Secret.', SECRET)}</w:p>",
                f"<w:p><w:pPr><w:pStyle w:val='HiddenNote'/></w:pPr>{run('A hidden note.')}</w:p>",
                f"<w:p><w:pPr><w:pStyle w:val='HiddenNote'/></w:pPr>{run('Unhidden.', VANISH_FALSE)}</w:p>",
                styles=styles)
    assert docx_extract(data, LIMIT).body == "Shown.\n\nUnhidden."


def test_word_spans_and_merges_cost_nothing():
    """A cell that claims two billion columns, and 2,000 rows merged vertically (python-docx made 2,000 nested calls,
    then a RecursionError): each cell element is read once."""
    span = ("<w:tbl><w:tblGrid><w:gridCol/></w:tblGrid><w:tr><w:tc><w:tcPr><w:gridSpan w:val='2147483647'/></w:tcPr>"
            f"<w:p>{run('Wide cell')}</w:p></w:tc></w:tr></w:tbl>")
    rows = "".join(f"<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p>{run(f'Row {n}')}</w:p></w:tc></w:tr>"
                   for n in range(2000))
    merge = ("<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid><w:tr><w:tc><w:tcPr><w:vMerge w:val='restart'/>"
             f"</w:tcPr><w:p>{run('Top')}</w:p></w:tc><w:tc><w:p>{run('Row start')}</w:p></w:tc></w:tr>{rows}</w:tbl>")
    started = time.perf_counter()
    body = docx_extract(word(span, merge), LIMIT).body
    assert time.perf_counter() - started < 10
    assert body.split("\n\n")[:4] == ["Wide cell", "Top", "Row start", "Row 0"]
    assert body.split("\n\n")[-1] == "Row 1999"


# ---------------------------------------------------------------------------------------------------- web pages

# Each invisible or composing character inside an article's paragraph: trafilatura drops it (or composes the
# accent), so the paragraph was no longer verbatim on the page and vanished. It is kept, with the page's characters.
CHARACTERS = [
    ("decomposed accent", "Cafe\u0301"), ("zero-width joiner", "\U0001F468\u200d\U0001F469"),
    ("zero-width non-joiner", "zw\u200cnj"), ("zero-width space", "zero\u200bwidth"), ("soft hyphen", "inter\u00adnational"),
    ("left-to-right mark", "a \u200e b"), ("right-to-left mark", "\u200fhello"), ("isolates", "\u2066iso\u2069"),
    ("byte order mark inside", "bo\ufeffm"), ("word joiner", "wo\u2060rd"),
]


def page(paragraphs: list[str], head: str = NEWS_HEAD, extra: str = "") -> bytes:
    return (head + extra + "<article>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>").encode()


@pytest.mark.parametrize("chars", [c[1] for c in CHARACTERS], ids=[c[0] for c in CHARACTERS])
def test_every_character_of_a_paragraph_kept(tmp_path, corpus, chars):
    special = f"The council heard the {chars} question again, as it has every year since the old bridge was closed."
    data = page([NEWS[0], special, *NEWS[1:]])
    report = add([write(tmp_path / "in", {"news.html": data}) / "news.html"], corpus)
    assert [(o.status, o.reason) for o in report.outcomes] == [("added", "")]
    assert only_doc(corpus).body == "\n\n".join([NEWS[0], special, *NEWS[1:]])


@pytest.mark.parametrize("charset, outcome", [
    ("utf-7", "the page declares the character set 'utf-7', which browsers do not decode"),
    ("UTF-32", "the page declares the character set 'utf-32', which browsers do not decode"),
    ("cp037", "the page declares the character set 'cp037', which browsers do not decode"),
    ("windows-874", None), ("koi8-r", None), ("x-mac-cyrillic", None),
])
def test_only_charsets_browsers_decode(charset, outcome):
    data = f'<html><head><meta charset="{charset}"></head><body><article>'.encode() + \
        "".join(f"<p>{p}</p>" for p in NEWS).encode("ascii") + b"</article></body></html>"
    if outcome is None:
        assert html_extract(data).body == "\n\n".join(NEWS)
    else:
        with pytest.raises(Exception, match=outcome):
            html_extract(data)


CAPTION = ("<figure><img src='/2017/03/28/photo.jpg'><figcaption>This March 28, 2017, file photo shows the old "
           "bridge.</figcaption></figure>")


@pytest.mark.parametrize("head, date", [
    ('<meta property="article:published_time" content="2019-04-02T10:00:00-04:00">', "2019-04-02"),
    ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2019-04-02"}</script>',
     "2019-04-02"),
    ("", None),  # the caption's date and the picture's path are not the page's
], ids=["meta", "json-ld", "only a caption"])
def test_date_only_as_the_page_states_it(head, date):
    data = f"<html><head><title>Bridge</title>{head}</head><body><article>{CAPTION}".encode() + \
        "".join(f"<p>{p}</p>" for p in NEWS).encode() + b"</article></body></html>"
    assert html_extract(data).date == date


def test_date_from_time_elements_outside_figures():
    data = ("<html><head><title>Bridge</title></head><body><article><figure><time datetime='2017-03-28'>March 28, 2017"
            "</time></figure><p>By Ann Writer, <time datetime='2019-04-02T08:00'>April 2</time></p>"
            + "".join(f"<p>{p}</p>" for p in NEWS) + "</article></body></html>").encode()
    assert html_extract(data).date == "2019-04-02"


@pytest.mark.parametrize("head, url", [
    ('<link rel="canonical" href="https://valleypost.example/bridge">', "https://valleypost.example/bridge"),
    ('<meta property="og:url" content="https://valleypost.example/og">', "https://valleypost.example/og"),
    ('<link rel="canonical" href="/relative">', None),
])
def test_url_only_as_the_page_states_it(head, url):
    data = (f"<html><head><title>Bridge</title>{head}</head><body><article>"
            "<p>See <a href='https://other.example/story'>https://other.example/story</a>.</p>"
            + "".join(f"<p>{p}</p>" for p in NEWS) + "</article></body></html>").encode()
    assert html_extract(data).url == url


def test_the_fallback_never_loses_an_article(tmp_path, corpus):
    """Every paragraph in an `article` nested in another (the markup of comments and teasers), which rule 9 drops:
    the rules leave nothing, so trafilatura's default paragraphs are taken, and the summary says so."""
    data = page([], extra="<article class='outer'><article class='inner'>" +
                "".join(f"<p>{p}</p>" for p in NEWS) + "</article></article>")
    report = add([write(tmp_path / "in", {"news.html": data}) / "news.html"], corpus)
    words = sum(len(p.split()) for p in NEWS)
    assert [(o.status, o.reason) for o in report.outcomes] == [
        ("added", f"trafilatura's default paragraphs: the page-structure rules kept 0 of its {words} words")]
    assert only_doc(corpus).body == "\n\n".join(NEWS)


# ------------------------------------------------------------------------------------------ cost and faults

def test_a_file_past_its_time_is_stopped_and_the_rest_go_on(tmp_path, corpus):
    slow = page([f"Paragraph {n} of a long page, with words enough to be text." for n in range(20_000)])
    folder = write(tmp_path / "in", {"a-slow.html": slow, "b-fine.txt": b"A short note that is fine."})
    report = add([folder], corpus, limits=Limits(seconds=0.5))
    assert [(Path(o.file).name, o.status, o.reason) for o in report.outcomes] == [
        ("a-slow.html", "failed", "reading it took more than 0.5 s, so it was stopped (a damaged or hostile file?); "
                                  "raise --max-seconds to try again"),
        ("b-fine.txt", "added", "")]
    assert [d.id for d in load_corpus(corpus)] == ["b-fine"]


def test_a_file_past_its_memory_is_stopped(tmp_path, corpus):
    big = page([f"Paragraph {n}: " + "words of a large page. " * 100 for n in range(4000)])  # 9 MB, imported whole
    report = add([write(tmp_path / "in", {"big.html": big}) / "big.html"], corpus, limits=Limits(memory_mb=100))
    assert [(o.status, o.reason.split(";")[0]) for o in report.outcomes] == [
        ("failed", "reading it needs more than the 100 MB of memory a file may use (a damaged or hostile file?)")]
    assert not list(corpus.iterdir())


def test_temporary_files_of_a_killed_run_are_removed(tmp_path, corpus):
    corpus.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = corpus / f"{TEMPORARY}{dead.stdout.strip()}-x1.tmp"
    working = corpus / f"{TEMPORARY}{os.getpid()}-x2.tmp"  # a run at work: this process
    for path in (left, working):
        path.write_text("half a document")
    add([write(tmp_path / "in", {"a.txt": b"A note."}) / "a.txt"], corpus)
    assert sorted(p.name for p in corpus.iterdir()) == sorted(["a.md", working.name])


ADD_ONE_BY_ONE = """
import sys
from pathlib import Path
from qa.ingest.importer import add
folder, corpus = Path(sys.argv[1]), Path(sys.argv[2])
for path in sorted(folder.iterdir()):
    report = add([path], corpus, progress=False)
    print(report.outcomes[0].status, report.outcomes[0].doc_id)
"""


def test_two_runs_at_once_never_share_an_id(tmp_path, corpus):
    """Two `add` runs at once, each importing 20 files named as the other's (note-00.txt ...), with different texts:
    every text is a document, each with its own id."""
    for run_no in (1, 2):
        write(tmp_path / f"in{run_no}", {f"note-{n:02d}.txt": f"Run {run_no}, note {n}: a text of its own.".encode()
                                         for n in range(20)})
    runs = [subprocess.Popen([sys.executable, "-c", ADD_ONE_BY_ONE, str(tmp_path / f"in{n}"), str(corpus)],
                             stdout=subprocess.PIPE, text=True) for n in (1, 2)]
    outputs = [r.communicate(timeout=300)[0].split("\n") for r in runs]
    assert all(r.returncode == 0 for r in runs)
    ids = [line.split()[1] for out in outputs for line in out if line]
    assert len(ids) == 40 and len(set(ids)) == 40
    bodies = sorted(d.body for d in load_corpus(corpus))
    assert bodies == sorted(f"Run {r}, note {n}: a text of its own." for r in (1, 2) for n in range(20))


def test_a_name_with_a_line_break_is_one_line_of_the_summary(tmp_path, corpus):
    name = "a\n  added   forged.txt -> forged.txt"
    report = add([write(tmp_path / "in", {name: b"A note."}) / name], corpus)
    lines = report.summary().split("\n")
    assert lines == ["added 1, skipped 0, failed 0",
                     f"  added   {tmp_path}/in/a\\u000a  added   forged.txt -> forged.txt -> a-added-forged.txt---forged"]


def test_a_claimed_digest_never_skips_another_file(tmp_path, corpus):
    """A note whose front matter claims the digest of a file about to be imported: that file is imported."""
    import hashlib
    real = b"The real report, with its own words."
    claim = ("---\nid: claim\ntitle: A claim\npublisher: Me\nsource_file: report.txt\nsource_sha256: "
             f"{hashlib.sha256(real).hexdigest()}\nimported: '2026-01-01T00:00:00+00:00'\nimporter: hand\n---\n\n"
             "Other words entirely.\n").encode()
    folder = write(tmp_path / "in", {"a-claim.md": claim, "b-report.txt": real})
    report = add([folder], corpus)
    assert [(o.status, o.doc_id) for o in report.outcomes] == [("added", "claim"), ("added", "b-report")]
    again = add([folder / "b-report.txt"], corpus)
    assert [(o.status, o.reason) for o in again.outcomes] == [("skipped", "the same file (sha256) as document b-report")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only folder")
def test_remove_from_a_read_only_corpus_is_one_line(tmp_path, corpus, cli):
    add([write(tmp_path / "in", {"a.txt": b"A note."}) / "a.txt"], corpus)
    corpus.chmod(0o555)
    try:
        code, out, err = cli("remove", "a", "--corpus", str(corpus))
    finally:
        corpus.chmod(0o755)
    assert (code, err.strip()) == (2, "error: cannot remove a.md (Permission denied); the corpus folder may be "
                                      "read-only: check its permissions")


# ---------------------------------------------------------------------------------------------------------- PDFs

SEEN = ["The commission met in March to review the water quotas.", "Farmers said the quotas were unfair."]
SHOWN = " ".join(SEEN)  # one paragraph: no blank line between them


def pdf_with(draw) -> bytes:
    """A one-page PDF with the SEEN lines, and whatever `draw(pdf)` adds after them."""
    from fpdf import FPDF
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.set_y(30)
    for line in SEEN:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    draw(pdf)
    return bytes(pdf.output())


def white(pdf) -> None:
    pdf.set_text_color(255, 255, 255)
    pdf.text(20, 80, "Hidden keywords for search engines.")


def white_on_dark(pdf) -> None:
    pdf.set_fill_color(0, 0, 80)
    pdf.rect(15, 72, 150, 12, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.text(20, 80, "A banner in white on blue.")


def off_page(pdf) -> None:
    pdf.text(-400, 80, "Text placed left of the page.")
    pdf.text(20, 900, "Text placed below the page.")


def invisible(pdf) -> None:
    from fpdf.enums import TextMode
    pdf.text_mode = TextMode.INVISIBLE
    pdf.text(20, 80, "Invisible words with no picture under them.")


def ocr_layer(pdf) -> None:
    from fpdf.enums import TextMode
    from PIL import Image
    pdf.image(Image.new("L", (200, 40), 200), x=20, y=70, w=100)
    pdf.text_mode = TextMode.INVISIBLE
    pdf.text(20, 80, "The words of the scanned picture.")


PDF_CASES = [
    ("white on white", white, [SHOWN], "1 piece of text a reader cannot see left out (white on white, off the page, or "
                                    "invisible with no picture under it) on page 1"),
    ("white on a dark box", white_on_dark, [SHOWN, "A banner in white on blue."], ""),
    ("off the page", off_page, [SHOWN], "2 pieces of text a reader cannot see left out (white on white, off the page, "
                                     "or invisible with no picture under it) on page 1"),
    ("invisible, no picture", invisible, [SHOWN], "1 piece of text a reader cannot see left out (white on white, off "
                                               "the page, or invisible with no picture under it) on page 1"),
    ("OCR layer over a picture", ocr_layer, [SHOWN, "The words of the scanned picture."],
     "the text of page 1 is an OCR layer over a scanned picture"),
]


@pytest.mark.parametrize("draw, body, reason", [c[1:] for c in PDF_CASES], ids=[c[0] for c in PDF_CASES])
def test_pdf_text_a_reader_cannot_see(tmp_path, corpus, draw, body, reason):
    report = add([write(tmp_path / "in", {"water.pdf": pdf_with(draw)}) / "water.pdf"], corpus)
    assert [(o.status, o.reason) for o in report.outcomes] == [("added", reason)]
    assert only_doc(corpus).body == "\n\n".join(body)


def test_pdf_pages_sharing_one_content_stream_are_read_once(tmp_path):
    """200 pages that all show one content stream of 500 lines (a small file, as the stream is stored once)."""
    import pypdf
    from fpdf import FPDF
    from pypdf.generic import NameObject
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", size=2)
    for n in range(500):
        pdf.text(10, 10 + n * 0.5, f"Line {n} of the shared stream.")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(bytes(pdf.output()))))
    first = writer.pages[0]
    for _ in range(199):
        page = writer.add_blank_page(width=first.mediabox.width, height=first.mediabox.height)
        page[NameObject("/Contents")] = first.raw_get("/Contents")
        page[NameObject("/Resources")] = first.raw_get("/Resources")
    out = io.BytesIO()
    writer.write(out)
    from qa.ingest.pdf import extract as pdf_extract
    started = time.perf_counter()
    extracted = pdf_extract(out.getvalue())
    assert time.perf_counter() - started < 60
    assert extracted.pages is not None and len(extracted.pages) == 200
    assert extracted.body.count("Line 250 of the shared stream.") == 200  # (the first and last two: headers, footers)


def test_a_passage_across_a_page_break_cites_both_pages(tmp_path):
    """The PDF's last paragraph runs from page 2 onto page 3: its passage says "pp. 2–3"; one on page 2 "p. 2"."""
    from conftest import WordHashEncoder
    from test_ingest import imported_settings

    from qa import QA
    from qa.verify import verify
    settings = imported_settings(tmp_path)
    answer = QA(settings, WordHashEncoder()).ask("When will the commission meet again to hear the farmers' appeal?")
    documents = {d.id: d for d in load_corpus(settings.corpus_dir)}
    assert verify(answer, documents, settings=settings) == []
    cited = {p.text[:20]: (p.page, p.last_page, p.citation.rsplit(", ", 1)[1]) for p in answer.passages
             if p.doc_id == "water"}
    assert cited["A well-known enginee"] == (2, 3, "pp. 2–3")
    assert all(pages == (2, 2, "p. 2") for text, pages in cited.items() if text == "The town council dis")


ENGINEER = "What did the well-known engineer say about the quota system?"
ENGINEER_CITED = "“Valley water report”, 2020-05-17, by Ann Writer, Bo Reader, file water.pdf, p. 2 (quote pp. 2–3)"


@pytest.mark.parametrize("pages, marked, shown", [
    ((None, None), (None, None), ""), ((2, 2), (2, 2), ", p. 2"), ((1, 2), (1, 2), ", pp. 1–2"),
    ((1, 2), (None, None), ", pp. 1–2"), ((1, 2), (2, 2), ", p. 2 (quote pp. 1–2)"),
    ((1, 2), (1, 1), ", p. 1 (quote pp. 1–2)"), ((1, 4), (2, 3), ", pp. 2–3 (quote pp. 1–4)")])
def test_the_highlights_page_comes_first_when_the_quote_spans_more(pages, marked, shown):
    from qa.answer.model import pages_cited
    assert pages_cited(*pages, *marked) == shown


def test_a_quote_across_a_break_is_cited_at_its_highlights_page_on_screen_in_copies_and_exports(tmp_path):
    """The engineer's sentence is on page 2, its paragraph runs onto page 3: "p. 2 (quote pp. 2–3)" wherever the
    citation is shown, and verify checks it."""
    from dataclasses import replace

    from conftest import WordHashEncoder
    from test_ingest import imported_settings

    from qa import QA
    from qa.answer.export import Asked, answer_text, export, quote_text
    from qa.present import Turn, conversation_html
    from qa.terminal import print_answer
    from qa.verify import verify
    settings = imported_settings(tmp_path)
    answer = QA(settings, WordHashEncoder()).ask(ENGINEER)
    first = answer.passages[0]
    assert (first.text[:20], first.page, first.last_page, first.highlight_page, first.highlight_last_page) == (
        "A well-known enginee", 2, 3, 2, 2)
    assert first.citation == ENGINEER_CITED
    documents = {d.id: d for d in load_corpus(settings.corpus_dir)}
    assert verify(answer, documents, settings=settings) == []
    out = io.StringIO()
    print_answer(answer, out)
    shown = [conversation_html([Turn(ENGINEER, answer)]), quote_text(first), answer_text(answer), out.getvalue(),
             answer.to_markdown().replace("\\", ""), *(export([Asked(answer, None)], fmt) for fmt in ("md", "csv", "json"))]
    assert all("file water.pdf, p. 2 (quote pp. 2–3)" in text for text in shown)
    forged = replace(first, highlight_page=3, highlight_last_page=3,
                     citation=ENGINEER_CITED.replace("p. 2 (quote", "p. 3 (quote"))
    assert verify(replace(answer, passages=[forged, *answer.passages[1:]]), documents, settings=settings)[:2] == [
        f"passage 1 ({first.passage_id}): highlighted pages 3 to 3 are not the pages 2 to 2 its highlighted sentences "
        "are on", f"passage 1 ({first.passage_id}): citation {forged.citation!r} is not the one built from water's "
        "metadata"]


@pytest.mark.slow  # the real model, through the CLI's entry point
def test_the_cli_cites_the_highlights_page_first(tmp_path, monkeypatch, capsys):
    from test_ingest import imported_settings

    from qa.cli import main
    settings = imported_settings(tmp_path)
    monkeypatch.setenv("QA_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("QA_MIN_PASSAGE_WORDS", "8")
    assert main(["ask", ENGINEER]) == 0
    assert ENGINEER_CITED in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------------------- OCR

@pytest.mark.slow
@pytest.mark.parametrize("language", ["English", "Russian"])
def test_a_scanned_pdf_is_read_with_ocr(tmp_path, corpus, language):
    """A page of known text drawn as a picture at 300 dpi, in a PDF with no text layer: Tesseract reads it with at
    most 1 % of its characters wrong, and every passage's citation says "OCR"."""
    from qa.answer.model import citation, place
    from qa_tools.ocr_cer import TEXTS, cer, scanned_pdf
    report = add([write(tmp_path / "in", {"scan.pdf": scanned_pdf(TEXTS[language])}) / "scan.pdf"], corpus)
    assert [o.status for o in report.outcomes] == ["added"]
    doc = only_doc(corpus)
    assert doc.importer.startswith("Tesseract 5") and "(OCR, eng+rus+kaz)" in doc.importer
    assert cer(" ".join(TEXTS[language]), doc.body) <= 0.01
    assert len(doc.body.split("\n\n")) == len(TEXTS[language])
    assert place(doc, 0, len(doc.body)) == (1, 1, True)
    assert citation(doc, page=1, last_page=1, ocr=True) == f"scan.pdf, {doc.date}, p. 1, OCR"


@pytest.mark.slow
def test_a_picture_is_read_with_ocr(tmp_path, corpus):
    import pypdf

    from qa_tools.ocr_cer import TEXTS, cer, scanned_pdf
    picture = next(iter(pypdf.PdfReader(io.BytesIO(scanned_pdf(TEXTS["English"][:1]))).pages[0].images)).image
    png = io.BytesIO()
    picture.save(png, format="PNG")
    report = add([write(tmp_path / "in", {"page.png": png.getvalue()}) / "page.png"], corpus)
    assert [o.status for o in report.outcomes] == ["added"]
    assert cer(TEXTS["English"][0], only_doc(corpus).body) <= 0.01


def test_a_long_class_attribute_costs_no_backtracking():
    """One pattern over the whole attribute took 0.8 s for 8,000 characters, growing with their cube."""
    classes = " ".join(["hover" * 20_000, "a" * 100_000, "x-tooltip"])
    data = (f"{NEWS_HEAD}<article>" + "".join(f'<p class="{classes if n == 0 else "text"}">{p}</p>'
                                               for n, p in enumerate(NEWS)) + "</article></body></html>").encode()
    started = time.perf_counter()
    body = html_extract(data).body
    assert time.perf_counter() - started < 10
    assert body == "\n\n".join(NEWS[1:])  # the first paragraph's class names a tooltip: hidden
