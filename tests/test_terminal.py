"""The CLI's display: highlights on a terminal and in plain output, `ask --history/--export`, and `python -m qa chat`
driven through its standard input."""
from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from test_cli import run

from qa.answer.export import export
from qa.answer.model import ANSWER_HEADING, UNCERTAIN_HEADING
from qa.terminal import BOLD_UNDERLINE, CHAT_HELP, RESET, chat, format_answer, marked

POSTERS = "What did the posters in Astana say?"
SLOGANS = "\"Don't shoot people\" and \"Blood is cheaper than oil,\" read their posters."
PROSECUTED = "Who is being prosecuted for the Zhanaozen shootings?"
CHARGED = "What are they charged with?"


@pytest.mark.parametrize("tty, expected", [
    (False, "One. [[Two.]] Three. [[Four.]]"),
    (True, f"One. {BOLD_UNDERLINE}Two.{RESET} Three. {BOLD_UNDERLINE}Four.{RESET}"),
])
def test_highlights_are_bold_underlined_on_a_terminal_and_bracketed_elsewhere(tty, expected):
    assert marked("One. Two. Three. Four.", [(5, 9), (17, 22)], tty) == expected


def test_answer_shows_citations_above_indented_quotes(quoting_qa):
    answer = quoting_qa.ask("How many bodies did the nurse count at the hospital?", k=2)
    assert format_answer(answer, tty=False) == (
        "Passages quoted word for word from the documents:\n\n"
        "[1] Reader comment by Reader One, 2011-12-20 10:00, posted below “Alpha report” (Alpha Times)\n"
        "    [[A nurse told me she counted twenty bodies at the hospital that night, far more than officials admit.]]\n\n"
        "[2] “Alpha report”, Alpha Times, 2011-12-19, by Ann Writer, https://example.org/alpha\n"
        "    Police fired on striking oil workers in the town square. [[Many people were hurt in the clashes.]]\n"
        "    Officials said ten people died.")


def test_chat_keeps_history_reports_bad_questions_and_exports(fixture_qa, tmp_path):
    asked = []

    def ask(question, history):
        asked.append((question, [a.question for a in history]))
        return fixture_qa.ask(question, k=1, history=history)
    out, err, path = io.StringIO(), io.StringIO(), tmp_path / "quotes.json"
    lines = ["How many people died?", "", "   ", "x" * 1001, "What did rights groups demand?", "/quit", "never asked"]
    assert chat(ask, io.StringIO("\n".join(lines) + "\n"), out, err, path) == 0
    assert asked == [("How many people died?", []), ("x" * 1001, ["How many people died?"]),
                     ("What did rights groups demand?", ["How many people died?"])]
    assert err.getvalue() == "error: the question is 1,001 characters long; the limit is 1,000. Ask a shorter question.\n"
    assert out.getvalue().count("Passages quoted word for word from the documents:") == 2
    assert [r["passage_id"] for r in json.loads(path.read_text())] == ["alpha#p1", "beta#p2"]


@pytest.fixture(scope="module")
def real_env(real_qa):
    return {"QA_INDEX_DIR": str(real_qa.settings.index_dir)}


def test_python_m_qa_chat_follows_up_through_stdin(real_env, tmp_path):
    path = tmp_path / "conversation.csv"
    result = run("chat", "--export", str(path), input=f"{PROSECUTED}\n{CHARGED}\n{POSTERS}\n", env=real_env)
    assert result.returncode == 0, result.stderr
    # Each answer opens with its level's heading: answered, or uncertain (the closest passages).
    answers = re.split(f"(?:{re.escape(ANSWER_HEADING)}|{re.escape(UNCERTAIN_HEADING)})\n", result.stdout)[1:]
    assert len(answers) == 3
    assert answers[1].startswith(f"Searched for: {PROSECUTED} {CHARGED}\n")
    assert "dereliction of duty" in answers[1]
    assert "[[" in answers[2] and SLOGANS in answers[2]  # not a terminal: highlights in brackets
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["question"] for r in rows if r["quote"] == "1"] == [PROSECUTED, CHARGED, POSTERS]
    assert SLOGANS in rows[-3]["text"] + rows[-2]["text"] + rows[-1]["text"]


def test_ask_with_history_and_export(real_env):
    result = run("ask", CHARGED, "--history", PROSECUTED, "-k", "1", "--export", "json", env=real_env)
    assert result.returncode == 0, result.stderr
    [record] = json.loads(result.stdout)
    assert record["question"] == CHARGED and record["passage_id"] == "mt-four-officers#p2"
    plain = run("ask", CHARGED, "--history", PROSECUTED, "-k", "1", env=real_env)
    assert f"Searched for: {PROSECUTED} {CHARGED}" in plain.stdout
    assert "[[A regional deputy police head" in plain.stdout


@pytest.mark.parametrize("args, message", [
    (("chat", "--export", "quotes.txt"), "error: cannot tell the export format of 'quotes.txt'"),
    (("chat", "-k", "11"), "error: k is 11; it must be from 1 to 10"),
    (("ask", "When?", "--history", ""), "error: history item 1: the question is empty"),
])
def test_bad_options_fail_before_loading_with_one_line(cli, args, message):
    code, out, err = cli(*args)
    assert (code, out) == (2, "") and err.startswith(message) and err.count("\n") == 1


def test_export_of_the_cli_equals_the_api(real_qa, real_env):
    result = run("ask", POSTERS, "-k", "2", "--export", "md", env=real_env)
    assert result.stdout == export([real_qa.ask(POSTERS, k=2)], "md")


def test_on_a_terminal_the_chat_prompts_and_highlights_in_bold_underline(real_env):
    """`python -m qa chat` on a pseudo-terminal: the help line, a prompt, highlights in ANSI bold and underline."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qa", "chat", "-k", "1"], cwd=ROOT, stdin=child, stdout=child,
                            stderr=child, env={**os.environ, **real_env})
    os.close(child)
    os.write(main, f"{POSTERS}\n".encode())
    os.write(main, b"/quit\n")
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=300) == 0
    text = out.decode()
    assert CHAT_HELP in text and "question> " in text  # (the terminal also echoes what was typed)
    assert f"{BOLD_UNDERLINE}Protesters have picketed" in text and "[[" not in text
