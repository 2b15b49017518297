"""Stage 1 of answering: the request, validated. Bad input raises InvalidQuestion saying what to change."""
from __future__ import annotations

import reprlib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from qa.config import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, MODES, Settings
from qa.corpus.documents import Document
from qa.errors import InvalidQuestion
from qa.search.filters import Filter, validate_filter
from qa.search.followup import Turn, as_turn


@dataclass(frozen=True)
class Request:
    """A question ready to answer."""

    question: str  # surrounding white space removed
    k: int
    every_source: bool  # no k was given: a question about a count quotes every source's figure
    history: tuple[Turn, ...]  # the chat's latest earlier turns, oldest first
    mode: str  # bm25 | dense | hybrid
    limit: Filter | None = None  # the sources and dates an answer may quote; None: any


def validate_question(question: object) -> str:
    """The question with surrounding white space removed, or InvalidQuestion saying what to change.
    The length is checked first, so an oversized question is refused without reading it."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is {len(question):,} characters long; "
                              f"the limit is {MAX_QUESTION_CHARS:,}. Ask a shorter question.")
    for position, c in enumerate(question):
        category = unicodedata.category(c)
        if category == "Cc" and c not in "\t\n\r":
            raise InvalidQuestion(f"the question contains control characters (U+{ord(c):04X} at position {position}); "
                                  "remove them and ask again")
        if category == "Cs":
            raise InvalidQuestion(f"the question contains an unpaired surrogate (U+{ord(c):04X} at position {position}), "
                                  "which is not valid Unicode text; send the question as UTF-8")
    question = question.strip()
    if not question:
        raise InvalidQuestion("the question is empty; type a question about the documents")
    return question


def validate_k(k: object, max_k: int) -> int:
    """k as given, or InvalidQuestion; the message quotes at most a short form of what was given."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise InvalidQuestion(f"k must be a whole number from 1 to {max_k}, not {reprlib.repr(k)}")
    if not 1 <= k <= max_k:
        shown = k if k.bit_length() <= 64 else f"a {k.bit_length():,}-bit number"  # str() of a huge int raises
        raise InvalidQuestion(f"k is {shown}; it must be from 1 to {max_k}")
    return k


def validate_history(history: Sequence[object]) -> list[Turn]:
    """The chat's latest MAX_HISTORY_TURNS turns (a follow-up leans on the last few only, and the time spent stays
    bounded however long the chat); each earlier question must itself be a valid question."""
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InvalidQuestion("history must be a list of earlier questions or answers, oldest first")
    turns = []
    skipped = max(len(history) - MAX_HISTORY_TURNS, 0)
    for n, item in enumerate(history[skipped:], skipped + 1):
        turn = as_turn(item)
        try:
            turns.append(replace(turn, question=validate_question(turn.question)))
        except InvalidQuestion as exc:
            raise InvalidQuestion(f"history item {n}: {exc}") from None
    return turns


def validate_mode(mode: object) -> str:
    if mode not in MODES:
        raise InvalidQuestion(f"unknown mode {reprlib.repr(mode)}; choose one of {', '.join(MODES)}")
    return str(mode)


def validate(question: object, k: object, history: Sequence[object], settings: Settings, mode: object = "hybrid",
             sources: Iterable[str] | None = None, since: object = None, until: object = None,
             documents: Mapping[str, Document] | None = None) -> Request:
    """The request, or InvalidQuestion for the first thing wrong with it. `sources`, `since` and `until` limit the
    answer to those documents (ids, checked against `documents`) and dates."""
    text = validate_question(question)
    return Request(text, validate_k(settings.default_k if k is None else k, settings.max_k), k is None,
                   tuple(validate_history(history)), validate_mode(mode),
                   validate_filter(sources, since, until, documents or {}))
