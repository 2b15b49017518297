"""The chat's HTML: answers, the conversation, sources and the source viewer; corpus and user text is always escaped."""
from __future__ import annotations

import re
from dataclasses import replace
from html import escape, unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa import QAError
from qa.answer.export import answer_text, quote_text
from qa.present import Turn, answer_html, citation_html, conversation_html, error_reply, marked_html, source_html, sources_html


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
        '<article class="source-view"><p><small>Article</small> <button type="button" class="act" '
        'aria-label="All sources" data-open="">All sources</button></p>'
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
        '<small>Alpha Times · 2011-12-19 · by Ann Writer</small> <button type="button" class="act" '
        'aria-label="Read the whole of Alpha report" data-open="alpha">Read</button></li>'
        '<li>Beta bulletin<br><small>Beta Wire · date not stated</small> <button type="button" class="act" '
        'aria-label="Read the whole of Beta bulletin" data-open="beta">Read</button></li></ol></div>')
    comment = source_html(fixture_qa.index.documents["alpha/comment-1"])
    assert "<small>Reader comment by Reader One, posted below this article · Alpha Times · 2011-12-20 10:00</small>" in comment


TAG = re.compile(r"<[^>]*>")
TRICKY = "- 1986. $$\\color{red}{X}$$ *a* _b_ `c` <i>&amp; www.q.example x@y.example (fig.png) ${value} {{x}}"


def _visible(fragment: str) -> str:
    """The text a browser shows for markup whose every text part is escaped (no tag is written by corpus text)."""
    return unescape(TAG.sub("", fragment))


@given(text=st.text(), cuts=st.lists(st.integers(0, 60), max_size=4))
def test_marked_text_shows_as_written(text, cuts):
    points = sorted({min(c, len(text)) for c in cuts})
    spans = list(zip(points[::2], points[1::2]))
    html = marked_html(text, spans)
    assert _visible(html) == text
    assert html.count("<mark>") == len(spans) and TAG.sub("", html).count("<") == 0


@pytest.mark.parametrize("message, shown", [
    ("the question is 1,001 characters long; the limit is 1,000. Ask a shorter question.",
     "Sorry, the question is 1,001 characters long; the limit is 1,000. Ask a shorter question."),
    ("the question is empty; type a question about the documents",
     "Sorry, the question is empty; type a question about the documents."),
])
def test_error_reply_ends_with_one_period(message, shown):
    assert error_reply(message) == shown


def test_answer_shows_quotes_citations_and_controls_from_fixed_templates(quoting_qa):
    answer = quoting_qa.ask("How many bodies did the nurse count at the hospital?", k=2)
    comment, article = answer.passages
    tricky = replace(comment, text=TRICKY, highlights=[(2, 7)], title="<b>T</b>", comment_author="*Ann*")
    html = answer_html(replace(answer, passages=[tricky, article]))
    assert _visible(citation_html(tricky)) == tricky.citation
    assert citation_html(article) == ('<a href="https://example.org/alpha" target="_blank" rel="noopener noreferrer">'
                                      "“Alpha report”</a>, Alpha Times, 2011-12-19, by Ann Writer, https://example.org/alpha")
    assert f'<blockquote class="quote-text">{escape(TRICKY[:2])}<mark>1986.</mark>{escape(TRICKY[7:])}</blockquote>' in html
    assert html.count('data-copy="') == 3 and html.count('data-open="') == 2
    assert f'data-copy="{escape(quote_text(article))}"' in html
    assert f'data-copy="{escape(answer_text(replace(answer, passages=[tricky, article])))}"' in html
    assert '<button type="button" class="act" aria-label="Open in source viewer: quote 2" data-open="alpha#p1">' in html
    assert "<b>" not in html and "<i>" not in html


def test_conversation_shows_each_question_as_typed(fixture_qa):
    html = conversation_html([Turn(TRICKY, fixture_qa.ask("What did rights groups demand?")),
                              Turn("x", error="k is 0; it must be from 1 to 10")])
    assert f'<p class="question" data-testid="user">{escape(TRICKY)}</p>' in html
    assert '<div class="reply" data-testid="bot"><p class="message">Sorry, k is 0; it must be from 1 to 10.</p></div>' in html


def test_a_pdf_shows_where_each_page_begins_with_the_quote_marked_across_a_page_break(fixture_qa):
    body = "First page text.\n\nStill page one, then page two begins here.\n\nPage three."
    two, three = body.index("page two"), body.index("Page three")
    doc = replace(fixture_qa.index.documents["beta"], body=body, pages=(0, two, three))
    html = source_html(doc, body.index("then"), body.index("here"))
    page = '<span class="page-no" role="note">[page {}]</span>'
    assert html.endswith(
        f"<p>{page.format(1)}</p><p>First page text.</p>"
        f'<p>Still page one, <mark id="quoted-passage">then </mark>{page.format(2)}<mark>page two begins </mark>'
        f"here.</p><p>{page.format(3)}</p><p>Page three.</p></article>")


def test_search_results_count_filter_per_document_and_numbered_hits(fixture_qa):
    from qa.present import search_html
    html = search_html(fixture_qa.search("police", sources=["alpha", "beta"], page=1))
    assert '<p class="count" role="status">2 passages in 2 documents match: police (best match first); 1–2 shown, ' \
           "page 1 of 1</p>" in html
    assert '<p class="filtered" role="note">Limited to sources alpha, beta.</p>' in html
    assert "<li>Alpha report: 1</li><li>Beta bulletin: 1</li>" in html
    assert html.count('<figure class="quote"') == 2 and "<mark>police</mark>" in html and "<mark>Police</mark>" in html
    assert 'aria-label="Open in source viewer: hit 2" data-open="alpha#p1"' in html
    assert search_html(None, "the search is empty") == \
        '<p class="message" role="status">Sorry, the search is empty.</p>'
