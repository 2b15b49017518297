"""What a question asks for (a name, a quantity or a time), and the values of each kind a text holds; whether a
sentence holds one the question does not already say is qa/evidence/question.py's. On-topic questions the corpus
does not answer ('What were the names of the people killed?') are as close in meaning as answerable ones; the
missing number or name is what gives them away."""
from __future__ import annotations

import re
from collections.abc import Sequence

from qa.corpus.documents import Document
from qa.corpus.text import STOPWORDS, WORD
from qa.index.words import bare, bare_words

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


def asked_kind(question: str) -> str | None:
    """'time', 'quantity', 'name' ('What is the name of ...', 'Who was the ...') or 'who' when the question asks for
    one (the first that applies), else None: the kind the level's rules (qa/answer/rules.py) hold a quote to."""
    kind = next((k for k in ("time", "quantity") if ANSWER_TYPES[k].search(question)), None)
    if kind is None and NAME.search(question):
        kind = "name"
    return kind or ("who" if WHO.search(question) else None)


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


def said_by(doc: Document, who: Sequence[str]) -> bool:
    """The document is the words of `who` (by the last of their words: a surname, an organisation's last word): an
    article's authors or publisher, a reader comment's author (never the page's publisher)."""
    by = doc.comment_author or "" if doc.kind == "comment" else " ".join([*doc.authors, doc.publisher])
    return bool(who) and who[-1] in bare_words(by)
