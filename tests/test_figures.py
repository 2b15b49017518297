"""Figures read as written, and the disagreement notice built only from them."""
from __future__ import annotations

import re

import pytest
from conftest import make_passage

from qa.answer.figures import MEASURE_STEMS, MEASURES, asked_measures, find_disagreement, find_figures, measures_in


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


def test_sources_that_differ_get_a_notice_listing_each_figure_with_its_source():
    passages = [make_passage("Officials said 14 people were killed.", "rferl#p4", "RFE/RL", "2011-12-21"),
                make_passage("an oil town where 17 people were killed", "mt#p1", "The Moscow Times"),
                make_passage("A nurse closed the eyes of twenty-three victims.", "rferl/comment-1#p1", "RFE/RL",
                             "2011-12-21T17:15", comment_author="William Courtney")]
    found = find_disagreement("How many people were killed?", passages)
    assert found.measure == "killed"
    assert [(f.passage_id, f.text) for f in found.figures] == [("rferl#p4", "14"), ("mt#p1", "17"),
                                                                ("rferl/comment-1#p1", "twenty-three")]
    assert found.notice == ("Sources differ: 14 (RFE/RL, 2011-12-21); 17 (The Moscow Times); "
                            "twenty-three (reader comment by William Courtney, 2011-12-21)")


def test_sources_that_agree_or_one_source_get_no_notice():
    agree = [make_passage("more than 80 others were injured", "a#p1", "A"), make_passage("and more than 80 wounded", "b#p1", "B")]
    assert find_disagreement("How many were injured?", agree) is None
    one_source = [make_passage("14 people were killed", "a#p1", "A"), make_passage("17 people were killed", "a#p2", "A")]
    assert find_disagreement("How many were killed?", one_source) is None
    other_measure = [make_passage("14 people were killed", "a#p1", "A"), make_passage("17 people were killed", "b#p1", "B")]
    assert find_disagreement("How many were detained?", other_measure) is None


def test_a_question_that_asks_no_count_gets_no_notice():
    assert asked_measures("What was the death toll?") == ["killed"]
    assert asked_measures("What happened in Zhanaozen?") == []
    assert asked_measures("Who killed the protesters?") == []  # names a measure, asks no count
    passages = [make_passage("20 people had been detained", "a#p1", "A"),
                make_passage("About 12 demonstrators were detained", "b#p1", "B")]
    assert find_disagreement("What happened in Zhanaozen?", passages) is None
    assert find_disagreement("How many people were arrested?", passages).measure == "detained"


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
