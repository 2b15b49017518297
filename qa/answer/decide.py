"""Stage 4 of answering: answer or abstain. Every rule for abstaining lives here, all deterministic.

0. Not English: a question mostly not in Latin letters is answered only when most of its words occur in the corpus
   (the model reads English; across languages its similarity means nothing).

1. Off-topic: the question is far in meaning from every passage (dense score below `min_similarity`) and fewer
   than `min_known_terms` of its content words occur anywhere in the corpus (a bare name such as 'Virginie
   Coulloudon' is close in words but not in meaning).
2. Answer type: a question that asks for a quantity ('how many', 'how much', 'how long', 'how old'), a time
   ('when', 'what date') or a name ('what is the name of', 'who was the') is unanswered when none of the
   sentences that best match it contains something of that type: a number that is not in the question (days of
   the month and years are not quantities), a date or time word, or a run of two or more capitalised words that
   are not all in the question. On-topic questions the articles don't answer ('What were the names of the people
   killed?') are as close in meaning as answerable ones; the missing number or name is what gives them away.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from qa.answer.model import ABSTAIN_MESSAGE, ANSWER_HEADING, NOT_ENGLISH_MESSAGE
from qa.config import Settings
from qa.corpus.text import WORD, tokenize
from qa.index.store import Index
from qa.search.retrieval import Ranking

MONTHS = frozenset("""january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec""".split())
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
TIME_WORDS = MONTHS | WEEKDAYS | frozenset("""day days week weeks month months year years decade decades morning
afternoon evening night today yesterday tomorrow""".split())
NUMBER_WORDS = frozenset("""one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand
thousands million millions dozen dozens""".split())
YEAR = re.compile(r"(19|20)\d\d")

ANSWER_TYPES = {
    "name": re.compile(r"\bnames?\b|\bwho (is|was|are|were) the\b", re.I),
    "quantity": re.compile(r"\bhow (many|much|long|old|far|large|big)\b|\bwhat (number|percentage|proportion)\b", re.I),
    # 'When' opening the question, not the conjunction ('How did staff respond when journalists called?').
    "time": re.compile(r"^\W*when\b|\bwhat (date|time|day|month|year)\b", re.I),
}


def answer_type(question: str) -> str | None:
    """'name', 'quantity' or 'time' when the question asks for one, else None."""
    return next((kind for kind, pattern in ANSWER_TYPES.items() if pattern.search(question)), None)


def _words(text: str) -> list[str]:
    return WORD.findall(text)


def quantities(text: str) -> set[str]:
    """Numbers written in digits or words, without days of the month ('December 16', '16 December') and years."""
    words = [w.lower() for w in _words(text)]
    found = set()
    for i, w in enumerate(words):
        if w[0].isdigit():
            beside = {words[i - 1] if i else "", words[i + 1] if i + 1 < len(words) else ""}
            if YEAR.fullmatch(w) or (w.isdigit() and len(w) <= 2 and beside & MONTHS):
                continue
            found.add(w)
        elif w in NUMBER_WORDS:
            found.add(w)
    return found


def times(text: str) -> set[str]:
    """Date and time words: months, weekdays, 'week', 'morning' ..., and years."""
    return {w for w in (w.lower() for w in _words(text)) if w in TIME_WORDS or YEAR.fullmatch(w)}


def names(text: str) -> set[str]:
    """Runs of two or more capitalised words ('Igor Vinyavsky', 'Human Rights Watch'), skipping the sentence's
    first word, months and weekdays."""
    found, run = set(), []
    for i, w in enumerate([*_words(text), ""]):
        if i > 0 and w[:1].isupper() and w.lower() not in TIME_WORDS:
            run.append(w)
            continue
        if len(run) >= 2:
            found.add(" ".join(run))
        run = []
    return found


def has_answer(kind: str, sentence: str, question: str) -> bool:
    """Whether `sentence` contains something of the answer type `kind` that the question does not already say."""
    if kind == "quantity":
        return bool(quantities(sentence) - quantities(question))
    if kind == "time":
        return bool(times(sentence) - times(question))
    asked = set(tokenize(question, stem=False, stopwords=False))
    return any(not set(tokenize(n, stem=False, stopwords=False)) <= asked for n in names(sentence))


def lacks_answer_type(question: str, sentences: Iterable[str]) -> bool:
    """True when the question asks for a name, quantity or time and none of `sentences` has one."""
    kind = answer_type(question)
    return kind is not None and not any(has_answer(kind, s, question) for s in sentences)


def closest_meaning(ranking: Ranking) -> float:
    """The best dense score of any passage: its cosine similarity blended with its best sentence's."""
    return float(np.nanmax(ranking.dense))


def known_share(question: str, vocabulary: frozenset[str]) -> float:
    """Share of the question's content words (stemmed, stop words removed) that occur anywhere in the corpus."""
    terms = set(tokenize(question, stem=True, stopwords=True))
    return len(terms & vocabulary) / len(terms) if terms else 0.0


def vocabulary(index: Index) -> frozenset[str]:
    return frozenset(t for p in index.passages for t in tokenize(p.text, stem=True, stopwords=True))


def evidence_sentences(index: Index, ranking: Ranking, passages: int, sentences: int, margin: float) -> list[str]:
    """The `sentences` sentences of the top `passages` passages most similar to the question, keeping only those
    within `margin` of the best one: where an answer would be."""
    scored = []
    for i in ranking.order[:passages]:
        record, first = index.passages[i], index.sentence_offsets[i]
        scored += [(float(ranking.sentence_similarity[first + j]), record.text[a:b])
                   for j, (a, b) in enumerate(record.sentences)]
    scored.sort(key=lambda s: -s[0])
    return [text for sim, text in scored[:sentences] if sim >= scored[0][0] - margin] if scored else []


def latin_share(text: str) -> float:
    """The share of the letters in `text` that are Latin; 1.0 when it has no letters."""
    letters = [c for c in text if c.isalpha()]
    return sum("LATIN" in unicodedata.name(c, "") for c in letters) / len(letters) if letters else 1.0


def off_topic(search: str, ranking: Ranking, vocabulary: frozenset[str], settings: Settings) -> bool:
    """Far in meaning from every passage (by the dense score: passage and best-sentence cosine blended), and
    with too few of its content words anywhere in the corpus (a bare name such as 'Virginie Coulloudon' is close
    in words but not in meaning)."""
    return (closest_meaning(ranking) < settings.min_similarity
            and known_share(search, vocabulary) < settings.min_known_terms)


def unanswered(question: str, ranking: Ranking, index: Index, settings: Settings) -> bool:
    """Asks for a name, quantity or time that none of the best-matching sentences contains."""
    if not settings.answer_type_check:
        return False
    s = settings
    sentences = evidence_sentences(index, ranking, s.evidence_passages, s.evidence_sentences, s.evidence_margin)
    return lacks_answer_type(question, sentences)


@dataclass(frozen=True)
class Decision:
    """Whether to answer, and the fixed line that opens the answer."""

    abstained: bool
    message: str


def decide(question: str, search: str, ranking: Ranking, index: Index, vocabulary: frozenset[str],
           settings: Settings) -> Decision:
    """Abstain when the question is not English and its words are not the corpus's, when it is off-topic, or when
    it asks for a name, quantity or time the best sentences lack; otherwise answer."""
    if latin_share(question) < settings.min_latin_share:
        if known_share(question, vocabulary) < settings.min_known_terms:
            return Decision(True, NOT_ENGLISH_MESSAGE)
    elif off_topic(search, ranking, vocabulary, settings) or unanswered(question, ranking, index, settings):
        return Decision(True, ABSTAIN_MESSAGE)
    return Decision(False, ANSWER_HEADING)
