"""The reporter's desk (qa/desk.py): the conversation and collection as the browser keeps them, checked when they come
back; links that reproduce an answer; More quotes; starring; and answers under a filter saying so."""
from dataclasses import replace

import pytest

from qa import desk
from qa.answer.export import answer_text
from qa.errors import InvalidQuestion
from qa.present import Turn, answer_html, conversation_html, link, star_key
from qa.search.filters import Filter

NURSE = "How many bodies did the nurse count at the hospital?"
RIGHTS = "What did rights groups demand?"


def test_a_kept_conversation_comes_back_as_it_was(quoting_qa):
    first = desk.ask_turn(quoting_qa, NURSE, [], None, None, None)
    second = desk.ask_turn(quoting_qa, RIGHTS, [first.answer], ["beta"], "", None)
    refused = desk.ask_turn(quoting_qa, "", [], None, None, None)
    kept = [desk.turn_dict(t) for t in (first, second, refused)]
    assert desk.restore_turns(kept, quoting_qa.index) == [first, second, refused]
    assert second.limit == Filter(frozenset({"beta"}))
    assert refused.error == "the question is empty; type a question about the documents"


def test_a_kept_answer_that_is_no_longer_grounded_says_to_ask_again(quoting_qa):
    kept = desk.turn_dict(desk.ask_turn(quoting_qa, RIGHTS, [], None, None, None))
    kept["answer"]["passages"][0]["text"] = "Rights groups demanded nothing."  # edited in the browser, or the corpus changed
    assert desk.restore_turns([kept], quoting_qa.index) == [Turn(RIGHTS, error=desk.CHANGED)]


@pytest.mark.parametrize("kept", [None, "x", [1, {"question": 3}, {"answer": {}}], {"question": "q"}])
def test_malformed_kept_state_is_left_out(quoting_qa, kept):
    assert desk.restore_turns(kept, quoting_qa.index) == []
    assert desk.restore_starred(kept, quoting_qa.index) == []


def test_star_keeps_a_passage_once_with_its_marks_and_remove_drops_it(quoting_qa):
    quote = desk.ask_turn(quoting_qa, RIGHTS, [], None, None, None).answer.passages[0]
    starred = desk.toggle_star(quoting_qa, [], star_key(quote))
    assert [(p.passage_id, p.highlights, p.text, p.citation) for p in starred] == \
        [(quote.passage_id, quote.highlights, quote.text, quote.citation)]
    assert desk.toggle_star(quoting_qa, starred, star_key(quote)) == starred
    assert desk.toggle_star(quoting_qa, starred, f"unstar:{quote.passage_id}") == []
    assert desk.toggle_star(quoting_qa, [], "star:no-such#p1|0-4") == []
    assert desk.restore_starred([desk.passage_dict(p) for p in starred], quoting_qa.index) == starred
    tampered = {**desk.passage_dict(starred[0]), "text": "Something else."}
    assert desk.restore_starred([tampered], quoting_qa.index) == []


def test_more_asks_the_same_question_again_for_up_to_ten(quoting_qa):
    turns = [desk.ask_turn(quoting_qa, NURSE, [], None, None, None), desk.ask_turn(quoting_qa, RIGHTS, [], ["beta"], None, None)]
    again = desk.more(quoting_qa, turns, 1)
    assert again[0] == turns[0]
    assert again[1].k == 10 and again[1].limit == turns[1].limit
    assert again[1].answer == quoting_qa.ask(RIGHTS, 10, sources=["beta"])
    assert desk.more(quoting_qa, turns, 7) == turns


def test_a_link_holds_question_k_filters_and_earlier_questions():
    turn = Turn("Who fired? & why", None, limit=Filter(frozenset({"b", "a"}), "2011-12-16", None), k=10)
    query = link(turn, ["How many died?"])
    assert query == "?q=Who+fired%3F+%26+why&k=10&source=a&source=b&since=2011-12-16&h=How+many+died%3F"
    asked = desk.read_link(query)
    assert (asked.question, asked.k, asked.sources, asked.since, asked.until, asked.history) == \
        ("Who fired? & why", 10, ["a", "b"], "2011-12-16", None, ["How many died?"])
    assert desk.read_link("") is None and desk.read_link("?q=%20") is None
    with pytest.raises(InvalidQuestion, match="the link's k is 'ten'"):
        desk.read_link("?q=x&k=ten")


def test_an_answer_under_a_filter_says_so_on_screen_and_in_copy(quoting_qa):
    turn = desk.ask_turn(quoting_qa, NURSE, [], ["alpha"], "2011-01-01", None)
    notice = "Limited to sources alpha; documents dated from 2011-01-01."
    assert answer_html(turn.answer, turn.limit).startswith(f'<p class="filtered" role="note">{notice}</p>')
    assert answer_text(turn.answer, turn.limit).startswith(f"Question: {NURSE}\n\n{notice}\n\n")
    html = conversation_html([turn])
    assert notice in html
    assert 'href="?q=How+many+bodies+did+the+nurse+count+at+the+hospital%3F&amp;source=alpha&amp;since=2011-01-01"' in html
    assert 'data-key="more:0"' in html and f'data-key="{star_key(turn.answer.passages[0])}"' in html
    unfiltered = replace(turn, limit=None)
    assert "Limited to" not in conversation_html([unfiltered])


def test_the_original_file_comes_from_the_corpus_folder_by_document_id(fixture_qa, fixture_settings):
    docs = fixture_qa.index.documents
    corpus = fixture_settings.corpus_dir
    assert desk.original_file(docs["beta"], docs, fixture_settings) == corpus / "beta.md"
    assert desk.original_file(docs["alpha"], docs, fixture_settings) == corpus / "alpha.md"  # its seed is not there
    (corpus / "seeds").mkdir()
    (corpus / "seeds" / "alpha.txt").write_text("the raw page", encoding="utf-8")
    assert desk.original_file(docs["alpha"], docs, fixture_settings) == (corpus / "seeds" / "alpha.txt").resolve()
    assert desk.original_file(docs["alpha/comment-1"], docs, fixture_settings) == (corpus / "seeds" / "alpha.txt").resolve()
    outside = replace(docs["alpha"], seed="../beta.md")  # a seed naming a file outside seeds/ is not served
    assert desk.original_file(outside, docs, fixture_settings) == corpus / "alpha.md"
    gone = replace(docs["beta"], id="removed")
    assert desk.original_file(gone, docs, fixture_settings) is None


def test_the_cli_says_what_an_answer_was_limited_to(cli, fixture_settings, monkeypatch):
    import json

    from conftest import WordHashEncoder
    monkeypatch.setenv("QA_CORPUS_DIR", str(fixture_settings.corpus_dir))
    monkeypatch.setenv("QA_MIN_SIMILARITY", "0.2")
    monkeypatch.setenv("QA_MIN_PASSAGE_WORDS", "8")
    monkeypatch.setattr("qa.api.MiniLMEncoder", WordHashEncoder)
    code, out, err = cli("ask", NURSE, "--source", "alpha", "--since", "2011-12-01")
    assert (code, err) == (0, "") and out.startswith("Limited to sources alpha; documents dated from 2011-12-01.\n")
    code, out, _ = cli("ask", NURSE, "--source", "alpha", "--export", "json")
    records = json.loads(out)
    assert records and {json.dumps(r["filters"]) for r in records} == {json.dumps(
        {"sources": ["alpha"], "since": None, "until": None, "text": "Limited to sources alpha."})}
