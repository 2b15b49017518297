"""The chat as people use it: started the way `make run` starts it, driven in headless Chromium,
and its `/ask` endpoint called with gradio_client."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import DEATH_TOLL_LINES
from gradio_client import Client
from playwright.sync_api import Page, expect, sync_playwright

from qa import Answer, verify
from qa.answer.export import FIELDS, answer_text, export, quote_text
from qa.answer.model import ABSTAIN_MESSAGE, SUGGESTIONS_HEADING
from qa.present import Turn, link
from qa_tools.launch import running_app

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
    page.get_by_role("button", name="Open in source viewer: quote 1").click()
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
    expect(reply.get_by_role("button")).to_have_count(0)


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
    expect(page.get_by_role("button", name="Export quotes (JSON)")).to_be_disabled()


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
    # One line per figure: its wordings, then each source stating it (publishers first) with the quotes it comes from.
    # The answering passage first, then every source's figures grouped by source in date order (undated last).
    expect(reply.locator(".differ li")).to_have_text(DEATH_TOLL_LINES)
    for source in ("The Intel Hub, 2011-12-30", "RFE/RL, 2011-12-21", "Reader comment by William Courtney"):
        expect(reply).to_contain_text(source)


# --- Shown exactly as written: a corpus whose passages look like Markdown, LaTeX, links and HTML. ---

# Each paragraph is over 30 words, so it is a passage of its own, starting with "- " or "1986. ".
TRICKY_PASSAGES = [
    "- Police fired on the crowd in the main square at noon, witnesses said, and $$\\color{red}{X}$$ was painted on the "
    "wall of the town hall; see www.example.org and write to press@example.org for the *full* report_of the day, with "
    "`code` and <b>tags</b> & ampersands left as they are.",
    "1986. That was the year the oil field opened, long before the strike of 2011, when the oil workers walked out over "
    "wages and working conditions (see the chart in fig.png) and the \\(escaped\\) figures of https://example.org/stats "
    "were quoted by _everyone_ in the town, ${value} and {{x}} included.",
]
TRICKY_CORPUS = {
    "tricky.md": "---\nid: tricky\ntitle: \"Markup *in* the <title> & [more](x)\"\npublisher: Test_Press\n"
                 "date: 2011-12-19\nauthors: [A. Writer]\nurl: https://example.org/tricky?a=1&b=2\n---\n\n"
                 + "\n\n".join(TRICKY_PASSAGES) + "\n",
    "collection.yaml": "examples:\n  - What was painted on the wall of the town hall?\n",
}
TRICKY_QUESTIONS = ["What was painted on the wall of the town hall?", "When did the oil field open?",
                    "$$\\color{red}{X}$$ www.q.example - Who fired?"]


@pytest.fixture(scope="module")
def tricky_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tricky")
    (folder / "corpus").mkdir()
    for name, text in TRICKY_CORPUS.items():
        (folder / "corpus" / name).write_text(text, encoding="utf-8")
    with running_app({"QA_CORPUS_DIR": str(folder / "corpus"), "QA_INDEX_DIR": str(folder / "index"), "QA_HOST": None},
                     log=folder / "app.log") as running:
        yield running.url


def _context(browser, width: int):
    return browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844}, is_mobile=width < 500,
                               permissions=["clipboard-read", "clipboard-write"])


@pytest.mark.slow  # an app of its own
@pytest.mark.parametrize("width", [1280, 390])
def test_quotes_citations_and_questions_show_exactly_as_written(browser, tricky_url, width):
    context = _context(browser, width)
    page = context.new_page()
    page.goto(tricky_url)
    client = Client(tricky_url, verbose=False)
    quoted = set()
    for asked, question in enumerate(TRICKY_QUESTIONS):
        reply = _ask(page, question)
        user = page.get_by_test_id("user").last
        assert user.evaluate("e => e.innerText") == question
        answer = client.predict(question, api_name="/ask")
        quotes, citations = reply.locator(".quote-text"), reply.locator(".citation")
        expect(quotes).to_have_count(len(answer["passages"]))
        for n, p in enumerate(answer["passages"]):
            assert quotes.nth(n).evaluate("e => e.innerText") == p["text"]
            assert citations.nth(n).evaluate("e => e.innerText") == f"[{n + 1}] {p['citation']}"
            quoted.add(p["text"][:6])
        # Links only in citations, to the document's own URL, and the answer's own link (a fixed control); no
        # formula, list or emphasis made from corpus text.
        assert reply.locator("a:not(.act)").evaluate_all(
            "links => links.map(a => [a.closest('.citation') !== null, a.href])") == \
            [[True, "https://example.org/tricky?a=1&b=2"]] * len(answer["passages"])
        assert reply.locator("a.act").evaluate_all("links => links.map(a => a.search)") == \
            ([link(Turn(question), TRICKY_QUESTIONS[:asked])] if answer["passages"] else [])
        for selector in (".katex", "math", "li", "em", "strong:not(.label strong, .searched strong)", "code", "b"):
            assert reply.locator(selector).count() == 0, selector
        assert user.locator("*").count() == 0
        if answer["passages"]:  # the source viewer shows the passage as written too
            reply.get_by_role("button", name="Open in source viewer: quote 1").click()
            mark = page.locator("#quoted-passage")
            expect(mark).to_be_visible()
            page.wait_for_function("t => document.getElementById('quoted-passage')?.innerText === t",
                                   arg=answer["passages"][0]["text"])
            if width < 500:
                page.get_by_role("button", name="Back to the answer").click()
    assert quoted == {p[:6] for p in TRICKY_PASSAGES}, "both passages were quoted"
    context.close()


# --- Copy and export ---

KILLED = "How many people were killed?"


def _clipboard_after(page: Page, button) -> str:
    page.evaluate("navigator.clipboard.writeText('')")
    button.click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''")
    return page.evaluate("navigator.clipboard.readText()")


def test_copy_puts_plain_quote_comment_and_answer_on_the_clipboard(browser, app_url):
    context = _context(browser, 1280)
    page = context.new_page()
    page.goto(app_url)
    reply = _ask(page, KILLED)
    answer = Answer.from_dict(Client(app_url, verbose=False).predict(KILLED, api_name="/ask"))
    article = next(n for n, p in enumerate(answer.passages, 1) if p.kind == "article" and p.url)
    comment = next(n for n, p in enumerate(answer.passages, 1) if p.kind == "comment")
    for n in (article, comment):
        button = reply.get_by_role("button", name=f"Copy quote {n} with its citation")
        assert _clipboard_after(page, button) == quote_text(answer.passages[n - 1])
    assert "”\nReader comment by William Courtney (Washington DC), 2011-12-21 17:15, posted below “Kazakhstan" in \
        quote_text(answer.passages[comment - 1])
    assert _clipboard_after(page, reply.get_by_role("button", name="Copy answer with all its quotes and citations")) == \
        answer_text(answer)
    context.close()


def test_export_holds_every_quote_of_a_three_question_conversation(browser, app_url):
    context = _context(browser, 1280)
    page = context.new_page()
    page.goto(app_url)
    questions = [POSTERS, "Who is being prosecuted for the Zhanaozen shootings?", "What are they charged with?"]
    for question in questions:
        _ask(page, question)
    client = Client(app_url, verbose=False)
    answers = [Answer.from_dict(client.predict(q, None, questions[:i], api_name="/ask")) for i, q in enumerate(questions)]
    files = {}
    for fmt, name in (("json", "JSON"), ("csv", "CSV"), ("md", "Markdown")):
        with page.expect_download() as download:
            page.get_by_role("button", name=f"Export quotes ({name})").click()
        files[fmt] = Path(download.value.path()).read_text(encoding="utf-8")
        assert download.value.suggested_filename == f"quotes.{fmt}"
    records = json.loads(files["json"])
    expected = json.loads(export(answers, "json"))
    assert [(r["question"], r["quote"], r["passage_id"]) for r in records] == \
        [(r["question"], r["quote"], r["passage_id"]) for r in expected]
    for got, want in zip(records, expected):
        assert {**got, "score": pytest.approx(want["score"], abs=1e-4)} == want
    assert {r["question"] for r in records} == set(questions)
    assert files["csv"].splitlines()[0] == ",".join(FIELDS)
    assert len(list(csv.DictReader(io.StringIO(files["csv"])))) == len(records)
    assert files["md"].count("\n### [") == len(records)
    context.close()


# --- Layout: nothing covers the text, the question stays in view, the phone viewer ---

COVERED = """() => {
  const area = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
                       * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const shown = (el) => { const s = getComputedStyle(el), r = el.getBoundingClientRect();
    return s.visibility !== 'hidden' && Number(s.opacity) > 0 && r.width > 1 && r.height > 1; };
  const clip = (el) => {  // the part of the window, and of every scrolling box around el, that shows el
    let c = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/auto|scroll|hidden/.test(s.overflowX + s.overflowY)) { const b = p.getBoundingClientRect();
        c = {left: Math.max(c.left, b.left), top: Math.max(c.top, b.top), right: Math.min(c.right, b.right),
             bottom: Math.min(c.bottom, b.bottom)}; }
    }
    return c;
  };
  const controls = [...document.querySelectorAll('*')].filter(el => shown(el) && !el.closest('.sr-only') && (
    el.matches('button, label, [role=button], [data-testid=block-label], .block-label') ||
    ['absolute', 'fixed', 'sticky'].includes(getComputedStyle(el).position)));
  const lines = [];
  for (const root of document.querySelectorAll('#chat .reply, #source-viewer .viewer-body')) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
      if (!node.textContent.trim() || node.parentElement.closest('button')) continue;
      const range = document.createRange(); range.selectNodeContents(node);
      const c = clip(node.parentElement);
      for (const r of range.getClientRects()) if (area(r, c) > 0) lines.push([node, r, c]);
    }
  }
  const found = [];
  for (const el of controls) {
    const b = el.getBoundingClientRect();
    for (const [node, r, c] of lines) {
      if (el.contains(node)) continue;
      const seen = {left: Math.max(r.left, c.left), top: Math.max(r.top, c.top), right: Math.min(r.right, c.right),
                    bottom: Math.min(r.bottom, c.bottom)};
      if (area(b, seen) > 1) found.push(`${el.tagName}.${el.className} "${el.innerText?.slice(0, 30)}" over `
                                        + `"${node.textContent.slice(0, 40)}"`);
    }
  }
  return [lines.length, found];
}"""


def _in_view(locator) -> bool:
    """The element's top line shows: inside the window and inside the conversation's scrolling box."""
    return locator.evaluate("""e => { const r = e.getBoundingClientRect(), log = e.closest('.log').getBoundingClientRect();
        return r.top >= Math.max(0, log.top) - 1 && r.top + 16 <= Math.min(innerHeight, log.bottom) + 1; }""")


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_covers_the_text_and_the_question_stays_in_view(browser, app_url, width):
    context = _context(browser, width)
    page = context.new_page()
    page.goto(app_url)
    for question in (KILLED, POSTERS, "What did Amnesty International call for?"):
        _ask(page, question)
        page.wait_for_timeout(400)  # the scroll after the answer is drawn
        assert _in_view(page.get_by_test_id("user").last), f"the question {question!r} is in view"
        assert _in_view(page.locator(".reply .message").last), "so is the start of its answer"
        lines, covered = page.evaluate(COVERED)
        assert lines > 20 and covered == []
        for scroll in (0.5, 1.0):  # the whole conversation, scrolled through
            page.locator("#chat .log").evaluate(f"e => e.scrollTop = e.scrollHeight * {scroll}")
            assert page.evaluate(COVERED)[1] == []
    page.get_by_role("button", name="Open in source viewer: quote 1").last.click()
    expect(page.locator("#quoted-passage")).to_be_visible()
    page.wait_for_timeout(400)
    for scroll in (0, 0.5, 1.0):
        page.locator(".viewer-body").evaluate(f"e => e.scrollTop = e.scrollHeight * {scroll}")
        lines, covered = page.evaluate(COVERED)
        assert lines > 10 and covered == []
    context.close()


def test_phone_opens_a_source_in_place_of_the_answer_and_back_is_one_tap(browser, app_url):
    context = _context(browser, 390)
    page = context.new_page()
    page.goto(app_url)
    _ask(page, POSTERS)
    opener = page.get_by_role("button", name="Open in source viewer: quote 1")
    opener.click()
    marked = page.locator("#quoted-passage")
    expect(marked).to_be_in_viewport()
    expect(page.locator("#chat")).to_be_hidden()
    page.get_by_role("button", name="Back to the answer").click()
    expect(opener).to_be_in_viewport()
    expect(page.get_by_role("button", name="Back to the answer")).to_be_hidden()
    opener.click()  # the same passage again: the viewer's content does not change, it is shown all the same
    expect(marked).to_be_in_viewport()
    expect(page.get_by_role("button", name="Back to the answer")).to_be_focused()
    context.close()


def test_keyboard_alone_asks_copies_and_opens_a_source(browser, app_url):
    context = _context(browser, 1280)
    page = context.new_page()
    page.goto(app_url)
    box = page.get_by_label("Your question")
    box.focus()
    page.keyboard.type(POSTERS)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("bot")).to_have_count(1, timeout=60_000)
    answer = Answer.from_dict(Client(app_url, verbose=False).predict(POSTERS, api_name="/ask"))
    box.focus()
    page.keyboard.press("Shift+Tab")  # the last control of the answer
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == \
        "Copy answer with all its quotes and citations"
    page.evaluate("navigator.clipboard.writeText('')")
    page.keyboard.press("Enter")
    page.wait_for_function("async () => (await navigator.clipboard.readText()) !== ''")
    assert page.evaluate("navigator.clipboard.readText()") == answer_text(answer)
    for _ in range(20):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Open in source viewer: quote 1":
            break
    page.keyboard.press("Enter")
    expect(page.locator("#quoted-passage")).to_be_visible()
    context.close()


def test_every_control_has_a_name_and_highlights_are_more_than_colour(page):
    reply = _ask(page, POSTERS)
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, a, input, textarea, select, [tabindex]')]
        .filter(el => el.getClientRects().length && !(el.getAttribute('aria-label') || el.innerText || el.title
                      || (el.labels && [...el.labels].some(l => l.innerText.trim())) || el.getAttribute('aria-labelledby')))
        .map(el => el.outerHTML.slice(0, 80))""")
    assert unnamed == []
    style = reply.locator("mark").first.evaluate(
        "e => { const s = getComputedStyle(e); return [s.textDecorationLine, Number(s.fontWeight) >= 600]; }")
    assert style == ["underline", True]
    assert reply.get_by_role("mark").count() == reply.locator("mark").count() > 0


def test_a_refused_question_ends_with_one_period(page):
    _ask(page, "x" * 1001)
    expect(page.get_by_test_id("bot").last).to_have_text(
        "Sorry, the question is 1,001 characters long; the limit is 1,000. Ask a shorter question.")
