"""The chat as people use it: started the way `make run` starts it, driven in headless Chromium,
and its `/ask` endpoint called with gradio_client."""
from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import Page, expect, sync_playwright

from qa import Answer, verify
from qa.answer.model import ABSTAIN_MESSAGE, SUGGESTIONS_HEADING

CHROMIUM = "/usr/bin/chromium"
# Flags a machine with no network needs; without them Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
POSTERS = "What did the posters in Astana say?"
SLOGANS = "\"Don't shoot people\" and \"Blood is cheaper than oil,\" read their posters."


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs Debian's chromium and chromium-driver"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(app_url)
    yield page
    context.close()


def _ask(page: Page, question: str):
    """Type and send a question; the locator of the bot's reply to it."""
    replies = page.get_by_test_id("bot")
    before = replies.count()
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    expect(replies).to_have_count(before + 1, timeout=60_000)
    return replies.nth(before)


def test_first_load_says_what_the_bot_is_and_lists_sources_and_examples(page):
    expect(page.get_by_text("The bot answers only with passages quoted word for word")).to_be_visible()
    viewer = page.locator("#source-viewer")
    for title, byline in [("Kazakhstan's failure to find truth about violent clashes", "Amnesty International · 2012-03-22"),
                          ("Four Officers Prosecuted for Kazakh Riot Shootings", "The Moscow Times · date not stated"),
                          ("Hundreds Confront Kazakh Police for 3rd Day", "The Moscow Times · 2011-12-19 · by Reuters, AP")]:
        expect(viewer.get_by_text(title)).to_be_visible()
        expect(viewer.get_by_text(byline)).to_be_visible()
    expect(page.get_by_role("button", name=POSTERS)).to_be_visible()


def test_answer_quotes_passage_with_citation_and_highlight(page):
    reply = _ask(page, POSTERS)
    expect(reply).to_contain_text(SLOGANS)
    expect(reply).to_contain_text("[1]")
    link = reply.get_by_role("link", name="“Hundreds Confront Kazakh Police for 3rd Day”").first
    expect(link).to_have_attribute("href", "https://www.themoscowtimes.com/2011/12/19/"
                                           "hundreds-confront-kazakh-police-for-3rd-day-a11525")
    expect(reply).to_contain_text("The Moscow Times, 2011-12-19, by Reuters, AP")
    expect(reply.locator("mark").first).to_be_visible()


def test_example_button_asks_its_question(page):
    page.get_by_role("button", name=POSTERS).click()
    expect(page.get_by_test_id("bot").first).to_contain_text(SLOGANS, timeout=60_000)


def test_source_viewer_shows_whole_article_with_passage_marked(page, real_qa):
    article = real_qa.index.documents["mt-third-day"].body.split("\n\n")
    _ask(page, POSTERS)
    first = page.get_by_role("radio").first
    expect(first).to_be_visible()
    first.check()
    viewer = page.locator("#source-viewer")
    marked = viewer.locator("#quoted-passage")
    expect(marked).to_be_visible()
    expect(viewer.locator("mark").last).to_have_text(SLOGANS)
    expect(viewer).to_contain_text(article[0])  # the whole article, from its first paragraph to its last
    expect(viewer).to_contain_text(article[-1])
    box, mark_box = viewer.bounding_box(), marked.bounding_box()
    assert box["y"] <= mark_box["y"] <= box["y"] + box["height"], "the marked passage is scrolled into view"


def test_off_topic_question_abstains_with_examples_and_no_quotes(page):
    reply = _ask(page, "Who won the 2018 World Cup?")
    expect(reply).to_contain_text(ABSTAIN_MESSAGE)
    expect(reply).to_contain_text(SUGGESTIONS_HEADING)
    expect(reply).not_to_contain_text("[1]")
    expect(reply.locator("blockquote")).to_have_count(0)
    expect(page.get_by_role("radio")).to_have_count(0)


@pytest.mark.parametrize("payload", [
    "<script>window.__pwned = 1</script>",
    "<img src=x onerror=\"window.__pwned = 1\">",
    "[click me](javascript:window.__pwned=1)",
])
def test_markup_in_question_shows_as_text_and_never_runs(page, payload):
    _ask(page, payload)
    user = page.get_by_test_id("user").last
    expect(user).to_have_text(payload)
    assert page.evaluate("window.__pwned") is None
    assert user.locator("img").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.dialogs == []


def test_clear_button_empties_the_chat(page):
    _ask(page, POSTERS)
    page.get_by_role("button", name="Clear chat").click()
    expect(page.get_by_test_id("bot")).to_have_count(0)
    expect(page.get_by_role("radio")).to_have_count(0)


def test_phone_width_keeps_question_box_and_answer_on_screen(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(app_url)
    reply = _ask(page, POSTERS)
    expect(reply).to_contain_text(SLOGANS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    context.close()


def test_ask_endpoint_returns_what_the_api_returns(app_url, real_qa):
    client = Client(app_url, verbose=False)
    for question in (POSTERS, "Who won the 2018 World Cup?"):
        got, expected = client.predict(question, api_name="/ask"), real_qa.ask(question).to_dict()
        assert verify(Answer.from_dict(got)) == []
        assert [p["passage_id"] for p in got["passages"]] == [p["passage_id"] for p in expected["passages"]]
        for p in got["passages"] + expected["passages"]:
            p["score"] = pytest.approx(p["score"], abs=1e-4)
        assert got == expected
    assert client.predict(POSTERS, 1, api_name="/ask")["passages"][0]["passage_id"] == "mt-third-day#p9"


@pytest.mark.parametrize("question, k, message", [
    ("   ", 3, "the question is empty"),
    ("x" * 1001, 3, "the limit is 1,000"),
    (POSTERS, 0, "it must be from 1 to 10"),
])
def test_ask_endpoint_reports_bad_input_clearly(app_url, question, k, message):
    with pytest.raises(Exception, match=message):
        Client(app_url, verbose=False).predict(question, k, api_name="/ask")


def test_follow_up_shows_what_was_searched(page):
    _ask(page, "Who is being prosecuted for the Zhanaozen shootings?")
    reply = _ask(page, "What are they charged with?")
    expect(reply).to_contain_text("Searched for: Who is being prosecuted for the Zhanaozen shootings? "
                                  "What are they charged with?")
    expect(reply).to_contain_text("dereliction of duty")


def test_death_toll_shows_where_sources_differ(page):
    reply = _ask(page, "How many people were killed?")
    expect(reply).to_contain_text("Sources differ: 14 (The Moscow Times, 2011-12-19); at least 15 (The Moscow Times")
    expect(reply).to_contain_text("twenty-three (reader comment by William Courtney, 2011-12-21)")
    for source in ("The Intel Hub, 2011-12-30", "RFE/RL, 2011-12-21", "Reader comment by William Courtney"):
        expect(reply).to_contain_text(source)
