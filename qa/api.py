"""The Python API: `QA` loads the index once and answers many questions; `ask()` uses a shared one."""
from __future__ import annotations

import reprlib
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from qa.answer.compose import collapse_duplicates, group_by_source
from qa.answer.decide import closest_meaning, evidence_sentences, known_share, lacks_answer_type, vocabulary
from qa.answer.figures import asked_measures, find_disagreement, find_figures
from qa.answer.model import ABSTAIN_MESSAGE, ANSWER_HEADING, NOT_ENGLISH_MESSAGE, Answer, Passage, highlight_spans
from qa.config import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, Settings
from qa.corpus.documents import Document, load_examples
from qa.corpus.passages import PassageRecord
from qa.errors import InvalidQuestion, UnknownSource
from qa.index.encoder import Encoder, MiniLMEncoder
from qa.index.store import Index, open_index
from qa.search.followup import Turn, as_turn, search_questions
from qa.search.retrieval import Ranking, rank


def validate_question(question: object) -> str:
    """The question with surrounding white space removed, or InvalidQuestion saying what to change.
    The length is checked first, so an oversized question is refused without reading it."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is {len(question):,} characters long; "
                              f"the limit is {MAX_QUESTION_CHARS:,}. Ask a shorter question.")
    for position, c in enumerate(question):
        category = unicodedata.category(c)
        if category == "Cc" and c not in "\t\n\r":
            raise InvalidQuestion(f"the question contains control characters (U+{ord(c):04X} at position {position}); "
                                  "remove them and ask again")
        if category == "Cs":
            raise InvalidQuestion(f"the question contains an unpaired surrogate (U+{ord(c):04X} at position {position}), "
                                  "which is not valid Unicode text; send the question as UTF-8")
    question = question.strip()
    if not question:
        raise InvalidQuestion("the question is empty; type a question about the articles")
    return question


def validate_k(k: object, max_k: int) -> int:
    """k as given, or InvalidQuestion; the message quotes at most a short form of what was given."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise InvalidQuestion(f"k must be a whole number from 1 to {max_k}, not {reprlib.repr(k)}")
    if not 1 <= k <= max_k:
        shown = k if k.bit_length() <= 64 else f"a {k.bit_length():,}-bit number"  # str() of a huge int raises
        raise InvalidQuestion(f"k is {shown}; it must be from 1 to {max_k}")
    return k


def validate_request(question: object, k: object, settings: Settings) -> tuple[str, int]:
    """The validated question and k (settings.default_k when k is None)."""
    return validate_question(question), validate_k(settings.default_k if k is None else k, settings.max_k)


def validate_history(history: Sequence[object]) -> list[Turn]:
    """The chat's latest MAX_HISTORY_TURNS turns (a follow-up leans on the last few only, and the time spent stays
    bounded however long the chat); each earlier question must itself be a valid question."""
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InvalidQuestion("history must be a list of earlier questions or answers, oldest first")
    turns = []
    skipped = max(len(history) - MAX_HISTORY_TURNS, 0)
    for n, item in enumerate(history[skipped:], skipped + 1):
        turn = as_turn(item)
        try:
            turns.append(replace(turn, question=validate_question(turn.question)))
        except InvalidQuestion as exc:
            raise InvalidQuestion(f"history item {n}: {exc}") from None
    return turns


def latin_share(text: str) -> float:
    """The share of the letters in `text` that are Latin; 1.0 when it has no letters."""
    letters = [c for c in text if c.isalpha()]
    return sum("LATIN" in unicodedata.name(c, "") for c in letters) / len(letters) if letters else 1.0


class QA:
    """Answers questions with passages quoted from the corpus. Safe to call from several threads."""

    def __init__(self, settings: Settings | None = None, encoder: Encoder | None = None, index: Index | None = None):
        self.settings = settings or Settings()
        self.encoder = encoder or MiniLMEncoder()
        self.index = index or open_index(self.settings, self.encoder)
        self.examples = load_examples(self.settings.corpus_dir)
        self._passages_by_id: dict[str, PassageRecord] = {p.passage_id: p for p in self.index.passages}
        self._vocabulary = vocabulary(self.index)

    def warm(self) -> None:
        """Load the model now rather than on the first question."""
        self.encoder.encode(["warm up"])

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid", history: Sequence[object] = ()) -> Answer:
        """Up to `k` passages that answer `question`, best first, or an abstention. `history` holds the chat's
        earlier questions (or their Answers, or Answer.to_dict()s), oldest first: a follow-up that leans on them
        is searched together with them. Without `k`, a question about a count quotes every source's figure."""
        every_source = k is None
        question, k = validate_request(question, k, self.settings)
        searched = search_questions(question, validate_history(history))
        search, query_vector = self.query(question, searched)
        ranking = rank(self.index, search, query_vector, self.settings, mode)
        # The model reads English; across languages its similarity means nothing, so only known words count.
        if latin_share(question) < self.settings.min_latin_share:
            if known_share(question, self._vocabulary) < self.settings.min_known_terms:
                return Answer(question, True, [], NOT_ENGLISH_MESSAGE, suggestions=self.examples[:3])
        elif self._off_topic(search, ranking) or self._unanswered(question, ranking):
            return Answer(question, True, [], ABSTAIN_MESSAGE, suggestions=self.examples[:3])
        best = ranking.order[0]
        top_score = ranking.scores[best]
        chosen = [i for i in ranking.order[:k]
                  if i == best or ranking.scores[i] >= self.settings.relative_cutoff * top_score]
        passages = [self._quote(i, ranking) for i in chosen]
        if every_source:
            passages += self._other_sources_figures(question, chosen, passages, ranking)
        passages = collapse_duplicates(passages, self.settings.duplicate_overlap)
        disagreement = find_disagreement(question, passages)
        if disagreement:  # quotes grouped by source in date order, and the notice's figures listed in that order
            passages = group_by_source(passages)
            disagreement = find_disagreement(question, passages)
        return Answer(question, False, passages, ANSWER_HEADING, searched_for=search if len(searched) > 1 else None,
                      disagreement=disagreement)

    def query(self, question: str, searched: list[str]) -> tuple[str, np.ndarray]:
        """The text and vector to search with. A follow-up's text adds the earlier questions it leans on; its vector
        blends the meaning of that text with the question's own (chosen on the dev follow-ups, docs/EVALUATION.md)."""
        text = " ".join(searched)
        if len(searched) == 1:
            return text, self.encoder.encode([text])[0]
        own, joint = self.encoder.encode([question, text])
        return text, (own + joint) / np.linalg.norm(own + joint)

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

    def _off_topic(self, question: str, ranking: Ranking) -> bool:
        """Far in meaning from every passage (by the dense score: passage and best-sentence cosine blended), and
        with too few of its content words anywhere in the corpus (a bare name such as 'Virginie Coulloudon' is close
        in words but not in meaning)."""
        return (closest_meaning(ranking) < self.settings.min_similarity
                and known_share(question, self._vocabulary) < self.settings.min_known_terms)

    def _unanswered(self, question: str, ranking: Ranking) -> bool:
        """Asks for a name, quantity or time that none of the best-matching sentences contains."""
        s = self.settings
        if not s.answer_type_check:
            return False
        sentences = evidence_sentences(self.index, ranking, s.evidence_passages, s.evidence_sentences, s.evidence_margin)
        return lacks_answer_type(question, sentences)

    def _other_sources_figures(self, question: str, chosen: list[int], quoted: list[Passage],
                               ranking: Ranking) -> list[Passage]:
        """For a question about a count (killed, injured, detained): passages among the best `figure_depth` that
        give such a figure from a source not yet quoted, or a figure not yet quoted, so every version is seen.
        `quoted` are the passages of `chosen`, already quoted."""
        measures = asked_measures(question)
        if not measures:
            return []
        sources = {p.doc_id for p in quoted}
        figures = {f.text.lower() for p in quoted for f in find_figures(p) if f.measure in measures}
        extra = []
        for i in ranking.order[:self.settings.figure_depth]:
            if len(chosen) + len(extra) >= self.settings.max_k:
                break
            if i in chosen:
                continue
            passage = self._quote(i, ranking)
            found = {f.text.lower() for f in find_figures(passage) if f.measure in measures}
            if found and (passage.doc_id not in sources or found - figures):
                extra.append(passage)
                sources.add(passage.doc_id)
                figures |= found
        return extra

    def _quote(self, i: int, ranking: Ranking) -> Passage:
        record = self.index.passages[i]
        lo, hi = self.index.sentence_offsets[i], self.index.sentence_offsets[i + 1]
        spans = highlight_spans(record, ranking.sentence_similarity[lo:hi], self.settings.highlight_margin)
        return Passage.quote(record, self.index.documents[record.doc_id], ranking.scores[i], spans)


_default: QA | None = None
_default_lock = threading.Lock()


def ask(question: str, k: int | None = None, history: Sequence[object] = ()) -> Answer:
    """Answer with the default corpus and index (loaded, or rebuilt, on first call)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = QA()
    return _default.ask(question, k, history=history)
