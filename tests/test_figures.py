"""Figures read as written, and the disagreement notice built only from them."""
from __future__ import annotations

import re

import pytest
from conftest import make_passage

from qa.answer.figures import asked_measures, figure_lines, find_disagreement, find_figures
from qa.corpus.figures import MEASURE_STEMS, MEASURES, measures_in


@pytest.mark.parametrize("text, figures", [
    ("At least sixteen people were killed and more than 80 others were injured.",
     [("At least sixteen", "killed"), ("more than 80", "injured")]),
    ("clashes that left 15 dead and dozens injured", [("15", "killed"), ("dozens", "injured")]),
    ("leaving more than a dozen people killed", [("more than a dozen", "killed")]),
    ("she had closed the eyes of twenty-three victims.", [("twenty-three", "killed")]),
    ("About 12 demonstrators were detained by police", [("About 12", "detained")]),
    ("Officials said 14 people were killed in clashes with police.", [("14", "killed")]),
    ("The strike lasted seven months and 300 demonstrators blocked the railway.", []),
])
def test_figures_are_read_as_written(text, figures):
    found = find_figures(make_passage(text, "a#p1", "A"))
    assert [(f.text, f.measure) for f in found] == figures
    assert all(text[f.start:f.end] == f.text for f in found)


def bodies(passages) -> dict[str, str]:
    """Each passage's document as just that passage."""
    return {p.doc_id: p.text for p in passages}


def test_sources_that_differ_get_a_notice_with_one_line_per_figure_publishers_first():
    passages = [make_passage("A nurse closed the eyes of twenty-three victims.", "rferl/comment-1#p1", "RFE/RL",
                             "2011-12-21T17:15", comment_author="William Courtney"),
                make_passage("Officials said 14 people were killed.", "rferl#p4", "RFE/RL", "2011-12-21"),
                make_passage("an oil town where 17 people were killed", "mt#p1", "The Moscow Times")]
    found = find_disagreement("How many people were killed?", passages, bodies(passages))
    assert found.measure == "killed"
    assert [(f.passage_id, f.text) for f in found.figures] == [("rferl/comment-1#p1", "twenty-three"),
                                                                ("rferl#p4", "14"), ("mt#p1", "17")]
    assert figure_lines(found.figures, {"rferl/comment-1#p1": 1, "rferl#p4": 2, "mt#p1": 3}) == [
        "14 — RFE/RL, 2011-12-21 [2]", "17 — The Moscow Times [3]",
        "twenty-three — reader comment by William Courtney, 2011-12-21 [1]"]
    assert found.notice == ("Sources differ: 14: RFE/RL, 2011-12-21 | 17: The Moscow Times | "
                            "twenty-three: reader comment by William Courtney, 2011-12-21")


def test_sources_stating_the_same_figure_share_one_line():
    passages = [make_passage("Over 250 people were injured in the clashes.", "a#p1", "Daily A", "2020-05-01"),
                make_passage("Some 40 people were injured, doctors said.", "b#p1", "Weekly B"),
                make_passage("over 250 protesters were wounded.", "c#p1", "Radio C", "2020-05-03"),
                make_passage("Forty people were injured, I saw them.", "c/comment-2#p1", "Radio C",
                             comment_author="Ann Reader")]
    found = find_disagreement("How many people were hurt?", passages, bodies(passages))
    assert figure_lines(found.figures, {"a#p1": 1, "b#p1": 2, "c#p1": 3, "c/comment-2#p1": 4}) == [
        "Over 250 / over 250 — Daily A, 2020-05-01 [1]; Radio C, 2020-05-03 [3]",
        "Some 40 — Weekly B [2]", "Forty — reader comment by Ann Reader [4]"]


@pytest.mark.parametrize("texts, question", [
    # The same number worded in digits and in words, or 'only' the number: the same claim.
    (["Police said 21 miners were killed.", "Only twenty-one miners were killed, the mayor said."],
     "What was the number of dead miners?"),
    (["Exactly as before, 30 people were arrested.", "thirty people were arrested"], "How many arrests were made?"),
    # Another measure than the one asked.
    (["19 people were killed.", "25 people were killed."], "How many people were detained?"),
    # Figures about separate events: one happened in a place the other sources never mention.
    (["Around 35 activists were arrested outside the embassy in the capital, Bishkek.",
      "Authorities say 60 people were detained over the riots."], "How many people were detained?"),
])
def test_no_notice_unless_sources_really_differ_about_the_same_event(texts, question):
    passages = [make_passage(t, f"d{n}#p1", f"Source {n}") for n, t in enumerate(texts)]
    assert find_disagreement(question, passages, bodies(passages)) is None


def test_one_source_alone_gets_no_notice_however_many_figures():
    passages = [make_passage("19 people were killed on Friday.", "d0#p1", "Source 0"),
                make_passage("Later 25 people were killed.", "d0#p2", "Source 0")]
    assert find_disagreement("How many died?", passages, bodies(passages)) is None


def test_a_place_every_source_mentions_is_the_story_not_another_event():
    passages = [make_passage("The riots in Osh left 45 dead.", "a#p1", "A"),
                make_passage("At least 60 people were killed.", "b#p1", "B")]
    found = find_disagreement("How many were killed?", passages, {"a": "Osh riots", "b": "Violence in Osh"})
    assert [f.text for f in found.figures] == ["45", "At least 60"]


@pytest.mark.parametrize("question", ["What compensation did the families of the dead receive?",
                                      "Who was killed first?", "Why were so many people arrested?"])
def test_a_question_that_asks_no_count_gets_no_notice(question):
    passages = [make_passage("20 people had been detained and 14 were killed", "a#p1", "A"),
                make_passage("About 12 demonstrators were detained and 17 people were killed", "b#p1", "B")]
    assert find_disagreement(question, passages, bodies(passages)) is None
    assert find_disagreement("How many people were arrested?", passages, bodies(passages)).measure == "detained"


def test_asked_measures():
    assert asked_measures("What was the death toll?") == ["killed"]
    assert asked_measures("What happened in Zhanaozen?") == []
    assert asked_measures("Who killed the protesters?") == []  # names a measure, asks no count


def test_counts_under_ten_are_single_incidents_not_totals():
    text = "One person was shot dead. An eyewitness said eight people were shot and killed. 9 were wounded."
    assert find_figures(make_passage(text, "a#p1", "A")) == []


@pytest.mark.parametrize("words", ["killed", "shot dead", "shot and killed", "dead", "died", "victims", "injured",
                                   "wounded", "detained", "arrested"])
def test_every_measure_word_holds_a_stem_the_figure_list_looks_for(words):
    assert any(re.fullmatch(pattern, words) for pattern in MEASURES.values())
    assert any(stem in words for stem in MEASURE_STEMS)


def test_the_per_passage_figure_list_skips_passages_without_a_measure_word():
    texts = ["At least sixteen people were killed and more than 80 others were injured.", "clashes that left 15 dead",
             "she had closed the eyes of twenty-three victims.", "About 12 demonstrators were detained by police",
             "20 people had been arrested", "more than 80 wounded", "15 died", "20 were shot dead"]
    assert [sorted(measures_in(t)) for t in texts] == [["injured", "killed"], ["killed"], ["killed"], ["detained"],
                                                       ["detained"], ["injured"], ["killed"], ["killed"]]
    assert measures_in("The strike lasted seven months and 300 demonstrators blocked the railway.") == set()
