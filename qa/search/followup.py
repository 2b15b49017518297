"""Follow-up questions: when a question leans on the previous turn ('What did Amnesty say about it?',
'And who was arrested?'), it is searched together with that turn's search. Only the user's own words are used,
so the 'Searched for' line shows nothing the user did not type."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.errors import InvalidQuestion

# A question that opens with a connective, or refers back with a pronoun, leans on the previous turn.
CONNECTIVE = re.compile(r"^\W*(?:and|but|also|so|then|what about|how about|what else)\b", re.IGNORECASE)
PRONOUN = re.compile(r"\b(?:it|its|they|them|their|he|him|his|she|her)\b"
                     r"|\b(?:that|this|those|these|there|then)\W*$"  # 'When was that?'
                     r"|\b(?:did|does|do|was|is|were|are|has|had|will|would|can|could)\s+(?:that|this|those|these)\b",
                     re.IGNORECASE)



@dataclass(frozen=True)
class Turn:
    """An earlier question in the chat, and whether the bot abstained on it."""

    question: str
    abstained: bool = False


def leans_on_history(question: str) -> bool:
    return bool(CONNECTIVE.search(question) or PRONOUN.search(question))


def as_turn(item: object) -> Turn:
    """A Turn from an earlier question, an Answer, or Answer.to_dict()."""
    if isinstance(item, str):
        return Turn(item)
    data = item if isinstance(item, dict) else getattr(item, "__dict__", {})
    if not isinstance(data.get("question"), str):
        raise InvalidQuestion("each history item must be an earlier question (text), an Answer or Answer.to_dict()")
    return Turn(data["question"], data.get("abstained") is True)


def search_questions(question: str, history: Sequence[Turn], max_chain: int) -> list[str]:
    """The questions to search with, oldest first: `question`, preceded by the answered turns it leans on (at most
    `max_chain` questions in all, Settings.max_chain)."""
    chain: list[str] = []
    for turn in history:
        if not turn.abstained:
            chain = chain + [turn.question] if chain and leans_on_history(turn.question) else [turn.question]
    if chain and leans_on_history(question):
        return (chain + [question])[-max_chain:]
    return [question]
