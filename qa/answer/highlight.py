"""Which sentences of a quoted passage answer the question: the ones marked on screen. As many as the answer
needs: every sentence the calibrated highlight model (qa/answer/confidence.py) finds likely enough, and always the
passage's likeliest one. No fixed count or margin: the model reads each sentence's similarity and coverage of the
question's terms, and how far each falls short of the passage's best."""
from __future__ import annotations

import numpy as np

from qa.answer.confidence import Calibration
from qa.answer.features import Sentences, sentence_features
from qa.corpus.passages import PassageRecord


def highlight_spans(record: PassageRecord, sentences: Sentences, calibration: Calibration) -> list[tuple[int, int]]:
    """Spans in the passage text of the sentences that answer, in text order."""
    if not record.sentences:
        return [(0, len(record.text))]
    p = calibration.sentence.probability(sentence_features(sentences))
    keep = p >= calibration.sentence_threshold
    keep[int(np.argmax(p))] = True
    return [span for span, chosen in zip(record.sentences, keep) if chosen]
