import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import QA, Settings
from qa.answer.model import Passage
from qa.corpus.text import tokenize
from qa_tools.launch import RunningApp, running_app

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus" / "seeds"  # the raw pages the corpus documents were made from

FIXTURE = {
    "alpha.md": """---
id: alpha
title: Alpha report
publisher: Alpha Times
date: 2011-12-19
authors: [Ann Writer]
url: https://example.org/alpha
seed: alpha.txt
comments:
  - id: comment-1
    author: Reader One
    date: 2011-12-20T10:00
---

Police fired on striking oil workers in the town square. Many people were hurt in the clashes.

Officials said ten people died.

The strike had lasted seven months over wages and working conditions at the oil company.

## Reader comment: comment-1

A nurse told me she counted twenty bodies at the hospital that night, far more than officials admit.
""",
    "beta.md": """---
id: beta
title: Beta bulletin
publisher: Beta Wire
date:
authors: []
---

The government opened an investigation into the use of weapons by the police during the protest.

Rights groups demanded a transparent inquiry and the release of detained activists.
""",
    "collection.yaml": """# example questions
examples:
  - How many people died?
  - What did rights groups demand?
""",
}


def make_passage(text: str, passage_id: str, publisher: str, date: str | None = None, comment_author: str | None = None):
    """A Passage for unit tests of answer composition (not checked against any corpus)."""
    kind = "comment" if comment_author else "article"
    return Passage(text=text, doc_id=passage_id.split("#")[0], passage_id=passage_id, start=0, end=len(text), score=1.0,
                   highlights=[], title="T", publisher=publisher, date=date, url=None, authors=[], kind=kind,
                   comment_author=comment_author, comment_location=None, citation="c")


class WordHashEncoder:
    """Deterministic stand-in for the model: a unit bag-of-stems vector, so similarities are exact."""

    name = "test/word-hash"
    dim = 64

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text, stem=True, stopwords=True):
                out[row, int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No test touches the repository's own index folder."""
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))


@pytest.fixture
def fixture_settings(tmp_path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in FIXTURE.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return replace(Settings(), corpus_dir=corpus, index_dir=tmp_path / "fixture-index", min_passage_words=8,
                   min_similarity=0.2)


@pytest.fixture
def fixture_qa(fixture_settings) -> QA:
    return QA(fixture_settings, WordHashEncoder())


@pytest.fixture(scope="session")
def real_qa(tmp_path_factory) -> QA:
    """The real corpus and the real model, with an index built in a temporary folder."""
    settings = replace(Settings(), corpus_dir=ROOT / "corpus", index_dir=tmp_path_factory.mktemp("real-index"))
    return QA(settings)


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> RunningApp:
    """The chat started with `make run` on a free port, QA_HOST unset (the default bind address), `qa.example` on
    its allow-list of host names, its index built in a temporary folder and its output in `app.log`."""
    folder = tmp_path_factory.mktemp("app")
    env = {"QA_INDEX_DIR": str(folder / "index"), "QA_HOST": None, "QA_ALLOWED_HOSTS": "qa.example"}
    with running_app(env, log=folder / "app.log") as running:
        yield running


@pytest.fixture(scope="session")
def app_url(app) -> str:
    return app.url


# A tiny BEIR folder (SciFact-like): documents, queries and judgements with known answers.
DOCS = [
    ("d1", "Vitamin D and bone density", "Vitamin D supplements increase bone density in older women. The trial ran two years."),
    ("d2", "Statins and muscle pain", "Statin therapy causes muscle pain in a minority of patients."),
    ("d3", "Bone fractures in the elderly", "Falls cause most hip fractures. Bone density predicts fracture risk."),
    ("d4", "Sleep and memory", "Sleep after learning improves memory consolidation in adults."),
    ("d5", "Coffee and heart rhythm", "Moderate coffee intake does not cause atrial fibrillation."),
    ("d6", "Exercise and memory", "Aerobic exercise enlarges the hippocampus and improves spatial memory."),
]
QUERIES = {"q1": "vitamin D improves bone density", "q2": "statins cause muscle pain",
           "q3": "exercise improves memory", "q4": "coffee causes arrhythmia", "q5": "sleep helps memory"}
QRELS = {"test": [("q1", "d1", 1), ("q1", "d3", 1), ("q2", "d2", 1), ("q3", "d4", 1)],
         "train": [("q4", "d5", 1), ("q5", "d4", 1)]}


@pytest.fixture
def beir_dir(tmp_path):
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": x, "metadata": {}}) + "\n"
                                                 for i, t, x in DOCS))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items()))
    for split, rows in QRELS.items():
        lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{s}" for q, d, s in rows]
        (folder / "qrels" / f"{split}.tsv").write_bytes("\r\n".join(lines).encode() + b"\r\n")
    return folder


# Tests that load the real model, start the app or run `python -m qa` in a process of its own are `slow`;
# `make test-fast` runs the rest (the fixture corpus with the word-hash encoder).
SLOW_FIXTURES = {"real_qa", "app", "app_url"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def cli(capsys):
    """Run `python -m qa ARGS` in this process (qa.cli.main): (exit code, stdout, stderr)."""
    from qa.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


@pytest.fixture
def quoting_qa(fixture_settings) -> QA:
    """The fixture corpus keeping every passage within half the best score: 'How many bodies did the nurse count at
    the hospital?' then quotes two passages (the reader comment, then the article), the other questions one."""
    return QA(replace(fixture_settings, relative_cutoff=0.5), WordHashEncoder())


# 'Sources differ' for 'How many people were killed?' on the bundled corpus, line by line as the chat, the copy and the
# exports show it: one line per figure, its sources publishers first, with the quotes it comes from.
DEATH_TOLL_LINES = [
    "at least sixteen — The Intel Hub, 2011-12-30 [1]",
    "14 / only fourteen — The Moscow Times, 2011-12-19 [2]; RFE/RL, 2011-12-21 [4]; "
    "reader comment by William Courtney, 2011-12-21 [5]",
    "at least 15 — The Moscow Times, 2011-12-19 [3]", "more than a dozen — The Intel Hub, 2011-12-30 [6]",
    "15 — Amnesty International, 2012-03-22 [7]", "16 — The Moscow Times [8]", "17 — The Moscow Times [9]",
    "twenty-three — reader comment by William Courtney, 2011-12-21 [5]",
    "more than fourteen — reader comment by William Courtney, 2011-12-21 [5]"]
