import pytest

from qa.corpus.documents import load_corpus, normalise_body
from qa.corpus.passages import split_document
from qa.corpus.text import sentence_spans, tokenize
from qa.errors import CorpusError


def test_fixture_corpus_loads_articles_and_comments(fixture_settings):
    docs = load_corpus(fixture_settings.corpus_dir)
    assert [d.id for d in docs] == ["alpha", "alpha/comment-1", "beta"]
    comment = docs[1]
    assert (comment.kind, comment.comment_author, comment.date, comment.parent_id) == (
        "comment", "Reader One", "2011-12-20T10:00", "alpha")
    assert docs[2].date is None and docs[2].url is None and docs[2].authors == ()


def test_short_paragraph_joins_previous_and_offsets_hold(fixture_settings):
    alpha = load_corpus(fixture_settings.corpus_dir)[0]
    passages = split_document(alpha, min_words=8)
    assert [p.passage_id for p in passages] == ["alpha#p1", "alpha#p2"]
    assert passages[0].text.endswith("Officials said ten people died.")
    assert all(alpha.body[p.start:p.end] == p.text for p in passages)


def test_normalise_body_joins_lines_and_replaces_nbsp():
    assert normalise_body("one\xa0two\nthree\n\n\nfour") == "one two three\n\nfour"


def test_sentence_spans_skip_abbreviations():
    text = 'Mr. Smith spoke on Dec. 16 in the U.S. capital. "It was bad," he said. Then he left!'
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Mr. Smith spoke on Dec. 16 in the U.S. capital.", '"It was bad," he said.', "Then he left!"]


def test_tokenize_stems_and_drops_possessives():
    assert tokenize("Kazakhstan's police shootings") == ["kazakhstan", "polic", "shoot"]


BAD = [
    ("no front matter\n", "no front matter"),
    ("---\nid: x\npublisher: P\n---\ntext\n", "field 'title' is missing"),
    ("---\nid: x\ntitle: T\npublisher: P\ndate: 19 Dec 2011\n---\ntext\n", "field 'date' is '19 Dec 2011'"),
    ("---\nid: x\ntitle: T\npublisher: P\n---\n\n", "has no text"),
    ("---\nid: x\ntitle: [unclosed\n---\ntext\n", "not valid YAML"),
    ("---\nid: x\ntitle: T\npublisher: P\n---\ntext\n\n## Reader comment: c9\n\nhi\n", "comment 'c9' needs an entry"),
    ("---\nid: x\ntitle: T\npublisher: P\ndate: 2011-13-45\n---\ntext\n", "field 'date' is '2011-13-45'; write an ISO date"),
    ("---\nid: x\ntitle: T\npublisher: P\ndate: '2011-02-30'\n---\ntext\n", "field 'date' is '2011-02-30'"),
    ("---\nid: x\ntitle: T\npublisher: P\ncomments:\n- id: c1\n  author: A\n  date: 2011-12-32T10:00\n---\ntext\n"
     "\n## Reader comment: c1\n\nhi\n", "field 'comments.c1.date' is '2011-12-32T10:00'"),
    ("---\nid: x\ntitle: [A, B]\npublisher: P\n---\ntext\n", "field 'title' must be text, not a list"),
    ("---\nid: x\ntitle: T\npublisher: P\nauthors: Ann Writer\n---\ntext\n", "field 'authors' must be a list of names"),
    ("---\nid: x\ntitle: T\npublisher: P\ncomments: none\n---\ntext\n", "field 'comments' must be a list of entries"),
    ("---\nid: a/b\ntitle: T\npublisher: P\n---\ntext\n", "field 'id' is 'a/b'; use letters, digits"),
    ("---\nid: x\ntitle: T\npublisher: P\n---\n\n... --- ...\n", "document 'x' has no text \\(no words to quote\\)"),
]


@pytest.mark.parametrize("text, message", BAD, ids=range(len(BAD)))
def test_malformed_documents_name_file_and_field(tmp_path, text, message):
    (tmp_path / "bad.md").write_text(text)
    with pytest.raises(CorpusError, match=f"bad.md: .*{message}"):
        load_corpus(tmp_path)


def test_comment_without_text_names_the_comment(tmp_path):
    (tmp_path / "bad.md").write_text("---\nid: x\ntitle: T\npublisher: P\ncomments:\n- id: c1\n  author: A\n---\n"
                                      "text\n\n## Reader comment: c1\n\n* * *\n")
    with pytest.raises(CorpusError, match="bad.md: document 'x/c1' has no text"):
        load_corpus(tmp_path)


def test_file_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "bad.md").write_bytes(b"---\nid: x\ntitle: Caf\xe9\npublisher: P\n---\ntext\n")
    with pytest.raises(CorpusError, match="bad.md: not UTF-8 \\(byte 0xe9 at offset 20\\); save the file as UTF-8"):
        load_corpus(tmp_path)


def test_windows_line_endings_and_byte_order_mark_are_read(tmp_path):
    (tmp_path / "win.md").write_bytes("\ufeff---\r\nid: w\r\ntitle: T\r\npublisher: P\r\ndate: 2011-12-19\r\n---\r\n"
                                      "One line\r\nof text.\r\n\r\nTwo.\r\n".encode())
    (doc,) = load_corpus(tmp_path)
    assert (doc.id, doc.date, doc.body) == ("w", "2011-12-19", "One line of text.\n\nTwo.")


def test_duplicate_ids_are_an_error(tmp_path):
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("---\nid: same\ntitle: T\npublisher: P\n---\ntext\n")
    with pytest.raises(CorpusError, match="b.md: id 'same' is also used by a.md"):
        load_corpus(tmp_path)
