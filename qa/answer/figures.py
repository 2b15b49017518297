"""Figures that quoted passages give for the same thing (people killed, injured, detained), and where sources differ.

A figure is read as written, in digits or words, with its qualifier ('at least', 'more than', ...). Nothing is
computed: the notice repeats each figure exactly as its passage words it, next to its source."""
from __future__ import annotations

import re
from collections.abc import Mapping

from qa.answer.model import NOTICE_PREFIX, Disagreement, Figure, Passage
from qa.corpus.figures import QUALIFIER, TENS, UNITS, counts
from qa.corpus.text import sentence_spans
from qa.evidence.answertype import TIME_WORDS

# Words in a question that ask for a count ('how many', 'death toll', 'number of dead', 'lives lost'): without
# one, a question asks no count ('Who fired on the protesters?', 'Who killed them?') and gets no notice.
COUNT = re.compile(r"\bhow many\b|\bnumber of\b|\btolls?\b|\bcasualt\w*|\bfatalit\w*|\blives\b(?:\s+\w+){0,2}\s+lost\b"
                   r"|\blives lost\b|\bhow much\b|\btotal\b|\bcount(?:ed)?\b|\bfigures?\b", re.IGNORECASE)
# Words in a question that ask about one measure.
ASKS = {"killed": r"\b(?:kill\w*|died|dead|death\w*|die|toll|victims?|lives|bodies|fatalit\w*|casualt\w*|perish\w*)\b",
        "injured": r"\b(?:injur\w*|wound\w*|hurt)\b",
        "detained": r"\b(?:detain\w*|arrest\w*|jail\w*|custody)\b"}


COMMENT_LABEL = "reader comment by "


def source_label(p: Passage) -> str:
    if p.kind == "comment":
        return f"{COMMENT_LABEL}{p.comment_author}" + (f", {p.date[:10]}" if p.date else "")
    return p.publisher + (f", {p.date[:10]}" if p.date else "")


def find_figures(p: Passage) -> list[Figure]:
    """Every figure in the passage, in order."""
    figures = []
    for match, measure in counts(p.text):
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


# A place an event happened at, as a sentence names it: 'in Astana', 'in the capital, Astana', 'near Zhanaozen'.
LOCATIVE = re.compile(r"\b(?:in|at|near|outside)\s+(?:the\s+(?:[a-z]+\s+){0,2}?(?:capital|city|town|village|region|"
                      r"province|port),?\s+)?([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*)")
QUALIFIED = re.compile(rf"(?:({QUALIFIER})\s+)?(.+)", re.IGNORECASE)
# Qualifiers that claim the exact number: 'only fourteen' states what '14' does.
EXACT = {"", "only"}


def _value(number: str) -> str:
    """A figure's number as a value to compare ('1,500' → '1500', 'twenty-three' → '23', 'a dozen' → '12'); a
    vague one ('dozens', 'hundreds') as its word."""
    text = number.lower().replace(",", "")
    if text.isdigit():
        return str(int(text))
    if text == "a dozen":
        return "12"
    tens, _, unit = text.partition("-")
    if tens in TENS:
        return str(20 + 10 * TENS.index(tens) + (UNITS.index(unit) + 1 if unit in UNITS else 0))
    return str(UNITS.index(text) + 1) if text in UNITS else text


def claim(figure: Figure) -> tuple[str, str]:
    """What a figure claims, worded either way: its qualifier (an exact one as none) and its value. '14' and 'only
    fourteen' claim the same; '14' and 'at least 14' do not."""
    match = QUALIFIED.fullmatch(figure.text)
    qualifier = (match.group(1) or "").lower() if match else ""
    return ("" if qualifier in EXACT else qualifier), _value(match.group(2) if match else figure.text)


def _places(passage: Passage, figure: Figure) -> set[str]:
    """The places the sentence holding the figure says it happened at (month names aside)."""
    sentence = next((passage.text[a:b] for a, b in sentence_spans(passage.text) if a <= figure.start < b), "")
    return {m for m in LOCATIVE.findall(sentence) if m.split()[0].lower() not in TIME_WORDS}


def same_event(question: str, found: list[tuple[Figure, Passage]], bodies: Mapping[str, str]) -> list[Figure]:
    """The figures about one event: grouped by the places their sentences name beyond the question's and beyond
    those more than half of their documents mention (the story's own places: 'Kazakhstan', 'Zhanaozen'); the group
    with the most sources (on a tie, the first quoted). '12 detained in the capital, Astana' is not the same event as
    '20 detained over the unrest'."""
    docs = {p.doc_id for _, p in found}
    asked = question.lower()

    def local(figure: Figure, passage: Passage) -> frozenset[str]:
        return frozenset(place for place in _places(passage, figure) if place.lower() not in asked
                         and 2 * sum(place in bodies.get(d, "") for d in docs) <= len(docs))

    groups: dict[frozenset[str], list[Figure]] = {}
    for figure, passage in found:
        groups.setdefault(local(figure, passage), []).append(figure)
    return max(groups.values(), key=lambda g: len({f.source for f in g}))  # max keeps the first of equals


def find_disagreement(question: str, passages: list[Passage], bodies: Mapping[str, str]) -> Disagreement | None:
    """The first measure the question asks a count of for which two sources give different figures about the
    same event (`bodies`: each document's text by id, to tell the story's places from an event's)."""
    found = [(f, p) for p in passages for f in find_figures(p)]
    for measure in asked_measures(question):
        figures = same_event(question, [(f, p) for f, p in found if f.measure == measure], bodies) \
            if any(f.measure == measure for f, _ in found) else []
        if len({f.source for f in figures}) > 1 and len({claim(f) for f in figures}) > 1:
            return Disagreement(measure, figures, notice(figures))
    return None


def figure_lines(figures: list[Figure], number: Mapping[str, int] | None = None, then: str = " — ") -> list[str]:
    """One line per claim: its wordings, then each source stating it, publishers before reader comments, with the
    numbers of the quotes it comes from when `number` (passage id → quote number) is given: '14 — The Moscow Times,
    2011-12-19 [1]; RFE/RL, 2011-12-21 [4]'. Lines stated by a publisher come before those only reader comments
    state; otherwise in the figures' order."""
    lines: dict[tuple[str, str], tuple[list[str], dict[str, list[int]]]] = {}
    for f in figures:
        wordings, sources = lines.setdefault(claim(f), ([], {}))
        if f.text not in wordings:
            wordings.append(f.text)
        quotes = sources.setdefault(f.source, [])
        n = (number or {}).get(f.passage_id)
        if n is not None and n not in quotes:
            quotes.append(n)

    def comment(source: str) -> bool:
        return source.startswith(COMMENT_LABEL)

    ordered = sorted(lines.values(), key=lambda line: all(comment(s) for s in line[1]))
    return [" / ".join(wordings) + then + "; ".join(
        s + "".join(f" [{n}]" for n in quotes) for s, quotes in sorted(sources.items(), key=lambda i: comment(i[0])))
        for wordings, sources in ordered]


def notice(figures: list[Figure]) -> str:
    """'Sources differ: ' then each claim as its passages word it, with its sources."""
    return NOTICE_PREFIX + " | ".join(figure_lines(figures, then=": "))


def in_passage_order(disagreement: Disagreement, passages: list[Passage]) -> Disagreement:
    """The same figures listed in the order their passages are quoted (after the quotes are regrouped)."""
    position = {p.passage_id: n for n, p in enumerate(passages)}
    figures = sorted(disagreement.figures, key=lambda f: position[f.passage_id])  # stable: order inside a passage kept
    return Disagreement(disagreement.measure, figures, notice(figures))
