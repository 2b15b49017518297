"""What the corpus says, word by word, read once per index: its content stems (is a question's word the corpus's?)
and every word as written (does it ever mention this name?)."""
from __future__ import annotations

from dataclasses import dataclass

from qa.corpus.text import WORD, tokenize
from qa.index.store import Index


def vocabulary(index: Index) -> frozenset[str]:
    return frozenset(t for p in index.passages for t in tokenize(p.text, stem=True, stopwords=True))


@dataclass(frozen=True)
class CorpusWords:
    """What the corpus says, word by word, read once per index: content stems, and every word as written."""

    stems: frozenset[str]
    words: frozenset[str]


def corpus_words(index: Index) -> CorpusWords:
    return CorpusWords(vocabulary(index), known_words(index))


def known_words(index: Index) -> frozenset[str]:
    """Every word of the corpus, lower case, as written: its passages and what its documents state about
    themselves (title, publisher, authors, a reader comment's author and location), to tell a name the corpus never
    mentions."""
    words: set[str] = set()
    for p in index.passages:
        words.update(bare_words(p.text))
    for doc in index.documents.values():
        stated = [doc.title, doc.publisher, *doc.authors, doc.comment_author or "", doc.comment_location or ""]
        words.update(bare_words(" ".join(stated)))
    return frozenset(words)


def bare(word: str) -> str:
    return word.lower().replace("’", "'").removesuffix("'s")


def bare_words(text: str) -> set[str]:
    """The words of `text` as bare() writes them."""
    return {bare(w) for w in WORD.findall(text)}


