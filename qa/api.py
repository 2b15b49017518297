"""The Python API: `QA` loads the index once and answers many questions; `ask()` uses a shared one."""
from __future__ import annotations

import threading
import unicodedata

from .answer import ABSTAIN_MESSAGE, ANSWER_HEADING, Answer, Passage, highlight_spans
from .config import MAX_QUESTION_CHARS, Settings
from .corpus import Document, load_examples
from .encoder import Encoder, MiniLMEncoder
from .errors import InvalidQuestion, UnknownSource
from .passages import PassageRecord
from .retrieval import Ranking, rank
from .store import Index, open_index
from .text import tokenize


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
        self.examples = load_examples(self.settings.corpus_dir)
        self._passages_by_id: dict[str, PassageRecord] = {p.passage_id: p for p in self.index.passages}

    def warm(self) -> None:
        """Load the model now rather than on the first question."""
        self.encoder.encode(["warm up"])

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid") -> Answer:
        """Up to `k` passages that answer `question`, best first, or an abstention."""
        question = validate_question(question)
        k = validate_k(self.settings.default_k if k is None else k, self.settings.max_k)
        query_vector = self.encoder.encode([question])[0]
        ranking = rank(self.index, question, query_vector, self.settings, mode)
        best = ranking.order[0]
        if self._off_topic(question, ranking.similarity[best], self.index.passages[best].text):
            return Answer(question, True, [], ABSTAIN_MESSAGE, suggestions=self.examples[:3])
        top_score = ranking.scores[best]
        chosen = [i for i in ranking.order[:k]
                  if i == best or ranking.scores[i] >= self.settings.relative_cutoff * top_score]
        passages = [self._quote(i, ranking) for i in chosen]
        return Answer(question, False, passages, ANSWER_HEADING)

    def sources(self) -> list[Document]:
        """The articles, in corpus order (reader comments are reached through their article)."""
        return [doc for doc in self.index.documents.values() if doc.kind == "article"]

    def locate(self, key: str) -> tuple[Document, int | None, int | None]:
        """The document and character span a passage id names, or a whole document for a document id."""
        if key in self.index.documents:
            return self.index.documents[key], None, None
        record = self._passages_by_id.get(key)
        if record is None:
            raise UnknownSource(f"no passage or document has the id {key!r}; choose one of the answer's citations")
        return self.index.documents[record.doc_id], record.start, record.end

    def _off_topic(self, question: str, similarity: float, best_text: str) -> bool:
        """Too far in meaning from the best passage, and sharing too few of the question's words with it
        (a bare name such as 'Virginie Coulloudon' is close in words but not in meaning)."""
        if similarity >= self.settings.min_similarity:
            return False
        terms = set(tokenize(question, stem=True, stopwords=True))
        if not terms:
            return True
        shared = terms & set(tokenize(best_text, stem=True, stopwords=True))
        return len(shared) / len(terms) < self.settings.min_shared_terms

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
