"""An index updated for a change of the corpus (qa/index/update.py) is the index a build makes of the changed corpus:
passages, keys, vectors, BM25 postings and scores, words, figure passages, files and answers; the dense index holds
the codes its own training gives the new vectors. Only the changed documents are encoded."""
import shutil
from dataclasses import replace

import faiss
import numpy as np
import pytest
from conftest import ROOT, WordHashEncoder
from test_incremental import CHANGES, QUESTIONS, CountingEncoder, add_gamma, remove_beta, retitle_beta

from qa import QA
from qa.index import store
from qa.index.rows import Rows, Spliced
from qa.index.store import build, save
from qa.index.update import open_index, resumed, updated

ARTICLE_QUESTIONS = ["How many people were killed in Zhanaozen?", "Who was prosecuted over the shootings?",
                     "What did William Courtney say?", "What did the posters in Astana say?"]


def rename_alpha(settings):
    (settings.corpus_dir / "alpha.md").rename(settings.corpus_dir / "zeta.md")


def postings(index):
    terms, rows, frequencies, starts = index.lexical.arrays()
    return {t: (rows[starts[k]:starts[k + 1]].tolist(), frequencies[starts[k]:starts[k + 1]].tolist())
            for k, t in enumerate(terms)}


def dense_codes(dense):
    """Every (row, code) the dense index holds, in row order."""
    if isinstance(dense, faiss.IndexIVF):
        held = []
        for k in range(dense.nlist):
            size = dense.invlists.list_size(k)
            ids = faiss.rev_swig_ptr(dense.invlists.get_ids(k), size).copy()
            codes = faiss.rev_swig_ptr(dense.invlists.get_codes(k), size * dense.code_size).reshape(size, dense.code_size)
            held += [(int(i), k, c.tobytes()) for i, c in zip(ids, codes)]
        return sorted(held)
    return faiss.vector_to_array(dense.codes).reshape(dense.ntotal, -1).tolist()


def assert_built_equal(updated_index, settings, encoder):
    """`updated_index` is what build() makes of the corpus now, but for the dense index's training, which it keeps:
    its codes are those that training gives the new vectors, added afresh."""
    full = build(settings, WordHashEncoder())
    assert list(updated_index.passages) == list(full.passages)
    assert list(updated_index.documents) == list(full.documents)
    assert updated_index.files == full.files
    assert np.array_equal(np.asarray(updated_index.keys), np.asarray(full.keys))
    assert np.array_equal(np.asarray(updated_index.vectors), full.vectors)
    assert np.array_equal(np.asarray(updated_index.sentence_vectors), full.sentence_vectors)
    assert np.array_equal(updated_index.sentence_offsets, full.sentence_offsets)
    assert postings(updated_index) == postings(full)
    for q in QUESTIONS + ARTICLE_QUESTIONS:
        tokens = q.lower().split()
        assert np.array_equal(updated_index.lexical.scores(tokens), full.lexical.scores(tokens))
    assert updated_index.words == full.words
    assert {m: r.tolist() for m, r in updated_index.figures.by_measure.items()} == {
        m: r.tolist() for m, r in full.figures.by_measure.items()}
    afresh = faiss.clone_index(updated_index.dense)
    afresh.reset()
    vectors = np.asarray(full.vectors)
    if isinstance(afresh, faiss.IndexIVF):
        afresh.add_with_ids(vectors, np.arange(len(vectors)))
    else:
        afresh.add(vectors)
    assert dense_codes(updated_index.dense) == dense_codes(afresh)
    if type(full.dense) is faiss.IndexFlatIP:  # no training: the answers are the build's
        a, b = QA(settings, encoder, updated_index), QA(settings, encoder, full)
        for q in QUESTIONS + ARTICLE_QUESTIONS:
            assert a.ask(q).passages == b.ask(q).passages


DENSE_KINDS = {"flat": {}, "8-bit": {"flat_max_passages": 0}, "ivf": {"flat_max_passages": 0, "ivf_min_passages": 1}}
ALL_CHANGES = [*CHANGES, (rename_alpha, None)]


@pytest.mark.parametrize("kind", DENSE_KINDS, ids=list(DENSE_KINDS))
@pytest.mark.parametrize("change", [c[0] for c in ALL_CHANGES], ids=[c[0].__name__ for c in ALL_CHANGES])
def test_an_update_is_the_build_of_the_changed_corpus(fixture_settings, kind, change):
    settings = replace(fixture_settings, **DENSE_KINDS[kind])
    encoder = CountingEncoder()
    index = build(settings, encoder)
    change(settings)
    encoder.texts.clear()
    after = updated(index, settings, encoder)
    encoded = list(encoder.texts)
    assert after is not None
    assert_built_equal(after, settings, encoder)
    expected = dict(CHANGES).get(change)
    if expected is not None:  # the same texts as a rebuild reusing every vector encodes
        assert sorted(encoded) == sorted(expected(settings))
    assert after.manifest["texts"] == {"encoded": len(encoded), "reused": len(after.keys) - len(encoded)}


@pytest.mark.parametrize("kind", DENSE_KINDS, ids=list(DENSE_KINDS))
@pytest.mark.parametrize("change", [c[0] for c in ALL_CHANGES], ids=[c[0].__name__ for c in ALL_CHANGES])
def test_a_saved_index_is_updated_for_a_change_made_while_no_app_ran(fixture_settings, kind, change):
    """The removed and changed documents' texts and fields are gone by the next start: the saved index knows them
    only by their passages; it is still updated to the build, with the same texts encoded as in a running app."""
    settings = replace(fixture_settings, **DENSE_KINDS[kind])
    encoder = CountingEncoder()
    save(build(settings, encoder), settings.index_dir)
    change(settings)
    encoder.texts.clear()
    after = resumed(settings, encoder)
    encoded = list(encoder.texts)
    assert after is not None
    assert_built_equal(after, settings, encoder)
    expected = dict(CHANGES).get(change)
    if expected is not None:
        assert sorted(encoded) == sorted(expected(settings))
    save(after, settings.index_dir)
    assert store.problem(settings, encoder) is None


def started(settings, encoder, caplog) -> list[str]:
    """The log lines of a start: open_index gives the build of the corpus now, and saves it."""
    caplog.clear()
    with caplog.at_level("WARNING", logger="qa"):
        assert_built_equal(open_index(settings, encoder), settings, encoder)
    assert store.problem(settings, encoder) is None
    return [r.message for r in caplog.records]


def test_a_start_after_a_change_updates_and_a_start_after_damage_rebuilds(fixture_settings, caplog):
    encoder = WordHashEncoder()
    save(build(fixture_settings, encoder), fixture_settings.index_dir)
    retitle_beta(fixture_settings)
    assert started(fixture_settings, encoder, caplog) == [
        "updating the index: the corpus changed since the index was built (2 texts encoded, 10 reused)"]
    build_dir = fixture_settings.index_dir / (fixture_settings.index_dir / "CURRENT").read_text().strip()
    with open(build_dir / "vectors.npy", "r+b") as f:  # a flipped bit: nothing of the saved index is used
        f.seek(-1, 2)
        last = f.read(1)[0]
        f.seek(-1, 2)
        f.write(bytes([last ^ 1]))
    add_gamma(fixture_settings)
    assert started(fixture_settings, encoder, caplog) == [
        "rebuilding the index: the corpus changed since the index was built"]


def test_the_articles_changed_one_after_another_stay_the_build(tmp_path):
    """The bundled articles, one with reader comments: a page removed (its figures and comments go), an article
    edited, one added back under another name, each update made from the last."""
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    settings = replace(store.Settings(), corpus_dir=corpus, index_dir=tmp_path / "index")
    encoder = WordHashEncoder()
    index = build(settings, encoder)
    files = sorted(corpus.glob("*.md"))
    commented = next(f for f in files if "## Reader comment:" in f.read_text())
    text = commented.read_text()
    commented.unlink()
    index = updated(index, settings, encoder)
    assert index is not None and index.manifest["updated"]["removed"] > 1  # the article and its comments
    assert_built_equal(index, settings, encoder)
    edited = files[0] if files[0] != commented else files[1]
    edited.write_text(edited.read_text().replace("Zhanaozen", "Zhanaozen (Janaozen)", 1))
    index = updated(index, settings, encoder)
    assert_built_equal(index, settings, encoder)
    (corpus / "zz-restored.md").write_text(text)
    index = updated(index, settings, encoder)
    assert_built_equal(index, settings, encoder)


def test_the_articles_changed_while_no_app_ran_are_updated_to_the_build(tmp_path):
    """A page with reader comments removed and another article edited between two starts."""
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    settings = replace(store.Settings(), corpus_dir=corpus, index_dir=tmp_path / "index")
    encoder = WordHashEncoder()
    save(build(settings, encoder), settings.index_dir)
    files = sorted(corpus.glob("*.md"))
    commented = next(f for f in files if "## Reader comment:" in f.read_text())
    commented.unlink()
    edited = files[0] if files[0] != commented else files[1]
    edited.write_text(edited.read_text().replace("Zhanaozen", "Zhanaozen (Janaozen)", 1))
    index = resumed(settings, encoder)
    assert index is not None and index.manifest["updated"]["removed"] > 2  # the page, its comments, the edited one
    assert_built_equal(index, settings, encoder)


def test_only_a_build_can_change_settings_or_the_dense_index_kind(fixture_settings):
    encoder = WordHashEncoder()
    index = build(fixture_settings, encoder)
    add_gamma(fixture_settings)
    assert updated(index, replace(fixture_settings, bm25_k1=1.5), encoder) is None
    passages = len(index.passages)
    assert updated(index, replace(fixture_settings, flat_max_passages=passages), encoder) is None  # now 8-bit
    assert updated(replace(index, files=None), fixture_settings, encoder) is None


def test_okapi_scores_equal_the_builds_to_rounding(fixture_settings):
    settings = replace(fixture_settings, bm25_variant="okapi")
    index = build(settings, WordHashEncoder())
    add_gamma(settings)
    remove_beta(settings)
    after, full = updated(index, settings, WordHashEncoder()), build(settings, WordHashEncoder())
    for q in QUESTIONS:
        np.testing.assert_allclose(after.lexical.scores(q.lower().split()), full.lexical.scores(q.lower().split()),
                                   rtol=1e-12)


def test_an_update_read_from_disk_is_saved_then_read_from_its_own_files(fixture_settings):
    """Vectors past in_memory_bytes are read from the build's files: an update reads its kept rows from there
    (Spliced), and once saved, from the new build's files; the saved index loads as current."""
    settings = replace(fixture_settings, in_memory_bytes=0)
    encoder = WordHashEncoder()
    save(build(settings, encoder), settings.index_dir)
    index = store.load(settings, encoder)
    assert isinstance(index.vectors, Rows)
    add_gamma(settings)
    after = updated(index, settings, encoder)
    assert isinstance(after.vectors, Spliced) and isinstance(after.keys, Spliced)
    saved = store.reopened(after, save(after, settings.index_dir), settings.in_memory_bytes)
    assert all(isinstance(a, Rows) for a in (saved.vectors, saved.sentence_vectors, saved.keys))
    assert np.array_equal(np.asarray(saved.vectors), np.asarray(after.vectors))
    assert store.problem(settings, encoder) is None
    assert_built_equal(store.load(settings, encoder), settings, encoder)


def test_a_start_reads_the_updated_rows_from_its_new_build(fixture_settings):
    settings = replace(fixture_settings, in_memory_bytes=0)
    encoder = WordHashEncoder()
    save(build(settings, encoder), settings.index_dir)
    add_gamma(settings)
    index = open_index(settings, encoder)
    current = settings.index_dir / (settings.index_dir / "CURRENT").read_text().strip()
    assert [a.path for a in (index.vectors, index.sentence_vectors, index.keys)] == [
        current / "vectors.npy", current / "sentences.npy", current / "keys.npy"]
    assert_built_equal(index, settings, encoder)


def test_a_running_qa_updates_its_index_for_a_new_file(fixture_settings, caplog):
    settings = replace(fixture_settings, corpus_check_seconds=0.0)
    encoder = CountingEncoder()
    qa = QA(settings, encoder)
    encoder.texts.clear()
    add_gamma(settings)
    with caplog.at_level("WARNING", logger="qa"):
        answer = qa.ask("What did doctors at the hospital say?")
    assert answer.passages[0].doc_id == "gamma"
    assert "corpus changed: 1 added (gamma.md); updated (" in caplog.text
    assert encoder.texts[-1] == "What did doctors at the hospital say?"  # gamma's texts were encoded before it
    assert store.problem(settings, encoder) is None
