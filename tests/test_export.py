"""Plain text for the clipboard, and the export of a conversation's quotes as Markdown, CSV and JSON."""
from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import make_passage

from qa import export
from qa.answer.export import FIELDS, UnknownFormat, answer_text, differ_lines, format_of, quote_text
from qa.answer.figures import find_disagreement
from qa.answer.model import Answer

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


def test_sources_differ_is_one_line_per_source():
    passages = [make_passage("Officials said ten people were killed in the square.", "a#p1", "Alpha Times", "2011-12-19"),
                make_passage("Later twenty people were killed and eleven people were killed.", "c#p1", "Alpha Times",
                             "2011-12-20", comment_author="Reader One"),
                make_passage("Ten people were killed.", "a#p2", "Alpha Times", "2011-12-19")]
    answer = Answer("How many were killed?", False, passages, "Passages quoted word for word from the documents:",
                    disagreement=find_disagreement("How many were killed?", passages))
    assert differ_lines(answer) == ["ten; Ten — Alpha Times, 2011-12-19 [1] [3]",
                                    "twenty; eleven — reader comment by Reader One, 2011-12-20 [2]"]
    assert "Sources differ:\n- ten; Ten — Alpha Times, 2011-12-19 [1] [3]\n- twenty; eleven" in answer_text(answer)


def test_csv_has_every_quote_with_all_fields_and_its_question(answers):
    rows = list(csv.DictReader(io.StringIO(export(answers, "csv"))))
    assert list(rows[0]) == list(FIELDS)
    assert [(r["question"], r["quote"], r["passage_id"]) for r in rows] == [
        (CONVERSATION[0], "1", "alpha/comment-1#p1"), (CONVERSATION[0], "2", "alpha#p1"),
        (CONVERSATION[1], "1", "beta#p2")]
    for row, passage in zip(rows, [p for a in answers for p in a.to_dict()["passages"]]):
        for name, value in passage.items():
            expected = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            assert row[name] == expected, name
    assert rows[0]["text"] == NURSE and rows[0]["kind"] == "comment" and rows[0]["comment_author"] == "Reader One"


def test_json_holds_the_same_records_and_takes_answer_dicts(answers):
    records = json.loads(export(answers, "json"))
    assert records == [{"question": a.question, "quote": n, **p} for a in answers
                       for n, p in enumerate(a.to_dict()["passages"], 1)]
    assert export([a.to_dict() for a in answers], "json") == export(answers, "json")


def test_markdown_lists_each_question_and_quote_escaped(answers):
    md = export(answers[1:], "md")
    assert md == (
        "# Quotes from the conversation\n\n## 1. What did rights groups demand?\n\n"
        "### [1] “Beta bulletin”, Beta Wire, date not stated\n\n"
        "> Rights groups demanded a transparent inquiry and the release of detained activists.\n\n"
        "- doc_id: beta\n- passage_id: beta\\#p2\n- start: 98\n- end: 181\n"
        f"- score: {answers[1].passages[0].score}\n- highlights: \\[\\[0, 83\\]\\]\n- title: Beta bulletin\n"
        "- publisher: Beta Wire\n- date: \n- url: \n- authors: \\[\\]\n- kind: article\n- comment_author: \n"
        "- comment_location: \n- citation: “Beta bulletin”, Beta Wire, date not stated\n- also_in: \\[\\]\n- page: \n"
        "- last_page: \n- ocr: false\n- source_file: \n\n"
        "## 2. Who won the World Cup?\n\nThe documents do not answer this question, so nothing is quoted.\n")


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
