"""Stage 2 of answering: what to search with. A follow-up's text adds the earlier questions it leans on; its vector
blends the meaning of that text with the question's own (chosen on the dev follow-ups, docs/EVALUATION.md)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.index.encoder import Encoder
from qa.search.followup import Turn, search_questions


@dataclass(frozen=True)
class Query:
    text: str  # the question, after the earlier questions it leans on
    vector: np.ndarray  # unit length
    searched: tuple[str, ...]  # the user's own questions that `text` joins, oldest first

    @property
    def follow_up(self) -> bool:
        return len(self.searched) > 1


def query_for(question: str, searched: Sequence[str], encoder: Encoder) -> Query:
    """The query for `question` searched together with `searched` (its own text last)."""
    text = " ".join(searched)
    if len(searched) == 1:
        return Query(text, encoder.encode([text])[0], tuple(searched))
    own, joint = encoder.encode([question, text])
    return Query(text, (own + joint) / np.linalg.norm(own + joint), tuple(searched))


def build_query(question: str, history: Sequence[Turn], encoder: Encoder, max_chain: int) -> Query:
    """The query for `question` asked after `history`."""
    return query_for(question, search_questions(question, history, max_chain), encoder)
