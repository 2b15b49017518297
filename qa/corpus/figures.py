"""Figures in text: counts of people killed, injured or detained, read as written, in digits or words, with their
qualifier ('at least', 'more than', ...), and the measure each counts. Nothing is computed from them."""
from __future__ import annotations

import re
from collections.abc import Iterator

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
FIGURE = re.compile(rf"\b(?:(?P<qualifier>{QUALIFIER})\s+)?(?P<number>{NUMBER})"
                    rf"(?P<noun>(?:\s+(?!(?:were|was|have|had|are|been)\b)[a-z]+){{0,2}}?)\s+"
                    rf"(?P<measure>{'|'.join(f'(?P<{m}>{p})' for m, p in MEASURES.items())})", re.IGNORECASE)


# Counts under ten are left out: in news of this kind they tell of single incidents ('one person was shot dead',
# 'eight people were shot in front of her'), not of the totals that sources disagree on.
SMALL = re.compile(r"\d|" + "|".join(UNITS[:9]), re.IGNORECASE)


def counts(text: str) -> Iterator[tuple[re.Match, str]]:
    """Each figure of ten or more in `text`, with its measure."""
    for match in FIGURE.finditer(text):
        if not SMALL.fullmatch(match.group("number")):
            yield match, next(m for m in MEASURES if match.group(m))


# A part of every word that MEASURES matches ('killed', 'shot dead', 'victims', 'wounded' ...): a text with none
# has no figure, and the per-passage figure list skips it with a substring search rather than FIGURE (on a large
# corpus, most passages; a document at a time, most documents).
MEASURE_STEMS = ("kill", "dead", "died", "victim", "injur", "wound", "detain", "arrest")


def may_give_figures(text: str) -> bool:
    """False when `text` has no word a figure's measure is stated with, so no figure."""
    lower = text.lower()
    return any(stem in lower for stem in MEASURE_STEMS)


def measures_in(text: str) -> set[str]:
    """The measures `text` gives a figure of (counts under ten aside), for the per-passage figure list."""
    return {measure for _, measure in counts(text)} if may_give_figures(text) else set()


