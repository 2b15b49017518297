"""The tools run: each tuning script and the benchmark on a tiny fixture, so a signature change breaks `make test`,
not a reader. The tuning grid also scores passages exactly as the engine does, so what it chooses is what ships."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import WordHashEncoder

from qa.evidence.reader import Reader
from qa.search.retrieval import rank
from qa_tools import bench, prf, tune, tune_beir
from qa_tools.evaluate import Question, gold_passages, labelled_articles
from qa_tools.fit_confidence import FOLDS, auc, cases_of, corpus_weights, fold_of
from qa_tools.train_reader import case_pairs

FIXTURE_QUESTIONS = [
    {"id": "a", "split": "dev", "type": "keyword", "question": "police fired on striking oil workers",
     "gold": [{"doc": "alpha", "quote": "Police fired"}]},
    {"id": "b", "split": "dev", "type": "paraphrase", "question": "what did activists ask for",
     "gold": [{"doc": "beta", "quote": "Rights groups demanded"}]},
    {"id": "c", "split": "dev", "type": "offtopic", "question": "best pizza recipe", "gold": []},
]


@pytest.fixture
def tool_args(fixture_settings, tmp_path):
    """--questions and --param arguments that point a tool at the fixture corpus."""
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in FIXTURE_QUESTIONS), encoding="utf-8")
    return ["--questions", str(path), "--param", f"corpus_dir={fixture_settings.corpus_dir}",
            "--param", f"index_dir={fixture_settings.index_dir}", "--param", "min_passage_words=8"]


def test_tuning_grid_ranks_as_the_engine_does(fixture_qa, monkeypatch):
    settings, index = fixture_qa.settings, fixture_qa.index
    questions = [Question("a", "dev", "keyword", "police fired on striking oil workers", (("alpha", "Police fired"),)),
                 Question("b", "dev", "paraphrase", "what did activists ask for", (("beta", "Rights groups demanded"),))]
    vectors = fixture_qa.encoder.encode([q.question for q in questions])
    sigs = [tune.signals(index, settings, q, v, gold_passages(fixture_qa, q)) for q, v in zip(questions, vectors)]
    grid = {"fusion": settings.fusion, "dense_weight": settings.dense_weight, "sentence_weight": settings.sentence_weight}
    monkeypatch.setattr(tune, "FUSION_GRID", [grid])
    [(_, measured)] = tune.evaluate_fusions(index, settings, sigs)
    engine_ranks = [1 + min(list(rank(index, q.question, v, settings).order).index(i) for i in s.gold)
                    for q, v, s in zip(questions, vectors, sigs)]
    assert measured["hybrid"] == tune.summary(engine_ranks)


def test_a_masked_twin_is_searched_without_its_gold_passages(fixture_qa):
    """The twin of an answerable question ranks every passage but its gold ones, is unanswerable and shares its
    question's fold; an unanswerable question has no twin."""
    questions = [Question("a", "dev", "keyword", "police fired on striking oil workers", (("alpha", "Police fired"),)),
                 Question("c", "dev", "offtopic", "best pizza recipe", ())]
    items = labelled_articles(fixture_qa, questions)
    [real, _] = cases_of(fixture_qa, items)
    [twin] = cases_of(fixture_qa, items, masked=True)
    assert real.answerable and real.gold == items[0].gold and int(real.evidence.ranking.order[0]) in real.gold
    assert not twin.answerable and twin.gold == frozenset() and twin.fold == real.fold
    assert set(twin.evidence.ranking.order.tolist()) == set(range(len(fixture_qa.index.passages))) - items[0].gold


def test_each_corpus_real_questions_weigh_the_same_and_a_twin_its_share(fixture_qa):
    """Articles: two real questions and a twin; CLAPNQ: one real question. Real questions weigh 3/4 (articles) and
    3/2 (CLAPNQ), so each corpus 3/2 in all; the twin weighs a quarter of an articles question."""
    questions = [Question("a", "dev", "keyword", "police fired on striking oil workers", (("alpha", "Police fired"),)),
                 Question("c", "dev", "offtopic", "best pizza recipe", ())]
    items = labelled_articles(fixture_qa, questions)
    cases = cases_of(fixture_qa, items) + cases_of(fixture_qa, items, masked=True)
    clapnq = replace(cases[1], item=replace(items[1], corpus="clapnq"))
    assert corpus_weights([*cases, clapnq], 0.25).tolist() == [0.75, 0.75, 0.1875, 1.5]


def test_auc_counts_pairs_ordered_right_and_ties_as_half():
    """Of the four (positive, negative) pairs, (0.9, 0.5), (0.9, 0.2) and (0.5, 0.2) are right, (0.5, 0.5) a tie."""
    assert auc(np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.9, 0.5, 0.5, 0.2])) == 0.875


def test_tune_runs_its_grid(tool_args, monkeypatch, capsys):
    monkeypatch.setattr(tune, "INDEX_GRID", {"min_passage_words": (8,), "index_title": (False, True)})
    monkeypatch.setattr(tune, "FUSION_GRID", tune.FUSION_GRID[:3])
    tune.main(tool_args, encoder=WordHashEncoder())
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "6 settings, 2 answerable dev questions"
    assert "best hybrid (hit@3, MRR) reachable with each value:" in out
    assert [line.split()[0] for line in out if line.startswith("  ")] == [
        "dense_weight", "fusion", "index_title", "index_title", "min_passage_words", "sentence_weight", "sentence_weight",
        "sentence_weight"]


def test_tune_abstention_runs(tool_args, capsys):
    tune.main([*tool_args, "--abstention"], encoder=WordHashEncoder())
    out = capsys.readouterr().out
    assert "off-topic rule: abstain when similarity < t and known share < k" in out
    assert "chosen (sentences, margin):" in out


def test_prf_runs_its_grid(tool_args, monkeypatch, capsys):
    monkeypatch.setattr(prf, "GRID", prf.GRID[:3])
    prf.main(tool_args, encoder=WordHashEncoder())
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2 answerable dev questions, hybrid; baseline hit@1 ")
    assert out[1].split() == ["hit@1", "hit@3", "MRR", "nDCG@10", "feedback"] and len(out) == 5


def test_tune_beir_runs_on_train_queries(beir_dir, tmp_path, capsys):
    tune_beir.main([str(beir_dir), "--cache", str(tmp_path / "cache"), "--sentence-weights", "0", "0.5"],
                   encoder=WordHashEncoder())
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("bm25 nDCG@10 ")
    assert out[-1].startswith("train nDCG@10 hybrid ") and "--param bm25_variant=" in out[-1]


@pytest.mark.slow
def test_bench_runs_on_a_small_generated_corpus():
    report = bench.run(runs=1, scifact_docs=0, sizes=(2_000,), app=False)
    assert report["seed"]["questions"] == 297 and report["scale"][0]["passages"] == 2_000
    text = bench.format_report(report)
    assert "2,000 passages" in text or "2000" in text
    search = report["scale"][0]["search"]
    assert list(search) == ["words", "phrase", "commonest words", "commonest phrase"]
    assert search["phrase"]["query"] == f'"{search["words"]["query"]}"' and search["phrase"]["total"] >= 1
    assert search["words"]["total"] >= search["phrase"]["total"]  # the phrase's passages hold both words
    assert "search phrase" in text


def test_bench_backends_runs_on_a_small_generated_corpus():
    rows = bench.bench_backends([2_000], 1, [], None)
    assert [(r["backend"], r["passages"]) for r in rows] == [("inprocess", 2_000), ("milvus", 2_000)]
    assert all(r["recall_at_10"] == 1.0 for r in rows)  # both search exactly at this size
    assert all(r["update_one_document_ms"] > 0 for r in rows)  # in-process: qa/index/update.py; Milvus: its sync
    text = "\n".join(bench.format_backends(rows))
    assert "milvus" in text and "2,000" in text


def test_a_dev_question_gives_its_answering_sentences_then_the_nearest_others(fixture_qa):
    """The reader's second stage trains on the dev questions as `ask` meets them (qa_tools/train_reader.py
    case_pairs): the gold passage's answering sentences first, then the most similar other sentences; a question
    nothing answers gives one negative more."""
    questions = [Question("a", "dev", "keyword", "police fired on striking oil workers", (("alpha", "Police fired"),)),
                 Question("c", "dev", "offtopic", "best pizza recipe", ())]
    real, offtopic = cases_of(fixture_qa, labelled_articles(fixture_qa, questions))
    assert [(p.qid, p.text, p.label) for p in case_pairs(real, depth=10, negatives=2)] == [
        ("a", "Police fired on striking oil workers in the town square.", 1),
        ("a", "The strike had lasted seven months over wages and working conditions at the oil company.", 0),
        ("a", "Officials said ten people died.", 0)]
    assert [(p.qid, p.text, p.label) for p in case_pairs(offtopic, depth=10, negatives=2)] == [
        ("c", "Police fired on striking oil workers in the town square.", 0),
        ("c", "Many people were hurt in the clashes.", 0), ("c", "Officials said ten people died.", 0)]
    assert all(p.question == real.evidence.question.search for p in case_pairs(real, 10, 2))


def test_cross_fitted_readers_read_the_questions_of_their_own_fold(fixture_qa):
    """fit_confidence --reader-folds: each question is read by the reader of its fold, trained without it."""
    questions = [Question(i, "dev", "keyword", "police fired on striking oil workers", (("alpha", "Police fired"),))
                 for i in ("a", "b", "c", "d", "e", "f")]
    readers = [Reader() for _ in range(FOLDS)]
    cases = cases_of(fixture_qa, labelled_articles(fixture_qa, questions), readers=readers)
    assert [c.fold for c in cases] == [fold_of(i) for i in "abcdef"]
    assert all(c.evidence.reader is readers[c.fold] for c in cases)
