"""Text handling: paragraphs and sentences with offsets, and tokens for BM25."""
from __future__ import annotations

import re
import threading

import Stemmer

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A sentence ends at . ! or ? (with any closing quote or bracket) followed by space and a capital or opening quote.
SENTENCE_END = re.compile(r"[.!?][\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])")
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "u.s", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
                 "sep", "sept", "oct", "nov", "dec", "gen", "col", "lt", "sgt", "gov", "sen", "rep", "vs", "etc"}
STOPWORDS = frozenset("""a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves s t""".split())


def paragraph_spans(body: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph; paragraphs are separated by blank lines."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", body)]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence inside text[start:end], skipping abbreviations such as 'Dec.' or 'Mr.'."""
    end = len(text) if end is None else end
    spans, begin = [], start
    for match in SENTENCE_END.finditer(text, start, end):
        word = text[max(begin, match.start() - 5):match.start()].split()[-1:] or [""]
        if match.group()[0] == "." and word[0].lower().lstrip("(\"“") in ABBREVIATIONS:
            continue
        spans.append((begin, match.end()))
        begin = match.end()
        while begin < end and text[begin].isspace():
            begin += 1
    if begin < end:
        spans.append((begin, end))
    return spans


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: a PyStemmer instance must not be called from two threads at once."""
    if not hasattr(_local, "stemmer"):
        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


def tokenize(text: str, stem: bool = True, stopwords: bool = True) -> list[str]:
    """Lower-cased word tokens, optionally without stop words and Snowball-stemmed."""
    words = [w.replace("’", "'") for w in WORD.findall(text.lower())]
    words = [w.removesuffix("'s") for w in words]
    if stopwords:
        words = [w for w in words if w not in STOPWORDS]
    return _stemmer().stemWords(words) if stem else words
