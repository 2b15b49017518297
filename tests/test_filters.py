"""Answers limited to chosen sources and dates: through the API and the CLI, with exact passages."""
import pytest

from qa import InvalidQuestion, verify
from qa.answer.model import NO_MATCH_MESSAGE

QUESTION = "Police fired on striking oil workers; rights groups demanded an inquiry"


def ids(answer):
    return [p.passage_id for p in answer.passages]


def test_unfiltered_answer_quotes_both_sources(fixture_qa):
    assert {p.doc_id for p in fixture_qa.ask(QUESTION, k=5).passages} >= {"alpha", "beta"}


@pytest.mark.parametrize("limit, documents", [
    ({"sources": ["beta"]}, {"beta"}),
    ({"sources": ["alpha"]}, {"alpha", "alpha/comment-1"}),  # an article's reader comments come with it
    ({"since": "2011-12-20", "question": "How many bodies did the nurse count at the hospital?"}, {"alpha/comment-1"}),
    ({"until": "2011-12-19"}, {"alpha"}),
    ({"since": "2011-12-19", "until": "2011-12-19"}, {"alpha"}),
])
def test_answers_quote_only_the_chosen_documents(fixture_qa, limit, documents):
    limit = dict(limit)  # the table row stays as it is
    question = limit.pop("question", QUESTION)
    answer = fixture_qa.ask(question, k=5, **limit)
    assert not answer.abstained and {p.doc_id for p in answer.passages} <= documents
    assert verify(answer, fixture_qa.index) == []


def test_a_limit_nothing_matches_abstains_and_says_why(fixture_qa):
    answer = fixture_qa.ask(QUESTION, since="2012-01-01")
    assert (answer.abstained, answer.passages, answer.message) == (True, [], NO_MATCH_MESSAGE)
    assert verify(answer, fixture_qa.index) == []


@pytest.mark.parametrize("limit, message", [
    ({"sources": ["gamma"]}, "unknown source 'gamma'; choose from the corpus's documents, such as 'alpha', 'beta'"),
    ({"sources": "alpha"}, "sources must be a list of document ids"),
    ({"since": "19 Dec 2011"}, "since is '19 Dec 2011'; write a date such as 2011-12-16"),
    ({"until": 20111219}, "until is 20111219; write a date"),
    ({"since": "2011-12-20", "until": "2011-12-19"}, r"since \(2011-12-20\) is after until \(2011-12-19\); swap them"),
])
def test_bad_limits_are_refused_with_the_fix(fixture_qa, limit, message):
    with pytest.raises(InvalidQuestion, match=message):
        fixture_qa.ask(QUESTION, **limit)


def test_the_cli_refuses_a_bad_date_before_loading_the_model(cli, fixture_settings, monkeypatch):
    monkeypatch.setenv("QA_CORPUS_DIR", str(fixture_settings.corpus_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(fixture_settings.index_dir))
    code, _, err = cli("ask", QUESTION, "--since", "next week")
    assert (code, err) == (2, "error: since is 'next week'; write a date such as 2011-12-16, or leave it empty\n")
