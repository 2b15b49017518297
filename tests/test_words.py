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
    texts = {d.id: [p.text for p in split_document(d, 30)] for d in documents}
    texts[documents[0].id] += TRICKY
    found = CorpusWords.of((d, texts[d.id]) for d in documents)
    every = [t for d in documents for t in texts[d.id]]
    assert found.stems.keys() == {t for text in every for t in tokenize(text, stem=True, stopwords=True)}
    stated = {d.id: " ".join([d.title, d.publisher, *d.authors, d.comment_author or "", d.comment_location or ""])
              for d in documents}
    assert found.words.keys() == {w for text in every + list(stated.values()) for w in bare_words(text)}
    assert {"i\u0307stanbul", "won't", "zhanaozen", "ǆemal", "straße"} <= found.words.keys()  # lower case, apostrophes as '
    assert {"stanbul", "école", "won't", "zhanaozen"} <= found.stems.keys()  # 'İ' lowers to 'i' and a combining dot
    # Each counts the documents that say it.
    for word in ("zhanaozen", "won't", "amnesty"):
        assert found.words[word] == sum(word in bare_words(" ".join([*texts[d.id], stated[d.id]])) for d in documents)
    assert found.stems["zhanaozen"] == sum(any("zhanaozen" in tokenize(t) for t in texts[d.id]) for d in documents)


def test_a_documents_words_are_taken_off_when_it_goes():
    documents = load_corpus(ROOT / "corpus")
    texts = {d.id: [p.text for p in split_document(d, 30)] for d in documents}
    texts[documents[-1].id] += ["Only this one says quetzalcoatl."]
    everything = CorpusWords.of((d, texts[d.id]) for d in documents)
    without_last = CorpusWords.of((d, texts[d.id]) for d in documents[:-1])
    last = [(documents[-1], texts[documents[-1].id])]
    assert everything.changed(last, []) == without_last
    assert without_last.changed([], last) == everything
    assert "quetzalcoatl" in everything.words and "quetzalcoatl" not in without_last.words
