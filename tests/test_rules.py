"""The kinds of wrong answer kept from 'answered' (qa/answer/rules.py), each as a kind: the asked kind missing from
the highlighted sentences, someone else's words, another year. Wordings differ from the issue's examples."""
from __future__ import annotations

import pytest

from qa.answer.rules import lacks_asked_kind, other_year, quotes_speaker
from qa.corpus.documents import Document
from qa.evidence.answertype import asked_kind, speaker
from qa.evidence.question import analyse


def doc(kind: str = "article", authors: tuple[str, ...] = (), publisher: str = "Daily News", date: str | None = None,
        comment_author: str | None = None, title: str = "Miners strike") -> Document:
    return Document(id="d", title=title, publisher=publisher, date=date, authors=authors, url=None, seed=None, body="",
                    kind=kind, comment_author=comment_author)


@pytest.mark.parametrize("question, kind", [
    ("When were the miners sentenced?", "time"), ("What year did the strike begin?", "time"),
    ("How many guards fired?", "quantity"), ("How long did the trial last?", "quantity"),
    ("What is the name of the judge?", "name"), ("Who was the mayor at the time?", "name"),
    ("Name the lawyer who appealed.", "name"), ("How did the square get its name?", None),
    ("Who ordered the crackdown?", "who"), ("Whom did the court acquit?", "who"),
    ("Why did the miners strike?", None), ("What did the union demand?", None),
])
def test_the_asked_kind(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize("question, marked, lacks", [
    # when: a highlighted sentence must hold a time the question does not already say
    ("When were the guards convicted?", ["The guards were convicted of negligence."], True),
    ("When were the guards convicted?", ["The guards were convicted in March 2013."], False),
    ("When did the three-month lockout end?", ["The lockout was called off after a three-week strike."], True),
    # how many: a number
    ("How many miners were hurt?", ["Many miners were hurt in the blast."], True),
    ("How many miners were hurt?", ["Dozens of people were hurt, and 42 miners were hurt badly."], False),
    # who: a name, a capitalised word, or a word for people, that the question lacks
    ("Who opened fire on the crowd?", ["Shots were fired into the crowd."], True),
    ("Who opened fire on the crowd?", ["Riot police opened fire on the crowd."], False),
    ("Who opened fire on the crowd?", ["The crowd was fired on by Colonel Ivanov's unit."], False),
    ("Who was charged over the deaths?", ["Charges over the deaths were announced on Friday."], True),
    ("Who was charged over the deaths?", ["Four senior officers were charged over the deaths."], False),
    # ... and say what the question asks about them, not only mention people
    ("Who was put on trial over the raid?", ["A police spokesman was unavailable for comment."], True),
    ("Who was put on trial over the raid?", ["Two guards were put on trial."], False),
    # a name: two capitalised words or more
    ("What is the name of the prosecutor?", ["The prosecutor declined to comment."], True),
    ("What is the name of the prosecutor?", ["Prosecutor Aigul Serikova declined to comment."], False),
    # no kind asked: nothing is missing
    ("Why did the miners strike?", ["Shots were fired."], False),
])
def test_an_asked_kind_missing_from_every_highlighted_sentence(question, marked, lacks):
    assert lacks_asked_kind(analyse(question), marked) is lacks


@pytest.mark.parametrize("question, words", [
    ("What did Maria Lopez say about the strike?", ["maria", "lopez"]),
    ("What has the Human Rights Ombudsman written about the trial?", ["human", "rights", "ombudsman"]),
    ("What did the reader called Old Miner post?", ["reader", "called", "old", "miner"]),
    # no one named: a role or a group speaks
    ("What has the ombudsman written about the trial?", []), ("What did a commenter say about the toll?", []),
    ("What did marchers in the capital write on their banners?", []), ("Why did the miners strike?", []),
])
def test_who_a_question_asks_the_words_of(question, words):
    assert speaker(question) == words


@pytest.mark.parametrize("question, source, passage, quotes", [
    # a reader comment is its author's words, not the page's publisher's, nor those of someone it mentions
    ("What did Maria Lopez say?", doc("comment", comment_author="Maria Lopez"), "I was there.", True),
    ("What did Maria Lopez say?", doc("comment", comment_author="Tom Hale"), "Ms. Lopez, you are wrong.", False),
    ("What did Daily News say about it?", doc("comment", comment_author="Tom Hale"), "Daily News lies.", False),
    # an article is its authors' and its publisher's words, or those it attributes with a verb of saying
    ("What did Karl Berg write?", doc(authors=("Karl Berg",)), "The strike goes on.", True),
    ("What did the Daily News report?", doc(), "The strike goes on.", True),
    ("What did Maria Lopez say?", doc(), "Talks failed. Lopez told reporters the strike would go on.", True),
    ("What did Maria Lopez say?", doc(), "According to Lopez, talks failed.", True),
    ("What did Maria Lopez say?", doc(), "Lopez arrived in the town on Monday. Talks failed.", False),
    ("Why did the miners strike?", doc(), "Anything.", True),
])
def test_whose_words_the_quote_gives(question, source, passage, quotes):
    assert quotes_speaker(analyse(question), source, passage) is quotes


@pytest.mark.parametrize("question, passage, source, other", [
    ("What happened at the mine in 2016?", "Police fired on miners.", doc(date="2011-12-20"), True),
    ("What happened at the mine in 2011?", "Police fired on miners.", doc(date="2011-12-20"), False),
    ("What happened at the mine in 2014?", "In 2014 the mine was sold.", doc(date="2011-12-20"), False),
    ("What did the 2009 report find?", "Police fired.", doc(title="The 2009 report on mining"), False),
    ("What happened at the mine?", "Police fired on miners.", doc(), False),
])
def test_a_year_the_quote_and_its_document_never_state(question, passage, source, other):
    assert other_year(analyse(question), passage, source) is other
