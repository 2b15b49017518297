"""The corpus's words, found once per index, are every passage's tokens and words as written."""
from conftest import ROOT

from qa.corpus.documents import load_corpus
from qa.corpus.passages import split_document
from qa.corpus.text import tokenize
from qa.index.words import CorpusWords, bare_words

TRICKY = ["İstanbul's ÉCOLE; the officers’ trial", "Zhanaozen’s strikers' wages, 2011", "ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ straße",
          "don't won’t o'clock x'y'z 'quoted' _under_score_ ǅemal ǈubljana"]


def test_corpus_words_are_every_texts_tokens_and_words_as_written():
    documents = load_corpus(ROOT / "corpus")
    texts = [p.text for d in documents for p in split_document(d, 30)] + TRICKY
    found = CorpusWords.of(texts, documents)
    assert found.stems == {t for text in texts for t in tokenize(text, stem=True, stopwords=True)}
    stated = [" ".join([d.title, d.publisher, *d.authors, d.comment_author or "", d.comment_location or ""])
              for d in documents]
    assert found.words == {w for text in texts + stated for w in bare_words(text)}
    assert {"i\u0307stanbul", "won't", "zhanaozen", "ǆemal", "straße"} <= found.words  # lower case, apostrophes as '
    assert {"stanbul", "école", "won't", "zhanaozen"} <= found.stems  # 'İ' lowers to 'i' and a combining dot
