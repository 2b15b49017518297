"""Evidence for a question at sentence level, and the features the confidence and highlight models read.

Everything here reuses what the index already holds (sentence vectors scored by `rank`, BM25 idf); no model is
called. Coverage is the idf-weighted share of the question's content terms (stemmed, stop words removed) that a
text contains: a passage or sentence that holds the question's rare words is likelier to answer it than one that
is only close in meaning."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qa.answer.answertype import TIME_WORDS, answer_type, broad_type, has_answer, has_value
from qa.config import Settings
from qa.corpus.text import STOPWORDS, WORD, tokenize
from qa.index.store import Index
from qa.search.retrieval import Ranking


def known_words(index: Index) -> frozenset[str]:
    """Every word of the corpus, lower case, as written: its passages and what its documents state about
    themselves (title, publisher, authors, a reader comment's author and location), to tell a name the corpus never
    mentions."""
    words: set[str] = set()
    for p in index.passages:
        words.update(_bare(w) for w in WORD.findall(p.text))
    for doc in index.documents.values():
        stated = [doc.title, doc.publisher, *doc.authors, doc.comment_author or "", doc.comment_location or ""]
        words.update(_bare(w) for w in WORD.findall(" ".join(stated)))
    return frozenset(words)


def _bare(word: str) -> str:
    return word.lower().replace("’", "'").removesuffix("'s")


def question_names(question: str) -> list[tuple[str, ...]]:
    """Runs of capitalised words in the question ('Vadim Kuramshin', 'Astana'), lower case. The question's first
    word counts only inside a run of two or more ('Vadim Kuramshin arrest'): alone it is capitalised as a sentence
    start. Stop words, months and weekdays are not names."""
    words = WORD.findall(question)
    runs: list[list[tuple[int, str]]] = []
    for i, w in enumerate(words):
        name = w[:1].isupper() and _bare(w) not in STOPWORDS and _bare(w) not in TIME_WORDS
        if name and runs and runs[-1][-1][0] == i - 1:
            runs[-1].append((i, w))
        elif name:
            runs.append([(i, w)])
    return [tuple(_bare(w) for _, w in run) for run in runs if run[0][0] > 0 or len(run) > 1]


def unknown_names(question: str, words: frozenset[str]) -> list[tuple[str, ...]]:
    """The question's names with a word that occurs nowhere in the corpus."""
    return [name for name in question_names(question) if any(w not in words for w in name)]


@dataclass(frozen=True)
class Sentences:
    """One passage's sentences scored for a question."""

    similarity: np.ndarray  # cosine similarity to the question
    coverage: np.ndarray  # idf-weighted share of the question's content terms in the sentence
    typed: np.ndarray  # 1 when the sentence holds a value of the asked answer type, else 0
    broad: np.ndarray  # 1 when it holds a value of the broader answer type (answertype.BROAD_TYPES), else 0
    passage_coverage: float  # the same share over the passage text and its document title
    tokens: tuple[frozenset[str], ...]  # each sentence's content terms
    title: frozenset[str]  # the document title's content terms


@dataclass
class Evidence:
    """A question's content terms with their idf weights, and its sentences scored passage by passage (computed
    when first asked for: only the passages an answer looks at)."""

    question: str
    terms: dict[str, float]
    kind: str | None  # the answer type asked for: 'name', 'quantity', 'time' or None
    broad: str | None  # the broader answer type: also 'place', and any 'who' question
    index: Index
    ranking: Ranking
    settings: Settings
    _cache: dict[int, Sentences] = field(default_factory=dict)

    def coverage(self, tokens: frozenset[str], leave_out: frozenset[str] = frozenset()) -> float:
        """The idf-weighted share of the question's terms (but those in `leave_out`) found in `tokens`; 1.0 when
        there are none."""
        total = sum(w for t, w in self.terms.items() if t not in leave_out)
        found = sum(w for t, w in self.terms.items() if t in tokens and t not in leave_out)
        return found / total if total else 1.0

    def sentences(self, i: int) -> Sentences:
        if i not in self._cache:
            record, s = self.index.passages[i], self.settings
            lo, hi = self.index.sentence_offsets[i], self.index.sentence_offsets[i + 1]
            texts = [record.text[a:b] for a, b in record.sentences]
            tokens = tuple(frozenset(tokenize(t, s.stem, True)) for t in texts)
            typed = [float(self.kind is not None and has_answer(self.kind, t, self.question)) for t in texts]
            broad = [float(self.broad is not None and has_value(self.broad, t, self.question)) for t in texts]
            title = frozenset(tokenize(self.index.documents[record.doc_id].title, s.stem, True))
            self._cache[i] = Sentences(np.asarray(self.ranking.sentence_similarity[lo:hi], dtype=np.float64),
                                       np.asarray([self.coverage(t) for t in tokens]), np.asarray(typed),
                                       np.asarray(broad), self.coverage(title.union(*tokens)), tokens, title)
        return self._cache[i]


def gather(question: str, search: str, index: Index, ranking: Ranking, settings: Settings) -> Evidence:
    """The evidence for `question` (searched as `search`): its content terms weighted by BM25 idf. A term the corpus
    lacks weighs as much as its rarest term, so a question whose key word is missing is covered less."""
    lexical = index.lexical
    top = max(lexical.idf) if lexical.idf else 1.0
    terms = {}
    for t in tokenize(search, settings.stem, True):
        term = lexical.vocabulary.get(t)
        terms[t] = top if term is None else max(lexical.idf[term], 0.0)
    return Evidence(question, terms, answer_type(question), broad_type(question), index, ranking, settings)


# The confidence model's inputs, in this order (calibration.json names them too).
QUESTION_FEATURES = ("dense", "sentence", "dense_margin", "passage_coverage", "sentence_coverage", "known_share",
                     "typed_missing", "log_terms", "broad_missing", "rest_coverage")


def question_features(evidence: Evidence, order: np.ndarray, known: float) -> np.ndarray:
    """Features of the question and its best passages (`order`, best first): the best dense score and best
    sentence similarity, the dense margin over the runner-up, the coverage of the best passage and of its best
    sentence, the share of the question's terms the corpus knows (`known`), whether an asked answer type is
    missing from the top passages' best sentences (strictly, and broadly), how many content terms the question has,
    and how much of what it asks beyond the best passage's title that passage's best sentence holds."""
    s = evidence.settings
    best = int(order[0])
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
    typed_missing = float(evidence.kind is not None and not typed[near].any())
    broad_missing = float(evidence.broad is not None and not np.concatenate([t.broad for t in top])[near].any())
    # The share of the terms not in the best passage's title that its best sentence holds: an on-topic passage
    # that does not answer holds the topic (its title) but not what is asked about it.
    rest = max((evidence.coverage(t, first.title) for t in first.tokens), default=0.0)
    return np.array([float(evidence.ranking.dense[best]), float(first.similarity.max(initial=0.0)), margin,
                     first.passage_coverage, float(first.coverage.max(initial=0.0)), known, typed_missing,
                     math.log1p(len(evidence.terms)), broad_missing, rest])


# The highlight model's inputs, per sentence of a quoted passage.
SENTENCE_FEATURES = ("similarity", "similarity_gap", "coverage", "coverage_gap", "typed", "first", "single")


def sentence_features(sentences: Sentences) -> np.ndarray:
    """One row per sentence: its similarity and coverage, and how far each falls short of the passage's best
    sentence; whether it holds the asked answer type; whether it opens the passage; whether it is the only one."""
    n = len(sentences.similarity)
    first = np.zeros(n)
    first[:1] = 1.0
    return np.column_stack([sentences.similarity, sentences.similarity.max(initial=0.0) - sentences.similarity,
                            sentences.coverage, sentences.coverage.max(initial=0.0) - sentences.coverage,
                            sentences.typed, first, np.full(n, float(n == 1))])
