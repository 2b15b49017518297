"""The reporter's desk in the running chat, driven in headless Chromium at 1280 and 390 px: search and open a hit,
read a source whole, star and reload, open an answer's link in a new page, export and compare; and `/search`."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import test_app
from conftest import ROOT
from gradio_client import Client
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from playwright.sync_api import Page, expect
from test_app import POSTERS, SLOGANS, _ask, _context
from test_export import Text

from qa.answer.export import cell_text

WIDTHS = [1280, 390]
PHRASE = '"oil workers"'
browser = test_app.browser  # the fixture: one Chromium for the module


def _open(browser, app_url: str, width: int) -> Page:
    page = _context(browser, width).new_page()
    page.goto(app_url)
    return page


def _search(page: Page, query: str):
    page.get_by_role("tab", name="Search").click()
    page.get_by_label("Find passages").fill(query)
    page.get_by_label("Find passages").press("Enter")
    count = page.locator("#search .count")
    expect(count).to_contain_text("match", timeout=30_000)
    return count


@pytest.mark.parametrize("width", WIDTHS)
def test_search_lists_every_match_and_opens_a_hit_in_the_viewer(browser, app_url, real_qa, width):
    page = _open(browser, app_url, width)
    results = real_qa.search(PHRASE)
    count = _search(page, PHRASE)
    expect(count).to_have_text(f"{results.total} passages in {len(results.documents)} documents match: {PHRASE} "
                               f"(best match first); 1–{results.total} shown, page 1 of 1")
    hits = page.locator("#search .quote-text")
    expect(hits).to_have_text([h.text for h in results.hits])
    expect(page.locator("#search .quote-text").first.locator("mark")).to_have_text(["oil workers"])
    page.get_by_role("button", name="Open in source viewer: hit 2").click()
    marked = page.locator("#source-viewer #quoted-passage")
    expect(marked).to_be_in_viewport()
    expect(page.locator("#source-viewer mark")).to_have_text(results.hits[1].text.split("\n\n"))  # one a paragraph
    if width < 500:
        expect(page.locator("#search")).to_be_hidden()  # the viewer in place of the results, and back in one tap
        page.get_by_role("button", name="Back to the answer").click()
        expect(page.get_by_role("button", name="Open in source viewer: hit 2")).to_be_in_viewport()
    page.context.close()


def test_a_source_opens_whole_from_the_list_and_all_sources_brings_the_list_back(browser, app_url, real_qa):
    page = _open(browser, app_url, 1280)
    doc = real_qa.index.documents["mt-third-day"]
    page.get_by_role("button", name=f"Read the whole of {doc.title}").click()
    viewer = page.locator("#source-viewer")
    expect(viewer.locator("h3")).to_have_text(doc.title)
    paragraphs = doc.body.split("\n\n")
    expect(viewer.locator("article > p").last).to_have_text(paragraphs[-1])
    with page.expect_download() as download:
        page.get_by_role("button", name=f"Download the original ({doc.seed})").click()
    assert Path(download.value.path()).read_bytes() == (ROOT / "corpus" / "seeds" / doc.seed).read_bytes()
    page.get_by_role("button", name="All sources").click()
    expect(viewer.get_by_role("button", name=f"Read the whole of {doc.title}")).to_be_visible()
    expect(page.get_by_role("button", name="Download the original")).to_be_disabled()
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_star_then_reload_keeps_the_collection_and_the_conversation(browser, app_url, real_qa, width):
    page = _open(browser, app_url, width)
    _ask(page, POSTERS)
    page.get_by_role("button", name="Star quote 1: keep it in the collection").click()
    _search(page, PHRASE)
    page.get_by_role("button", name="Star hit 1: keep it in the collection").click()
    page.get_by_role("tab", name="Collection").click()
    expect(page.locator("#collection .count")).to_have_text("2 starred passages")
    starred = page.locator("#collection .quote-text").all_inner_texts()
    page.reload()
    expect(page.get_by_test_id("bot")).to_have_count(1)
    expect(page.get_by_test_id("bot")).to_contain_text(SLOGANS)
    page.get_by_role("tab", name="Collection").click()
    expect(page.locator("#collection .quote-text")).to_have_text(starred)
    page.get_by_role("button", name="Remove starred passage 1 from the collection").click()
    expect(page.locator("#collection .count")).to_have_text("1 starred passages")
    page.get_by_role("tab", name="Ask").click()
    page.get_by_role("button", name="More quotes for question 1: up to 10").click()
    expect(page.locator("#chat .quote-text")).to_have_text([p.text for p in real_qa.ask(POSTERS, 10).passages],
                                                           timeout=60_000)
    page.get_by_role("button", name="Clear chat").click()
    expect(page.get_by_test_id("bot")).to_have_count(0)
    page.reload()
    page.get_by_role("tab", name="Collection").click()
    expect(page.locator("#collection .count")).to_have_text("1 starred passages")
    expect(page.get_by_test_id("bot")).to_have_count(0)  # Clear chat cleared the kept conversation too
    page.context.close()


def test_the_link_of_an_answer_reproduces_it_in_a_new_page(browser, app_url):
    page = _open(browser, app_url, 1280)
    page.get_by_text("Limit answers and searches to sources and dates").click()
    page.get_by_label("From date").fill("2011-12-19")
    page.get_by_label("Until date").fill("2011-12-19")
    reply = _ask(page, POSTERS)
    notice = "Limited to documents dated from 2011-12-19 until 2011-12-19."
    expect(reply.locator(".filtered")).to_have_text(notice)
    href = reply.get_by_role("link", name="Link to this answer").get_attribute("href")
    fresh = _open(browser, app_url + href, 390)  # another browser profile: nothing kept from the first
    again = fresh.get_by_test_id("bot")
    expect(again).to_have_count(1, timeout=60_000)
    expect(again.locator(".quote-text")).to_have_text(reply.locator(".quote-text").all_inner_texts())
    expect(again.locator(".filtered")).to_have_text(notice)
    for context in (page.context, fresh.context):
        context.close()


def _downloads(page: Page, label: str) -> dict[str, str]:
    files = {}
    for fmt, name in (("json", "JSON"), ("csv", "CSV"), ("md", "Markdown")):
        with page.expect_download() as download:
            page.get_by_role("button", name=f"{label} ({name})").click()
        files[fmt] = Path(download.value.path()).read_text(encoding="utf-8")
    return files


def test_exports_of_answers_and_of_the_collection_hold_the_passages_exactly(browser, app_url):
    page = _open(browser, app_url, 1280)
    reply = _ask(page, "How many people were killed?")
    quotes = reply.locator(".quote-text").all_inner_texts()
    page.get_by_role("button", name="Star quote 2: keep it in the collection").click()
    files = _downloads(page, "Export quotes")
    records = json.loads(files["json"])
    assert [r["text"] for r in records] == quotes
    assert records[0]["level"] == "answered" and records[0]["sources_differ"] == reply.locator(".differ li").all_inner_texts()
    assert [cell_text(r["text"]) for r in csv.DictReader(io.StringIO(files["csv"]))] == quotes
    rendered = Text()
    rendered.feed(MarkdownIt("gfm-like").use(dollarmath_plugin).render(files["md"]))
    assert rendered.quotes == quotes
    page.get_by_role("tab", name="Collection").click()
    expect(page.locator("#collection .count")).to_have_text("1 starred passages")
    starred = json.loads(_downloads(page, "Export starred")["json"])
    assert [(r["text"], r["passage_id"]) for r in starred] == [(quotes[1], records[1]["passage_id"])]
    page.context.close()


def test_search_endpoint_returns_what_the_api_returns(app_url, real_qa):
    client = Client(app_url, verbose=False)
    got = client.predict(PHRASE, None, None, None, 1, "date", api_name="/search")
    want = real_qa.search(PHRASE, order="date").to_dict()
    assert [h["passage_id"] for h in got["hits"]] == [h["passage_id"] for h in want["hits"]]
    assert {**got, "hits": []} == {**want, "hits": []}
    with pytest.raises(Exception, match="quotation mark of the search is not closed"):
        client.predict('"oil', api_name="/search")
