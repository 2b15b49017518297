"""The side panel's HTML: sources, the source viewer, and passage choices; corpus text is always escaped."""
from __future__ import annotations

from dataclasses import replace

import pytest

from qa import QAError
from qa.present import source_html, sources_html


def test_locate_finds_passages_and_documents(fixture_qa):
    doc, start, end = fixture_qa.locate("alpha#p1")
    assert (doc.id, doc.body[start:end]) == ("alpha", fixture_qa.index.passages[0].text)
    assert fixture_qa.locate("beta") == (fixture_qa.index.documents["beta"], None, None)
    with pytest.raises(QAError, match="no passage or document has the id 'alpha#p99'"):
        fixture_qa.locate("alpha#p99")


def test_source_view_marks_the_passage_in_the_whole_document(fixture_qa):
    doc = fixture_qa.index.documents["alpha"]
    start = doc.body.index("Officials said")
    html = source_html(doc, start, start + len("Officials said ten people died."))
    assert html == (
        '<article class="source-view"><p><small>Article</small></p>'
        '<h3><a href="https://example.org/alpha" target="_blank" rel="noopener noreferrer">Alpha report</a></h3>'
        "<p><small>Alpha Times · 2011-12-19 · by Ann Writer</small></p>"
        "<p>Police fired on striking oil workers in the town square. Many people were hurt in the clashes.</p>"
        '<p><mark id="quoted-passage">Officials said ten people died.</mark></p>'
        "<p>The strike had lasted seven months over wages and working conditions at the oil company.</p></article>")


def test_a_passage_over_two_paragraphs_is_marked_in_each(fixture_qa):
    doc = fixture_qa.index.documents["beta"]
    html = source_html(doc, 4, len(doc.body))
    assert html.count("<mark") == 2 and html.count('id="quoted-passage"') == 1
    assert '<p>The <mark id="quoted-passage">government opened' in html


def test_markup_in_corpus_text_is_escaped(fixture_qa):
    doc = replace(fixture_qa.index.documents["beta"], title="<b>x</b>", url="javascript:alert(1)",
                  body="<script>alert(1)</script> & <img src=x onerror=alert(1)>")
    html = source_html(doc, 0, 8) + sources_html([doc])
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and "javascript:" not in html
    assert '<p><mark id="quoted-passage">&lt;script&gt;</mark>alert(1)&lt;/script&gt; &amp; &lt;img src=x' in html


def test_sources_list_and_comment_byline(fixture_qa):
    assert sources_html(fixture_qa.sources()) == (
        '<div class="sources"><h3>Sources</h3><ol>'
        '<li><a href="https://example.org/alpha" target="_blank" rel="noopener noreferrer">Alpha report</a><br>'
        "<small>Alpha Times · 2011-12-19 · by Ann Writer</small></li>"
        "<li>Beta bulletin<br><small>Beta Wire · date not stated</small></li></ol></div>")
    comment = source_html(fixture_qa.index.documents["alpha/comment-1"])
    assert "<small>Reader comment by Reader One, posted below this article · Alpha Times · 2011-12-20 10:00</small>" in comment
