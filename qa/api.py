"""The Python API: `QA` loads the index once and answers many questions; `ask()` uses a shared one."""
from __future__ import annotations

import threading
import unicodedata

from .abstain import closest_meaning, evidence_sentences, known_share, lacks_answer_type, vocabulary
from .answer import ABSTAIN_MESSAGE, ANSWER_HEADING, Answer, Passage, highlight_spans
from .config import MAX_QUESTION_CHARS, Settings
from .encoder import Encoder, MiniLMEncoder
from .errors import InvalidQuestion
from .retrieval import Ranking, rank
from .store import Index, open_index


def validate_question(question: object) -> str:
    """The question with surrounding white space removed, or InvalidQuestion saying what to change."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is {len(question):,} characters long; "
                              f"the limit is {MAX_QUESTION_CHARS:,}. Ask a shorter question.")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in question):
        raise InvalidQuestion("the question contains control characters; remove them and ask again")
    question = question.strip()
    if not question:
        raise InvalidQuestion("the question is empty; type a question about the articles")
    return question


def validate_k(k: object, max_k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise InvalidQuestion(f"k must be a whole number from 1 to {max_k}, not {k!r}")
    if not 1 <= k <= max_k:
        raise InvalidQuestion(f"k is {k}; it must be from 1 to {max_k}")
    return k


class QA:
    """Answers questions with passages quoted from the corpus. Safe to call from several threads."""

    def __init__(self, settings: Settings | None = None, encoder: Encoder | None = None, index: Index | None = None):
        self.settings = settings or Settings()
        self.encoder = encoder or MiniLMEncoder()
        self.index = index or open_index(self.settings, self.encoder)
        self._vocabulary = vocabulary(self.index)

    def warm(self) -> None:
        """Load the model now rather than on the first question."""
        self.encoder.encode(["warm up"])

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid") -> Answer:
        """Up to `k` passages that answer `question`, best first, or an abstention."""
        question = validate_question(question)
        k = validate_k(self.settings.default_k if k is None else k, self.settings.max_k)
        query_vector = self.encoder.encode([question])[0]
        ranking = rank(self.index, question, query_vector, self.settings, mode)
        if self._off_topic(question, ranking) or self._unanswered(question, ranking):
            return Answer(question, True, [], ABSTAIN_MESSAGE)
        best = ranking.order[0]
        top_score = ranking.scores[best]
        chosen = [i for i in ranking.order[:k]
                  if i == best or ranking.scores[i] >= self.settings.relative_cutoff * top_score]
        passages = [self._quote(i, ranking) for i in chosen]
        return Answer(question, False, passages, ANSWER_HEADING)

    def _off_topic(self, question: str, ranking: Ranking) -> bool:
        """Far in meaning from every passage (by the dense score: passage and best-sentence cosine blended), and
        with too few of its content words anywhere in the corpus (a bare name such as 'Virginie Coulloudon' is close
        in words but not in meaning)."""
        return (closest_meaning(self.index, ranking, self.settings) < self.settings.min_similarity
                and known_share(question, self._vocabulary) < self.settings.min_known_terms)

    def _unanswered(self, question: str, ranking: Ranking) -> bool:
        """Asks for a name, quantity or time that none of the best-matching sentences contains."""
        s = self.settings
        if not s.answer_type_check:
            return False
        sentences = evidence_sentences(self.index, ranking, s.evidence_passages, s.evidence_sentences, s.evidence_margin)
        return lacks_answer_type(question, sentences)

    def _quote(self, i: int, ranking: Ranking) -> Passage:
        record = self.index.passages[i]
        lo, hi = self.index.sentence_offsets[i], self.index.sentence_offsets[i + 1]
        spans = highlight_spans(record, ranking.sentence_similarity[lo:hi], self.settings.highlight_margin)
        return Passage.quote(record, self.index.documents[record.doc_id], ranking.scores[i], spans)


_default: QA | None = None
_default_lock = threading.Lock()


def ask(question: str, k: int | None = None) -> Answer:
    """Answer with the default corpus and index (loaded, or rebuilt, on first call)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = QA()
    return _default.ask(question, k)
