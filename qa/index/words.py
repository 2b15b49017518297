"""What the corpus says, word by word, read once per index: its content stems (is a question's word the corpus's?)
and every word as written (does it ever mention this name?)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qa.corpus.documents import Document
from qa.corpus.text import WORD, tokenize


@dataclass(frozen=True)
class CorpusWords:
    """What the corpus says, word by word, read once per index: its content stems (is a question's word the
    corpus's?), and every word as written, lower case (does it ever mention this name?): its passages' and what its
    documents state about themselves (title, publisher, authors, a reader comment's author and location)."""

    stems: frozenset[str]
    words: frozenset[str]

    @classmethod
    def of(cls, texts: Iterable[str], documents: Iterable[Document]) -> CorpusWords:
        """The words of the passages `texts` and of what `documents` state about themselves."""
        # Each distinct word is stemmed and bared once: both are word by word, so the sets are those of every text's
        # tokens, at a fraction of the cost (most of a rebuild's time went to them).
        lowered: set[str] = set()
        written: set[str] = set()
        for text in texts:
            lowered.update(WORD.findall(text.lower()))
            written.update(WORD.findall(text))
        stems = set(tokenize(" ".join(lowered), stem=True, stopwords=True))
        words = {bare(w) for w in written}
        for doc in documents:
            stated = [doc.title, doc.publisher, *doc.authors, doc.comment_author or "", doc.comment_location or ""]
            words.update(bare_words(" ".join(stated)))
        return cls(frozenset(stems), frozenset(words))


def bare(word: str) -> str:
    return word.lower().replace("’", "'").removesuffix("'s")


def bare_words(text: str) -> set[str]:
    """The words of `text` as bare() writes them."""
    return {bare(w) for w in WORD.findall(text)}


