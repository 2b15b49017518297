"""Evidence for a question at sentence level, and the features the confidence and highlight models read.

Everything here reuses what the index already holds (sentence vectors scored by `rank`, BM25 idf); no model is
called. Coverage is the idf-weighted share of the question's content terms (stemmed, stop words removed) that a
text contains: a passage or sentence that holds the question's rare words is likelier to answer it than one that
is only close in meaning."""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from qa.config import Settings
from qa.corpus.text import WORD, tokenize
from qa.evidence.question import Question, has_answer, has_value
from qa.evidence.reader import Reader
from qa.index.store import Index
from qa.search.retrieval import Ranking


@dataclass(frozen=True)
class Sentences:
    """One passage's sentences scored for a question."""

    similarity: np.ndarray  # cosine similarity to the question
    coverage: np.ndarray  # idf-weighted share of the question's content terms in the sentence
    rest_coverage: np.ndarray  # the same share of the terms not in the document title: what is asked about the topic
    typed: np.ndarray  # 1 when the sentence holds a value of the asked answer type, else 0
    broad: np.ndarray  # 1 when it holds a value of the broader answer type (answertype.BROAD_TYPES), else 0
    passage_coverage: float  # the same share over the passage text and its document title
    tokens: tuple[frozenset[str], ...]  # each sentence's content terms
    title: frozenset[str]  # the document title's content terms
    words: np.ndarray  # each sentence's number of words
    opens_document: bool  # the passage starts its document, so its first sentence is the document's lead
    reader: np.ndarray  # the reader's log-odds that the sentence answers (qa/evidence/reader.py); zeros if not read


@dataclass
class Evidence:
    """A question's content terms with their idf weights, and its sentences scored passage by passage (computed
    when first asked for: only the passages an answer looks at)."""

    question: Question
    terms: dict[str, float]
    index: Index
    ranking: Ranking
    settings: Settings
    reader: Reader | None = None
    _cache: dict[int, Sentences] = field(default_factory=dict)
    _read: dict[int, np.ndarray] = field(default_factory=dict)

    def read(self, ids: Iterable[int]) -> None:
        """The reader's scores of every sentence of passages `ids`, in one batch for those not read yet."""
        todo = [int(i) for i in ids if int(i) not in self._read]
        if self.reader is None or not todo:
            return
        spans = [(i, self.index.passages[i]) for i in todo]
        texts = [record.text[a:b] for _, record in spans for a, b in record.sentences]
        p = np.clip(self.reader.score(self.question.search, texts), 1e-6, 1 - 1e-6)
        logits, at = np.log(p / (1 - p)), 0
        for i, record in spans:
            self._read[i], at = logits[at:at + len(record.sentences)], at + len(record.sentences)

    def reader_logits(self, i: int) -> np.ndarray:
        """The reader's log-odds for each sentence of passage `i` (zeros when there is no reader)."""
        self.read([i])
        return self._read.get(i, np.zeros(len(self.index.passages[i].sentences)))

    def coverage(self, tokens: frozenset[str], leave_out: frozenset[str] = frozenset()) -> float:
        """The idf-weighted share of the question's terms (but those in `leave_out`) found in `tokens`; 1.0 when
        there are none."""
        total = sum(w for t, w in self.terms.items() if t not in leave_out)
        found = sum(w for t, w in self.terms.items() if t in tokens and t not in leave_out)
        return found / total if total else 1.0

    def sentences(self, i: int, read: bool = True) -> Sentences:
        """Passage `i`'s sentences scored for the question; with `read` (and a reader), with the reader's log-odds,
        read now if they were not (without, its `reader` is zeros: what is not needed is not read)."""
        if read and self.reader is not None:
            return replace(self.sentences(i, False), reader=self.reader_logits(i))
        if i not in self._cache:
            record, s = self.index.passages[i], self.settings
            lo, hi = self.index.sentence_offsets[i], self.index.sentence_offsets[i + 1]
            texts = [record.text[a:b] for a, b in record.sentences]
            tokens = tuple(frozenset(tokenize(t, s.stem, True)) for t in texts)
            q = self.question
            typed = [float(q.kind is not None and has_answer(q.kind, t, q)) for t in texts]
            broad = [float(q.broad is not None and has_value(q.broad, t, q)) for t in texts]
            title = frozenset(tokenize(self.index.documents[record.doc_id].title, s.stem, True))
            self._cache[i] = Sentences(np.asarray(self.ranking.sentence_similarity[lo:hi], dtype=np.float64),
                                       np.asarray([self.coverage(t) for t in tokens]),
                                       np.asarray([self.coverage(t, title) for t in tokens]), np.asarray(typed),
                                       np.asarray(broad), self.coverage(title.union(*tokens)), tokens, title,
                                       np.asarray([len(WORD.findall(t)) for t in texts], dtype=np.float64),
                                       record.start == 0, np.zeros(len(texts)))
        return self._cache[i]


def gather(question: Question, index: Index, ranking: Ranking, settings: Settings,
           reader: Reader | None = None) -> Evidence:
    """The evidence for `question`: its search's content terms weighted by BM25 idf. A term the corpus lacks weighs
    as much as its rarest term, so a question whose key word is missing is covered less. With a `reader`, the
    sentences of the passages looked at are also read with the question."""
    lexical = index.lexical
    top = max(lexical.idf) if lexical.idf else 1.0
    terms = {}
    for t in question.terms:
        term = lexical.vocabulary.get(t)
        terms[t] = top if term is None else max(lexical.idf[term], 0.0)
    return Evidence(question, terms, index, ranking, settings, reader)


# The confidence model's inputs, in this order (calibration.json names them too); with the reader, these and
# READER_QUESTION_FEATURES.
QUESTION_FEATURES = ("dense", "sentence", "dense_margin", "passage_coverage", "sentence_coverage", "known_share",
                     "typed_missing", "log_terms", "broad_missing", "rest_coverage")
READER_QUESTION_FEATURES = ("reader_first", "reader_top")


def question_features(evidence: Evidence, order: np.ndarray, known: float) -> np.ndarray:
    """Features of the question and its best passages (`order`, best first): the best dense score and best
    sentence similarity, the dense margin over the runner-up, the coverage of the best passage and of its best
    sentence, the share of the question's terms the corpus knows (`known`), whether an asked answer type is
    missing from the top passages' best sentences (strictly, and broadly), how many content terms the question has,
    and how much of what it asks beyond the best passage's title that passage's best sentence holds."""
    s = evidence.settings
    best = int(order[0])
    evidence.read(order[:s.evidence_passages])  # in one batch
    top = [evidence.sentences(int(i)) for i in order[:s.evidence_passages]]
    dense = evidence.ranking.dense[order[:2]]
    margin = float(dense[0] - dense[1]) if len(dense) > 1 else float(dense[0])
    first = top[0]
    # The sentences an answer would rest on: the most similar few of the top passages, as decide's answer-type
    # rule reads them.
    sims = np.concatenate([t.similarity for t in top])
    typed = np.concatenate([t.typed for t in top])
    near = np.argsort(-sims, kind="stable")[:s.evidence_sentences]
    near = near[sims[near] >= sims[near[0]] - s.evidence_margin] if len(near) else near
    typed_missing = float(evidence.question.kind is not None and not typed[near].any())
    broad_missing = float(evidence.question.broad is not None and not np.concatenate([t.broad for t in top])[near].any())
    # The share of the terms not in the best passage's title that its best sentence holds: an on-topic passage
    # that does not answer holds the topic (its title) but not what is asked about it.
    rest = max((evidence.coverage(t, first.title) for t in first.tokens), default=0.0)
    base = [float(evidence.ranking.dense[best]), float(first.similarity.max(initial=0.0)), margin,
            first.passage_coverage, float(first.coverage.max(initial=0.0)), known, typed_missing,
            math.log1p(len(evidence.terms)), broad_missing, rest]
    if evidence.reader is None:
        return np.array(base)
    # The reader's best log-odds in the first passage and in the top few: does any sentence there answer?
    return np.array([*base, float(first.reader.max(initial=-20.0)),
                     float(max(t.reader.max(initial=-20.0) for t in top))])


# The highlight model's inputs, per sentence of a quoted passage.
SENTENCE_FEATURES = ("similarity", "similarity_gap", "coverage", "coverage_gap", "typed", "first", "single", "lead",
                     "length", "neighbour", "rest_coverage", "rest_coverage_gap")
READER_SENTENCE_FEATURES = ("reader", "reader_gap")


def feature_names(reader: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The question model's and the sentence model's inputs, with the reader's or without."""
    if reader:
        return QUESTION_FEATURES + READER_QUESTION_FEATURES, SENTENCE_FEATURES + READER_SENTENCE_FEATURES
    return QUESTION_FEATURES, SENTENCE_FEATURES


def sentence_features(sentences: Sentences, reader: bool = False) -> np.ndarray:
    """One row per sentence: its similarity and coverage, and how far each falls short of the passage's best
    sentence; whether it holds the asked answer type; whether it opens the passage; whether it is the only one;
    whether it is the lead of its document (which, in news and encyclopaedia text alike, sums up what follows); its
    length (log of one plus its words: a longer sentence holds more of a long answer); the higher similarity of the
    sentences next to it (its own if it has none: of two adjacent sentences making one point, one is enough); and
    its coverage of what the question asks beyond the document's title, and how far that falls short of the best.
    With `reader`, also the reader's log-odds that it answers, and how far they fall short of the passage's best."""
    sim, rest = sentences.similarity, sentences.rest_coverage
    n = len(sim)
    first = np.zeros(n)
    first[:1] = 1.0
    before = np.concatenate([[-np.inf], sim[:-1]])
    after = np.concatenate([sim[1:], [-np.inf]])
    neighbour = np.maximum(before, after) if n > 1 else sim
    columns = [sim, sim.max(initial=0.0) - sim, sentences.coverage,
               sentences.coverage.max(initial=0.0) - sentences.coverage, sentences.typed, first,
               np.full(n, float(n == 1)), first * sentences.opens_document, np.log1p(sentences.words),
               neighbour, rest, rest.max(initial=0.0) - rest]
    if reader:
        columns += [sentences.reader, sentences.reader.max(initial=-20.0) - sentences.reader]
    return np.column_stack(columns)
