"""Follow-ups and disagreeing sources on the real corpus with the real model."""
from __future__ import annotations

from conftest import DEATH_TOLL_LINES

from qa import verify
from qa.answer.export import differ_lines
from qa.answer.model import NOTICE_PREFIX, escape_markdown

KILLED = "How many people were killed?"


def test_death_toll_question_shows_each_source_and_the_disagreement(real_qa):
    answer = real_qa.ask(KILLED)
    assert verify(answer) == []
    # The best passage first; then every other passage that states a figure, grouped by source in date order.
    assert [p.passage_id for p in answer.passages] == [
        "intelhub-probe#p3", "mt-third-day#p4", "mt-third-day#p1", "rferl-ambassador-video#p4",
        "rferl-ambassador-video/comment-1#p1", "intelhub-probe#p1", "amnesty-advisory#p1", "mt-four-officers#p3",
        "mt-four-officers#p1"]
    assert len({p.doc_id for p in answer.passages}) >= 3
    # One line per figure: sources stating the same figure share it, publishers first, reader comments last.
    assert differ_lines(answer) == DEATH_TOLL_LINES
    assert answer.disagreement.notice == NOTICE_PREFIX + (
        "at least sixteen: The Intel Hub, 2011-12-30 | 14 / only fourteen: The Moscow Times, 2011-12-19; RFE/RL, "
        "2011-12-21; reader comment by William Courtney, 2011-12-21 | at least 15: The Moscow Times, 2011-12-19 | "
        "more than a dozen: The Intel Hub, 2011-12-30 | 15: Amnesty International, 2012-03-22 | 16: The Moscow Times | "
        "17: The Moscow Times | twenty-three: reader comment by William Courtney, 2011-12-21 | more than fourteen: "
        "reader comment by William Courtney, 2011-12-21")
    shown = escape_markdown(answer.disagreement.notice.removeprefix(NOTICE_PREFIX))
    assert f"\n\n**Sources differ:** {shown}\n" in answer.to_markdown()


def test_each_figure_is_the_words_of_its_quoted_passage(real_qa):
    answer = real_qa.ask(KILLED)
    quoted = {p.passage_id: p for p in answer.passages}
    for figure in answer.disagreement.figures:
        assert quoted[figure.passage_id].text[figure.start:figure.end] == figure.text
    dated = [p.date[:10] for p in answer.passages[1:] if p.date]
    assert dated == sorted(dated), "after the answer, quotes are grouped by source in date order, undated last"


def test_sources_that_agree_get_no_notice(real_qa):
    answer = real_qa.ask("What did Amnesty International call for?")
    assert verify(answer) == []
    assert not answer.abstained and answer.disagreement is None
    assert NOTICE_PREFIX not in answer.to_markdown()


def test_explicit_k_is_kept_for_a_count_question(real_qa):
    answer = real_qa.ask(KILLED, k=2)
    assert verify(answer) == [] and len(answer.passages) == 2


def test_follow_up_is_searched_with_the_earlier_question(real_qa):
    history = ["Who is being prosecuted for the Zhanaozen shootings?"]
    answer = real_qa.ask("What are they charged with?", history=history)
    assert verify(answer) == []
    assert answer.searched_for == "Who is being prosecuted for the Zhanaozen shootings? What are they charged with?"
    charges = "mt-four-officers#p2"  # '... sued for dereliction of duty, while three other senior officers ...'
    assert [p.passage_id for p in answer.passages] == [charges, "mt-third-day#p7", "intelhub-probe#p2"]
    assert charges not in [p.passage_id for p in real_qa.ask("What are they charged with?").passages]
    assert "\n\n**Searched for:** Who is being prosecuted" in answer.to_markdown()


def test_standalone_question_ignores_history(real_qa):
    alone = real_qa.ask("What did the posters in Astana say?")
    after = real_qa.ask("What did the posters in Astana say?", history=[KILLED, real_qa.ask(KILLED)])
    assert after == alone and after.searched_for is None and verify(after) == []
