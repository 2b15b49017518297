"""Which sentences of a quoted passage answer the question: the ones marked on screen. As many as the answer
needs: the calibrated highlight model (qa/answer/confidence.py) gives each sentence the probability that it answers,
and the likeliest k are marked, k being the count with the best expected F1 against the sentences that answer. No
fixed count, threshold or margin: a passage with one clear answer gets one sentence, one whose sentences all look
alike gets several. The model reads each sentence's similarity and coverage of the question's terms (all of them, and
those beyond the document's title), how far each falls short of the passage's best, its neighbours' similarity, its
place (a passage's first sentence, a document's lead) and its length (qa/answer/features.py: sentence_features)."""
from __future__ import annotations

import numpy as np

from qa.answer.confidence import Calibration
from qa.answer.features import Sentences, sentence_features
from qa.corpus.passages import PassageRecord


def answering(p: np.ndarray) -> list[int]:
    """The sentences to mark, in text order, given each one's probability `p` of answering: the likeliest k, for the
    k that maximises the expected F1 of the marked set, 2 * (sum of their p) / (k + sum of all p): the expected
    number of answering sentences marked over the mean of the two sets' expected sizes. At least one."""
    order = np.argsort(-p, kind="stable")
    expected_f1 = 2 * np.cumsum(p[order]) / (np.arange(1, len(p) + 1) + p.sum())
    return sorted(order[:int(np.argmax(expected_f1)) + 1].tolist())


def highlight_spans(record: PassageRecord, sentences: Sentences, calibration: Calibration) -> list[tuple[int, int]]:
    """Spans in the passage text of the sentences that answer, in text order."""
    if not record.sentences:
        return [(0, len(record.text))]
    p = calibration.sentence.probability(sentence_features(sentences))
    return [record.sentences[i] for i in answering(p)]
