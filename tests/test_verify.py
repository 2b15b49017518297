"""qa.verify: grounded answers pass, every kind of tampering is reported, and ask() only ever returns grounded
answers or a documented input error."""
import copy
import importlib
from dataclasses import replace

import pytest
from conftest import WordHashEncoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qa
from qa import Answer, InvalidQuestion, UngroundedAnswer, assert_grounded, verify
from qa.answer.figures import notice
from qa.answer.model import ABSTAIN_MESSAGE, ANSWER_HEADING, UNCERTAIN_HEADING

CITED = ("title", "publisher", "date", "url", "authors", "kind", "comment_author", "citation")


@pytest.fixture
def answer(fixture_settings) -> Answer:
    fixture_qa = qa.QA(replace(fixture_settings, relative_cutoff=0.0), WordHashEncoder())
    answer = fixture_qa.ask("How many people died according to officials?", k=2)
    assert [p.passage_id for p in answer.passages] == ["alpha#p1", "alpha/comment-1#p1"]
    assert verify(answer, fixture_qa.index) == []
    return answer


def _with_passage(answer: Answer, n: int, **changes) -> Answer:
    passages = list(answer.passages)
    passages[n] = replace(passages[n], **changes)
    return replace(answer, passages=passages)


def test_grounded_answers_and_abstentions_verify(fixture_qa):
    docs = fixture_qa.index
    for question in ("police", "strike wages", "nurse hospital bodies", "Who won the football cup?"):
        assert verify(fixture_qa.ask(question, k=3), docs) == []
    assert_grounded(fixture_qa.ask("Who won the football cup?"), docs)


def test_verify_is_exported():
    assert qa.verify is verify and {"verify", "assert_grounded", "UngroundedAnswer"} <= set(qa.__all__)


def test_changed_word_in_a_passage_is_reported(fixture_qa, answer):
    changed = _with_passage(answer, 0, text=answer.passages[0].text.replace("Police fired", "Police fixed"))
    assert verify(changed, fixture_qa.index) == ["passage 1 (alpha#p1): text is not body[0:127] of alpha"]


def test_shifted_offsets_are_reported(fixture_qa, answer):
    p = answer.passages[1]
    shifted = _with_passage(answer, 1, start=p.start + 1, end=p.end + 1)
    assert verify(shifted, fixture_qa.index) == [
        "passage 2 (alpha/comment-1#p1): text is not body[1:101] of alpha/comment-1"]


def test_swapped_citation_is_reported(fixture_qa, answer):
    beta = fixture_qa.ask("investigation into police weapons").passages[0]
    swapped = _with_passage(answer, 0, **{name: getattr(beta, name) for name in CITED})
    assert verify(swapped, fixture_qa.index) == [
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
    docs = fixture_qa.index
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
    docs = fixture_qa.index
    outside = _with_passage(answer, 0, highlights=[(0, 132)])
    assert verify(outside, docs) == ["passage 1 (alpha#p1): highlight (0, 132) is outside the passage text (length 127)",
                                     "the Markdown marks of passage 1 do not match its highlights"]
    overlapping = _with_passage(answer, 0, highlights=[(0, 20), (10, 30)])
    assert verify(overlapping, docs)[0] == "passage 1 (alpha#p1): highlight (10, 30) overlaps or precedes the one before it"


def test_abstained_answer_with_passages_is_reported(fixture_qa, answer):
    docs = fixture_qa.index
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
    docs = fixture_qa.index
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
    docs = fixture_qa.index
    assert verify(replace(answer, passages=[answer.passages[0]] * 2), docs) == ["passage alpha#p1 is quoted more than once"]
    assert verify(answer, {"beta": docs.documents["beta"]}) == ["passage 1 (alpha#p1) quotes unknown document 'alpha'",
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
    docs = fixture_qa.index
    assert verify(replace(answer, message=f"Searched for: people died\n{ANSWER_HEADING}"), docs) == []
    assert verify(replace(answer, message=f"Searched for: ten died\n{ANSWER_HEADING}"), docs) == [
        "message line 'Searched for: ten died' is not one of the fixed templates"]


def test_default_documents_are_the_configured_corpus(fixture_settings, monkeypatch):
    monkeypatch.setenv("QA_CORPUS_DIR", str(fixture_settings.corpus_dir))
    answer = qa.QA(fixture_settings, WordHashEncoder()).ask("police fired on oil workers")
    assert verify(answer, settings=replace(qa.Settings.load(), min_passage_words=8)) == []  # the corpus of QA_CORPUS_DIR
    monkeypatch.setenv("QA_CORPUS_DIR", str(qa.config.ROOT / "corpus"))
    assert verify(answer)[0] == "passage 1 (alpha#p1) quotes unknown document 'alpha'"


QUESTIONS = st.one_of(st.text(max_size=200), st.text(alphabet=st.characters(codec="utf-8"), max_size=1100),
                      st.sampled_from(["police", "  Zhanaozen  ", "death toll?", "\x00", "", "**bold** <b>x</b>"]))


def _grounded_or_invalid(qa_: qa.QA, question: str) -> None:
    try:
        answer = qa_.ask(question)
    except InvalidQuestion:
        return
    assert_grounded(answer, qa_.index)


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
                                 f"[{twin.start}:{twin.end}] of rferl-ambassador-video",
                                 "passage 1, also in 1 (rferl-ambassador-video#p4): does not make the same claim as "
                                 "passage 1 (near-duplicate rule, 80% of words shared)"]

    follow = real_qa.ask("What are they charged with?", history=["Who is being prosecuted for the Zhanaozen shootings?"])
    assert verify(follow) == []
    assert verify(replace(follow, searched_for="What are they charged with? Treason, surely")) == [
        "'Searched for' does not end with the question asked"]
    abstained = real_qa.ask("Who won the 2018 World Cup?")
    assert verify(abstained) == []
    assert verify(replace(abstained, suggestions=["Was it a massacre?"])) == [
        "the example questions are not the corpus's own, or come with an answer"]


# --- tampering that looks grounded (issue 12): each is reported, by name --------------------------------------

@pytest.fixture(scope="module")
def killed(real_qa) -> Answer:
    answer = real_qa.ask("How many people were killed?")
    assert verify(answer, real_qa.index) == [] and answer.disagreement is not None
    return answer


def _rferl(answer: Answer) -> int:
    return next(n for n, p in enumerate(answer.passages) if p.passage_id == "rferl-ambassador-video#p4")


def _amnesty_slice(real_qa) -> qa.Passage:
    """A 4-character slice of the Amnesty advisory, cited exactly as Amnesty: grounded text, not the same claim."""
    doc = real_qa.index.documents["amnesty-advisory"]
    record = next(r for r in real_qa.index.passages if r.doc_id == doc.id)
    whole = qa.Passage.quote(record, doc, 0.0, [])
    return replace(whole, text=doc.body[record.start:record.start + 4], end=record.start + 4)


def _cut(answer: Answer) -> Answer:
    """The RFE/RL quote without its last sentence: the words 'Protesters have said ...' dropped."""
    n = _rferl(answer)
    p = answer.passages[n]
    keep = p.text.index(" Protesters have said")
    return _with_passage(answer, n, text=p.text[:keep], end=p.start + keep, highlights=[(0, keep)])


def _searched_extra(real_qa) -> tuple[Answer, list[str]]:
    history = ["Who is being prosecuted for the Zhanaozen shootings?"]
    follow = real_qa.ask("What are they charged with?", history=history)
    assert verify(follow, real_qa.index, history=history) == []
    words = "Who is being prosecuted for the Zhanaozen shootings? Was it murder? What are they charged with?"
    return replace(follow, searched_for=words), history


MT_FIGURE = "mt-third-day#p4"  # The Moscow Times' passage whose first figure is '14'


def _figure(answer: Answer, **changes) -> Answer:
    """The answer with the first figure of MT_FIGURE changed."""
    d = answer.disagreement
    n = next(i for i, f in enumerate(d.figures) if f.passage_id == MT_FIGURE)
    figures = [*d.figures[:n], replace(d.figures[n], **changes), *d.figures[n + 1:]]
    return replace(answer, disagreement=replace(d, figures=figures, notice=notice(figures)))


def _kasymov(answer: Answer) -> Answer:
    p = next(p for p in answer.passages if p.passage_id == MT_FIGURE)
    start = p.text.index("Kasymov")
    return _figure(answer, text="Kasymov", start=start, end=start + len("Kasymov"))


def test_a_twin_from_another_source_that_says_something_else_is_reported(real_qa, killed):
    n = _rferl(killed)
    twin = _amnesty_slice(real_qa)
    tampered = _with_passage(killed, n, also_in=[twin])
    assert verify(tampered, real_qa.index) == [
        f"passage {n + 1}, also in 1 (amnesty-advisory#p1): the quote is body[{twin.start}:{twin.end}], "
        f"not the whole indexed passage, body[{twin.start}:{killed_end(real_qa, 'amnesty-advisory#p1')}]",
        f"passage {n + 1}, also in 1 (amnesty-advisory#p1): does not make the same claim as passage {n + 1} "
        "(near-duplicate rule, 80% of words shared)"]


def killed_end(real_qa, passage_id: str) -> int:
    return next(r.end for r in real_qa.index.passages if r.passage_id == passage_id)


@pytest.mark.parametrize("documents", ["index", "documents", "configured corpus"])
def test_a_quote_cut_out_of_its_passage_is_reported(real_qa, killed, documents):
    """Against the index's passages, or the documents split again with the settings: the same finding."""
    source = {"index": real_qa.index, "documents": real_qa.index.documents, "configured corpus": None}[documents]
    n = _rferl(killed)
    cut = _cut(killed)
    assert verify(cut, source) == [
        f"passage {n + 1} (rferl-ambassador-video#p4): the quote is body[1263:{cut.passages[n].end}], not the whole "
        "indexed passage, body[1263:1642]"]


def test_searched_for_with_words_the_user_never_typed_is_reported_given_the_history(real_qa):
    tampered, history = _searched_extra(real_qa)
    assert verify(tampered, real_qa.index, history=history) == [
        "'Searched for' is 'Who is being prosecuted for the Zhanaozen shootings? Was it murder? What are they charged "
        "with?', not the user's own questions 'Who is being prosecuted for the Zhanaozen shootings? What are they "
        "charged with?'"]
    assert verify(replace(tampered, searched_for=None), real_qa.index, history=history)[0].startswith(
        "'Searched for' is None, not the user's own questions")
    assert verify(tampered, real_qa.index, history=[12]) == [
        "the history given to verify cannot be read: each history item must be an earlier question (text), an Answer "
        "or Answer.to_dict()"]


def test_an_abstained_follow_up_shows_no_searched_for(real_qa):
    """ask() gives an abstention no 'Searched for' line; with the history, verify expects none."""
    history = ["What historical cover-up did the reader William Courtney compare Zhanaozen to?"]
    answer = real_qa.ask("What is his favourite food?", history=history)
    assert answer.abstained and answer.searched_for is None
    assert verify(answer, real_qa.index, history=history) == []


def test_searched_for_without_history_is_checked_as_far_as_the_answer_tells(real_qa, fixture_qa):
    tampered, _ = _searched_extra(real_qa)
    assert verify(replace(tampered, searched_for="Treason. " + tampered.question + " Surely"), real_qa.index) == [
        "'Searched for' does not end with the question asked"]
    alone = fixture_qa.ask("Who fired on the workers?")
    assert verify(replace(alone, searched_for="Why were they there? Who fired on the workers?"), fixture_qa.index) == [
        "'Searched for' is shown for a question that does not lean on an earlier one"]


def test_a_word_given_as_a_figure_is_reported(real_qa, killed):
    assert verify(_kasymov(killed), real_qa.index) == [
        "figure 'Kasymov' is not a figure in passage mt-third-day#p4: the figure finder reads none there"]


def test_a_figure_s_measure_changed_is_reported(real_qa, killed):
    assert verify(_figure(killed, measure="injured"), real_qa.index) == [
        "figure '14' counts killed in passage mt-third-day#p4, not injured"]


def test_a_figure_left_out_of_the_notice_is_reported(real_qa, killed):
    d = killed.disagreement
    figures = d.figures[1:]
    dropped = replace(killed, disagreement=replace(d, figures=figures, notice=notice(figures)))
    assert verify(dropped, real_qa.index) == [
        "the disagreement does not list exactly the figures for killed about one event that its passages give"]


# --- malformed fields: problems, never exceptions ---------------------------------------------------------------

def _set(data: dict, path: tuple, value) -> dict:
    """A deep copy of `data` with the item at `path` set to `value`."""
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


MALFORMED = [
    ("three-number highlight", ("passages", 0, "highlights"), [[0, 5, 9]],
     "passage 1: field 'highlights' must be a list of [start, end] pairs, not [[0, 5, 9]]"),
    ("string offset", ("passages", 0, "start"), "0", "passage 1: field 'start' must be a whole number, not '0'"),
    ("boolean offset", ("passages", 1, "end"), True, "passage 2: field 'end' must be a whole number, not True"),
    ("huge offset", ("passages", 0, "end"), 10**5000,
     "passage 1: field 'end' must be a whole number, not a 16,610-bit number"),
    ("None for the passages", ("passages",), None, "the answer: field 'passages' must be a list of passages, not None"),
    ("None for the highlights", ("passages", 0, "highlights"), None,
     "passage 1: field 'highlights' must be a list of [start, end] pairs, not None"),
    ("passage that is not a record", ("passages", 1), "alpha#p1", "passage 2 is not a record of fields but 'alpha#p1'"),
    ("twin that is not a record", ("passages", 0, "also_in"), [7], "passage 1, also in 1 is not a record of fields but 7"),
    ("list for a title", ("passages", 0, "title"), ["a", "b"], "passage 1: field 'title' must be text, not ['a', 'b']"),
    ("number for a url", ("passages", 0, "url"), 12345, "passage 1: field 'url' must be text or null, not 12345"),
    ("text for abstained", ("abstained",), "no", "the answer: field 'abstained' must be true or false, not 'no'"),
    ("number for the message", ("message",), 3, "the answer: field 'message' must be text, not 3"),
    ("unknown field", ("passages", 0, "verified"), True, "passage 1: unknown field 'verified'"),
    ("disagreement that is a list", ("disagreement",), [1], "the disagreement is not a record of fields but [1]"),
]


@pytest.mark.parametrize("case, path, value, problem", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_fields_are_reported_as_dicts_and_as_answers(fixture_qa, answer, case, path, value, problem):
    data = _set(answer.to_dict(), path, value)
    assert verify(data, fixture_qa.index) == [problem]
    try:
        loaded = Answer.from_dict(data)
    except (TypeError, KeyError, ValueError, AttributeError):  # from_dict is no validator; verify of the dict is
        return
    assert verify(loaded, fixture_qa.index) == [problem]


def test_missing_fields_and_other_types_are_reported(fixture_qa, answer):
    data = answer.to_dict()
    del data["passages"][0]["text"]
    assert verify(data, fixture_qa.index) == ["passage 1: field 'text' is missing"]
    assert verify(None) == ["the answer is not a record of fields but None"]
    assert verify("Ten people died.") == ["the answer is not a record of fields but 'Ten people died.'"]
    assert verify(answer.to_dict(), fixture_qa.index) == []  # as the /ask endpoint returns it


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
                    | st.floats() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children,
                                                                                     max_size=3), max_leaves=6)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, prefix + (i,))


def _mutate(data: dict, choice: int, action: str, value, name: str) -> dict:
    paths = [p for p in _paths(data) if p]
    path = paths[choice % len(paths)]
    if action == "set":
        return _set(data, path, value)
    data = copy.deepcopy(data)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[name] = value
    else:
        parent.append(value)
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["set", "delete", "add"]), JSON,
                                    st.text(max_size=8)), min_size=1, max_size=3))
def test_any_mutation_of_an_answer_is_reported_never_raised(fixture_qa, mutations):
    fixture_answer = fixture_qa.ask("How many people died according to officials?", k=2)
    data = fixture_answer.to_dict()
    for choice, action, value, name in mutations:
        data = _mutate(data, choice, action, value, name)
    for candidate in [data, *_loaded(data)]:
        problems = verify(candidate, fixture_qa.index)
        assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
        assert not any(p.startswith("the answer could not be checked") for p in problems), problems


def _loaded(data: dict) -> list[Answer]:
    try:
        return [Answer.from_dict(data)]
    except Exception:  # from_dict of a malformed dict may fail; verify of the dict must not
        return []
