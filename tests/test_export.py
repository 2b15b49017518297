"""Plain text for the clipboard, and the export of a conversation's quotes as Markdown, CSV and JSON."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from conftest import make_passage
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

from qa import export
from qa.answer.export import FIELDS, Asked, UnknownFormat, answer_text, cell_text, differ_lines, format_of, quote_text
from qa.answer.figures import find_disagreement
from qa.answer.model import ANSWER_HEADING, UNCERTAIN_HEADING, Answer
from qa.search.filters import Filter

NURSE = "A nurse told me she counted twenty bodies at the hospital that night, far more than officials admit."
ALPHA = "“Alpha report”, Alpha Times, 2011-12-19, by Ann Writer, https://example.org/alpha"
CONVERSATION = ["How many bodies did the nurse count at the hospital?", "What did rights groups demand?",
                "Who won the World Cup?"]


@pytest.fixture
def answers(quoting_qa) -> list[Answer]:
    """A three-question conversation: two quotes, one quote, an abstention."""
    return [quoting_qa.ask(q, k=2) for q in CONVERSATION]


def test_quote_text_is_the_quote_in_quotation_marks_then_its_citation(answers):
    comment, article = answers[0].passages
    assert quote_text(article) == (
        "“Police fired on striking oil workers in the town square. Many people were hurt in the clashes.\n\n"
        "Officials said ten people died.”\n" + ALPHA)
    # A reader comment says so, and by whom; it also gets the URL of the page it was posted on.
    assert quote_text(comment) == (f"“{NURSE}”\nReader comment by Reader One, 2011-12-20 10:00, posted below "
                                   "“Alpha report” (Alpha Times), https://example.org/alpha")


def test_answer_text_numbers_each_quote_with_its_citation(answers):
    assert answer_text(answers[1]) == (
        "Question: What did rights groups demand?\n\nPassages quoted word for word from the documents:\n\n"
        "[1] “Rights groups demanded a transparent inquiry and the release of detained activists.”\n"
        "“Beta bulletin”, Beta Wire, date not stated")
    assert answer_text(answers[2]) == (
        "Question: Who won the World Cup?\n\nThe documents do not answer this question, so nothing is quoted.\n\n"
        "Questions the documents do answer:\n- How many people died?\n- What did rights groups demand?")


def test_plain_text_has_no_markup_or_escapes():
    text = "*Not* bold_ `code` <b>&amp; [link](x) \\( 1986. $$x$$"
    passage = make_passage(text, "d#p1", "P")
    assert quote_text(passage) == f"“{text}”\nc"


def test_sources_differ_is_one_line_per_figure():
    passages = [make_passage("Officials said ten people were killed in the square.", "a#p1", "Alpha Times", "2011-12-19"),
                make_passage("Later twenty people were killed and eleven people were killed.", "c#p1", "Alpha Times",
                             "2011-12-20", comment_author="Reader One"),
                make_passage("Ten people were killed.", "a#p2", "Alpha Times", "2011-12-19")]
    answer = Answer("How many were killed?", False, passages, "Passages quoted word for word from the documents:",
                    disagreement=find_disagreement("How many were killed?", passages, {}))
    assert differ_lines(answer) == ["ten / Ten — Alpha Times, 2011-12-19 [1] [3]",
                                    "twenty — reader comment by Reader One, 2011-12-20 [2]",
                                    "eleven — reader comment by Reader One, 2011-12-20 [2]"]
    assert "Sources differ:\n- ten / Ten — Alpha Times, 2011-12-19 [1] [3]\n- twenty — " in answer_text(answer)


def test_csv_has_every_quote_with_all_fields_its_question_and_its_answers_level(answers):
    rows = list(csv.DictReader(io.StringIO(export(answers, "csv"))))
    assert list(rows[0]) == list(FIELDS)
    assert [(r["question"], r["level"], r["heading"], r["quote"], r["passage_id"]) for r in rows] == [
        (CONVERSATION[0], answers[0].confidence, answers[0].message, "1", "alpha/comment-1#p1"),
        (CONVERSATION[0], answers[0].confidence, answers[0].message, "2", "alpha#p1"),
        (CONVERSATION[1], "answered", ANSWER_HEADING, "1", "beta#p2")]
    for row, passage in zip(rows, [p for a in answers for p in a.to_dict()["passages"]]):
        for name, value in passage.items():
            expected = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            assert row[name] == expected, name
    assert rows[0]["text"] == NURSE and rows[0]["kind"] == "comment" and rows[0]["comment_author"] == "Reader One"
    assert rows[2]["highlighted"] == answers[1].passages[0].text  # the whole passage is its one sentence


def test_json_holds_everything_unchanged_and_takes_answer_dicts(answers):
    records = json.loads(export(answers, "json"))
    assert records == [{"question": a.question, "level": a.confidence, "heading": a.message, "searched_for": None,
                        "filters": None, "sources_differ": [], "quote": n, **p,
                        "highlighted": [q.text[x:y] for x, y in q.highlights]}
                       for a in answers for n, (p, q) in enumerate(zip(a.to_dict()["passages"], a.passages), 1)]
    assert export([a.to_dict() for a in answers], "json") == export(answers, "json")


# Quotes that Markdown would otherwise turn into a list, a heading, math, emphasis, a table, a link or HTML.
TRICKY = ["- a list item? No: a quote.", "1986. The year.", "# Not a heading", "$$x^2$$ and $y$ and \\(z\\)",
          "*not* _emphasis_ **bold** ~~struck~~", "| a | b |\n|---|---|", "www.example.org and mail@example.org",
          "<b>tag</b> &amp; <script>x</script>", "```\ncode\n```", "    indented four", "Line one\n\nLine two",
          "'=SUM(A1)", "=1+2", "+cmd", "-2 degrees", "@user", "\tindented by a tab"]


def tricky_answer(limit=None):
    passages = [replace(make_passage(text, f"d#p{n}", "Pub", "2011-12-19"), highlights=[(0, len(text))])
                for n, text in enumerate(TRICKY, 1)]
    return Asked(Answer("Which *odd* <quotes>?", False, passages, UNCERTAIN_HEADING, confidence="uncertain"), limit)


class Text(HTMLParser):
    """The text of each <blockquote> of rendered HTML, <br> as a line break."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.quotes, self.depth = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "blockquote":
            self.depth += 1
            self.quotes.append("")
        elif tag == "br" and self.depth:
            self.quotes[-1] += "\n"

    def handle_endtag(self, tag):
        self.depth -= tag == "blockquote"

    def handle_data(self, data):
        if self.depth:
            self.quotes[-1] += data


@pytest.mark.parametrize("renderer", ["commonmark", "gfm-like", "gfm-like+math"])
def test_markdown_renders_each_quote_exactly_as_written(renderer):
    md = MarkdownIt(renderer.removesuffix("+math"))
    if renderer.endswith("+math"):
        md = md.use(dollarmath_plugin).use(texmath_plugin)
    html = md.render(export([tricky_answer()], "md"))
    parser = Text()
    parser.feed(html)
    assert parser.quotes == TRICKY
    assert "<script>" not in html and "<b>" not in html and "<li>" not in html.split("<blockquote>")[1]
    assert "<p>Which *odd* &lt;quotes&gt;?</p>" in html


def test_markdown_says_what_the_screen_says(answers):
    limit = Filter(frozenset({"alpha"}), "2011-12-01", None)
    passages = [make_passage("Officials said ten people were killed.", "a#p1", "Alpha Times", "2011-12-19"),
                make_passage("Later twenty people were killed.", "c#p1", "Alpha Times", "2011-12-20")]
    differ = Answer("How many were killed?", False, passages, ANSWER_HEADING,
                    disagreement=find_disagreement("How many were killed?", passages, {}))
    md = export([Asked(differ, limit), tricky_answer()], "md")
    assert ("## 1. Question\n\n<p>How many were killed?</p>\n\n"
            "<p><em>Limited to sources alpha; documents dated from 2011-12-01.</em></p>\n\n"
            f"<p><strong>{ANSWER_HEADING}</strong> (level: answered)</p>\n\n"
            "<p>Sources differ:</p><ul><li>ten — Alpha Times, 2011-12-19 [1]</li>"
            "<li>twenty — Alpha Times, 2011-12-20 [2]</li></ul>") in md
    assert f"<p><strong>{UNCERTAIN_HEADING}</strong> (level: uncertain)</p>" in md
    assert "````text\n" in md and "\nhighlighted: ```\ncode\n```\n````" in md  # a longer fence than the quote's


def test_csv_neutralises_formulas_and_gives_the_exact_quote_back():
    limit = Filter(None, None, "2012-01-01")
    text = export([tricky_answer(limit)], "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    formula = [r["text"] for r in rows if r["text"][:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert formula == []  # no cell a spreadsheet would run
    assert [r["text"] for r in rows][-6:] == ["''=SUM(A1)", "'=1+2", "'+cmd", "'-2 degrees", "'@user",
                                             "'\tindented by a tab"]
    assert [cell_text(r["text"]) for r in rows] == TRICKY  # the documented round trip
    assert [cell_text(r["highlighted"]) for r in rows] == TRICKY
    assert rows[0]["filters"] == "Limited to documents dated until 2012-01-01."
    assert rows[0]["level"] == "uncertain" and rows[0]["heading"] == UNCERTAIN_HEADING


@pytest.mark.parametrize("name, fmt", [("quotes.md", "md"), ("a.b.CSV", "csv"), ("out.json", "json"),
                                       ("notes.markdown", "md")])
def test_format_of_a_file_name(name, fmt):
    assert format_of(name) == fmt


@pytest.mark.parametrize("call, message", [
    (lambda: export([], "xml"), "export format 'xml' is not known; use one of md, csv, json"),
    (lambda: format_of("quotes"), "cannot tell the export format of 'quotes'; end its name with .md, .csv or .json"),
])
def test_unknown_formats_say_what_to_use(call, message):
    with pytest.raises(UnknownFormat) as caught:
        call()
    assert str(caught.value) == message
