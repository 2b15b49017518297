"""The Python API: `QA` loads the index once and answers many questions; `ask()` uses a shared one.

`QA.ask` is the pipeline, one stage module each: validate (qa/request.py) → search (qa/search/query.py) →
rank (qa/search/retrieval.py, then sentence evidence: qa/evidence/features.py, qa/evidence/rerank.py) → decide
(qa/answer/decide.py) → compose (qa/answer/compose.py)."""
from __future__ import annotations

import reprlib
import threading
from collections.abc import Iterable, Sequence
from datetime import date

from qa.answer.compose import compose
from qa.answer.confidence import Calibration, load_calibration
from qa.answer.decide import decide
from qa.answer.model import NO_MATCH_MESSAGE, Answer
from qa.config import Settings
from qa.corpus.collection import Collection
from qa.corpus.documents import Document
from qa.errors import SettingsError, UnknownSource
from qa.evidence.reader import Reader
from qa.evidence.rerank import ranked_evidence
from qa.index.encoder import Encoder, MiniLMEncoder
from qa.index.live import LiveIndex
from qa.index.store import Index
from qa.request import validate
from qa.search.filters import allowed_passages, validate_filter
from qa.search.fulltext import SearchResults
from qa.search.fulltext import search as search_passages
from qa.search.query import build_query


class QA:
    """Answers questions with passages quoted from the corpus as it is now (qa/index/live.py: a change to the
    corpus folder or the index is noticed within corpus_check_seconds). Safe to call from several threads."""

    def __init__(self, settings: Settings | None = None, encoder: Encoder | None = None, index: Index | None = None):
        self.settings = settings or Settings.load()
        self.encoder = encoder or MiniLMEncoder()
        self.reader = Reader() if self.settings.reader else None
        self.live = LiveIndex(self.settings, self.encoder, index)

    @property
    def calibration(self) -> Calibration:
        """The calibrated models, read when first needed and again when the file changes (a refit is picked up; the
        fitter itself builds a QA while the file may still be for other features). They must have been fitted with
        the reader in use, or without one when it is off."""
        calibration = load_calibration(self.settings.calibration_file)
        reader = self.reader.identity.sha256 if self.reader else None
        if calibration.reader != reader:
            raise SettingsError(
                f"calibration {self.settings.calibration_file} was fitted "
                + (f"with the reader {calibration.reader[:12]}" if calibration.reader else "without the reader")
                + (f", and the reader installed is {reader[:12]}" if reader else ", and the reader is off")
                + "; refit it with `python -m qa_tools.fit_confidence`, or leave `calibration` unset to use the one "
                  "that matches the `reader` setting")
        return calibration

    @property
    def index(self) -> Index:
        """The index answers come from now (it is replaced, never changed, when the corpus changes)."""
        return self.live.snapshot.index

    @property
    def collection(self) -> Collection:
        """The corpus folder's collection.yaml (title, description, example questions), as it is now."""
        return self.live.snapshot.collection

    @property
    def examples(self) -> list[str]:
        return list(self.live.snapshot.collection.examples)

    def warm(self) -> None:
        """Load the models now rather than on the first question."""
        self.encoder.encode(["warm up"])
        if self.reader:
            self.reader.score("warm up", ["warm up"])

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid", history: Sequence[object] = (),
            sources: Iterable[str] | None = None, since: str | date | None = None,
            until: str | date | None = None) -> Answer:
        """Up to `k` passages that answer `question`, best first, or an abstention. `history` holds the chat's
        earlier questions (or their Answers, or Answer.to_dict()s), oldest first: a follow-up that leans on them
        is searched together with them. Without `k`, a question about a count quotes every source's figure.
        `mode` ranks by bm25, dense or hybrid (the default) scores. `sources` (document ids), `since` and `until`
        (ISO dates, inclusive) limit the answer to those documents; an undated document is outside any date range."""
        s = self.settings
        now = self.live.current()  # one snapshot for the whole answer, of the corpus as it is now
        calibration = self.calibration  # and one calibration: a refit mid-answer must not split level and highlights
        request = validate(question, k, history, s, mode, sources, since, until, now.index.documents)
        allowed = None
        if request.limit is not None:
            allowed = allowed_passages(now.documents, now.doc_of_passage, request.limit)
            if not allowed.any():
                return Answer(request.question, True, [], NO_MATCH_MESSAGE)
        query = build_query(request.question, request.history, self.encoder, s.max_chain)
        evidence, ranking = ranked_evidence(now.index, request.question, query, s, request.mode, allowed, self.reader)
        decision = decide(ranking, evidence, now.index.words, calibration)
        if decision.abstained:
            return Answer(request.question, True, [], decision.message, suggestions=list(now.collection.examples[:3]),
                          confidence=decision.confidence)
        return compose(request.question, request.k, request.every_source, query, ranking, evidence, decision,
                       calibration)

    def search(self, query: str, sources: Iterable[str] | None = None, since: str | date | None = None,
               until: str | date | None = None, page: int = 1, order: str = "relevance") -> SearchResults:
        """Page `page` of every passage holding all the words of `query` and each of its "quoted phrases", ranked by
        BM25 (`order="relevance"`) or by date, oldest first (`order="date"`); with the total and the count per
        document (qa/search/fulltext.py). `sources`, `since` and `until` limit it as they limit `ask`."""
        now = self.live.current()
        limit = validate_filter(sources, since, until, now.index.documents)
        return search_passages(now.search_corpus, query, self.settings, limit, order, page)

    def sources(self) -> list[Document]:
        """The articles, in corpus order (reader comments are reached through their article)."""
        return [doc for doc in self.live.current().index.documents.values() if doc.kind == "article"]

    def locate(self, key: object) -> tuple[Document, int | None, int | None]:
        """The document and character span a passage id names, or a whole document for a document id."""
        if not isinstance(key, str):  # event data from a page may be anything
            raise UnknownSource(f"a passage or document id is text, not {type(key).__name__}")
        now = self.live.current()
        if key in now.index.documents:
            return now.index.documents[key], None, None
        record = now.index.passages.get(key)
        if record is None:
            raise UnknownSource(f"no passage or document has the id {reprlib.repr(key)}; choose one of the answer's "
                                "citations")
        return now.index.documents[record.doc_id], record.start, record.end


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
