"""The CLI: through its real entry point, `python -m qa`, and in-process through `qa.cli.main(argv)`."""
import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from qa import Answer, Passage, verify
from qa_tools.evaluate import format_report, load_questions


def run(*args, env=None, input=None):
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, capture_output=True, text=True, input=input,
                          timeout=300, check=False, env={**os.environ, **(env or {})})


@pytest.mark.slow  # the real entry point, in a process of its own
def test_ask_json_prints_the_answer():
    result = run("ask", "What did the posters in Astana say?", "--json", "-k", "1")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [p["passage_id"] for p in data["passages"]] == ["mt-third-day#p9"]
    passages = [Passage(**{**p, "highlights": [tuple(h) for h in p["highlights"]]}) for p in data["passages"]]
    assert verify(Answer(**{**data, "passages": passages})) == []


@pytest.mark.slow
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
def test_bad_input_exits_non_zero_without_traceback(cli, args, message):
    code, out, err = cli(*args)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_eval_prints_one_table_and_json_with_grounding_for_every_mode(real_qa):
    result = run("eval", "--split", "dev", "--json", env={"QA_INDEX_DIR": str(real_qa.settings.index_dir)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["split"] == "dev" and report["questions"] == len(load_questions(split="dev"))
    for mode in ("bm25", "dense", "hybrid"):
        m = report[mode]
        assert set(m) == {"hit@1", "hit@3", "mrr", "ndcg@10", "abstention_precision", "abstention_recall",
                          "grounding_rate", "answerable_abstained", "unanswerable_answered", "ungrounded"}
        assert (m["grounding_rate"], m["ungrounded"]) == (1.0, {})
    lines = format_report(report).splitlines()
    assert lines[:2] == [f"{report['questions']} questions",
                         "mode      hit@1  hit@3    MRR  nDCG@10  abst-P  abst-R  grounded"]
    for line, mode in zip(lines[2:5], ("bm25", "dense", "hybrid")):
        m = report[mode]
        assert line == (f"{mode:8} {m['hit@1']:6.3f} {m['hit@3']:6.3f} {m['mrr']:6.3f} {m['ndcg@10']:8.3f} "
                        f"{m['abstention_precision']:7.3f} {m['abstention_recall']:7.3f}    100.0%")
    followups = report["followups"]
    assert {kind: f["questions"] for kind, f in followups.items()} == {"followup": 15, "standalone": 5}
    assert followups["followup"]["with_history"]["hit@3"] == pytest.approx(14 / 15)
    # Re-ranking with sentence evidence finds more follow-ups' passages even without the earlier question (was 8/15).
    assert followups["followup"]["without"]["hit@3"] == pytest.approx(11 / 15)
    assert followups["standalone"]["with_history"] == followups["standalone"]["without"]
    assert all(f["grounding_rate"] == 1.0 for f in followups.values())
    assert lines[-2].startswith("followup questions after an earlier one (15, hybrid): hit@3 0.933 with history, "
                                "0.733 without")


@pytest.mark.parametrize("output", [["--json"], []], ids=["json", "text"])
def test_a_closed_pipe_ends_the_cli_quietly(real_qa, output):
    """`python -m qa ask ... --json | head -n 1`: the reader goes away before the answer is written. The CLI stops
    as a process killed by SIGPIPE does (status 141), with nothing on stderr."""
    process = subprocess.Popen([sys.executable, "-m", "qa", "ask", "How many people were killed?", *output], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "QA_INDEX_DIR": str(real_qa.settings.index_dir)})
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert (process.wait(timeout=300), stderr) == (141, "")
