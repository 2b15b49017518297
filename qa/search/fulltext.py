"""Search mode: every passage that holds all the words of a query and each of its "quoted phrases", ranked by BM25 or
ordered by date, a page at a time, with the total count, the count per document and the user's words marked.

Matching reads the lexical index's postings (qa/index/lexical.py): the passages holding every term are the
intersection of the terms' postings lists (sorted passage ids, rarest first). A posting may come from the document
title indexed with the passage (`index_title`), so a candidate whose title holds a word is checked on the passage's
own tokens. A phrase is matched the same way, then verified on the passage text: its words in order, case aside,
separated only by white space, with the punctuation typed, starting and ending at a word's edge. Every hit is still
`body[start:end]` of its document, as a `Passage` whose `highlights` are the spans of the user's words."""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from qa.answer.model import Passage
from qa.config import MAX_QUESTION_CHARS, Settings
from qa.corpus.documents import Document
from qa.corpus.text import WORD, tokenize
from qa.errors import InvalidQuestion
from qa.index.store import Index
from qa.request import validate_question
from qa.search.filters import Filter, allowed_passages

ORDERS = ("relevance", "date")  # BM25 score, best first; or the document's date, oldest first (undated last)
PER_PAGE = 20
MAX_DOCUMENTS = 100  # documents listed with their count of matches; a search of a common word matches thousands
QUOTES = re.compile(r'"([^"]*)"|“([^”]*)”')
APOSTROPHES = "'’"
LETTER = re.compile(r"[^\W_]")  # a character of a word (qa.corpus.text.WORD)


@dataclass(frozen=True)
class SearchQuery:
    """A search as typed, and what it matches: `terms` (index tokens of the words outside quotes) and `phrases`."""

    text: str
    terms: tuple[str, ...]
    phrases: tuple[str, ...]
    phrase_terms: tuple[str, ...]  # index tokens of the phrases' words: a matching passage holds them all


@dataclass(frozen=True)
class DocumentCount:
    doc_id: str
    title: str
    count: int  # passages of the document that match


@dataclass(frozen=True)
class SearchResults:
    """One page of the passages matching `query`. `hits` are Passages quoted as an answer's are, their `highlights`
    the user's words; `documents` counts the matches per document, most first (the first MAX_DOCUMENTS of the
    `matched_documents`)."""

    query: str
    order: str
    total: int
    documents: list[DocumentCount]
    matched_documents: int
    page: int
    pages: int
    per_page: int
    hits: list[Passage]
    sources: list[str] | None = None  # the filters in force
    since: str | None = None
    until: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        for hit in data["hits"]:
            hit["highlights"] = [list(h) for h in hit["highlights"]]
        return data

    @property
    def first(self) -> int:
        """The number (from 1) of the first hit of this page in the whole list."""
        return (self.page - 1) * self.per_page + 1


def parse(query: object, settings: Settings) -> SearchQuery:
    """The query's words and "quoted phrases" ("…" or “…”), or InvalidQuestion saying what to change."""
    if isinstance(query, str) and not query.strip():
        raise InvalidQuestion('the search is empty; type the words to find, or a "quoted phrase"')
    if isinstance(query, str) and len(query) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the search is {len(query):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    text = validate_question(query)  # text, without control characters or unpaired surrogates
    phrases = tuple(p.strip() for m in QUOTES.finditer(text) for p in m.groups() if p is not None and p.strip())
    rest = QUOTES.sub(" ", text)
    if any(q in rest for q in '"“”'):
        raise InvalidQuestion('a quotation mark of the search is not closed; close the "phrase" or remove the mark')
    terms = tuple(dict.fromkeys(tokenize(rest, settings.stem, settings.stopwords)))
    phrase_terms = tuple(dict.fromkeys(t for p in phrases for t in tokenize(p, settings.stem, settings.stopwords)))
    if not terms and not phrase_terms:
        raise InvalidQuestion("the search has no word the index holds (common words such as 'the' are left out); "
                              "add a less common word")
    return SearchQuery(text, terms, phrases, phrase_terms)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase as typed, in lower case, with any run of white space between words and either apostrophe, ending
    at a word's end. It starts with the phrase's own letters (no look-behind), so that the regex engine can skip to
    them: 35 times faster on a passage than a look-behind (the start is checked in `phrase_spans`)."""
    pattern = r"\s+".join(re.escape(part) for part in phrase.lower().split())
    for mark in APOSTROPHES:
        pattern = pattern.replace(re.escape(mark), "['’]")
    return re.compile(rf"{pattern}(?![^\W_])")


def phrase_spans(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    """Spans of `text` where the phrase `pattern` stands, case aside, starting at a word's start."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer ('İ'): keep the offsets
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    for m in pattern.finditer(lowered):
        if not m.start() or not LETTER.match(lowered, m.start() - 1):
            yield m.span()


@functools.lru_cache(maxsize=65_536)  # words of the passages shown, marked one by one
def _tokens(text: str, stem: bool, stopwords: bool) -> frozenset[str]:
    return frozenset(tokenize(text, stem, stopwords))


@dataclass(frozen=True)
class Corpus:
    """What a search reads: the index, its documents in corpus order, the document (its position in `documents`)
    of each passage, and the documents whose title holds each index token (`index_title` puts titles in the
    postings)."""

    index: Index
    documents: list[Document]
    doc_of_passage: np.ndarray
    title_docs: dict[str, np.ndarray]

    @classmethod
    def of(cls, index: Index, documents: list[Document], doc_of_passage: np.ndarray, settings: Settings) -> Corpus:
        holding: dict[str, list[int]] = {}
        if settings.index_title:
            for n, doc in enumerate(documents):
                for token in set(tokenize(doc.title, settings.stem, settings.stopwords)):
                    holding.setdefault(token, []).append(n)
        return cls(index, documents, doc_of_passage, {t: np.array(d, dtype=np.int64) for t, d in holding.items()})


def _candidates(corpus: Corpus, terms: list[str]) -> np.ndarray:
    """Ids (ascending) of the passages whose indexed text holds every term: postings intersected, rarest first."""
    lexical = corpus.index.lexical
    lists = []
    for term in terms:
        t = lexical.vocabulary.get(term)
        if t is None:
            return np.zeros(0, dtype=np.int32)
        lists.append(lexical.postings[lexical.starts[t]:lexical.starts[t + 1]])
    lists.sort(key=len)
    found = lists[0]
    for postings in lists[1:]:
        found = np.intersect1d(found, postings, assume_unique=True)
    return found


def matching(corpus: Corpus, query: SearchQuery, settings: Settings, limit: Filter | None = None) -> np.ndarray:
    """Ids (ascending) of every passage matching `query` within `limit`."""
    found = _candidates(corpus, list(dict.fromkeys(query.terms + query.phrase_terms)))
    if limit is not None and len(found):
        found = found[allowed_passages(corpus.documents, corpus.doc_of_passage, limit)[found]]
    passages = corpus.index.passages
    titled = [corpus.title_docs[t] for t in query.terms if t in corpus.title_docs]
    if titled and len(found):
        # A word that the document's title holds may be missing from the passage: check those candidates' text.
        terms = set(query.terms)
        doubtful = np.isin(corpus.doc_of_passage[found], np.concatenate(titled))
        ok = [terms <= set(tokenize(passages[i].text, settings.stem, settings.stopwords)) for i in found[doubtful].tolist()]
        keep = ~doubtful
        keep[np.flatnonzero(doubtful)[ok]] = True
        found = found[keep]
    if query.phrases:
        patterns = [_phrase_pattern(p) for p in query.phrases]
        found = np.array([i for i in found.tolist() if all(next(phrase_spans(p, passages[i].text), None) for p in patterns)],
                         dtype=np.int32)
    return found


def marks(text: str, query: SearchQuery, settings: Settings) -> list[tuple[int, int]]:
    """Spans of `text` holding the user's words (any form with the same index token) and phrases, in order."""
    terms = set(query.terms)
    spans = [m.span() for m in WORD.finditer(text) if terms & _tokens(m.group(), settings.stem, settings.stopwords)]
    spans += [span for p in query.phrases for span in phrase_spans(_phrase_pattern(p), text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _validate_page(page: object) -> int:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidQuestion(f"page must be a whole number from 1, not {page!r:.40}")
    return page


def search(corpus: Corpus, query: object, settings: Settings, limit: Filter | None = None,
           order: str = "relevance", page: object = 1, per_page: int = PER_PAGE) -> SearchResults:
    """Page `page` of the passages matching `query` (see the module's doc), ranked by `order`."""
    if order not in ORDERS:
        raise InvalidQuestion(f"unknown order {order!r:.40}; choose one of {', '.join(ORDERS)}")
    page = _validate_page(page)
    parsed = parse(query, settings)
    found = matching(corpus, parsed, settings, limit)
    scores = corpus.index.lexical.scores(list(parsed.terms + parsed.phrase_terms))[found]
    if order == "relevance":
        ranked = found[np.argsort(-scores, kind="stable")]
    else:
        docs = corpus.documents
        dates = [docs[d].date or "\uffff" for d in corpus.doc_of_passage[found].tolist()]  # undated last
        ranked = found[sorted(range(len(found)), key=dates.__getitem__)]
    score_of = dict(zip(found.tolist(), scores.tolist()))
    counts = np.bincount(corpus.doc_of_passage[found], minlength=len(corpus.documents))
    matched = np.flatnonzero(counts)
    most = matched[np.argsort(-counts[matched], kind="stable")[:MAX_DOCUMENTS]].tolist()
    documents = [DocumentCount(corpus.documents[d].id, corpus.documents[d].title or corpus.documents[d].id,
                               int(counts[d])) for d in most]
    hits = []
    for i in ranked[(page - 1) * per_page:page * per_page].tolist():
        record = corpus.index.passages[i]
        doc = corpus.index.documents[record.doc_id]
        hits.append(Passage.quote(record, doc, score_of[i], marks(record.text, parsed, settings)))
    pages = max(1, -(-len(found) // per_page))
    sources = sorted(limit.sources) if limit and limit.sources is not None else None
    return SearchResults(parsed.text, order, len(found), documents, len(matched), page, pages, per_page, hits, sources,
                         limit.since if limit else None, limit.until if limit else None)
