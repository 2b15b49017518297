"""The Python API: `QA` loads the index once and answers many questions; `ask()` uses a shared one.

`QA.ask` is the pipeline, one stage module each: validate (qa/request.py) → search (qa/search/query.py) →
rank (qa/search/retrieval.py) → decide (qa/answer/decide.py) → compose (qa/answer/compose.py)."""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np

from qa.answer.compose import compose
from qa.answer.decide import decide, vocabulary
from qa.answer.model import NO_MATCH_MESSAGE, Answer
from qa.config import Settings
from qa.corpus.documents import Document, load_examples
from qa.corpus.passages import PassageRecord
from qa.errors import UnknownSource
from qa.index.encoder import Encoder, MiniLMEncoder
from qa.index.store import Index, open_index
from qa.request import validate
from qa.search.filters import allowed_passages
from qa.search.query import build_query
from qa.search.retrieval import rank


class QA:
    """Answers questions with passages quoted from the corpus. Safe to call from several threads."""

    def __init__(self, settings: Settings | None = None, encoder: Encoder | None = None, index: Index | None = None):
        self.settings = settings or Settings.load()
        self.encoder = encoder or MiniLMEncoder()
        self.index = index or open_index(self.settings, self.encoder)
        self.examples = load_examples(self.settings.corpus_dir)
        self._passages_by_id: dict[str, PassageRecord] = {p.passage_id: p for p in self.index.passages}
        self._documents = list(self.index.documents.values())
        position = {d.id: n for n, d in enumerate(self._documents)}
        self._doc_of_passage = np.array([position[p.doc_id] for p in self.index.passages], dtype=np.int64)
        self._vocabulary = vocabulary(self.index)

    def warm(self) -> None:
        """Load the model now rather than on the first question."""
        self.encoder.encode(["warm up"])

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid", history: Sequence[object] = (),
            sources: Iterable[str] | None = None, since: str | date | None = None,
            until: str | date | None = None) -> Answer:
        """Up to `k` passages that answer `question`, best first, or an abstention. `history` holds the chat's
        earlier questions (or their Answers, or Answer.to_dict()s), oldest first: a follow-up that leans on them
        is searched together with them. Without `k`, a question about a count quotes every source's figure.
        `mode` ranks by bm25, dense or hybrid (the default) scores. `sources` (document ids), `since` and `until`
        (ISO dates, inclusive) limit the answer to those documents; an undated document is outside any date range."""
        s = self.settings
        request = validate(question, k, history, s, mode, sources, since, until, self.index.documents)
        allowed = None
        if request.limit is not None:
            allowed = allowed_passages(self._documents, self._doc_of_passage, request.limit)
            if not allowed.any():
                return Answer(request.question, True, [], NO_MATCH_MESSAGE)
        query = build_query(request.question, request.history, self.encoder, s.max_chain)
        ranking = rank(self.index, query.text, query.vector, s, request.mode, allowed)
        decision = decide(request.question, query.text, ranking, self.index, self._vocabulary, s)
        if decision.abstained:
            return Answer(request.question, True, [], decision.message, suggestions=self.examples[:3])
        return compose(request.question, request.k, request.every_source, query, ranking, self.index, s,
                       decision.message)

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


def ask(question: str, k: int | None = None, history: Sequence[object] = (), sources: Iterable[str] | None = None,
        since: str | date | None = None, until: str | date | None = None) -> Answer:
    """Answer with the default corpus and index (loaded, or rebuilt, on first call); arguments as `QA.ask`."""
    global _default
    with _default_lock:
        if _default is None:
            _default = QA()
    return _default.ask(question, k, history=history, sources=sources, since=since, until=until)
