"""Stage 4 of answering: how sure to be. Every rule lives here, all deterministic.

0. Not English: a question mostly not in Latin letters is answered only when most of its words occur in the corpus
   (the model reads English; across languages its similarity means nothing). Otherwise it abstains.
1. Off-topic: the question is far in meaning from every passage (dense score below `min_similarity`) and fewer
   than `min_known_terms` of its content words occur anywhere in the corpus (a bare name such as 'Virginie
   Coulloudon' is close in words but not in meaning). It abstains.
2. Calibrated confidence (qa/answer/confidence.py): a logistic model over features of the question and the
   retrieved evidence (qa/answer/features.py) gives P(the answer is in the top 3); its thresholds make the level
   'answered', 'uncertain' or 'abstained'.
3. At most 'uncertain': a question that asks for a quantity ('how many', 'how long'), a time ('when', 'what date')
   or a name ('what is the name of', 'who was the') when none of the sentences that best match it contains
   something of that type (qa/answer/answertype.py); and a question naming a person, place or organisation with a
   word the corpus never uses ('Who is Vadim Kuramshin?').
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from qa.answer.answertype import lacks_answer_type
from qa.answer.confidence import Calibration
from qa.answer.features import Evidence, known_words, question_features, unknown_names
from qa.answer.model import ABSTAIN_MESSAGE, ANSWER_HEADING, NOT_ENGLISH_MESSAGE, UNCERTAIN_HEADING
from qa.config import Settings
from qa.corpus.text import tokenize
from qa.index.store import Index
from qa.search.retrieval import Ranking


def closest_meaning(ranking: Ranking) -> float:
    """The best dense score of any passage: its cosine similarity blended with its best sentence's."""
    return float(np.nanmax(ranking.dense))


def known_share(question: str, vocabulary: frozenset[str]) -> float:
    """Share of the question's content words (stemmed, stop words removed) that occur anywhere in the corpus."""
    terms = set(tokenize(question, stem=True, stopwords=True))
    return len(terms & vocabulary) / len(terms) if terms else 0.0


def vocabulary(index: Index) -> frozenset[str]:
    return frozenset(t for p in index.passages for t in tokenize(p.text, stem=True, stopwords=True))


@dataclass(frozen=True)
class CorpusWords:
    """What the corpus says, word by word, read once per index: content stems, and every word as written."""

    stems: frozenset[str]
    words: frozenset[str]


def corpus_words(index: Index) -> CorpusWords:
    return CorpusWords(vocabulary(index), known_words(index))


def evidence_sentences(index: Index, ranking: Ranking, passages: int, sentences: int, margin: float) -> list[str]:
    """The `sentences` sentences of the top `passages` passages most similar to the question, keeping only those
    within `margin` of the best one: where an answer would be."""
    scored = []
    for i in ranking.order[:passages]:
        record, first = index.passages[i], index.sentence_offsets[i]
        scored += [(float(ranking.sentence_similarity[first + j]), record.text[a:b])
                   for j, (a, b) in enumerate(record.sentences)]
    scored.sort(key=lambda s: -s[0])
    return [text for sim, text in scored[:sentences] if sim >= scored[0][0] - margin] if scored else []


def latin_share(text: str) -> float:
    """The share of the letters in `text` that are Latin; 1.0 when it has no letters."""
    letters = [c for c in text if c.isalpha()]
    return sum("LATIN" in unicodedata.name(c, "") for c in letters) / len(letters) if letters else 1.0


def off_topic(search: str, ranking: Ranking, vocabulary: frozenset[str], settings: Settings) -> bool:
    """Far in meaning from every passage (by the dense score: passage and best-sentence cosine blended), and
    with too few of its content words anywhere in the corpus (a bare name such as 'Virginie Coulloudon' is close
    in words but not in meaning)."""
    return (closest_meaning(ranking) < settings.min_similarity
            and known_share(search, vocabulary) < settings.min_known_terms)


def unanswered(question: str, ranking: Ranking, index: Index, settings: Settings) -> bool:
    """Asks for a name, quantity or time that none of the best-matching sentences contains."""
    if not settings.answer_type_check:
        return False
    s = settings
    sentences = evidence_sentences(index, ranking, s.evidence_passages, s.evidence_sentences, s.evidence_margin)
    return lacks_answer_type(question, sentences)


def capped(question: str, ranking: Ranking, index: Index, words: frozenset[str], settings: Settings) -> bool:
    """At most 'uncertain': the asked answer type is missing from the best sentences, or the question names someone
    or something with a word the corpus (`words`, as written) never uses."""
    return unanswered(question, ranking, index, settings) or bool(unknown_names(question, words))


@dataclass(frozen=True)
class Decision:
    """Whether to answer, how sure the answer is, and the fixed line that opens it."""

    abstained: bool
    message: str
    confidence: str  # 'answered' | 'uncertain' | 'abstained'
    probability: float | None = None  # the calibrated P(the answer is in the top 3); None when a rule abstained


def decide(question: str, search: str, ranking: Ranking, evidence: Evidence, words: CorpusWords,
           calibration: Calibration) -> Decision:
    """Abstain when the question is not English and its words are not the corpus's, or when it is off-topic.
    Otherwise the calibrated confidence gives the level; a question asking for a name, quantity or time that the
    best sentences lack, or naming someone or something the corpus never mentions, is at most 'uncertain'."""
    settings = evidence.settings
    if latin_share(question) < settings.min_latin_share:
        if known_share(question, words.stems) < settings.min_known_terms:
            return Decision(True, NOT_ENGLISH_MESSAGE, "abstained")
    elif off_topic(search, ranking, words.stems, settings):
        return Decision(True, ABSTAIN_MESSAGE, "abstained")
    features = question_features(evidence, ranking.order, known_share(search, words.stems))
    probability = float(calibration.question.probability(features))
    level = calibration.level(probability)
    if level == "answered" and capped(question, ranking, evidence.index, words.words, settings):
        level = "uncertain"
    if level == "abstained":
        return Decision(True, ABSTAIN_MESSAGE, level, probability)
    return Decision(False, ANSWER_HEADING if level == "answered" else UNCERTAIN_HEADING, level, probability)
