"""A corpus too large to hold in memory keeps its texts in a temporary file, and answers as the corpus in memory does."""
import logging
from dataclasses import asdict, replace

from conftest import WordHashEncoder

from qa import QA
from qa.corpus.documents import Document, corpus_documents, load_corpus
from qa.corpus.shelf import Bodies, ShelvedDocument, shelve_large
from qa.verify import verify

TEXTS = ["Zhanaozen, 16 December 2011.", "", "Жанаөзен — 14 убитых; 警察 🙂 e\u0301 done.", "last\n\nparagraph"]


def test_bodies_read_back_as_written_between_and_after_writes(tmp_path):
    bodies = Bodies.temporary(tmp_path)
    assert [bodies.add(t) for t in TEXTS[:2]] == [0, 1]
    assert bodies[0] == TEXTS[0]  # read before the rest is written
    assert [bodies.add(t) for t in TEXTS[2:]] == [2, 3]
    assert [bodies[k] for k in (3, 1, 2, 0)] == [TEXTS[3], TEXTS[1], TEXTS[2], TEXTS[0]] and len(bodies) == 4
    assert list(tmp_path.iterdir()) == []  # the file has no name: nothing is left behind


def test_shelved_documents_equal_the_documents_read_from_disk(fixture_settings, tmp_path):
    corpus = load_corpus(fixture_settings.corpus_dir, fixture_settings)
    shelved = shelve_large(corpus_documents(fixture_settings.corpus_dir, fixture_settings), 0, tmp_path)
    assert list(shelved) == ["alpha", "alpha/comment-1", "beta"] == [d.id for d in corpus]
    for doc in corpus:
        copy = shelved[doc.id]
        assert type(copy) is ShelvedDocument and "body" not in vars(copy)
        assert asdict(copy) == asdict(doc) and copy.body[7:30] == doc.body[7:30]


def test_only_a_corpus_past_the_limit_is_shelved_and_then_whole(fixture_settings, tmp_path):
    corpus = load_corpus(fixture_settings.corpus_dir, fixture_settings)
    held = shelve_large(corpus, sum(len(d.body.encode()) for d in corpus), tmp_path)
    assert [held[d.id] is d for d in corpus] == [True, True, True]
    first = len(corpus[0].body.encode())
    shelved = shelve_large(corpus, first, tmp_path)  # past the limit at the second document: the first moves too
    assert [type(d).__name__ for d in shelved.values()] == ["ShelvedDocument"] * 3


def test_texts_stay_in_memory_where_no_file_can_be_made(fixture_settings, tmp_path, caplog):
    corpus = load_corpus(fixture_settings.corpus_dir, fixture_settings)
    with caplog.at_level(logging.WARNING, logger="qa"):
        held = shelve_large(corpus, 0, tmp_path / "missing")
    assert [type(d) for d in held.values()] == [Document] * 3
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["the corpus's texts stay in memory"]


QUESTIONS = ["How many people died?", "What did rights groups demand?", "What did the nurse count?",
             "When did the strike start?", "Who opened an investigation?"]


def test_an_index_loaded_with_its_texts_on_disk_answers_as_in_memory(fixture_settings):
    in_memory = QA(fixture_settings, WordHashEncoder())  # builds and saves the index
    on_disk = QA(replace(fixture_settings, in_memory_bytes=0), WordHashEncoder())  # loads it
    documents = on_disk.index.documents
    assert [type(d).__name__ for d in documents.values()] == ["ShelvedDocument"] * 3
    assert type(in_memory.index.documents["alpha"]) is Document
    for question in QUESTIONS:
        answer = on_disk.ask(question)
        assert answer.to_dict() == in_memory.ask(question).to_dict()
        assert verify(answer, on_disk.index) == []
    assert on_disk.search("police").to_dict() == in_memory.search("police").to_dict()
