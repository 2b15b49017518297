"""What a question asks for (a name, a quantity or a time) and whether a sentence holds one that the question does
not already say: on-topic questions the corpus does not answer ('What were the names of the people killed?') are
as close in meaning as answerable ones; the missing number or name is what gives them away."""
from __future__ import annotations

import re
from collections.abc import Iterable

from qa.corpus.documents import Document
from qa.corpus.text import STOPWORDS, WORD, tokenize
from qa.index.words import bare

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


# A number joined to a unit by a hyphen ('a three-week state of emergency', '20-year-old') says how long, never
# when: 'When did the state of emergency end?' is not answered by its length.
DURATION = re.compile(r"\b(?:\d+|" + "|".join(sorted(NUMBER_WORDS)) + r")-(?:day|week|month|year|decade)s?\b", re.I)


def times(text: str) -> set[str]:
    """Date and time words: months, weekdays, 'week', 'morning' ..., and years (not in a length such as
    'three-week')."""
    return {w for w in (w.lower() for w in _words(DURATION.sub(" ", text))) if w in TIME_WORDS or YEAR.fullmatch(w)}


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


# Broader than ANSWER_TYPES, for the confidence model only (a missing value there lowers confidence; it does not
# abstain): 'who' and 'where' questions of any wording, as search queries write them ('who plays the joker').
BROAD_TYPES = {
    "quantity": re.compile(r"\bhow (many|much|long|old|far|large|big|tall|high)\b|\bwhat (number|percentage)\b", re.I),
    "time": re.compile(r"^\W*when\b|\bwhat (date|time|day|month|year|century)\b|\bwhat years?\b", re.I),
    "name": re.compile(r"^\W*who\b|\bnames?\b|\bwho (is|was|are|were)\b", re.I),
    "place": re.compile(r"^\W*where\b|\bwhat (country|city|state|place)\b", re.I),
}


def broad_type(question: str) -> str | None:
    return next((kind for kind, pattern in BROAD_TYPES.items() if pattern.search(question)), None)


def has_value(kind: str, sentence: str, question: str) -> bool:
    """Like has_answer, and for 'place' a capitalised word (not opening the sentence) the question lacks."""
    if kind != "place":
        return has_answer(kind, sentence, question)
    asked = set(tokenize(question, stem=False, stopwords=False))
    words = WORD.findall(sentence)
    return any(w[:1].isupper() and w.lower() not in asked for w in words[1:])


# Asking for someone's words: 'What did X say?', 'What has X written about ...?'.
SAID = re.compile(r"\bwhat (?:did|does|do|has|have|had) (?P<who>.+?) (?:say|said|tell|told|write|written|wrote|post|"
                  r"posted|comment|commented|claim|claimed|argue|argued|report|reported|state|stated)\b", re.I)


def speaker(question: str) -> list[str]:
    """The words of whoever the question asks the words of, when it names them ('What did William Courtney say?':
    william, courtney; 'What has Amnesty International written?'): the words before the verb end with a capitalised
    one. 'What did a commenter say?' or 'What did the Kazakh leader say?' names no one: none."""
    match = SAID.search(question)
    words = WORD.findall(match.group("who")) if match else []
    if not words or not words[-1][:1].isupper():
        return []
    return [w for w in (bare(w) for w in words) if w not in STOPWORDS]


def said_by(doc: Document, who: list[str]) -> bool:
    """The document is the words of `who` (by the last of their words: a surname, an organisation's last word): an
    article's authors or publisher, a reader comment's author (never the page's publisher)."""
    by = doc.comment_author or "" if doc.kind == "comment" else " ".join([*doc.authors, doc.publisher])
    return bool(who) and who[-1] in {bare(w) for w in WORD.findall(by)}
