"""The corpus, now: a running QA notices a changed corpus folder or index and never quotes a removed document or an
edited passage's old words after noticing (qa/index/live.py)."""
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest
from conftest import ROOT, WordHashEncoder

from qa import QA, CorpusError, IndexUnavailable, QAError, verify
from qa.errors import UnknownSource
from qa.index import live, store
from qa.index.live import Fingerprint

GAMMA = """---
id: gamma
title: Gamma gazette
publisher: Gamma Press
---

Doctors at the hospital said they had treated dozens of wounded people overnight after the shooting.
"""
INVESTIGATION = "investigation into police weapons"


@pytest.fixture
def settings(fixture_settings):
    """The fixture corpus, its folder looked at on every ask."""
    return replace(fixture_settings, corpus_check_seconds=0.0)


def write_atomically(path, text):
    """As an importer writes a document: elsewhere first, then renamed into place."""
    temporary = path.parent.parent / f".{path.name}.tmp"
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def quoted(answer) -> str:
    return " ".join(p.text for p in answer.passages)


def add(settings):
    write_atomically(settings.corpus_dir / "gamma.md", GAMMA)


def remove(settings):
    (settings.corpus_dir / "beta.md").unlink()


def edit_in_place(settings):
    path = settings.corpus_dir / "beta.md"
    path.write_text(path.read_text().replace("opened an investigation", "closed the investigation"))


def edit_by_rename(settings):
    path = settings.corpus_dir / "beta.md"
    write_atomically(path, path.read_text().replace("opened an investigation", "closed the investigation"))


def all_three(settings):
    add(settings)
    edit_in_place(settings)
    (settings.corpus_dir / "alpha.md").unlink()


# (change, a question, what its answer must quote after the change, what it must never quote, the log line)
CHANGES = [
    (add, "What did doctors at the hospital say?", "treated dozens of wounded", None,
     "corpus changed: 1 added (gamma.md); updated (2 texts encoded, 12 reused; saved)"),
    (remove, INVESTIGATION, None, "The government opened",
     "corpus changed: 1 removed (beta.md); updated (0 texts encoded, 8 reused; saved)"),
    (edit_in_place, INVESTIGATION, "The government closed the investigation", "opened an investigation",
     "corpus changed: 1 edited (beta.md); updated (2 texts encoded, 10 reused; saved)"),
    (edit_by_rename, INVESTIGATION, "The government closed the investigation", "opened an investigation",
     "corpus changed: 1 edited (beta.md); updated (2 texts encoded, 10 reused; saved)"),
    (all_three, INVESTIGATION, "The government closed the investigation", "Police fired",
     "corpus changed: 1 added (gamma.md), 1 removed (alpha.md), 1 edited (beta.md); updated (4 texts encoded, "
     "2 reused; saved)"),
]


@pytest.mark.parametrize("change, question, now, never, line", CHANGES, ids=[c[0].__name__ for c in CHANGES])
def test_the_next_ask_answers_from_the_changed_corpus(settings, caplog, change, question, now, never, line):
    qa = QA(settings, WordHashEncoder())
    before = qa.ask(question)
    change(settings)
    caplog.clear()
    with caplog.at_level("WARNING", logger="qa"):
        after = qa.ask(question)
    if now:
        assert now in quoted(after) and now not in quoted(before)
    if never:
        assert never not in quoted(after) and all(never not in p.text for p in qa.index.passages)
    assert verify(after, qa.index) == []
    assert [r.message.rsplit(" in ", 1)[0] for r in caplog.records] == [line]
    assert store.problem(settings, WordHashEncoder()) is None  # the rebuilt index was saved: the next start loads it


def test_a_removed_document_cannot_be_opened_and_is_no_source(settings):
    qa = QA(settings, WordHashEncoder())
    passage = qa.ask(INVESTIGATION, 1).passages[0]
    assert passage.doc_id == "beta" and qa.locate(passage.passage_id)[0].id == "beta"
    remove(settings)
    with pytest.raises(UnknownSource, match="no passage or document has the id 'beta#p1'"):
        qa.locate(passage.passage_id)
    assert [d.id for d in qa.sources()] == ["alpha"]


def test_a_touched_file_changes_nothing_and_encodes_nothing(settings, caplog):
    qa = QA(settings, WordHashEncoder())
    served = qa.index
    path = settings.corpus_dir / "beta.md"
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    caplog.clear()
    with caplog.at_level("INFO", logger="qa"):
        qa.ask(INVESTIGATION)
    assert qa.index is served
    assert [r.message for r in caplog.records] == ["corpus folder changed (1 edited (beta.md)) but no document did"]


def test_a_broken_file_refuses_with_its_error_until_fixed(settings, caplog):
    qa = QA(settings, WordHashEncoder())
    broken = settings.corpus_dir / "delta.md"
    broken.write_text("---\nid: delta\ntitle: [unclosed\n---\n\nText.\n")
    message = r"the corpus changed and cannot be used \(delta.md: front matter is not valid YAML"
    caplog.clear()
    with caplog.at_level("WARNING", logger="qa"):
        for _ in range(2):  # refused on every ask, logged once
            with pytest.raises(CorpusError, match=message):
                qa.ask(INVESTIGATION)
    assert len(caplog.records) == 1 and caplog.records[0].message.startswith(
        "corpus changed: 1 added (delta.md); cannot be used: delta.md: front matter is not valid YAML")
    broken.unlink()
    assert qa.ask(INVESTIGATION, 1).passages[0].text.startswith("The government opened")


def test_between_checks_the_folder_is_not_looked_at(fixture_settings, monkeypatch):
    qa = QA(replace(fixture_settings, corpus_check_seconds=3600.0), WordHashEncoder())
    looks = []
    monkeypatch.setattr(live.Fingerprint, "take", classmethod(lambda cls, s: looks.append(s)))
    edit_in_place(fixture_settings)
    for _ in range(20):
        assert "opened an investigation" in quoted(qa.ask(INVESTIGATION))
    assert looks == []


def test_a_check_every_ask_reads_no_file(settings, monkeypatch):
    """The check is metadata only: scandir and lstat, never open(), once no file is racy (a file changed within the
    last RACY_NS is hashed, and read once more at the first check after: its times cannot tell an edit made in the
    same tick)."""
    qa = QA(settings, WordHashEncoder())
    qa.ask(INVESTIGATION)
    time.sleep(live.RACY_NS / 1e9)
    qa.ask(INVESTIGATION)  # the files written by the fixture just before are read once more, and settled
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    monkeypatch.setattr(os, "open", lambda *a, **k: opened.append(a[0]))
    for _ in range(5):
        qa.ask(INVESTIGATION)
    assert opened == []


def test_hostile_entries_are_fingerprinted_without_being_opened(settings, caplog):
    """A FIFO, a dangling link, a directory and a name that is not UTF-8: lstat only, no hang; none is a corpus
    file (*.md), so no document changes."""
    qa = QA(settings, WordHashEncoder())
    folder = settings.corpus_dir
    os.mkfifo(folder / "pipe")
    os.symlink(folder / "missing", folder / "dangling")
    (folder / "sub").mkdir()
    open(os.fsencode(folder) + b"/caf\xe9.txt", "wb").close()
    done = threading.Event()
    threading.Thread(target=lambda: (qa.ask(INVESTIGATION), done.set()), daemon=True).start()
    assert done.wait(15), "the check hung on a hostile entry"
    entries = {e[0]: e for e in Fingerprint.take(settings).corpus}
    assert {"pipe", "dangling", "sub", "caf\udce9.txt"} <= set(entries)
    assert "1 added (caf\\xe9.txt)" in Fingerprint((), None).changes(Fingerprint((entries["caf\udce9.txt"],), None))


def test_an_index_rebuilt_by_another_process_is_loaded(fixture_settings, caplog):
    """`python -m qa index` in another process after an edit: the running QA loads that build instead of
    building its own."""
    settings = replace(fixture_settings, corpus_check_seconds=0.0)
    from qa.index.encoder import MiniLMEncoder
    qa = QA(settings, MiniLMEncoder())
    edit_in_place(settings)
    env = {**os.environ, "QA_CORPUS_DIR": str(settings.corpus_dir), "QA_INDEX_DIR": str(settings.index_dir),
           "QA_MIN_PASSAGE_WORDS": str(settings.min_passage_words)}
    subprocess.run([sys.executable, "-m", "qa", "index"], cwd=ROOT, env=env, check=True, capture_output=True)
    saved = (settings.index_dir / "CURRENT").read_text().strip()
    caplog.clear()
    with caplog.at_level("WARNING", logger="qa"):
        answer = qa.ask(INVESTIGATION, 1)
    assert answer.passages[0].text.startswith("The government closed the investigation")
    assert [r.message.rsplit(" in ", 1)[0] for r in caplog.records] == [
        "corpus changed: 1 edited (beta.md); loaded the index another process saved"]
    assert (settings.index_dir / "CURRENT").read_text().strip() == saved  # nothing rebuilt here


def test_asks_from_threads_never_quote_old_words_once_the_change_is_noticed(settings):
    """8 threads ask while the corpus is edited: each answer is grounded in the index it was answered from, and
    no ask that starts after the change was noticed quotes the old words."""
    qa = QA(settings, WordHashEncoder())
    results, stop = [], threading.Event()

    def asker():
        while not stop.is_set():
            started = time.monotonic()
            answer = qa.ask(INVESTIGATION, 1)
            index = qa.index
            results.append((started, answer, index))

    threads = [threading.Thread(target=asker) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    edit_by_rename(settings)
    qa.live.current()  # notices and swaps
    noticed = time.monotonic()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    after = [a for started, a, _ in results if started > noticed]
    assert after and all(a.passages[0].text.startswith("The government closed") for a in after)
    old_words = [a for _, a, _ in results if "opened an investigation" in a.passages[0].text]
    assert old_words, "no answer came before the change: the test did not overlap the swap"
    assert all(verify(a, index) == [] for _, a, index in results[-20:])


def test_asks_during_a_rebuild_wait_for_it_then_are_refused(settings, monkeypatch):
    """While the noticing ask rebuilds, another ask waits rather than answer from the old index; past
    corpus_wait_seconds it is refused with a message, and once the swap is done answers quote the new words."""
    qa = QA(replace(settings, corpus_wait_seconds=0.2), WordHashEncoder())
    release, building = threading.Event(), threading.Event()
    real_update = live.updated

    def slow_update(*args, **kwargs):
        building.set()
        release.wait(10)
        return real_update(*args, **kwargs)
    monkeypatch.setattr(live, "updated", slow_update)
    edit_by_rename(settings)
    first: list = []
    noticing = threading.Thread(target=lambda: first.append(qa.ask(INVESTIGATION, 1)))
    noticing.start()
    assert building.wait(10)
    with pytest.raises(IndexUnavailable, match="the corpus changed and its index is still being rebuilt; ask again "
                                               "in a moment"):
        qa.ask(INVESTIGATION, 1)
    release.set()
    noticing.join(10)
    assert first[0].passages[0].text.startswith("The government closed")
    assert qa.ask(INVESTIGATION, 1).passages[0].text.startswith("The government closed")


def test_a_changed_collection_is_shown_without_a_rebuild(settings):
    qa = QA(settings, WordHashEncoder())
    served = qa.index
    (settings.corpus_dir / "collection.yaml").write_text("title: Beta and alpha\nexamples:\n  - Who opened the investigation?\n")
    answer = qa.ask("Who won the 2018 World Cup?")
    assert answer.abstained and answer.suggestions == ["Who opened the investigation?"]
    assert qa.examples == ["Who opened the investigation?"] and qa.collection.title == "Beta and alpha"
    assert qa.index is served


def test_a_directory_named_like_a_document_never_escapes_as_a_traceback(settings):
    """Whether the corpus loader skips it or refuses it, an ask answers or raises a QAError; once it is removed,
    answers resume."""
    qa = QA(settings, WordHashEncoder())
    (settings.corpus_dir / "notes.md").mkdir()
    try:
        outcome = qa.ask(INVESTIGATION, 1).passages[0].text[:22]
    except QAError as exc:
        outcome = type(exc).__name__
    assert outcome in ("The government opened ", "CorpusError")
    (settings.corpus_dir / "notes.md").rmdir()
    assert qa.ask(INVESTIGATION, 1).passages[0].text.startswith("The government opened")
