"""`qa add`, `qa list`, `qa remove`: real PDF, Word, HTML and text files made from known text, broken ones, and
questions over the corpus they make."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import platform
import shutil
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import docx
import lxml.html
import pypdf
import pytest
import yaml
from conftest import ROOT, WordHashEncoder
from fpdf import FPDF

from qa import QA, Settings
from qa.cli import main
from qa.corpus.documents import load_corpus, page_at
from qa.corpus.passages import split_document
from qa.ingest.html import HtmlOptions, is_furniture, is_pitch, page_text, squeeze
from qa.ingest.html import extract as html_extract
from qa.ingest.importer import add, describe, remove
from qa.verify import verify
from qa_tools.extraction import BENCHMARK

HEADER = "Valley Water Commission - Report 2020"
# Three pages of known lines; '' is a blank line (a paragraph break). Page 2 ends mid-sentence, so its paragraph
# carries on to page 3. "regu-" "lation" is joined (the document has "regulation" elsewhere); "well-" "known" and
# "sys-" "tem" keep their hyphens (neither "wellknown" nor "system" occurs unbroken).
PDF_PAGES = [
    ["Water rights in the valley", "",
     "The commission met in March to review how water is shared", "between the farms of the valley and the town.", "",
     "Farmers said the new quotas were unfair and that the regu-", "lation had been written without them."],
    ["The town council disagreed. It said the regulation protects", "the river in dry years.", "",
     "A well-", "known engineer said the quota sys-", "tem would not hold in a drought. Nothing was decided,"],
    ["and the commission will meet again in June to hear the", "farmers' appeal."],
]
PDF_BODY = (
    "Water rights in the valley\n\n"
    "The commission met in March to review how water is shared between the farms of the valley and the town.\n\n"
    "Farmers said the new quotas were unfair and that the regulation had been written without them.\n\n"
    "The town council disagreed. It said the regulation protects the river in dry years.\n\n"
    "A well-known engineer said the quota sys-tem would not hold in a drought. Nothing was decided, "
    "and the commission will meet again in June to hear the farmers' appeal."
)
# Each sentence of the PDF and the page it starts on.
PDF_SENTENCES = [
    ("Water rights in the valley", 1),
    ("The commission met in March", 1),
    ("Farmers said the new quotas were unfair and that the regulation had been written without them.", 1),
    ("The town council disagreed.", 2),
    ("It said the regulation protects the river in dry years.", 2),
    ("A well-known engineer said the quota sys-tem would not hold in a drought.", 2),
    ("and the commission will meet again in June", 3),
]
CREATED = dt.datetime(2020, 5, 17, 10, 30, tzinfo=dt.UTC)


def make_pdf(pages: list[list[str]], header: str | None = HEADER, footer: bool = True, title: str = "Valley water report",
             author: str = "Ann Writer; Bo Reader") -> bytes:
    """A PDF with each page's lines, a header repeated on every page and a 'Page N of M' footer."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=11)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creation_date(CREATED)
    for lines in pages:
        pdf.add_page()
        if header:
            pdf.set_y(12)
            pdf.cell(text=header, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(35)
        for line in lines:
            if line:
                pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.ln(6)
        if footer:
            pdf.set_y(-20)
            pdf.cell(text=f"Page {pdf.page_no()} of {len(pages)}")
    return bytes(pdf.output())


def blank_pdf(draw: bool) -> bytes:
    """A one-page PDF with no text: a drawn rectangle (as a scan's picture would be), or nothing at all."""
    pdf = FPDF()
    pdf.add_page()
    if draw:
        pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(PDF_PAGES))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Notes from the hearing", level=1)
    document.add_paragraph("The hearing opened at nine.  Twelve farmers spoke.")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Speaker", (0, 1): "Minutes", (1, 0): "Dana Roe", (1, 1): "14"}.items():
        table.cell(r, c).text = text
    document.add_paragraph("The chair closed the hearing at noon.")
    props = document.core_properties
    props.title, props.author, props.created = "Hearing notes", "Cam Lee", CREATED
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX_BODY = ("Notes from the hearing\n\nThe hearing opened at nine. Twelve farmers spoke.\n\nSpeaker\n\nMinutes\n\n"
             "Dana Roe\n\n14\n\nThe chair closed the hearing at noon.")

# The example archive's web page (docs/example-archive, shown in the README): furniture around three paragraphs.
ARTICLE_HTML = (ROOT / "docs" / "example-archive" / "dam-plan.html").read_text(encoding="utf-8")
ARTICLE_BODY = (
    "The regional government has shelved its plan to build a dam on the river after weeks of protests by farmers "
    "who feared losing their land and their water.\n\n"
    "Officials said the decision was taken after an independent review found that the dam would flood more than "
    "four hundred farms and that the water it stored would mostly serve industry in the capital.\n\n"
    "Farmers' groups welcomed the decision but said they would keep watching the government closely, because a "
    "similar plan had been shelved and revived twice before in the last twenty years."
)
NO_ARTICLE_HTML = """<html><head><title>Index</title></head><body><nav><ul><li><a href="/a">Home</a></li>
<li><a href="/b">News</a></li><li><a href="/c">Contact</a></li></ul></nav></body></html>"""


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def corpus(tmp_path) -> Path:
    return tmp_path / "corpus"


def only_doc(corpus: Path):
    docs = load_corpus(corpus)
    assert len(docs) == 1
    return docs[0]


# ---------------------------------------------------------------------------------------------------------- PDF

def test_pdf_body_pages_and_provenance(tmp_path, corpus):
    data = make_pdf(PDF_PAGES)
    report = add([write(tmp_path / "in", {"water.pdf": data}) / "water.pdf"], corpus)
    assert [(o.status, o.doc_id) for o in report.outcomes] == [("added", "water")]
    doc = only_doc(corpus)
    assert doc.body == PDF_BODY
    assert doc.pages == (0, PDF_BODY.index("The town council"), PDF_BODY.index("and the commission"))
    assert (doc.title, doc.publisher, doc.date, doc.authors) == ("Valley water report", "", "2020-05-17",
                                                                 ("Ann Writer", "Bo Reader"))
    assert (doc.source_file, doc.source_sha256, doc.importer) == ("water.pdf", sha(data), f"pypdf {version('pypdf')}")
    assert dt.datetime.fromisoformat(doc.imported).tzinfo is not None
    assert front_matter(corpus / "water.md")["pages"] == list(doc.pages)


@pytest.mark.parametrize("sentence, page", PDF_SENTENCES)
def test_pdf_sentence_pages(tmp_path, corpus, sentence, page):
    add([write(tmp_path / "in", {"water.pdf": make_pdf(PDF_PAGES)}) / "water.pdf"], corpus)
    doc = only_doc(corpus)
    assert page_at(doc, doc.body.index(sentence)) == page


def test_pdf_headers_and_footers_left_out(tmp_path, corpus):
    add([write(tmp_path / "in", {"water.pdf": make_pdf(PDF_PAGES)}) / "water.pdf"], corpus)
    body = only_doc(corpus).body
    assert HEADER not in body and "Page 1 of 3" not in body and "of 3" not in body


def test_single_page_pdf_keeps_its_only_lines(tmp_path, corpus):
    """With one page nothing can be seen to repeat, so nothing is taken for a header; and as "regulation" no longer
    occurs elsewhere, "regu-" "lation" keeps its hyphen."""
    add([write(tmp_path / "in", {"one.pdf": make_pdf(PDF_PAGES[:1], footer=False)}) / "one.pdf"], corpus)
    doc = only_doc(corpus)
    assert doc.body == HEADER + "\n\n" + PDF_BODY[:PDF_BODY.index("\n\nThe town council")].replace("regulation",
                                                                                                  "regu-lation")
    assert doc.pages == (0,)


# ---------------------------------------------------------------------------------------------- Word, text, HTML

def test_docx_body_and_core_properties(tmp_path, corpus):
    data = make_docx()
    add([write(tmp_path / "in", {"notes.docx": data}) / "notes.docx"], corpus)
    doc = only_doc(corpus)
    assert doc.body == DOCX_BODY
    assert (doc.title, doc.authors, doc.date, doc.publisher, doc.pages) == ("Hearing notes", ("Cam Lee",), "2020-05-17",
                                                                            "", None)
    assert (doc.source_file, doc.source_sha256, doc.importer) == ("notes.docx", sha(data),
                                                                  f"python-docx {version('python-docx')}")


def test_text_file(tmp_path, corpus):
    data = "Line one of a note\nthat goes on.\r\n\r\n\r\nA second\u00a0paragraph.\n".encode()
    add([write(tmp_path / "in", {"note.txt": data}) / "note.txt"], corpus)
    doc = only_doc(corpus)
    assert doc.body == "Line one of a note that goes on.\n\nA second paragraph."
    assert (doc.title, doc.publisher, doc.date, doc.authors, doc.url) == ("", "", None, (), None)
    assert doc.importer == f"Python {platform.python_version()} (UTF-8 text)"


def test_html_article_without_furniture(tmp_path, corpus):
    data = ARTICLE_HTML.encode()
    add([write(tmp_path / "in", {"dam.html": data}) / "dam.html"], corpus)
    doc = only_doc(corpus)
    assert doc.body == ARTICLE_BODY
    assert (doc.title, doc.publisher, doc.date, doc.authors, doc.url) == (
        "Dam plan shelved after protests", "Valley Post", "2021-03-04", ("Eve Stone",),
        "https://valleypost.example/dam-plan-shelved")
    assert doc.importer == f"trafilatura {version('trafilatura')}"


# The rules that read the page's structure (qa/ingest/containers.py and the headline and author-note filters of
# qa/ingest/html.py), on a news page with the article's four paragraphs: for each case the body `qa add` gives, and
# the body the line filters alone give (no structure rule).
NEWS = [
    "The city council voted on Tuesday to approve the construction of a new bridge over the river, ending a debate "
    "that had lasted for more than ten years.",
    "Supporters said the bridge would cut travel times for thousands of commuters and bring new business to the old "
    "market district on the east bank.",
    "Opponents warned that the cost of the project had doubled since it was first proposed and that the council had "
    "not explained how it would be paid for.",
    "Work on the bridge is expected to begin next spring and to take about three years, the council said in a "
    "statement after the vote.",
]


def squeeze_tags(html: str) -> str:
    """A paragraph's text without its markup."""
    return lxml.html.fragment_fromstring(html, create_parent="p").text_content()


NEWS_HEAD = ('<html><head><title>Council approves new bridge - Valley Post</title><meta property="og:title" '
             'content="Council approves new bridge"><meta name="author" content="Ann Writer"></head><body>')
P = [f"<p>{text}</p>" for text in NEWS]
HEADLINE = "Bridge over the river approved after ten years of debate"
BOOK = "Ann Writer's book about the valley's rivers, \"Flow\", is out now from Riverside Press."
STANDFIRST = "The council voted for the bridge, but the cost has doubled since it was first proposed ten years ago."
DISCLOSURE = "If you buy something through a link in this story, Valley Post may earn a share of the sale."
ASKED = ("Ann Writer asked the council how the bridge would be paid for, and was told that the answer would come "
         "with the budget in March.")
STAMP = "First Published: Tuesday, November 19, 2019 08:38 AM"
# Teasers of other stories, each an article nested in the box of related articles: together they outweigh a short
# article, whose element then no longer held most of the words.
TEASERS = [
    "The old ferry that crossed the river for ninety years will be kept as a museum, the heritage board decided after "
    "a long public consultation in the spring …",
    "Farmers on the east bank say the new irrigation scheme has doubled their harvests, but some of them worry about "
    "the price of the water they now have to buy …",
    "The market district is getting a new square with trees and benches, the first part of a plan to bring shoppers "
    "back to the old streets by the river …",
]
NESTED = "".join(f'<article class="teaser"><p>{t}</p></article>' for t in TEASERS)
CONTACT = ('Email Ann Writer at <a href="mailto:ann@valleypost.example">ann@valleypost.example</a> or find her at '
           '<a href="https://twitter.com/annwriter">@annwriter</a>.')
MAYOR = ('The mayor, who wrote on <a href="https://twitter.com/valleymayor">@valleymayor</a> that the vote was a victory '
         'for the whole valley, thanked the council.')
TABLE = ("<table><thead><tr><th>Option</th><th>Cost</th><th>Years</th></tr></thead><tbody><tr><td>Bridge</td>"
         "<td>$40 million</td><td>3</td></tr><tr><td>Ferry</td><td>$12 million</td><td>1</td></tr></tbody></table>")
ROWS = ["Option Cost Years", "Bridge $40 million 3", "Ferry $12 million 1"]
STRUCTURE_PAGES = [
    # The headline (an h1 other than the page's title) inside the article's element.
    ("headline", f"<article><h1>{HEADLINE}</h1>{''.join(P)}</article>", NEWS, [HEADLINE, *NEWS]),
    # A note that starts with the author's name (the page states her as its author).
    ("author note", f"<article>{''.join(P)}<p><em>{BOOK}</em></p></article>", NEWS, [*NEWS, BOOK]),
    # The article split around an advertisement: trafilatura keeps the first container only.
    ("sibling containers", f'<article><div class="chunk"><div class="article-body">{"".join(P[:3])}</div></div>'
     f'<div class="ad">Advertisement</div><div class="chunk"><div class="article-body">{P[3]}</div></div></article>',
     NEWS, NEWS[:3]),
    # A standfirst outside the element that holds the article's words.
    ("outside the article", f'<div class="story"><article><div class="intro"><p>{STANDFIRST}</p></div>'
     f'<div class="text">{"".join(P)}</div></article></div>', NEWS, [STANDFIRST, *NEWS]),
    # Inside the article's element, a box whose class says it is a disclosure (or a promotion, a caption ...).
    ("marked element", f'<article><div class="text">{"".join(P[:2])}<div class="disclosure-note"><p>{DISCLOSURE}</p>'
     f'</div>{"".join(P[2:])}</div></article>', NEWS, [*NEWS[:2], DISCLOSURE, *NEWS[2:]]),
    # The author's name inside a sentence, and a heading of the article's own: both stay.
    ("kept", f'<article><div class="text">{"".join(P[:2])}<h2>What it will cost</h2><p>{ASKED}</p>{"".join(P[2:])}'
     '</div></article>', [*NEWS[:2], "What it will cost", ASKED, *NEWS[2:]],
     [*NEWS[:2], "What it will cost", ASKED, *NEWS[2:]]),
    # A publication stamp is a line filter's (page furniture), with or without the structure rules.
    ("stamp", f"<article><p>{STAMP}</p>{''.join(P)}</article>", NEWS, NEWS),
    # Articles nested in another article (the HTML standard's markup for comments and related articles); the
    # article's own paragraph, in an article nested in none, stays.
    ("nested articles", f'<article class="post">{P[0]}</article><article class="more"><h3>You may also like</h3>'
     f'{NESTED}</article>', NEWS[:1], [NEWS[0], *TEASERS]),
    # A closing paragraph that links to the e-mail address and the handle it shows; a paragraph of the article that
    # links to a handle, before the article's last three, stays.
    ("contact line", f'<article>{P[0]}<p>{MAYOR}</p>{"".join(P[1:])}<p><em>{CONTACT}</em></p></article>',
     [NEWS[0], squeeze_tags(MAYOR), *NEWS[1:]],
     [NEWS[0], squeeze_tags(MAYOR), *NEWS[1:], squeeze_tags(CONTACT)]),
    # A table's rows are the article's, each as its cells' text (trafilatura's text has "| a | b |", and "|---|"
    # below a header, which is not on the page).
    ("table", f'<article>{"".join(P[:2])}{TABLE}{"".join(P[2:])}</article>', [*NEWS[:2], *ROWS, *NEWS[2:]],
     [*NEWS[:2], *ROWS, *NEWS[2:]]),
]


@pytest.mark.parametrize("html, body, plain", [c[1:] for c in STRUCTURE_PAGES], ids=[c[0] for c in STRUCTURE_PAGES])
def test_page_structure_rules(tmp_path, corpus, html, body, plain):
    data = f"{NEWS_HEAD}{html}</body></html>".encode()
    add([write(tmp_path / "in", {"news.html": data}) / "news.html"], corpus)
    doc = only_doc(corpus)
    assert doc.body == "\n\n".join(body)
    assert doc.authors == ("Ann Writer",)
    no_structure = replace(HtmlOptions(), drop_headlines=False, drop_author_notes=False, merge_containers=False,
                           article_share=None, drop_marked=False, drop_nested_articles=False, drop_contact_lines=False)
    assert html_extract(data, no_structure).body == "\n\n".join(plain)


# Publication and update stamps, and a contributor's credit, are furniture; a sentence about a publication, a time
# or a contribution is not.
STAMP_LINES = [
    (STAMP, True),
    ("New Delhi, News Nation Bureau | Updated : 19 November 2019, 09:01 AM", True),
    ("Updated at 1:23 p.m.", True),
    ("Last modified on Wed 20 Nov 2019 10.17 EST", True),
    ("sexta-feira, 22 de outubro de 2010 às 20:13", True),
    ("Valley Post's Bo Reader contributed to this report.", True),
    ("Published in 2010, the report found that 4,000 farms had lost their water rights in ten years.", False),
    ("The council's plan, updated: it now says the bridge will open in 2027, two years later than first said.", False),
    ("The vote ended at 10:45 on 19 November 2019.", False),
    ("Ann Writer contributed to the debate with a report on the river's floods in 2018.", False),
]


@pytest.mark.parametrize("line, furniture", STAMP_LINES)
def test_stamps_are_furniture(line, furniture):
    assert is_furniture(line, title="Council approves new bridge") is furniture


# A short paragraph that ends with a call to sign up, subscribe, follow or click is a pitch; a call that starts no
# sentence, one followed by the article's sentences, or a long paragraph, is not.
PITCH_LINES = [
    ("Get the latest updates right in your inbox. Subscribe to Valley Post's newsletters.", True),
    ("Start your day with the Morning Brief. It is free. Sign up for the daily newsletter.", True),
    ("Get Valley Monthly delivered every month. 12 issues for £11.99. Click here for more information.", True),
    ("Residents can sign up for a tour of the bridge's building site at the town hall.", False),
    ("Subscribe to the plan, the mayor urged. Most of the residents at the meeting did.", False),
    ("The council had asked residents for their views for months, and most of those who wrote in supported the "
     "bridge, though many worried about its cost and about the traffic it would bring to the old market district. "
     "Sign up for the hearing on Monday, the mayor said.", False),
]


@pytest.mark.parametrize("line, pitch", PITCH_LINES)
def test_pitches(line, pitch):
    assert is_pitch(line) is pitch


# Shared benchmark pages: metadata exactly as each page's markup states it (checked by hand against the page:
# the WSJ's byline "Sarah E. Needleman" comes back from trafilatura without its dot, so no author is taken; the
# Ascom page states no canonical URL and no site name); every paragraph verbatim from its page.
BENCHMARK_PAGES = [
    ("042bb7b5", "Google Stadia, Microsoft xCloud, Apple Arcade: So Many Ways to Play…and Pay", "Wall Street Journal",
     "2019-11-19", (), "https://www.wsj.com/articles/google-stadia-microsoft-xcloud-apple-arcade-so-many-ways-to-play"
     "and-pay-11574168580"),
    ("6ebac05f", "New York man pleads guilty to threatening to kill Omar", "The Hill", "2019-11-18", ("Justine Coleman",),
     "https://thehill.com/blogs/blog-briefing-room/news/471031-new-york-man-pleads-guilty-to-threatening-to-kill-omar"),
    # Its date ("October 12, 2017") is text in a div under the headline, in no meta tag, JSON-LD or <time>: not taken.
    ("5ae11e58", "Ascom announces a strategic distribution partnership with GE Healthcare in Europe for intensive care "
     "units", "", None, (), None),
]


@pytest.mark.skipif(not BENCHMARK.is_dir(), reason="the shared extraction benchmark is not beside the checkout")
@pytest.mark.parametrize("prefix, title, publisher, date, authors, url", BENCHMARK_PAGES)
def test_benchmark_pages(tmp_path, corpus, prefix, title, publisher, date, authors, url):
    source = next((BENCHMARK / "html").glob(f"{prefix}*.html.gz"))
    shutil.copy(source, tmp_path / source.name)
    assert add([tmp_path / source.name], corpus).having("added")
    doc = only_doc(corpus)
    assert (doc.title, doc.publisher, doc.date, doc.authors, doc.url) == (title, publisher, date, authors, url)
    shown = page_text(lxml.html.document_fromstring(gzip.decompress(source.read_bytes()).decode("utf-8")))
    assert all(squeeze(p) in shown for p in doc.body.split("\n\n"))
    assert "Hillicon Valley" not in doc.body  # The Hill's hover cards inside its links are not the article


def test_markdown_in_corpus_format_is_copied_with_provenance(tmp_path, corpus):
    text = "---\nid: hand-note\ntitle: A note\npublisher: Me\ndate: 2020-01-02\n---\n\nWritten by hand, as it is.\n"
    add([write(tmp_path / "in", {"note.md": text.encode()}) / "note.md"], corpus)
    doc = only_doc(corpus)
    assert (doc.id, doc.title, doc.publisher, doc.body) == ("hand-note", "A note", "Me", "Written by hand, as it is.")
    assert (doc.source_file, doc.source_sha256) == ("note.md", sha(text.encode()))
    assert doc.importer == f"PyYAML {yaml.__version__} (corpus Markdown, copied as written)"
    assert (corpus / "hand-note.md").read_text(encoding="utf-8").endswith(text.split("---\n", 2)[2])


def test_markdown_note_without_front_matter_is_text_as_written(tmp_path, corpus):
    """A Markdown note states no metadata: it imports as a text file does, its marks kept as its own words."""
    data = b"# Call with the lawyer\n\n**Asked** about the\nappeal date.\n"
    add([write(tmp_path / "in", {"call.md": data}) / "call.md"], corpus)
    doc = only_doc(corpus)
    assert (doc.id, doc.body) == ("call", "# Call with the lawyer\n\n**Asked** about the appeal date.")
    assert (doc.title, doc.publisher, doc.date, doc.authors, doc.url) == ("", "", None, (), None)
    assert (doc.source_file, doc.source_sha256) == ("call.md", sha(data))


# ------------------------------------------------------------------------------------- failures and duplicates

BROKEN = [
    ("truncated.pdf", make_pdf(PDF_PAGES)[:1500], "the PDF cannot be read, it may be truncated or damaged"),
    ("locked.pdf", encrypted_pdf(), "the PDF is encrypted with a password; save an unprotected copy and import that"),
    ("scan.pdf", blank_pdf(draw=True), "the PDF has no text, not even in its pictures read with OCR (blank pages?)"),
    ("empty-page.pdf", blank_pdf(draw=False), "the PDF has no text, not even in its pictures read with OCR (blank pages?)"),
    ("empty.html", b"", "the file holds no HTML that can be read"),
    ("menu.html", NO_ARTICLE_HTML.encode(), "no article text found on the page (only menus, links or other page furniture)"),
    ("latin1.txt", "Caf\u00e9 au lait".encode("latin-1"),
     "not UTF-8 text (byte 0xe9 at offset 3); save the file as UTF-8 and import it again"),
    ("blank.txt", b"  \n\n ", "the text file is empty"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "not a Word (.docx) file that can be read"),
    ("bad.md", b"---\nid: bad\ntitle: [unclosed\n---\nText.\n", "not a corpus document: bad.md: front matter"),
]


@pytest.mark.parametrize("name, data, reason", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_is_listed_with_its_reason_and_the_rest_go_on(tmp_path, corpus, name, data, reason):
    folder = write(tmp_path / "in", {name: data, "good.txt": b"A good note that imports."})
    report = add([folder], corpus)
    outcomes = {Path(o.file).name: o for o in report.outcomes}
    assert outcomes[name].status == "failed" and outcomes[name].reason.startswith(reason)
    assert outcomes["good.txt"].status == "added"
    assert [p.name for p in corpus.iterdir()] == ["good.md"]  # nothing half-written is left behind


def test_file_over_the_size_limit(tmp_path, corpus):
    path = write(tmp_path / "in", {"big.txt": b"word " * 300_000}) / "big.txt"
    [outcome] = add([path], corpus, max_mb=1).outcomes
    assert (outcome.status, outcome.reason) == ("failed", "1.4 MB is over the 1 MB limit; split it or raise --max-mb")


def test_duplicates_are_skipped(tmp_path, corpus):
    pdf = make_pdf(PDF_PAGES)
    folder = write(tmp_path / "in", {"a.pdf": pdf, "b-copy.pdf": pdf, "c.txt": b"Same words.\n",
                                     "d.txt": b"Same   words.\r\n\r\n"})
    report = add([folder], corpus)
    assert [(Path(o.file).name, o.status, o.reason) for o in report.outcomes] == [
        ("a.pdf", "added", ""), ("b-copy.pdf", "skipped", "the same file (sha256) as document a"),
        ("c.txt", "added", ""), ("d.txt", "skipped", "the same text as document c")]
    again = add([folder / "a.pdf"], corpus)  # and against what is already in the corpus
    assert [(o.status, o.reason) for o in again.outcomes] == [("skipped", "the same file (sha256) as document a")]


def test_ids_come_from_file_names_and_stay_unique(tmp_path, corpus):
    add([write(tmp_path / "one", {"Report 2020.txt": b"First."}) / "Report 2020.txt"], corpus)
    add([write(tmp_path / "two", {"Report 2020.txt": b"Second."}) / "Report 2020.txt"], corpus)
    assert sorted(d.id for d in load_corpus(corpus)) == ["Report-2020", "Report-2020-2"]


def test_folders_are_walked_recursively(tmp_path, corpus):
    root = write(tmp_path / "in", {"a.txt": b"Top note."})
    write(root / "sub" / "deeper", {"b.txt": b"Deep note."})
    write(root / ".hidden", {"c.txt": b"Hidden note."})
    assert [Path(o.file).name for o in add([root], corpus).outcomes] == ["a.txt", "b.txt"]


def test_other_files_are_skipped_in_a_folder_and_fail_when_named(tmp_path, corpus):
    folder = write(tmp_path / "in", {"sheet.xlsx": b"PK\x03\x04", "note.txt": b"A note."})
    assert [(Path(o.file).name, o.status, o.reason) for o in add([folder], corpus).outcomes] == [
        ("note.txt", "added", ""), ("sheet.xlsx", "skipped", ".xlsx is not a format qa add reads")]
    [named] = add([folder / "sheet.xlsx"], corpus).outcomes
    assert (named.status, named.reason) == ("failed", ".xlsx is not a format qa add reads (.html, .htm, .html.gz, "
                                                      ".htm.gz, .pdf, .docx, .txt, .md, .png, .jpg, .jpeg, .tif, .tiff)")


def test_the_same_markdown_twice_is_skipped(tmp_path, corpus):
    path = write(tmp_path / "in", {"n.md": b"---\nid: n\ntitle: N\npublisher: P\n---\n\nSome text.\n"}) / "n.md"
    add([path], corpus)
    [again] = add([path], corpus).outcomes
    assert (again.status, again.reason) == ("skipped", "the same file (sha256) as document n")


# -------------------------------------------------------------------------------------------------- CLI

def test_cli_add_list_remove(tmp_path, corpus, capsys):
    folder = write(tmp_path / "in", {"water.pdf": make_pdf(PDF_PAGES), "notes.docx": make_docx(),
                                     "locked.pdf": encrypted_pdf()})
    assert main(["add", str(folder), "--corpus", str(corpus)]) == 1  # one file failed
    out = capsys.readouterr().out
    assert out.startswith("added 2, skipped 0, failed 1\n")
    assert f"  failed  {folder / 'locked.pdf'}: the PDF is encrypted" in out
    assert main(["list", "--corpus", str(corpus)]) == 0
    listed = capsys.readouterr().out
    assert describe(load_corpus(corpus)[1]) in listed and "  pages:     3" in listed
    assert main(["remove", "notes", "--corpus", str(corpus)]) == 0
    assert [d.id for d in load_corpus(corpus)] == ["water"]
    assert main(["remove", "notes", "--corpus", str(corpus)]) == 2
    assert capsys.readouterr().err.strip().endswith("error: no document 'notes' in " + str(corpus) +
                                                    "; 'python -m qa list' shows the ids")


def test_remove_unknown_id_is_an_error(corpus):
    corpus.mkdir()
    with pytest.raises(Exception, match="no document 'x'"):
        remove("x", corpus)


# ----------------------------------------------------------------------------------- questions over the import

def imported_settings(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    folder = write(tmp_path / "in", {"water.pdf": make_pdf(PDF_PAGES), "notes.docx": make_docx(),
                                     "dam.html": ARTICLE_HTML.encode()})
    assert len(add([folder], corpus).having("added")) == 3
    return replace(Settings(), corpus_dir=corpus, index_dir=tmp_path / "index", min_passage_words=8,
                   min_similarity=0.2)


def _check_pdf_answer(answer, settings: Settings) -> None:
    documents = {d.id: d for d in load_corpus(settings.corpus_dir)}
    assert verify(answer, documents, settings=settings) == []
    first = answer.passages[0]
    assert first.doc_id == "water" and first.page == 2
    assert first.citation == "“Valley water report”, 2020-05-17, by Ann Writer, Bo Reader, file water.pdf, p. 2"
    assert first.text == documents["water"].body[first.start:first.end]


def test_answer_over_imported_files_cites_the_page(tmp_path):
    settings = imported_settings(tmp_path)
    answer = QA(settings, WordHashEncoder()).ask("What did the town council say about the regulation?")
    assert not answer.abstained
    _check_pdf_answer(answer, settings)


@pytest.mark.slow
def test_answer_over_imported_files_with_the_real_model(tmp_path):
    settings = imported_settings(tmp_path)
    answer = QA(settings).ask("What did the town council say about the regulation?")
    assert not answer.abstained
    _check_pdf_answer(answer, settings)


def test_passages_of_a_pdf_know_their_page(tmp_path):
    settings = imported_settings(tmp_path)
    doc = next(d for d in load_corpus(settings.corpus_dir) if d.id == "water")
    assert [(page_at(doc, p.start), p.text[:20]) for p in split_document(doc, settings.min_passage_words)] == [
        (1, "Water rights in the "), (1, "Farmers said the new"), (2, "The town council dis"), (2, "A well-known enginee")]


def test_verify_finds_a_wrong_page(tmp_path):
    settings = imported_settings(tmp_path)
    answer = QA(settings, WordHashEncoder()).ask("What did the town council say about the regulation?")
    documents = {d.id: d for d in load_corpus(settings.corpus_dir)}
    wrong = replace(answer, passages=[replace(answer.passages[0], page=1), *answer.passages[1:]])
    assert "passage 1 (water#p3): pages 1 to 2 are not the pages 2 to 2 its text is on" in \
        verify(wrong, documents, settings=settings)


# ------------------------------------------------------------------------------- the corpus format's new fields

PROVENANCE = ("source_file: a.pdf\nsource_sha256: " + "0a" * 32 + "\nimported: '2026-01-01T00:00:00+00:00'\n"
              "importer: pypdf 7.1.1\n")
FRONT_MATTER = [
    # (front matter, error or None)
    ("id: a\ntitle: T\n" + PROVENANCE + "pages: [0, 5]\n", None),  # imported: no publisher needed
    ("id: a\n" + PROVENANCE, None),  # nor a title
    ("id: a\ntitle: T\n", "a.md: field 'publisher' is missing or empty"),  # written by hand: both needed
    ("id: a\ntitle: T\n" + PROVENANCE.replace("0a" * 32, "xyz"),
     "a.md: field 'source_sha256' must be the 64 hexadecimal digits of a sha256"),
    ("id: a\n" + PROVENANCE.replace("'2026-01-01T00:00:00+00:00'", "yesterday"),
     "a.md: field 'imported' is 'yesterday'; write an ISO time"),
    ("id: a\n" + PROVENANCE.replace("importer: pypdf 7.1.1\n", ""),
     "a.md: field 'importer' must be text: an imported document states its provenance"),
    ("id: a\n" + PROVENANCE + "pages: [1, 5]\n", "a.md: field 'pages' must list where each page starts"),
    ("id: a\n" + PROVENANCE + "pages: [0, 9, 5]\n", "a.md: field 'pages' must list where each page starts"),
    ("id: a\n" + PROVENANCE + "pages: [0, 99]\n", "a.md: field 'pages' must list where each page starts"),
    ("id: a\n" + PROVENANCE + "pages: [0, '5']\n", "a.md: field 'pages' must list where each page starts"),
]


@pytest.mark.parametrize("front, error", FRONT_MATTER)
def test_provenance_fields_are_checked(tmp_path, front, error):
    from qa.corpus.documents import load_file
    from qa.errors import CorpusError
    path = tmp_path / "a.md"
    path.write_text(f"---\n{front}---\n\nFirst page. Second page text.\n", encoding="utf-8")
    if error is None:
        [doc] = load_file(path)
        assert (doc.source_file, doc.importer, doc.publisher) == ("a.pdf", "pypdf 7.1.1", "")
    else:
        with pytest.raises(CorpusError) as caught:
            load_file(path)
        assert str(caught.value).startswith(error)


def test_a_document_over_the_corpus_limit_is_refused_not_written(tmp_path, corpus):
    """A text within the file size limit whose document would be over max_document_bytes fails, and the corpus
    stays loadable."""
    path = write(tmp_path / "in", {"long.txt": b"word " * 1_100_000}) / "long.txt"
    [outcome] = add([path], corpus).outcomes
    assert outcome.status == "failed"
    assert outcome.reason.startswith("its document does not read back from the corpus format (")
    assert "max_document_bytes" in outcome.reason
    assert list(corpus.iterdir()) == []


def test_add_reads_documents_with_the_settings_given(tmp_path, cli):
    """`qa add --param max_document_bytes=N` checks each written document against the limit the index will read
    it with: a document over it is refused with that limit named, and one under it is added."""
    small, large = tmp_path / "short.txt", tmp_path / "long.txt"
    small.write_text("A short note of a few words.\n", encoding="utf-8")
    large.write_text("A longer note. " * 100 + "\n", encoding="utf-8")
    code, out, _ = cli("add", str(small), str(large), "--corpus", str(tmp_path / "corpus"),
                       "--param", "max_document_bytes=1000")
    assert code == 1
    assert "added 1" in out and "failed 1" in out
    assert "long.txt" in out and "over 1,000 bytes" in out
    assert sorted(p.name for p in (tmp_path / "corpus").glob("*.md")) == ["short.md"]
    code, out, _ = cli("list", "--corpus", str(tmp_path / "corpus"), "--param", "max_document_bytes=1000")
    assert code == 0 and out.startswith("short\n")
