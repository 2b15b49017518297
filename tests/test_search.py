"""Search mode (qa/search/fulltext.py) on the fixture corpus: which passages match, in which order, the counts, the
marked words, paging, filters, bad input, and the CLI's `search` command."""
import csv
import io
import json
from dataclasses import replace

import pytest
from conftest import WordHashEncoder

from qa import QA, InvalidQuestion
from qa.search.fulltext import parse


def ids(results):
    return [h.passage_id for h in results.hits]


def marked(hit):
    return [hit.text[a:b] for a, b in hit.highlights]


def test_every_word_must_match_in_any_form(fixture_qa):
    r = fixture_qa.search("strike oil")  # 'striking' and 'strike' share the stem
    assert ids(r) == ["alpha#p2", "alpha#p1"]
    assert r.total == 2 and [(d.doc_id, d.count) for d in r.documents] == [("alpha", 2)]
    assert marked(r.hits[1]) == ["striking", "oil"]
    assert marked(r.hits[0]) == ["strike", "oil"]


def test_words_found_only_in_the_title_do_not_match(fixture_qa):
    """The title is indexed with each passage (index_title), but a hit must hold the words itself."""
    assert fixture_qa.search("alpha").total == 0
    assert fixture_qa.search("alpha report").hits == []


def test_a_quoted_phrase_matches_exactly(fixture_qa):
    r = fixture_qa.search('"oil workers"')
    assert ids(r) == ["alpha#p1"]
    assert marked(r.hits[0]) == ["oil workers"]
    assert fixture_qa.search('"workers oil"').total == 0  # both words are there, not in this order
    assert ids(fixture_qa.search('"OIL  Workers" police')) == ["alpha#p1"]  # case and spacing aside, plus a word
    assert fixture_qa.search('"il workers"').total == 0  # a phrase starts at a word's start
    assert fixture_qa.search('"oil worker"').total == 0  # and ends at a word's end


def test_phrase_offsets_survive_characters_whose_lower_case_is_longer():
    from qa.search.fulltext import _phrase_pattern, phrase_spans
    text = "İstanbul: oil workers"
    assert [text[a:b] for a, b in phrase_spans(_phrase_pattern("Oil Workers"), text)] == ["oil workers"]


def test_relevance_and_date_order_with_counts_per_document(fixture_qa):
    by_score = fixture_qa.search("police")
    assert ids(by_score) == ["beta#p1", "alpha#p1"]
    assert by_score.hits[0].score > by_score.hits[1].score
    assert [(d.doc_id, d.count) for d in by_score.documents] == [("alpha", 1), ("beta", 1)]
    by_date = fixture_qa.search("police", order="date")
    assert ids(by_date) == ["alpha#p1", "beta#p1"]  # beta states no date: last


def test_every_hit_is_the_documents_own_text_with_its_citation(fixture_qa):
    docs = fixture_qa.index.documents
    for hit in fixture_qa.search("the").hits:
        assert hit.text == docs[hit.doc_id].body[hit.start:hit.end]
        assert hit.citation.startswith(f"“{docs[hit.doc_id].title}”") or hit.kind == "comment"


def test_paging(fixture_settings):
    qa = QA(fixture_settings, WordHashEncoder())
    everything = qa.search("the")
    assert everything.total == 5 and everything.pages == 1
    pages = [qa.search("the", page=n) for n in (1, 2)]
    assert [len(p.hits) for p in pages] == [5, 0]
    from qa.search.fulltext import search
    first, second = (search(qa.live.current().search_corpus, "the", fixture_settings, page=n, per_page=2) for n in (1, 2))
    assert (first.pages, first.first, second.first) == (3, 1, 3)
    assert ids(first) + ids(second) == ids(everything)[:4]


def test_filters_limit_the_hits_and_are_reported(fixture_qa):
    r = fixture_qa.search("police", sources=["beta"])
    assert ids(r) == ["beta#p1"] and r.sources == ["beta"]
    dated = fixture_qa.search("police", since="2011-12-01")
    assert ids(dated) == ["alpha#p1"] and dated.since == "2011-12-01"


@pytest.mark.parametrize("query, kwargs, message", [
    ("", {}, "the search is empty"),
    ("   ", {}, "the search is empty"),
    ('"oil workers', {}, "quotation mark of the search is not closed"),
    ("x" * 1001, {}, "the limit is 1,000"),
    ("oil\x00", {}, "control characters"),
    ("oil", {"page": 0}, "page must be a whole number from 1"),
    ("oil", {"page": "2"}, "page must be a whole number from 1"),
    ("oil", {"order": "newest"}, "unknown order 'newest'; choose one of relevance, date"),
    ("oil", {"sources": ["nope"]}, "unknown source 'nope'"),
    ("oil", {"since": "yesterday"}, "since is 'yesterday'"),
])
def test_bad_searches_say_what_to_change(fixture_qa, query, kwargs, message):
    with pytest.raises(InvalidQuestion, match=message):
        fixture_qa.search(query, **kwargs)


def test_only_stop_words_is_refused_when_stop_words_are_not_indexed(fixture_settings):
    with pytest.raises(InvalidQuestion, match="has no word the index holds"):
        parse('"the" of', replace(fixture_settings, stopwords=True))


def test_to_dict_is_json(fixture_qa):
    data = json.loads(json.dumps(fixture_qa.search('"oil workers"').to_dict()))
    assert data["total"] == 1 and data["hits"][0]["passage_id"] == "alpha#p1"
    assert data["hits"][0]["highlights"] == [[25, 36]]  # "Police fired on striking " is 25 characters


def test_cli_search(cli, fixture_settings, monkeypatch):
    monkeypatch.setenv("QA_CORPUS_DIR", str(fixture_settings.corpus_dir))
    monkeypatch.setattr("qa.api.MiniLMEncoder", WordHashEncoder)
    code, out, err = cli("search", '"oil workers"', "--json")
    assert (code, err) == (0, "")
    assert [h["passage_id"] for h in json.loads(out)["hits"]] == ["alpha#p1"]
    code, out, _ = cli("search", "police", "--order", "date")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "2 passages in 2 documents match police (by date, page 1 of 1; 1–2 shown)"
    assert lines[4].startswith("[1] “Alpha report”") and "[[Police]]" in lines[5]
    code, out, _ = cli("search", "police", "--export", "csv")
    assert code == 0 and [r["passage_id"] for r in csv.DictReader(io.StringIO(out))] == ["beta#p1", "alpha#p1"]
    code, out, err = cli("search", '"unclosed')
    assert (code, out) == (2, "") and err.startswith("error: a quotation mark")


def test_the_count_per_document_lists_the_documents_with_most_matches_first(fixture_qa, monkeypatch):
    monkeypatch.setattr("qa.search.fulltext.MAX_DOCUMENTS", 1)
    r = fixture_qa.search("the")
    assert (r.total, r.matched_documents) == (5, 3)
    assert [(d.doc_id, d.count) for d in r.documents] == [("alpha", 2)]
