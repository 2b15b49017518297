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
from qa.evidence.answertype import ANSWER_TYPES, TIME_WORDS, has_answer, said_by, speaker
from qa.index.words import bare

YEARS = re.compile(r"\b(?:19|20)\d\d\b")
# Asking for a name: 'What is the name of ...', 'Name the ...', 'Who was the ...' (not 'How did it get its name?').
NAME = re.compile(r"\bwhat (?:is|was|are|were) (?:the|their|his|her|its) names?\b|\bnames? of\b|^\W*name\b"
                  r"|\bwho (?:is|was|are|were) the\b", re.I)
WHO = re.compile(r"^\W*(?:who|whom|whose)\b|\bwho (?:is|was|are|were)\b", re.I)
# People named by what they are rather than by name: an answer to 'who' ('Police opened fire', 'four officers').
PEOPLE = frozenset("""police policemen policeman officer officers official officials authorities authority government
ministry minister ministers president prime prosecutor prosecutors court courts judge judges troops soldiers army
military security forces guards workers worker strikers protesters protestors demonstrators residents activists
activist journalists journalist reporter reporters editor lawyer lawyers leader leaders company companies employer
management union unions opposition party parliament mayor governor akim commander commission committee investigators
witnesses witness relatives families family doctors
""".split())
SPEECH = re.compile(r"\b(?:said|says|say|saying|told|tells|wrote|writes|written|stated|states|statement|added|declared|"
                    r"claimed|argued|urged|called|according to|quoted|expressed|announced|warned|insisted|denied|"
                    r"admitted|noted|commented|replied|asked)\b", re.I)


def _words(text: str) -> set[str]:
    return {bare(w) for w in WORD.findall(text)}


def has_person(sentence: str, question: str) -> bool:
    """A name, a capitalised word past the sentence's first (a month or weekday aside), or a word for people
    (PEOPLE), that the question lacks."""
    if has_answer("name", sentence, question):
        return True
    asked = _words(question)
    words = WORD.findall(sentence)
    return any((w[:1].isupper() and n > 0 and bare(w) not in TIME_WORDS or bare(w) in PEOPLE) and bare(w) not in asked
               for n, w in enumerate(words))


def asked_kind(question: str) -> str | None:
    """'time', 'quantity', 'name' ('What is the name of ...', 'Who was the ...') or 'who' when the question asks for
    one (the first that applies), else None."""
    kind = next((k for k in ("time", "quantity") if ANSWER_TYPES[k].search(question)), None)
    if kind is None and NAME.search(question):
        kind = "name"
    return kind or ("who" if WHO.search(question) else None)


def lacks_asked_kind(question: str, marked: list[str]) -> bool:
    """The question asks when, how many, for a name, or who, and no sentence of `marked` holds one. For 'who', the
    sentence must also say what the question asks about them (one of its content words beyond names and words for
    people): 'Who was charged?' is not answered by a sentence that only mentions the police."""
    kind = asked_kind(question)
    if kind is None:
        return False
    if kind == "who":
        about = {t for t, w in zip(tokenize(question), tokenize(question, stem=False))
                 if w not in PEOPLE and not _capitalised(w, question)}
        return not any(has_person(s, question) and (not about or about & set(tokenize(s))) for s in marked)
    return not any(has_answer(kind, s, question) for s in marked)


def _capitalised(word: str, question: str) -> bool:
    """The word is written capitalised in the question past its first word: part of a name."""
    return any(w.lower() == word and w[:1].isupper() for w in WORD.findall(question)[1:])


def quotes_speaker(question: str, doc: Document, passage: str) -> bool:
    """True unless the question asks for someone's words and the quote gives someone else's: its author, publisher
    or comment author is not them, and no sentence of the passage gives their words ('X said', 'according to X')."""
    who = speaker(question)
    if not who or said_by(doc, who):
        return True
    return any(who[-1] in _words(s) and SPEECH.search(s) for s in (passage[a:b] for a, b in sentence_spans(passage)))


def other_year(question: str, passage: str, doc: Document) -> bool:
    """The question names a year that the passage, its document's date and its title all lack."""
    stated = set(YEARS.findall(passage)) | set(YEARS.findall(doc.title or "")) | {(doc.date or "")[:4]}
    return bool(set(YEARS.findall(question)) - stated)
