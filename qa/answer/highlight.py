"""Which sentences of a quoted passage answer the question: the ones marked on screen."""
from __future__ import annotations

import numpy as np

from qa.corpus.passages import PassageRecord


def highlight_spans(record: PassageRecord, sentence_sims: np.ndarray, margin: float) -> list[tuple[int, int]]:
    """The passage's best sentence, and any within `margin` of it, as spans in the passage text."""
    if not len(sentence_sims):
        return [(0, len(record.text))]
    best = float(sentence_sims.max())
    return [span for span, sim in zip(record.sentences, sentence_sims) if sim >= best - margin]
