"""The question, analysed once: what every later stage needs to know of it. The evidence features, the re-ranking,
the level's rules and the decision all read this record instead of tokenising and matching the question again:
its content terms, the kind of answer it asks for, the names, years, figures and times it already states, and whose
words it asks for."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from qa.corpus.text import STOPWORDS, WORD, tokenize
from qa.evidence.answertype import (
    PEOPLE,
    TIME_WORDS,
    YEARS,
    answer_type,
    asked_kind,
    broad_type,
    names,
    quantities,
    speaker,
    times,
)
from qa.index.words import bare, bare_words


@dataclass(frozen=True)
class Question:
    text: str  # as asked
    search: str  # the text searched: the question, with the earlier ones a follow-up leans on
    terms: tuple[str, ...]  # the search's content terms (stop words out; stemmed when the index stems), in order
    stems: frozenset[str]  # the question's own content terms, stemmed
    search_stems: frozenset[str]  # the search's, stemmed
    plain: frozenset[str]  # the question's words as written, lower case, stop words kept: what it already says
    bare: frozenset[str]  # the same, as bare() writes a word (possessives and dots off)
    kind: str | None  # the answer type asked for: 'name', 'quantity', 'time' (answer_type)
    broad: str | None  # the broader type, for the confidence features: also 'place', and any 'who' (broad_type)
    asked: str | None  # the kind the level's rules hold the quote to: also 'who' (asked_kind)
    about: frozenset[str]  # for 'who': its stemmed terms that are neither names nor words for people
    speaker: tuple[str, ...]  # whose words it asks for ('What did X say?'), when it names them
    names: tuple[tuple[str, ...], ...]  # its runs of capitalised words, bare, lower case
    years: frozenset[str]
    quantities: frozenset[str]  # the figures it states itself, so that a sentence repeating them answers nothing
    times: frozenset[str]


def question_names(text: str) -> list[tuple[str, ...]]:
    """Runs of capitalised words in the question ('Vadim Kuramshin', 'Astana'), lower case. The question's first
    word counts only inside a run of two or more ('Vadim Kuramshin arrest'): alone it is capitalised as a sentence
    start. Stop words, months and weekdays are not names."""
    words = WORD.findall(text)
    runs: list[list[tuple[int, str]]] = []
    for i, w in enumerate(words):
        name = w[:1].isupper() and bare(w) not in STOPWORDS and bare(w) not in TIME_WORDS
        if name and runs and runs[-1][-1][0] == i - 1:
            runs[-1].append((i, w))
        elif name:
            runs.append([(i, w)])
    return [tuple(bare(w) for _, w in run) for run in runs if run[0][0] > 0 or len(run) > 1]


def analyse(text: str, search: str | None = None, stem: bool = True) -> Question:
    """The question `text`, searched as `search` (itself when not a follow-up); `stem` as the index stems."""
    search = text if search is None else search
    words = WORD.findall(text)
    plain = tokenize(text, stem=False, stopwords=False)
    content = tokenize(text, stem=True, stopwords=True)
    terms = tuple(tokenize(search, stem, True))
    search_stems = frozenset(terms) if stem else frozenset(tokenize(search, stem=True, stopwords=True))
    asked = asked_kind(text)
    about: frozenset[str] = frozenset()
    if asked == "who":  # a word capitalised past the first is part of a name, not what is asked about them
        capitalised = {w.lower() for w in words[1:] if w[:1].isupper()}
        about = frozenset(t for t, w in zip(content, tokenize(text, stem=False))
                          if w not in PEOPLE and w not in capitalised)
    return Question(text, search, terms, frozenset(content), search_stems, frozenset(plain), frozenset(bare_words(text)),
                    answer_type(text), broad_type(text), asked, about, tuple(speaker(text)),
                    tuple(question_names(text)), frozenset(YEARS.findall(text)), frozenset(quantities(text)),
                    frozenset(times(text)))


def has_answer(kind: str, sentence: str, question: Question) -> bool:
    """Whether `sentence` contains something of the answer type `kind` that the question does not already say."""
    if kind == "quantity":
        return bool(quantities(sentence) - question.quantities)
    if kind == "time":
        return bool(times(sentence) - question.times)
    return any(not set(tokenize(n, stem=False, stopwords=False)) <= question.plain for n in names(sentence))


def has_value(kind: str, sentence: str, question: Question) -> bool:
    """Like has_answer, and for 'place' a capitalised word (not opening the sentence) the question lacks."""
    if kind != "place":
        return has_answer(kind, sentence, question)
    return any(w[:1].isupper() and w.lower() not in question.plain for w in WORD.findall(sentence)[1:])


def lacks_answer_type(question: Question, sentences: list[str]) -> bool:
    """True when the question asks for a name, quantity or time and none of `sentences` has one."""
    return question.kind is not None and not any(has_answer(question.kind, s, question) for s in sentences)


def unknown_names(question: Question, words: Collection[str]) -> list[tuple[str, ...]]:
    """The question's names with a word that occurs nowhere in the corpus."""
    return [name for name in question.names if any(w not in words for w in name)]
