"""What the corpus says, word by word, read once per index: its content stems (is a question's word the corpus's?)
and every word as written (does it ever mention this name?)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qa.corpus.documents import Document
from qa.corpus.text import WORD, tokenize


@dataclass(frozen=True)
class CorpusWords:
    """What the corpus says, word by word, read once per index: its content stems (is a question's word the
    corpus's?), and every word as written, lower case (does it ever mention this name?): its passages' and what its
    documents state about themselves (title, publisher, authors, a reader comment's author and location). Each maps
    to the number of documents that say it, so that a document's change updates them without reading the others
    (`changed`)."""

    stems: Mapping[str, int]
    words: Mapping[str, int]

    @classmethod
    def of(cls, documents: Iterable[tuple[Document, Iterable[str]]]) -> CorpusWords:
        """The words of `documents`, each with the texts of its passages."""
        return cls({}, {}).changed((), documents)

    def changed(self, removed: Iterable[tuple[Document, Iterable[str]]],
                added: Iterable[tuple[Document, Iterable[str]]]) -> CorpusWords:
        """These words less those of the documents `removed` and with those of `added` (each with its passages'
        texts)."""
        stems, words = Counter(self.stems), Counter(self.words)
        stem_of: dict[str, tuple[str, ...]] = {}
        for sign, documents in ((-1, removed), (1, added)):
            for doc, texts in documents:
                doc_stems, doc_words = _document_words(doc, texts, stem_of)
                for counts, found in ((stems, doc_stems), (words, doc_words)):
                    for word in found:
                        counts[word] += sign
        return CorpusWords({w: n for w, n in stems.items() if n > 0}, {w: n for w, n in words.items() if n > 0})


def _document_words(doc: Document, texts: Iterable[str],
                    stem_of: dict[str, tuple[str, ...]]) -> tuple[set[str], set[str]]:
    """The content stems and the bare words of one document's passages `texts` and of what it states about itself.
    Each distinct word is stemmed once (`stem_of`, shared across documents): tokenising is word by word, so the stems
    are those of every text's tokens, at a fraction of the cost (most of a rebuild's time went to them)."""
    lowered: set[str] = set()
    written: set[str] = set()
    for text in texts:
        lowered.update(WORD.findall(text.lower()))
        written.update(WORD.findall(text))
    stems: set[str] = set()
    for word in lowered:
        if word not in stem_of:
            stem_of[word] = tuple(tokenize(word, stem=True, stopwords=True))
        stems.update(stem_of[word])
    words = {bare(w) for w in written}
    title, publisher, authors, comment_author, comment_location = stated(doc)
    words.update(bare_words(" ".join([title, publisher, *authors, comment_author or "", comment_location or ""])))
    return stems, words


def stated(doc: Document) -> tuple[str, str, tuple[str, ...], str | None, str | None]:
    """What a document states about itself, whose words are the corpus's too: its title, publisher, authors, and a
    reader comment's author and location. An index saves these for each document (documents.json), so that a
    document changed while no app ran can still have its words counted off."""
    return doc.title, doc.publisher, doc.authors, doc.comment_author, doc.comment_location


def bare(word: str) -> str:
    return word.lower().replace("’", "'").removesuffix("'s")


def bare_words(text: str) -> set[str]:
    """The words of `text` as bare() writes them."""
    return {bare(w) for w in WORD.findall(text)}


