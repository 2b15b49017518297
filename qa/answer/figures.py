"""Figures that quoted passages give for the same thing (people killed, injured, detained), and where sources differ.

A figure is read as written, in digits or words, with its qualifier ('at least', 'more than', ...). Nothing is
computed: the notice repeats each figure exactly as its passage words it, next to its source."""
from __future__ import annotations

import re
from collections.abc import Iterator

from qa.answer.model import NOTICE_PREFIX, Disagreement, Figure, Passage

UNITS = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen " \
        "eighteen nineteen".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
# Digits: a run such as '1,500' is read from its start only (not after a comma that follows a digit or a comma),
# and possessively, so a 40,000-character list of numbers is read once rather than once per digit.
NUMBER = (r"(?<!\d,)(?<!,,)\d[\d,]*+|(?:" + "|".join(TENS) + r")(?:-(?:" + "|".join(UNITS[:9]) + r"))?|" + "|".join(UNITS[::-1])
          + r"|a dozen|dozens|hundreds")
QUALIFIER = (r"at least|more than|over|about|around|nearly|almost|up to|some|only|fewer than|less than|approximately"
             r"|roughly|as many as")
# What a figure counts: the words that follow it (a noun of up to two words, then the verb).
MEASURES = {
    "killed": r"(?:(?:were|was|have been|had been|are|been)\s+)?(?:killed|shot dead|shot and killed|dead|died)\b|victims\b",
    "injured": r"(?:(?:were|was|have been|had been|are|been)\s+)?(?:injured|wounded)\b",
    "detained": r"(?:(?:were|was|have been|had been|are|been)\s+)?(?:detained|arrested)\b",
}
# Words in a question that ask for a count ('how many', 'death toll', 'number of dead', 'lives lost'): without
# one, a question asks no count ('Who fired on the protesters?', 'Who killed them?') and gets no notice.
COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\btolls?\b|\bcasualt\w*|\bfatalit\w*|\blives\b(?:\s+\w+){0,2}\s+lost\b"
                   r"|\blives lost\b|\bhow much\b|\btotal\b|\bcount(?:ed)?\b|\bfigures?\b", re.IGNORECASE)
# Words in a question that ask about one measure.
ASKS = {"killed": r"\b(?:kill\w*|died|dead|death\w*|die|toll|victims?|lives|bodies|fatalit\w*|casualt\w*|perish\w*)\b",
        "injured": r"\b(?:injur\w*|wound\w*|hurt)\b",
        "detained": r"\b(?:detain\w*|arrest\w*|jail\w*|custody)\b"}
FIGURE = re.compile(rf"\b(?:(?P<qualifier>{QUALIFIER})\s+)?(?P<number>{NUMBER})"
                    rf"(?P<noun>(?:\s+(?!(?:were|was|have|had|are|been)\b)[a-z]+){{0,2}}?)\s+"
                    rf"(?P<measure>{'|'.join(f'(?P<{m}>{p})' for m, p in MEASURES.items())})", re.IGNORECASE)


# Counts under ten are left out: in news of this kind they tell of single incidents ('one person was shot dead',
# 'eight people were shot in front of her'), not of the totals that sources disagree on.
SMALL = re.compile(r"\d|" + "|".join(UNITS[:9]), re.IGNORECASE)


def source_label(p: Passage) -> str:
    if p.kind == "comment":
        return f"reader comment by {p.comment_author}" + (f", {p.date[:10]}" if p.date else "")
    return p.publisher + (f", {p.date[:10]}" if p.date else "")


def _counts(text: str) -> Iterator[tuple[re.Match, str]]:
    """Each figure of ten or more in `text`, with its measure."""
    for match in FIGURE.finditer(text):
        if not SMALL.fullmatch(match.group("number")):
            yield match, next(m for m in MEASURES if match.group(m))


def find_figures(p: Passage) -> list[Figure]:
    """Every figure in the passage, in order."""
    figures = []
    for match, measure in _counts(p.text):
        start = match.start("qualifier") if match.group("qualifier") else match.start("number")
        figures.append(Figure(p.text[start:match.end("number")], measure, p.passage_id, start, match.end("number"),
                              source_label(p)))
    return figures


def asked_measures(question: str) -> list[str]:
    """The measures the question asks a count of ('How many died?', 'What was the death toll?'), if any: none
    when it asks no count."""
    if not COUNT.search(question):
        return []
    return [m for m, pattern in ASKS.items() if re.search(pattern, question, re.IGNORECASE)]


# A part of every word that MEASURES matches ('killed', 'shot dead', 'victims', 'wounded' ...): a passage with none
# has no figure, and the per-passage figure list skips it with a substring search rather than FIGURE (on a large
# corpus, most passages).
MEASURE_STEMS = ("kill", "dead", "died", "victim", "injur", "wound", "detain", "arrest")


def measures_in(text: str) -> set[str]:
    """The measures `text` gives a figure of (counts under ten aside), for the per-passage figure list."""
    lower = text.lower()
    if not any(stem in lower for stem in MEASURE_STEMS):
        return set()
    return {measure for _, measure in _counts(text)}


def find_disagreement(question: str, passages: list[Passage]) -> Disagreement | None:
    """The first measure the question asks a count of for which two sources give different figures."""
    figures = [f for p in passages for f in find_figures(p)]
    for measure in asked_measures(question):
        mine = [f for f in figures if f.measure == measure]
        # Figures say the same when qualifier and number are worded alike, case aside.
        if len({f.source for f in mine}) > 1 and len({f.text.lower() for f in mine}) > 1:
            return Disagreement(measure, mine, notice(mine))
    return None


def notice(figures: list[Figure]) -> str:
    """'Sources differ: ' then each figure as its passage words it, with its source."""
    return NOTICE_PREFIX + "; ".join(f"{f.text} ({f.source})" for f in figures)


def in_passage_order(disagreement: Disagreement, passages: list[Passage]) -> Disagreement:
    """The same figures listed in the order their passages are quoted (after the quotes are regrouped)."""
    position = {p.passage_id: n for n, p in enumerate(passages)}
    figures = sorted(disagreement.figures, key=lambda f: position[f.passage_id])  # stable: order inside a passage kept
    return Disagreement(disagreement.measure, figures, notice(figures))
