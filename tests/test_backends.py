"""The search boundary (qa/index/engine.py) on each backend: the in-process index and Milvus (Milvus Lite here, the
same MilvusClient a cluster is reached with). Candidates, answers and incremental updates must agree."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, WordHashEncoder

from qa import QA
from qa.corpus.text import tokenize
from qa.errors import IndexUnavailable, SettingsError
from qa.index import store
from qa.index.engine import InProcess
from qa.index.milvus import MilvusEngine, open_engine
from qa.search.query import build_query
from qa.verify import verify
from qa_tools.evaluate import confidence_report, evaluate, labelled_articles, load_questions

TOPICS = ["police", "strike", "oil", "wages", "court", "hospital", "square", "union", "prison", "election", "protest",
          "company", "workers", "sentence", "officers", "families", "river", "bread", "music", "train"]
QUESTIONS = ["How many people died?", "What did rights groups demand?", "police weapons investigation",
             "What is the capital of France?", "oil workers wages strike", "Who was sent to prison?"]


def _document(n: int, extra: str = "") -> str:
    words = [TOPICS[(n * 7 + i * 3) % len(TOPICS)] for i in range(12)]
    return (f"---\nid: doc-{n:02d}\ntitle: Report {n}\npublisher: Wire {n % 3}\ndate: 2011-12-{10 + n % 20:02d}\n"
            f"authors: []\n---\n\nThe {' '.join(words[:6])} story number {n} was told by the {words[6]} desk in detail.\n\n"
            f"Later the {' '.join(words[6:])} reports said {n} people were counted at the {words[0]} site. {extra}\n")


@pytest.fixture
def archive(tmp_path, fixture_settings):
    """The fixture corpus and thirty generated reports: large enough that one document moves the mean length little."""
    for n in range(30):
        (fixture_settings.corpus_dir / f"doc-{n:02d}.md").write_text(_document(n), encoding="utf-8")
    return replace(fixture_settings, backend_uri=str(tmp_path / "engine" / "milvus.db"), candidates=5)


def _top_scores(index, rows, terms, vector):
    lexical = index.lexical.scores_of(terms, np.sort(rows)) if len(rows) else np.empty(0)
    dense = np.asarray(index.vectors[np.sort(rows)]) @ vector if len(rows) else np.empty(0)
    return np.sort(lexical)[::-1], np.sort(dense)[::-1]


def test_milvus_finds_the_candidates_the_in_process_index_finds(archive):
    index = store.build(archive, WordHashEncoder())
    engine = MilvusEngine(archive.backend_uri, archive)
    engine.sync(index)
    milvus, inprocess = engine.searcher(index), InProcess(index, archive.ivf_probes)
    doc_ids = np.array([p.doc_id for p in index.passages])
    for question in QUESTIONS:
        query = build_query(question, [], WordHashEncoder(), archive.max_chain)
        terms = tokenize(question, archive.stem, archive.stopwords)
        for allowed in (None, np.isin(doc_ids, ["alpha", "doc-03", "doc-17"])):
            a = inprocess.candidates(terms, query.vector, 5, True, allowed)
            b = milvus.candidates(terms, query.vector, 5, True, allowed)
            # Ties may be broken differently; the scores of the k best may not.
            for x, y in zip(_top_scores(index, a.lexical, terms, query.vector),
                            _top_scores(index, b.lexical, terms, query.vector)):
                np.testing.assert_allclose(x, y, rtol=1e-5)
            np.testing.assert_allclose(_top_scores(index, a.dense, terms, query.vector)[1],
                                       _top_scores(index, b.dense, terms, query.vector)[1], rtol=1e-5)
            if allowed is not None:
                assert allowed[b.rows()].all() and allowed[a.rows()].all()


def test_answers_are_the_same_on_both_backends(archive):
    """Both rank the same candidates (the in-process index is made to use its candidate path too, as on a corpus past
    exact_max_passages), so every answer is the same."""
    archive = replace(archive, exact_max_passages=0)
    inprocess = QA(archive, WordHashEncoder())
    milvus = QA(replace(archive, backend="milvus"), WordHashEncoder(), index=inprocess.index)
    assert milvus.index.searcher is not None and inprocess.index.searcher is None
    for question in QUESTIONS:
        for mode in ("hybrid", "bm25", "dense"):
            for sources in (None, ["beta", "doc-05"]):
                a = inprocess.ask(question, mode=mode, sources=sources)
                b = milvus.ask(question, mode=mode, sources=sources)
                assert [(p.passage_id, p.start, p.end, p.highlights) for p in b.passages] == [
                    (p.passage_id, p.start, p.end, p.highlights) for p in a.passages], (question, mode, sources)
                assert b.confidence == a.confidence
                assert verify(b, milvus.index) == []


def test_one_document_added_changed_or_removed_is_written_alone(archive):
    encoder = WordHashEncoder()
    milvus = MilvusEngine(archive.backend_uri, archive)
    first = milvus.sync(store.build(archive, encoder))
    assert first.rebuilt and first.inserted == 33 and first.removed == 0
    assert milvus.sync(store.build(archive, encoder)) == type(first)(0, 0, 0, False)  # nothing changed: nothing written

    corpus = archive.corpus_dir
    (corpus / "doc-30.md").write_text(_document(30), encoding="utf-8")
    (corpus / "doc-04.md").write_text(_document(4, extra="A zebra parade crossed the square."), encoding="utf-8")
    (corpus / "doc-09.md").unlink()
    index = store.build(archive, encoder)
    sync = milvus.sync(index)
    changed = [p for p in index.passages if p.doc_id in ("doc-30", "doc-04")]
    assert (sync.inserted, sync.removed, sync.passages, sync.rebuilt) == (2, 1, len(changed), False)
    assert milvus.client.query("qa_passages", filter='doc_id == "doc-09"', output_fields=["passage_id"]) == []
    held = milvus.client.query("qa_passages", filter='doc_id != ""', output_fields=["passage_id"], limit=1000)
    assert sorted(row["passage_id"] for row in held) == sorted(p.passage_id for p in index.passages)
    query = build_query("zebra parade", [], encoder, archive.max_chain)
    found = milvus.searcher(index).candidates(["zebra", "parad"], query.vector, 3, True, None)
    assert index.passages[int(found.lexical[0])].doc_id == "doc-04"


def test_the_live_check_answers_from_a_document_added_while_serving(archive):
    qa = QA(replace(archive, backend="milvus", corpus_check_seconds=0), WordHashEncoder())
    assert all(p.doc_id != "gamma" for p in qa.ask("zebra parade drums").passages)
    (archive.corpus_dir / "gamma.md").write_text(
        "---\nid: gamma\ntitle: Gamma\npublisher: G\ndate: 2012-01-01\nauthors: []\n---\n\n"
        "The zebra parade crossed the oil square in the morning with drums and banners everywhere.\n", encoding="utf-8")
    answer = qa.ask("zebra parade drums")
    assert [p.doc_id for p in answer.passages][:1] == ["gamma"]
    assert verify(answer, qa.index) == []
    (archive.corpus_dir / "gamma.md").unlink()
    assert all(p.doc_id != "gamma" for p in qa.ask("zebra parade drums").passages)


def test_an_engine_that_disagrees_with_the_corpus_is_refused(archive):
    index = store.build(archive, WordHashEncoder())
    milvus = MilvusEngine(archive.backend_uri, archive)
    milvus.sync(index)
    milvus.client.upsert("qa_passages", [{**milvus._passage(index, 0), "start": 1}])
    query = build_query("police", [], WordHashEncoder(), archive.max_chain)
    with pytest.raises(IndexUnavailable, match="unlike the corpus"):
        milvus.searcher(index).candidates(["polic"], query.vector, 50, True, None)


def test_an_unreachable_milvus_says_which_setting_to_fix(archive, caplog):
    caplog.set_level(logging.CRITICAL)
    settings = replace(archive, backend="milvus", backend_uri="http://127.0.0.1:9/")
    with pytest.raises(IndexUnavailable, match="backend_uri"):
        engine = open_engine(settings)
        assert engine is not None
        engine.sync(store.build(archive, WordHashEncoder()))


def test_an_unknown_backend_names_the_choices(fixture_settings):
    with pytest.raises(SettingsError, match="inprocess, milvus"):
        replace(fixture_settings, backend="opensearch")


@pytest.mark.slow
def test_the_articles_evaluation_is_the_same_on_milvus(real_qa, tmp_path):
    """The evaluation suite on the real corpus and model, through each backend's candidates: at most 10 by BM25 and
    10 by dense search (the articles' 53 passages would otherwise all be candidates on both). Every figure of the
    ranking, levels, highlights and grounding is the same."""
    settings = replace(real_qa.settings, candidates=10, exact_max_passages=0,
                       backend_uri=str(tmp_path / "milvus.db"))
    inprocess = QA(settings, real_qa.encoder, index=real_qa.index)
    milvus = QA(replace(settings, backend="milvus"), real_qa.encoder, index=real_qa.index)
    questions = load_questions(split="test")
    reports = [evaluate(qa, questions) for qa in (inprocess, milvus)]
    assert reports[1] == reports[0]
    assert reports[0]["hybrid"]["grounding_rate"] == 1.0
    confidence = [confidence_report(qa, labelled_articles(qa, questions)) for qa in (inprocess, milvus)]
    assert confidence[1] == confidence[0]


@pytest.mark.slow  # the real entry point and model, in a process of its own
def test_qa_index_fills_the_chosen_engine_and_then_writes_only_changes(fixture_settings, tmp_path):
    env = {**os.environ, "QA_CORPUS_DIR": str(fixture_settings.corpus_dir), "QA_INDEX_DIR": str(tmp_path / "index"),
           "QA_BACKEND": "milvus", "QA_BACKEND_URI": str(tmp_path / "milvus.db")}
    command = [sys.executable, "-m", "qa", "index"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)
    assert f"milvus backend at {tmp_path / 'milvus.db'}: 3 documents written (3 passages), 0 removed (rebuilt)" \
        in first.stdout
    (fixture_settings.corpus_dir / "beta.md").unlink()
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)
    assert "0 documents written (0 passages), 1 removed" in second.stdout
