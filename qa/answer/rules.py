"""The kinds of wrong answer a calibrated probability cannot see, as rules on the first quote: each one keeps an
answer from being 'answered' (qa/answer/decide.py makes it 'uncertain').

- The asked kind: a question asking when, how many, for a name, or who, when none of the quote's highlighted
  sentences holds a time, a number, a name (two capitalised words or more), or a name or word for people, that the
  question does not already say. A follow-up asking 'When was that?'
  of an undated passage is the same case.
- Whose words: 'What did X say?' (or write, tell, post ...), X named, when the quote is neither by X (an author,
  the publisher, a reader comment's author) nor a passage giving X's words ('X said', 'according to X').
- Another year: a year the question names that neither the quoted passage nor its document's date or title states:
  the corpus is about other events then."""
from __future__ import annotations

import re

from qa.corpus.documents import Document
from qa.corpus.text import WORD, sentence_spans, tokenize
from qa.evidence.answertype import PEOPLE, TIME_WORDS, YEARS, said_by
from qa.evidence.question import Question, has_answer
from qa.index.words import bare, bare_words

SPEECH = re.compile(r"\b(?:said|says|say|saying|told|tells|wrote|writes|written|stated|states|statement|added|declared|"
                    r"claimed|argued|urged|called|according to|quoted|expressed|announced|warned|insisted|denied|"
                    r"admitted|noted|commented|replied|asked)\b", re.I)


def has_person(sentence: str, question: Question) -> bool:
    """A name, a capitalised word past the sentence's first (a month or weekday aside), or a word for people
    (PEOPLE), that the question lacks."""
    if has_answer("name", sentence, question):
        return True
    words = WORD.findall(sentence)
    return any((w[:1].isupper() and n > 0 and bare(w) not in TIME_WORDS or bare(w) in PEOPLE)
               and bare(w) not in question.bare for n, w in enumerate(words))


def lacks_asked_kind(question: Question, marked: list[str]) -> bool:
    """The question asks when, how many, for a name, or who, and no sentence of `marked` holds one. For 'who', the
    sentence must also say what the question asks about them (one of its content words beyond names and words for
    people): 'Who was charged?' is not answered by a sentence that only mentions the police."""
    kind = question.asked
    if kind is None:
        return False
    if kind == "who":
        about = question.about
        return not any(has_person(s, question) and (not about or about & set(tokenize(s))) for s in marked)
    return not any(has_answer(kind, s, question) for s in marked)


def quotes_speaker(question: Question, doc: Document, passage: str) -> bool:
    """True unless the question asks for someone's words and the quote gives someone else's: its author, publisher
    or comment author is not them, and no sentence of the passage gives their words ('X said', 'according to X')."""
    who = question.speaker
    if not who or said_by(doc, who):
        return True
    return any(who[-1] in bare_words(s) and SPEECH.search(s) for s in (passage[a:b] for a, b in sentence_spans(passage)))


def other_year(question: Question, passage: str, doc: Document) -> bool:
    """The question names a year that the passage, its document's date and its title all lack."""
    stated = set(YEARS.findall(passage)) | set(YEARS.findall(doc.title or "")) | {(doc.date or "")[:4]}
    return bool(question.years - stated)
