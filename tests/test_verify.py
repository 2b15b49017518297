"""qa.verify: grounded answers pass, every kind of tampering is reported, and ask() only ever returns grounded
answers or a documented input error."""
import importlib
from dataclasses import replace

import pytest
from conftest import WordHashEncoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qa
from qa import Answer, InvalidQuestion, UngroundedAnswer, assert_grounded, verify
from qa.answer.model import ABSTAIN_MESSAGE, ANSWER_HEADING, UNCERTAIN_HEADING

CITED = ("title", "publisher", "date", "url", "authors", "kind", "comment_author", "citation")


@pytest.fixture
def answer(fixture_settings) -> Answer:
    fixture_qa = qa.QA(replace(fixture_settings, relative_cutoff=0.0), WordHashEncoder())
    answer = fixture_qa.ask("How many people died according to officials?", k=2)
    assert [p.passage_id for p in answer.passages] == ["alpha#p1", "alpha/comment-1#p1"]
    assert verify(answer, fixture_qa.index.documents) == []
    return answer


def _with_passage(answer: Answer, n: int, **changes) -> Answer:
    passages = list(answer.passages)
    passages[n] = replace(passages[n], **changes)
    return replace(answer, passages=passages)


def test_grounded_answers_and_abstentions_verify(fixture_qa):
    docs = fixture_qa.index.documents
    for question in ("police", "strike wages", "nurse hospital bodies", "Who won the football cup?"):
        assert verify(fixture_qa.ask(question, k=3), docs) == []
    assert_grounded(fixture_qa.ask("Who won the football cup?"), docs)


def test_verify_is_exported():
    assert qa.verify is verify and {"verify", "assert_grounded", "UngroundedAnswer"} <= set(qa.__all__)


def test_changed_word_in_a_passage_is_reported(fixture_qa, answer):
    changed = _with_passage(answer, 0, text=answer.passages[0].text.replace("Police fired", "Police fixed"))
    assert verify(changed, fixture_qa.index.documents) == ["passage 1 (alpha#p1): text is not body[0:127] of alpha"]


def test_shifted_offsets_are_reported(fixture_qa, answer):
    p = answer.passages[1]
    shifted = _with_passage(answer, 1, start=p.start + 1, end=p.end + 1)
    assert verify(shifted, fixture_qa.index.documents) == [
        "passage 2 (alpha/comment-1#p1): text is not body[1:101] of alpha/comment-1"]


def test_swapped_citation_is_reported(fixture_qa, answer):
    beta = fixture_qa.ask("investigation into police weapons").passages[0]
    swapped = _with_passage(answer, 0, **{name: getattr(beta, name) for name in CITED})
    assert verify(swapped, fixture_qa.index.documents) == [
        "passage 1 (alpha#p1): title 'Beta bulletin' is not the document's 'Alpha report'",
        "passage 1 (alpha#p1): publisher 'Beta Wire' is not the document's 'Alpha Times'",
        "passage 1 (alpha#p1): date None is not the document's '2011-12-19'",
        "passage 1 (alpha#p1): url None is not the document's 'https://example.org/alpha'",
        "passage 1 (alpha#p1): authors [] are not the document's ['Ann Writer']",
        "passage 1 (alpha#p1): citation '“Beta bulletin”, Beta Wire, date not stated' is not the one built "
        "from alpha's metadata",
        "the Markdown citation of passage 1 is not exactly the citation of its sources",
    ]


def test_added_text_in_message_passage_or_markdown_is_reported(fixture_qa, answer, monkeypatch):
    docs = fixture_qa.index.documents
    told = replace(answer, message=answer.message + "\nIn short: ten people died.")
    assert verify(told, docs) == ["message line 'In short: ten people died.' is not one of the fixed templates"]
    padded = _with_passage(answer, 0, text=answer.passages[0].text + " Nobody was hurt.")
    assert verify(padded, docs) == ["passage 1 (alpha#p1): text is not body[0:127] of alpha"]
    rendered = Answer.to_markdown
    monkeypatch.setattr(Answer, "to_markdown", lambda self: rendered(self) + " So ten died.")
    assert verify(answer, docs) == ["the Markdown quote of passage 2 is not exactly its text"]
    monkeypatch.setattr(Answer, "to_markdown", lambda self: rendered(self).replace("\n\n**[2]**", "\n\nSee also:\n\n**[2]**"))
    assert verify(answer, docs) == ["the Markdown has 5 blocks after the message; "
                                    "expected a citation and a quote for each of 2 passages"]


def test_highlight_outside_the_passage_or_overlapping_is_reported(fixture_qa, answer):
    docs = fixture_qa.index.documents
    outside = _with_passage(answer, 0, highlights=[(0, 132)])
    assert verify(outside, docs) == ["passage 1 (alpha#p1): highlight (0, 132) is outside the passage text (length 127)",
                                     "the Markdown marks of passage 1 do not match its highlights"]
    overlapping = _with_passage(answer, 0, highlights=[(0, 20), (10, 30)])
    assert verify(overlapping, docs)[0] == "passage 1 (alpha#p1): highlight (10, 30) overlaps or precedes the one before it"


def test_abstained_answer_with_passages_is_reported(fixture_qa, answer):
    docs = fixture_qa.index.documents
    abstained = replace(answer, abstained=True, message=ABSTAIN_MESSAGE, confidence="abstained")
    assert verify(abstained, docs) == ["the answer abstains but quotes 2 passages"]
    with pytest.raises(UngroundedAnswer, match="abstains but quotes 2 passages") as info:
        assert_grounded(abstained, docs)
    assert info.value.problems == verify(abstained, docs)
    silent = replace(answer, abstained=True, passages=[], message=ANSWER_HEADING)
    assert verify(silent, docs) == [f"message line {ANSWER_HEADING!r} is not one of the fixed templates",
                                    "the answer abstains but its message does not say so",
                                    "confidence 'answered' does not agree with abstained=True"]


def test_confidence_must_agree_with_abstained_and_the_heading(fixture_qa, answer):
    docs = fixture_qa.index.documents
    assert answer.confidence == "answered" and verify(answer, docs) == []
    uncertain = replace(answer, confidence="uncertain", message=UNCERTAIN_HEADING)
    assert verify(uncertain, docs) == []
    assert Answer.from_dict(uncertain.to_dict()) == uncertain
    assert uncertain.to_markdown().startswith(UNCERTAIN_HEADING + "\n\n")
    assert verify(replace(answer, confidence="uncertain"), docs) == [
        "a 'uncertain' answer must carry the uncertain heading exactly when uncertain"]
    assert verify(replace(answer, message=UNCERTAIN_HEADING), docs) == [
        "a 'answered' answer must carry the uncertain heading exactly when uncertain"]
    assert verify(replace(answer, confidence="sure"), docs) == ["confidence 'sure' does not agree with abstained=False"]


def test_repeated_passage_and_unknown_document_are_reported(fixture_qa, answer):
    docs = fixture_qa.index.documents
    assert verify(replace(answer, passages=[answer.passages[0]] * 2), docs) == ["passage alpha#p1 is quoted more than once"]
    assert verify(answer, {"beta": docs["beta"]}) == ["passage 1 (alpha#p1) quotes unknown document 'alpha'",
                                                      "passage 2 (alpha/comment-1#p1) quotes unknown document "
                                                      "'alpha/comment-1'",
                                                      "the Markdown citation of passage 1 is not exactly the citation of "
                                                      "its sources",
                                                      "the Markdown citation of passage 2 is not exactly the citation of "
                                                      "its sources"]


def test_a_new_template_line_is_one_entry(fixture_qa, answer, monkeypatch):
    """How another line of fixed wording is allowed: a template, with a slot checked against the question."""
    monkeypatch.setattr(importlib.import_module("qa.verify"), "ANSWER_TEMPLATES",
                        ("Searched for: {question}", ANSWER_HEADING))
    docs = fixture_qa.index.documents
    assert verify(replace(answer, message=f"Searched for: people died\n{ANSWER_HEADING}"), docs) == []
    assert verify(replace(answer, message=f"Searched for: ten died\n{ANSWER_HEADING}"), docs) == [
        "message line 'Searched for: ten died' is not one of the fixed templates"]


def test_default_documents_are_the_configured_corpus(fixture_settings, monkeypatch):
    monkeypatch.setenv("QA_CORPUS_DIR", str(fixture_settings.corpus_dir))
    answer = qa.QA(fixture_settings, WordHashEncoder()).ask("police fired on oil workers")
    assert verify(answer) == []
    monkeypatch.setenv("QA_CORPUS_DIR", str(qa.config.ROOT / "corpus"))
    assert verify(answer)[0] == "passage 1 (alpha#p1) quotes unknown document 'alpha'"


QUESTIONS = st.one_of(st.text(max_size=200), st.text(alphabet=st.characters(codec="utf-8"), max_size=1100),
                      st.sampled_from(["police", "  Zhanaozen  ", "death toll?", "\x00", "", "**bold** <b>x</b>"]))


def _grounded_or_invalid(qa_: qa.QA, question: str) -> None:
    try:
        answer = qa_.ask(question)
    except InvalidQuestion:
        return
    assert_grounded(answer, qa_.index.documents)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=QUESTIONS)
def test_any_string_gives_a_grounded_answer_or_invalid_question_fixture(fixture_qa, question):
    _grounded_or_invalid(fixture_qa, question)


@settings(max_examples=40, deadline=None)
@given(question=QUESTIONS)
def test_any_string_gives_a_grounded_answer_or_invalid_question_real(real_qa, question):
    _grounded_or_invalid(real_qa, question)


def test_figures_notice_search_line_suggestions_and_twins_are_checked(real_qa):
    answer = real_qa.ask("How many people were killed?")
    assert verify(answer) == []
    d = answer.disagreement
    moved = replace(d, figures=[replace(d.figures[0], text="15")] + d.figures[1:])
    assert "figure '15' is not the words of quoted passage intelhub-probe#p3" in verify(replace(answer, disagreement=moved))
    padded = replace(d, notice=d.notice + "; 100 (our estimate)")
    assert verify(replace(answer, disagreement=padded)) == [
        "the disagreement notice is not exactly its figures and their sources"]
    twin = replace(answer.passages[3], text=answer.passages[3].text + " All were armed.")
    with_twin = _with_passage(answer, 0, also_in=[twin])
    assert verify(with_twin) == ["passage 1, also in 1 (rferl-ambassador-video#p4): text is not body"
                                 f"[{twin.start}:{twin.end}] of rferl-ambassador-video"]

    follow = real_qa.ask("What are they charged with?", history=["Who is being prosecuted for the Zhanaozen shootings?"])
    assert verify(follow) == []
    assert verify(replace(follow, searched_for="What are they charged with? Treason, surely")) == [
        "'Searched for' does not end with the question asked"]
    abstained = real_qa.ask("Who won the 2018 World Cup?")
    assert verify(abstained) == []
    assert verify(replace(abstained, suggestions=["Was it a massacre?"])) == [
        "the example questions are not the corpus's own, or come with an answer"]
