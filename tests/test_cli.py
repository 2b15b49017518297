"""The CLI through its real entry point, `python -m qa`."""
import json
import subprocess
import sys

import pytest
from conftest import ROOT


def run(*args):
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def test_ask_json_prints_the_answer():
    result = run("ask", "What did the posters in Astana say?", "--json", "-k", "1")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p["passage_id"] for p in data["passages"]] == ["mt-third-day#p9"]


def test_ask_prints_quotes_and_citations():
    result = run("ask", "Who is the editor of Vzglyad newspaper who was detained?", "-k", "1")
    assert result.returncode == 0
    assert "Igor Vinyavsky, editor of Vzglyad newspaper" in result.stdout
    assert "[1] “Four Officers Prosecuted for Kazakh Riot Shootings”, The Moscow Times, date not stated" in result.stdout


@pytest.mark.parametrize("args, message", [
    (("ask", ""), "the question is empty"),
    (("ask", "   "), "the question is empty"),
    (("ask", "x" * 1001), "the limit is 1,000"),
    (("ask", "bad\x1bquestion"), "control characters"),
    (("ask", "police", "-k", "0"), "k is 0"),
])
def test_bad_input_exits_non_zero_without_traceback(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
