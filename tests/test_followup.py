"""Which questions lean on the previous turn, and what is searched for them."""
from __future__ import annotations

import pytest

from qa import InvalidQuestion
from qa.config import MAX_HISTORY_TURNS
from qa.search.followup import Turn, as_turn, leans_on_history, search_questions

KILLED = "How many people were killed in Zhanaozen?"


@pytest.mark.parametrize("question, leans", [
    ("What did Amnesty say about it?", True),
    ("And who was arrested?", True),
    ("When was that?", True),
    ("Why did that happen?", True),
    ("What about the injured?", True),
    ("Who ordered them to shoot?", True),
    ("What did the posters in Astana say?", False),
    ("Who won the 2018 World Cup?", False),
    ("How did the government respond to the strike that began in May?", False),
])
def test_follow_up_markers(question, leans):
    assert leans_on_history(question) is leans


def test_a_follow_up_is_searched_with_the_turns_it_leans_on():
    history = [Turn(KILLED), Turn("And who was arrested?"), Turn("Who won the 2018 World Cup?", abstained=True)]
    assert search_questions("When was that?", history, 3) == [KILLED, "And who was arrested?", "When was that?"]
    assert search_questions("What did the posters in Astana say?", history, 3) == ["What did the posters in Astana say?"]
    assert search_questions("When was that?", [], 3) == ["When was that?"]
    assert search_questions("When was that?", [Turn("Who won the 2018 World Cup?", abstained=True)], 3) == ["When was that?"]


def test_history_items_may_be_questions_or_answer_dicts():
    assert as_turn(KILLED) == Turn(KILLED)
    assert as_turn({"question": "Who won?", "abstained": True, "passages": []}) == Turn("Who won?", True)
    with pytest.raises(InvalidQuestion, match="each history item must be an earlier question"):
        as_turn({"text": "no question"})


def test_only_the_latest_turns_of_a_long_chat_are_read(fixture_qa):
    history = ["\x00 not a question"] + ["How many people died?"] * MAX_HISTORY_TURNS
    answer = fixture_qa.ask("And what did rights groups demand?", history=history)
    assert answer.searched_for == "How many people died? And what did rights groups demand?"
    with pytest.raises(InvalidQuestion, match="history item 2: the question contains control characters"):
        fixture_qa.ask("When was that?", history=["How many people died?", "\x00"])
