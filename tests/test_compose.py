"""Near-duplicates shown once with every citation, and quotes grouped by source in date order."""
from __future__ import annotations

from dataclasses import replace

from conftest import make_passage

from qa import verify
from qa.answer.compose import collapse_duplicates, group_by_source

WIRE = "Police opened fire on striking oil workers in Zhanaozen on Friday, officials said."


def test_the_same_claim_in_two_sources_is_shown_once_with_both_citations():
    first = make_passage(WIRE, "a#p1", "A", "2011-12-17")
    reworded = make_passage(WIRE.replace("Friday", "Saturday"), "b#p3", "B", "2011-12-18")
    other = make_passage("Rights groups demanded an inquiry.", "c#p1", "C")
    same_doc = make_passage(WIRE, "a#p2", "A", "2011-12-17")
    collapsed = collapse_duplicates([first, other, reworded, same_doc], min_overlap=0.8)
    assert [(p.passage_id, [q.passage_id for q in p.also_in]) for p in collapsed] == [
        ("a#p1", ["b#p3"]), ("c#p1", []), ("a#p2", [])]
    assert collapse_duplicates([first, reworded], min_overlap=0.95) == [first, reworded]


def test_quotes_are_grouped_by_source_in_date_order_best_first_within_a_source():
    ranked = [make_passage("x", "mt#p4", "MT", "2011-12-19"), make_passage("x", "undated#p1", "U"),
              make_passage("x", "rferl#p4", "RFE/RL", "2011-12-21"), make_passage("x", "intel#p3", "Intel", "2011-12-30"),
              make_passage("x", "mt#p1", "MT", "2011-12-19"), make_passage("x", "amnesty#p1", "AI", "2012-03-22")]
    assert [p.passage_id for p in group_by_source(ranked)] == [
        "mt#p4", "mt#p1", "rferl#p4", "intel#p3", "amnesty#p1", "undated#p1"]


def test_a_twin_quote_is_verified_like_any_other(real_qa):
    """A twin's text and citation are checked as a quote's are, and it must make the same claim: no two passages of the
    real corpus do, so two different passages shown as one are reported by the near-duplicate rule, nothing else."""
    answer = real_qa.ask("What did Amnesty International call for?")
    first, second = answer.passages[:2]
    assert verify(replace(answer, passages=[replace(first, also_in=[second])] + answer.passages[2:])) == [
        f"passage 1, also in 1 ({second.passage_id}): does not make the same claim as passage 1 "
        "(near-duplicate rule, 80% of words shared)"]
