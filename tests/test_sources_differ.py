"""'Sources differ', completely: every wording of the death-toll question shows the same figures, from every source
that states one; a question that asks no count gets no notice. Real corpus, real model."""
from __future__ import annotations

import pytest

from qa import verify

# Every figure for people killed that the articles and reader comments state, with its source, as the notice lists it.
EVERY_FIGURE = {
    ("14", "The Moscow Times, 2011-12-19"), ("at least 15", "The Moscow Times, 2011-12-19"), ("14", "RFE/RL, 2011-12-21"),
    ("only fourteen", "reader comment by William Courtney, 2011-12-21"),
    ("twenty-three", "reader comment by William Courtney, 2011-12-21"),
    ("more than fourteen", "reader comment by William Courtney, 2011-12-21"),
    ("at least sixteen", "The Intel Hub, 2011-12-30"), ("more than a dozen", "The Intel Hub, 2011-12-30"),
    ("15", "Amnesty International, 2012-03-22"), ("16", "The Moscow Times"), ("17", "The Moscow Times")}

DEATH_TOLL_WORDINGS = [
    "How many people died in Zhanaozen?", "How many people were killed?", "What was the death toll?",
    "How many were killed in Zhanaozen?", "How many lives were lost?", "What was the number of dead?",
    "How many people were shot dead?", "How many died?", "Death toll in Zhanaozen",
    "How many protesters were killed by police?", "What is the number of people killed in the Zhanaozen shootings?",
    "How many fatalities were there?", "How many victims were there?", "How many people lost their lives in Zhanaozen?"]

NO_COUNT = [
    "Who fired on the protesters?", "Who killed the protesters?", "Why were the oil workers on strike?",
    "What did Amnesty International call for?", "What did the posters in Astana say?",
    "When did the state of emergency end?", "Who is Vadim Kuramshin?",
    "What did Kazakhstan's ambassador to the U.S. say about the video?", "Who was arrested?",
    "What happened in Zhanaozen?", "Did the police shoot unarmed people?", "Who died in the arms of an eyewitness?"]


@pytest.mark.parametrize("question", DEATH_TOLL_WORDINGS)
def test_every_wording_of_the_death_toll_question_shows_every_figure(real_qa, question):
    answer = real_qa.ask(question)
    assert verify(answer) == []
    assert answer.disagreement.measure == "killed"
    assert {(f.text, f.source) for f in answer.disagreement.figures} == EVERY_FIGURE
    articles = {p.doc_id.split("/")[0] for p in answer.passages}
    assert articles == {"mt-third-day", "mt-four-officers", "rferl-ambassador-video", "intelhub-probe",
                        "amnesty-advisory"}


@pytest.mark.parametrize("question", NO_COUNT)
def test_a_question_that_asks_no_count_gets_no_notice(real_qa, question):
    answer = real_qa.ask(question)
    assert verify(answer) == []
    assert answer.disagreement is None
    assert "Sources differ" not in answer.to_markdown()
