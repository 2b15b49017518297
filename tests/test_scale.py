"""What lets one process serve ten million passages, on the fixture corpus: the passage table, the candidates'
scattered scores, and the inverted lists of dense codes."""
from dataclasses import replace

import faiss
import numpy as np
import pytest
from conftest import WordHashEncoder

from qa.corpus.documents import load_corpus
from qa.corpus.passages import PassageRecord, split_document
from qa.index.engine import InProcess
from qa.index.store import build, load, save
from qa.index.table import Malformed, PassageTable
from qa.search.retrieval import Scattered, rank


def test_the_table_gives_back_every_record_split_document_made(fixture_settings):
    documents = {d.id: d for d in load_corpus(fixture_settings.corpus_dir, fixture_settings)}
    records = [p for d in documents.values() for p in split_document(d, fixture_settings.min_passage_words)]
    table = PassageTable.of(records, documents)
    assert list(table) == records and len(table) == len(records)
    assert table[-1] == records[-1] and table[1:3] == records[1:3]
    for row, record in enumerate(records):
        assert table.row_of(record.passage_id) == row
        assert table.get(record.passage_id) == record
        assert table.text(row) == record.text
    first = records[0].doc_id
    for unknown in (f"{first}#p0", f"{first}#p01", f"{first}#p99", f"{first}#p²", "no-such#p1", first, ""):
        assert table.row_of(unknown) is None and table.get(unknown) is None
    with pytest.raises(IndexError, match="outside the table's"):
        table[len(records)]


def test_a_table_refuses_passages_laid_out_unlike_split_document(fixture_settings):
    documents = {d.id: d for d in load_corpus(fixture_settings.corpus_dir, fixture_settings)}
    records = [p for d in documents.values() for p in split_document(d, 1)]
    by_doc = [p for p in records if p.doc_id == records[0].doc_id]
    assert len(by_doc) >= 2
    with pytest.raises(Malformed, match=r"passage 1 \(.*#p2\) is not numbered in order within its document"):
        PassageTable.of([by_doc[1], by_doc[0]], documents)
    other = next(p for p in records if p.doc_id != by_doc[0].doc_id)
    with pytest.raises(Malformed, match="the passages of a document are not consecutive"):
        PassageTable.of([by_doc[0], other, PassageRecord(f"{by_doc[0].doc_id}#p1", by_doc[0].doc_id, 0, 1, "x", ())],
                        documents)


def test_scattered_values_read_as_the_long_array_they_stand_for():
    values = Scattered(np.array([2, 3, 4, 9]), np.array([0.5, 0.25, 1.0, -1.0]), 12)
    full = np.full(12, np.nan)
    full[[2, 3, 4, 9]] = [0.5, 0.25, 1.0, -1.0]
    assert len(values) == 12
    np.testing.assert_array_equal(np.asarray(values), full)
    assert values[3] == 0.25 and np.isnan(values[0]) and np.isnan(values[11])
    np.testing.assert_array_equal(values[np.array([9, 1, 2])], [-1.0, np.nan, 0.5])
    np.testing.assert_array_equal(values[2:5], [0.5, 0.25, 1.0])  # held rows: a view of the values
    np.testing.assert_array_equal(values[8:11], [np.nan, -1.0, np.nan])
    assert values.nanmax() == 1.0
    changed = values.updated(np.array([9, 2]), np.array([7.0, 8.0]))
    np.testing.assert_array_equal(changed.values, [8.0, 0.25, 1.0, 7.0])
    assert values.values[0] == 0.5  # the original is unchanged
    empty = Scattered(np.zeros(0, dtype=np.int64), np.zeros(0), 5)
    assert np.isnan(empty[1]) and np.isnan(empty[np.array([0, 4])]).all()


@pytest.fixture
def ivf_settings(fixture_settings):
    """The fixture corpus as a large corpus is searched: candidates only, dense codes in inverted lists."""
    return replace(fixture_settings, flat_max_passages=0, ivf_min_passages=0, exact_max_passages=0)


def test_inverted_lists_scanned_whole_find_what_exact_ranking_finds(ivf_settings):
    index = build(ivf_settings, WordHashEncoder())
    lists = index.dense.nlist
    assert isinstance(index.dense, faiss.IndexIVFScalarQuantizer) and lists == 2 ** round(np.log2(np.sqrt(len(index.passages))))
    save(index, ivf_settings.index_dir)
    loaded = load(ivf_settings, WordHashEncoder())
    assert isinstance(loaded.dense, faiss.IndexIVFScalarQuantizer) and loaded.dense.ntotal == len(index.passages)
    exact_settings = replace(ivf_settings, flat_max_passages=10**6, exact_max_passages=10**6)
    exact = build(exact_settings, WordHashEncoder())
    for question in ("police fired on striking oil workers", "How many people died?", "rights groups demand"):
        vector = WordHashEncoder().encode([question])[0]
        every_list = rank(loaded, question, vector, replace(ivf_settings, ivf_probes=lists, candidates=100))
        assert list(every_list.order) == list(rank(exact, question, vector, exact_settings).order)


def test_a_filter_on_inverted_lists_returns_allowed_passages_only(ivf_settings):
    index = build(ivf_settings, WordHashEncoder())
    allowed = np.arange(len(index.passages)) % 2 == 0
    vector = WordHashEncoder().encode(["police"])[0]
    found = InProcess(index, index.dense.nlist).candidates(["polic"], vector, 100, True, allowed)
    assert len(found.dense) == allowed.sum() and allowed[found.dense].all() and allowed[found.lexical].all()
