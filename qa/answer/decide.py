"""Stage 4 of answering: how sure to be. Every rule lives here, all deterministic.

0. Not English: a question mostly not in Latin letters is answered only when most of its words occur in the corpus
   (the model reads English; across languages its similarity means nothing). Otherwise it abstains.
1. Off-topic: the question is far in meaning from every passage (dense score below `min_similarity`) and fewer
   than `min_known_terms` of its content words occur anywhere in the corpus (a bare name such as 'Virginie
   Coulloudon' is close in words but not in meaning). It abstains.
2. Calibrated confidence (qa/answer/confidence.py): a logistic model over features of the question and the
   retrieved evidence (qa/evidence/features.py) gives P(the answer is in the top 3); its thresholds make the level
   'answered', 'uncertain' or 'abstained'.
3. At most 'uncertain' (qa/answer/rules.py), judged on the first quote and its highlighted sentences: a question
   asking when, how many or who, when none of them holds a time, a number or a name or person of that kind; 'What
   did X say?' when the quote is not X's words; a year the quote and its document never mention; and a question
   naming a person, place or organisation with a word the corpus never uses ('Who is Vadim Kuramshin?').
"""
from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from qa.answer.confidence import Calibration
from qa.answer.highlight import highlight_spans
from qa.answer.model import ABSTAIN_MESSAGE, ANSWER_HEADING, NOT_ENGLISH_MESSAGE, UNCERTAIN_HEADING
from qa.answer.rules import lacks_asked_kind, other_year, quotes_speaker
from qa.config import Settings
from qa.evidence.features import Evidence, question_features
from qa.evidence.question import unknown_names
from qa.index.words import CorpusWords
from qa.search.retrieval import Ranking


def closest_meaning(ranking: Ranking) -> float:
    """The best dense score of any passage: its cosine similarity blended with its best sentence's."""
    return ranking.dense.nanmax()


def known_share(terms: frozenset[str], vocabulary: Collection[str]) -> float:
    """Share of a question's content terms (stemmed, stop words removed: Question.stems) that occur anywhere in the
    corpus."""
    return sum(t in vocabulary for t in terms) / len(terms) if terms else 0.0


def latin_share(text: str) -> float:
    """The share of the letters in `text` that are Latin; 1.0 when it has no letters."""
    letters = [c for c in text if c.isalpha()]
    return sum("LATIN" in unicodedata.name(c, "") for c in letters) / len(letters) if letters else 1.0


def off_topic(search: frozenset[str], ranking: Ranking, vocabulary: Collection[str], settings: Settings) -> bool:
    """Far in meaning from every passage (by the dense score: passage and best-sentence cosine blended), and
    with too few of its content words anywhere in the corpus (a bare name such as 'Virginie Coulloudon' is close
    in words but not in meaning)."""
    return (closest_meaning(ranking) < settings.min_similarity
            and known_share(search, vocabulary) < settings.min_known_terms)


def caps(first: int, evidence: Evidence, calibration: Calibration, words: Collection[str]) -> list[str]:
    """Why an answer whose first quote is passage `first` may at most be 'uncertain', if it may (qa/answer/rules.py:
    the asked kind missing from the quote's highlighted sentences, someone else's words, another event or year, a
    name the corpus never mentions)."""
    index, question = evidence.index, evidence.question
    record = index.passages[first]
    doc = index.documents[record.doc_id]
    marked = [record.text[a:b] for a, b in highlight_spans(record, evidence.sentences(first), calibration)]
    reasons = []
    if evidence.settings.answer_type_check and lacks_asked_kind(question, marked):
        reasons.append("asked kind missing")
    if not quotes_speaker(question, doc, record.text):
        reasons.append("someone else's words")
    if other_year(question, record.text, doc):
        reasons.append("another year")
    if unknown_names(question, words):
        reasons.append("unknown name")
    return reasons


@dataclass(frozen=True)
class Decision:
    """Whether to answer, how sure the answer is, and the fixed line that opens it."""

    abstained: bool
    message: str
    confidence: str  # 'answered' | 'uncertain' | 'abstained'
    probability: float | None = None  # the calibrated P(the answer is in the top 3); None when a rule abstained
    caps: tuple[str, ...] = ()  # why the answer is at most 'uncertain' (caps()), if it is


def decide(ranking: Ranking, evidence: Evidence, words: CorpusWords, calibration: Calibration) -> Decision:
    """Abstain when the question is not English and its words are not the corpus's, or when it is off-topic.
    Otherwise the calibrated confidence gives the level; a question asking for a name, quantity or time that the
    best sentences lack, or naming someone or something the corpus never mentions, is at most 'uncertain'."""
    settings, question = evidence.settings, evidence.question
    if latin_share(question.text) < settings.min_latin_share:
        if known_share(question.stems, words.stems) < settings.min_known_terms:
            return Decision(True, NOT_ENGLISH_MESSAGE, "abstained")
    elif off_topic(question.search_stems, ranking, words.stems, settings):
        return Decision(True, ABSTAIN_MESSAGE, "abstained")
    features = question_features(evidence, ranking.order, known_share(question.search_stems, words.stems))
    probability = float(calibration.question.probability(features))
    level = calibration.level(probability)
    if level == "abstained":
        return Decision(True, ABSTAIN_MESSAGE, level, probability)
    reasons = tuple(caps(int(ranking.order[0]), evidence, calibration, words.words))
    if reasons:
        level = "uncertain"
    return Decision(False, ANSWER_HEADING if level == "answered" else UNCERTAIN_HEADING, level, probability, reasons)
