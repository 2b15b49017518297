"""The Python API: `QA` loads the index once and answers many questions; `ask()` uses a shared one.

`QA.ask` is the pipeline, one stage module each: validate (qa/request.py) → search (qa/search/query.py) →
rank (qa/search/retrieval.py, then sentence evidence: qa/answer/features.py, qa/search/rerank.py) → decide
(qa/answer/decide.py) → compose (qa/answer/compose.py)."""
from __future__ import annotations

import threading
from collections.abc import Sequence

from qa.answer.compose import FigurePassages, compose
from qa.answer.confidence import load_calibration
from qa.answer.decide import corpus_words, decide
from qa.answer.features import gather
from qa.answer.model import Answer
from qa.config import Settings
from qa.corpus.documents import Document, load_examples
from qa.corpus.passages import PassageRecord
from qa.errors import UnknownSource
from qa.index.encoder import Encoder, MiniLMEncoder
from qa.index.store import Index, open_index
from qa.request import validate
from qa.search.query import build_query
from qa.search.rerank import rerank
from qa.search.retrieval import rank


class QA:
    """Answers questions with passages quoted from the corpus. Safe to call from several threads."""

    def __init__(self, settings: Settings | None = None, encoder: Encoder | None = None, index: Index | None = None):
        self.settings = settings or Settings.load()
        self.encoder = encoder or MiniLMEncoder()
        self.index = index or open_index(self.settings, self.encoder)
        self.examples = load_examples(self.settings.corpus_dir)
        self._passages_by_id: dict[str, PassageRecord] = {p.passage_id: p for p in self.index.passages}
        self._words = corpus_words(self.index)
        self._figures = FigurePassages(self.index)
        self.calibration = load_calibration(self.settings.calibration)

    def warm(self) -> None:
        """Load the model now rather than on the first question."""
        self.encoder.encode(["warm up"])

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid", history: Sequence[object] = ()) -> Answer:
        """Up to `k` passages that answer `question`, best first, or an abstention. `history` holds the chat's
        earlier questions (or their Answers, or Answer.to_dict()s), oldest first: a follow-up that leans on them
        is searched together with them. Without `k`, a question about a count quotes every source's figure.
        `mode` ranks by bm25, dense or hybrid (the default) scores."""
        s = self.settings
        request = validate(question, k, history, s, mode)
        query = build_query(request.question, request.history, self.encoder, s.max_chain)
        evidence = gather(request.question, query.text, self.index, rank(self.index, query.text, query.vector, s,
                                                                         request.mode), s)
        ranking = rerank(evidence, s, request.mode)
        decision = decide(request.question, query.text, ranking, evidence, self._words, self.calibration)
        if decision.abstained:
            return Answer(request.question, True, [], decision.message, suggestions=self.examples[:3],
                          confidence=decision.confidence)
        return compose(request.question, request.k, request.every_source, query, ranking, evidence, decision,
                       self._figures, self.calibration)

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


_default: QA | None = None
_default_lock = threading.Lock()


def ask(question: str, k: int | None = None, history: Sequence[object] = ()) -> Answer:
    """Answer with the default corpus and index (loaded, or rebuilt, on first call)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = QA()
    return _default.ask(question, k, history=history)
