"""Incremental index: a rebuild encodes only text (model and exact text) it has not encoded before, and the index is
the same as a full build's: passages, ids, keys, vectors (to float tolerance) and answers."""
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, WordHashEncoder

from qa import QA
from qa.cli import main
from qa.corpus.documents import load_corpus
from qa.corpus.passages import split_document
from qa.index import store
from qa.index.cache import VectorSource, text_keys
from qa.index.store import build, previous_vectors, rebuild, save

GAMMA = """---
id: gamma
title: Gamma gazette
publisher: Gamma Press
---

Workers in the oil town marched to the square for the third day, asking for their jobs back.

Doctors at the hospital said they had treated dozens of wounded people overnight.
"""
QUESTIONS = ["How many people died according to officials?", "What did rights groups demand?",
             "What did doctors at the hospital say?", "How long had the strike lasted?"]


class CountingEncoder(WordHashEncoder):
    """The word-hash encoder, counting the texts it is asked to encode."""

    def __init__(self, name: str = WordHashEncoder.name):
        self.name, self.texts = name, []

    def encode(self, texts):
        self.texts += list(texts)
        return super().encode(texts)


def texts_of(settings, doc_id: str) -> list[str]:
    """What a build encodes for one document: each passage with its title, then each sentence."""
    doc = next(d for d in load_corpus(settings.corpus_dir) if d.id == doc_id)
    passages = split_document(doc, settings.min_passage_words)
    return [f"{doc.title}\n{p.text}" for p in passages] + [p.text[a:b] for p in passages for a, b in p.sentences]


def assert_same_index(incremental, full, encoder, settings, atol=0.0):
    assert list(incremental.passages) == list(full.passages)
    assert list(incremental.documents) == list(full.documents)
    assert np.array_equal(np.asarray(incremental.keys), np.asarray(full.keys))
    np.testing.assert_allclose(incremental.vectors, full.vectors, atol=atol)
    np.testing.assert_allclose(incremental.sentence_vectors, full.sentence_vectors, atol=atol)
    assert np.array_equal(incremental.sentence_offsets, full.sentence_offsets)
    a, b = QA(settings, encoder, incremental), QA(settings, encoder, full)
    for q in QUESTIONS:
        assert [(p.passage_id, p.text) for p in a.ask(q).passages] == [(p.passage_id, p.text) for p in b.ask(q).passages]


def add_gamma(settings):
    (settings.corpus_dir / "gamma.md").write_text(GAMMA, encoding="utf-8")


def remove_beta(settings):
    (settings.corpus_dir / "beta.md").unlink()


def edit_alpha_paragraph(settings):
    path = settings.corpus_dir / "alpha.md"
    path.write_text(path.read_text().replace("over wages and working conditions", "over pay"))


def retitle_beta(settings):
    path = settings.corpus_dir / "beta.md"
    path.write_text(path.read_text().replace("title: Beta bulletin", "title: Beta news"))


def encoded_after_adding_gamma(settings):
    return texts_of(settings, "gamma")


def encoded_after_editing_alpha(settings):
    # The one passage whose text changed (with its title) and its changed sentence; nothing else.
    return ["Alpha report\nThe strike had lasted seven months over pay at the oil company.",
            "The strike had lasted seven months over pay at the oil company."]


def encoded_after_retitling(settings):
    # The title is indexed in front of each passage, so beta's passages are encoded again; its sentences are not.
    return [t for t in texts_of(settings, "beta") if t.startswith("Beta news\n")]


# (change to the corpus, the texts the rebuild must encode, in order)
CHANGES = [
    (add_gamma, encoded_after_adding_gamma),
    (remove_beta, lambda settings: []),
    (edit_alpha_paragraph, encoded_after_editing_alpha),
    (retitle_beta, encoded_after_retitling),
]


@pytest.mark.parametrize("change, expected", CHANGES, ids=[c[0].__name__ for c in CHANGES])
def test_rebuild_encodes_only_new_text_and_equals_a_full_build(fixture_settings, change, expected):
    encoder = CountingEncoder()
    save(build(fixture_settings, encoder), fixture_settings.index_dir)
    change(fixture_settings)
    encoder.texts.clear()
    incremental = rebuild(fixture_settings, encoder)
    assert sorted(encoder.texts) == sorted(expected(fixture_settings))
    assert incremental.manifest["texts"] == {"encoded": len(encoder.texts),
                                             "reused": len(incremental.keys) - len(encoder.texts)}
    assert_same_index(incremental, build(fixture_settings, WordHashEncoder()), WordHashEncoder(), fixture_settings)


def test_a_rebuild_after_a_change_is_current_on_disk(fixture_settings):
    encoder = CountingEncoder()
    save(build(fixture_settings, encoder), fixture_settings.index_dir)
    add_gamma(fixture_settings)
    save(rebuild(fixture_settings, encoder), fixture_settings.index_dir)
    assert store.problem(fixture_settings, encoder) is None


def test_keys_name_the_model_and_the_exact_text():
    keys = text_keys("m", ["a", "a ", "a"])
    assert keys.shape == (3, 16) and keys.dtype == np.uint8
    assert (keys[0] == keys[2]).all() and not (keys[0] == keys[1]).all()
    assert not (text_keys("other", ["a"])[0] == keys[0]).all()


def test_another_model_reuses_nothing(fixture_settings):
    save(build(fixture_settings, WordHashEncoder()), fixture_settings.index_dir)
    other = CountingEncoder(name="test/other-model")
    index = rebuild(fixture_settings, other)
    assert index.manifest["texts"]["reused"] == 0 and len(other.texts) == len(index.keys)


def damage_keys(folder):
    np.save(folder / "keys.npy", np.zeros((3, 16), np.uint8), allow_pickle=False)


def damage_keys_and_resign(folder):
    damage_keys(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["keys.npy"] = store.hashlib.sha256((folder / "keys.npy").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def damage_manifest(folder):
    (folder / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)


def delete_vectors(folder):
    (folder / "vectors.npy").unlink()


@pytest.mark.parametrize("damage", [damage_keys, damage_keys_and_resign, damage_manifest, delete_vectors])
def test_a_damaged_previous_build_is_not_reused(fixture_settings, damage):
    encoder = CountingEncoder()
    folder = save(build(fixture_settings, encoder), fixture_settings.index_dir)
    damage(folder)
    assert previous_vectors(fixture_settings, encoder) is None
    encoder.texts.clear()
    index = rebuild(fixture_settings, encoder)
    assert index.manifest["texts"] == {"encoded": len(index.keys), "reused": 0}


def test_cli_index_reuses_the_previous_build(fixture_settings, monkeypatch, capsys):
    monkeypatch.setenv("QA_CORPUS_DIR", str(fixture_settings.corpus_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(fixture_settings.index_dir))
    monkeypatch.setenv("QA_MIN_PASSAGE_WORDS", "8")
    assert main(["index"]) == 0
    first = capsys.readouterr().out
    add_gamma(fixture_settings)
    assert main(["index", "--if-needed"]) == 0
    second = capsys.readouterr().out
    total, gamma = 12, len(texts_of(fixture_settings, "gamma"))
    assert gamma == 4
    assert first == f"indexed 5 passages from 3 documents into {fixture_settings.index_dir} ({total} texts encoded, 0 reused)\n"
    assert second == (f"updating the index: the corpus changed since the index was built\nindexed 7 passages from "
                      f"4 documents into {fixture_settings.index_dir} ({gamma} texts encoded, {total} reused)\n")


def test_with_the_real_model_adding_a_file_equals_a_full_build(real_qa, tmp_path):
    """The bundled corpus without one article, built in full; the article added back, rebuilt reusing that build:
    the same index as real_qa's full build, vectors within float tolerance (the encoder's batches differ)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus, ignore=shutil.ignore_patterns("seeds"))
    held_out = sorted(corpus.glob("*.md"))[0]
    text = held_out.read_text(encoding="utf-8")
    held_out.unlink()
    settings = replace(real_qa.settings, corpus_dir=corpus, index_dir=tmp_path / "index")
    without = build(settings, real_qa.encoder)
    held_out.write_text(text, encoding="utf-8")
    reuse = VectorSource(without.keys, without.vectors, without.sentence_vectors)
    incremental = build(settings, real_qa.encoder, reuse=reuse)
    full = real_qa.index
    added = sum(1 + len(p.sentences) for p in full.passages if p.doc_id not in without.documents)
    assert incremental.manifest["texts"]["encoded"] <= added < len(full.keys) // 3
    assert_same_index(incremental, full, real_qa.encoder, settings, atol=2e-6)
