"""Which sentences of a quoted passage answer the question: the ones marked on screen. As many as the answer
needs: the calibrated highlight model (qa/answer/confidence.py) gives each sentence the probability that it answers,
and the likeliest k are marked, k being the count with the best expected F1 against the sentences that answer. No
fixed count, threshold or margin: a passage with one clear answer gets one sentence, one whose sentences all look
alike gets several. The model reads each sentence's similarity and coverage of the question's terms (all of them, and
those beyond the document's title), how far each falls short of the passage's best, its neighbours' similarity, its
place (a passage's first sentence, a document's lead) and its length (qa/evidence/features.py: sentence_features)."""
from __future__ import annotations

import numpy as np

from qa.answer.confidence import Calibration
from qa.corpus.passages import PassageRecord
from qa.evidence.features import Sentences, sentence_features

# The exact expected F1 costs about n^3 / 6 for a passage of n sentences (7 ms at 200, 1.3 s at 1,000, and a
# paragraph-less text file is one passage of thousands); above this many, the ratio of expectations, which it
# approaches as the counts grow, is used instead. Every passage of the two evaluation corpora has fewer.
EXACT_MAX_SENTENCES = 256


def answering(p: np.ndarray) -> list[int]:
    """The sentences to mark, in text order, given each one's probability `p` of answering: the likeliest k, for the
    k that maximises the expected F1 of the marked set, E[2H / (k + H + M)], H and M being how many of the marked and
    of the unmarked sentences answer (independently, each with its p). Exact: the ratio of expectations,
    2 E[H] / (k + E[H + M]), scored lower in cross-validation (docs/EVALUATION.md), and is used only for passages of
    over EXACT_MAX_SENTENCES sentences. At least one."""
    order = np.argsort(-p, kind="stable")
    q, n = p[order], len(p)
    if n > EXACT_MAX_SENTENCES:
        expected = 2 * np.cumsum(q) / (np.arange(1, n + 1) + q.sum())
        return sorted(order[:int(np.argmax(expected)) + 1].tolist())
    marked, unmarked = _counts(q), _counts(q[::-1])[::-1]  # [k]: over the likeliest k, over all but them
    exact = []
    for k in range(1, n + 1):
        hits, missed = np.arange(k + 1)[:, None], np.arange(n - k + 1)[None, :]
        exact.append(marked[k] @ (2 * hits / (k + hits + missed)) @ unmarked[k])
    return sorted(order[:int(np.argmax(exact)) + 1].tolist())


def _counts(p: np.ndarray) -> list[np.ndarray]:
    """[k]: the distribution of how many of the first k independent events of probabilities `p` happen (index: the
    count), k from 0 to all."""
    pmfs = [np.ones(1)]
    for x in p:
        pmfs.append(np.convolve(pmfs[-1], [1 - x, x]))
    return pmfs


def highlight_spans(record: PassageRecord, sentences: Sentences, calibration: Calibration) -> list[tuple[int, int]]:
    """Spans in the passage text of the sentences that answer, in text order."""
    if not record.sentences:
        return [(0, len(record.text))]
    p = calibration.sentence.probability(sentence_features(sentences, calibration.reader is not None))
    return [record.sentences[i] for i in answering(p)]
