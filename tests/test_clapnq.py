"""The CLAPNQ runner: a folder in CLAPNQ's format becomes a corpus of its own (one document per passage, indexed by
the same code as any corpus), questions split deterministically, and the confidence report over it."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import WordHashEncoder

from qa.api import QA
from qa.config import ROOT, Settings
from qa.corpus.documents import load_corpus
from qa.errors import QAError
from qa_tools.clapnq import clapnq_index, doc_id, in_split, load_clapnq, split_of
from qa_tools.evaluate import confidence_report, labelled_clapnq

PASSAGES = [
    ("Zhanaozen", "Zhanaozen is a town in Kazakhstan . It lies in the Mangystau Region . Oil workers went on strike "
                  "there in 2011 . The strike ended in December ."),
    ("Almaty", "Almaty is the largest city in Kazakhstan . It was the capital until 1997 . The city lies near the "
               "Tian Shan mountains ."),
]


def _row(qid, question, passage, selected):
    title, text = passage
    return {"id": qid, "input": question, "passages": [{"title": title, "text": text, "sentences": []}],
            "output": [{"answer": "", "selected_sentences": selected, "meta": {}}]}


@pytest.fixture
def clapnq_dir(tmp_path):
    folder = tmp_path / "clapnq"
    folder.mkdir()
    answerable = [_row("1", "when did the oil strike in zhanaozen end", PASSAGES[0], ["The strike ended in December ."]),
                  _row("2", "what was the capital of kazakhstan until 1997", PASSAGES[1],
                       ["It was the capital until 1997 ."])]
    unanswerable = [_row("3", "how many people live in almaty", PASSAGES[1], [])]
    (folder / "answerable.jsonl").write_text("".join(json.dumps(r) + "\n" for r in answerable), encoding="utf-8")
    (folder / "unanswerable.jsonl").write_text("".join(json.dumps(r) + "\n" for r in unanswerable), encoding="utf-8")
    return folder


def test_one_document_per_distinct_passage_indexed_like_any_corpus(clapnq_dir, tmp_path):
    questions, passages = load_clapnq(clapnq_dir)
    assert [(q.id, q.answerable) for q in questions] == [("1", True), ("2", True), ("3", False)]
    assert sorted(passages) == sorted(doc_id(t, x) for t, x in PASSAGES)
    settings, index, _ = clapnq_index(clapnq_dir, tmp_path / "cache", Settings(), WordHashEncoder())
    docs = load_corpus(settings.corpus_dir)
    assert sorted((d.title, d.publisher, d.date, d.url) for d in docs) == [
        ("Almaty", "Wikipedia", None, None), ("Zhanaozen", "Wikipedia", None, None)]
    assert len(index.passages) == 2


def test_tune_and_report_halves_are_fixed_by_the_question_id():
    # sha256("1") starts 0x6b (odd: report), sha256("2") 0xd4 (even: tune).
    assert [split_of(i) for i in ("1", "2", "3", "-9025710588846987152")] == ["report", "tune", "tune", "tune"]


def test_selected_sentences_become_gold_sentences_and_the_report_has_every_measure(clapnq_dir, tmp_path):
    settings, index, questions = clapnq_index(clapnq_dir, tmp_path / "cache", Settings(), WordHashEncoder())
    items = labelled_clapnq(index, in_split(questions, "all"))
    record = index.passages[next(iter(items[0].gold))]
    gold = items[0].gold_sentences[next(iter(items[0].gold))]
    assert [record.text[a:b] for j, (a, b) in enumerate(record.sentences) if j in gold] == [
        "The strike ended in December ."]
    assert (items[2].answerable, items[2].gold, items[2].gold_sentences) == (False, frozenset(), {})
    report = confidence_report(QA(settings, WordHashEncoder(), index), items)
    assert report["questions"] == 3 and report["grounding_rate"] == 1.0
    assert sum(report["levels"]["answerable"].values()) == 2 and sum(report["levels"]["unanswerable"].values()) == 1
    assert report["hit@1"] == 1.0
    assert [c["threshold"] for c in report["risk_coverage"]][:9] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert set(report["highlights"]) == {"passages", "precision", "recall", "f1", "gold_sentence_marked"}


def test_a_folder_that_is_not_clapnq_gives_a_clear_error(tmp_path):
    with pytest.raises(QAError, match="needs answerable.jsonl and unanswerable.jsonl"):
        load_clapnq(tmp_path)
    with pytest.raises(QAError, match="unknown CLAPNQ split 'dev'"):
        in_split([], "dev")
    result = subprocess.run([sys.executable, "-m", "qa", "eval", "--clapnq", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
