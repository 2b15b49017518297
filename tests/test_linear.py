"""Splitting and figure finding take time linear in their input: the inputs that were quadratic (docs/RELIABILITY.md,
Time) now finish far inside a bound that the quadratic code missed by a factor of ten or more."""
import time

import pytest
from conftest import make_passage

from qa.answer.figures import find_figures
from qa.corpus.documents import Document
from qa.corpus.passages import split_document


def _seconds(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _one_line_paragraphs(n: int) -> Document:
    return Document("long", "t", "p", None, (), None, None, "\n\n".join(f"Line {i} of the list." for i in range(n)))


@pytest.mark.parametrize("case, work, bound_s", [
    # 44 s before (16,000 short paragraphs, each merged into its neighbour by list slicing)
    ("16,000 one-line paragraphs", lambda: split_document(_one_line_paragraphs(16_000), 30), 2.0),
    # 14 s before (the digit run was read again from every digit)
    ("40,000-character number list", lambda: find_figures(
        make_passage(",".join(str(i) for i in range(40_000))[:40_000], "long#p1", "P")), 1.0),
    ("40,000 characters of '1,'", lambda: find_figures(make_passage("1," * 20_000, "long#p1", "P")), 1.0),
])
def test_adversarial_input_is_processed_in_linear_time(case, work, bound_s):
    assert _seconds(work) < bound_s, case


def test_short_paragraphs_all_join_the_first_long_enough_passage():
    """As before: the first six paragraphs make 30 words, and each short one after joins the passage before it."""
    doc = _one_line_paragraphs(16_000)
    (record,) = split_document(doc, 30, len(doc.body))  # no longer than the body: the limit splits nothing
    assert (record.start, record.end, len(record.sentences)) == (0, len(doc.body), 16_000)


@pytest.mark.parametrize("text, figures", [
    ("1,500 people were killed", ["1,500"]),
    ("of 12,15 people were killed", ["12,15"]),  # a run is read whole, from its start
    (",15 people were killed", ["15"]),
])
def test_digit_runs_are_read_from_their_start(text, figures):
    assert [f.text for f in find_figures(make_passage(text, "a#p1", "A"))] == figures
