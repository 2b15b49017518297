"""The README's screenshots of the chat, taken in Debian's Chromium from the app as `make run` starts it:
`python -m qa_tools.screenshots [--url URL] [--out docs] [--archive | --desk | --upload]`."""
from __future__ import annotations

import argparse
import re
from contextlib import nullcontext
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from qa.config import ROOT
from qa_tools.launch import running_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
POSTERS = "What did the posters in Astana say?"
UNKNOWN_NAME = "Who is Vadim Kuramshin?"  # a name no article mentions: 'uncertain'
OFF_TOPIC = "Who won the 2018 World Cup?"  # abstains


def ask(page: Page, question: str) -> None:
    replies = page.get_by_test_id("bot")
    before = replies.count()
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    replies.nth(before).wait_for(timeout=60_000)
    page.wait_for_timeout(600)  # the scroll to the new question


def take(url: str, out: Path) -> list[Path]:
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, height, name in ((1280, 900, "chat-answer"), (390, 844, "chat-phone")):
            page = browser.new_page(viewport={"width": width, "height": height}, is_mobile=width < 500)
            page.goto(url)
            ask(page, POSTERS)
            page.screenshot(path=out / f"{name}.png")
            page.get_by_role("button", name="Open in source viewer: quote 1").click()
            page.locator("#quoted-passage").wait_for()
            page.wait_for_timeout(600)
            page.screenshot(path=out / ("source-viewer.png" if width > 500 else "phone-source.png"))
            shots += [out / f"{name}.png", out / ("source-viewer.png" if width > 500 else "phone-source.png")]
            if width > 500:
                ask(page, "How many people were killed?")
                page.screenshot(path=out / "sources-differ.png")
                ask(page, "Who is being prosecuted for the Zhanaozen shootings?")
                ask(page, "What are they charged with?")
                page.screenshot(path=out / "follow-up.png")
                ask(page, UNKNOWN_NAME)
                page.screenshot(path=out / "chat-uncertain.png")
                shots += [out / "sources-differ.png", out / "follow-up.png", out / "chat-uncertain.png"]
            else:
                page.get_by_role("button", name="Back to the answer").click()
                ask(page, OFF_TOPIC)
                page.screenshot(path=out / "chat-abstained-phone.png")
                shots.append(out / "chat-abstained-phone.png")
            page.close()
        browser.close()
    return shots


def take_desk(url: str, out: Path) -> list[Path]:
    """The reporter's desk at 1280 px: a search with a hit opened in the viewer, a source read whole from the list,
    and the collection of starred passages."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.get_by_role("tab", name="Search").click()
        page.get_by_label("Find passages").fill('"oil workers" police')
        page.get_by_label("Find passages").press("Enter")
        page.locator("#search .count").wait_for(timeout=30_000)
        page.get_by_role("button", name="Open in source viewer: hit 1").click()
        page.locator("#quoted-passage").wait_for()
        page.wait_for_timeout(600)
        page.screenshot(path=out / "search.png")
        page.get_by_role("button", name="Star hit 1: keep it in the collection").click()
        page.get_by_role("button", name="All sources").click()
        page.get_by_role("button", name="Read the whole of Kazakhstan's failure to find truth about violent clashes").click()
        page.locator("#source-viewer h3").wait_for()
        page.wait_for_timeout(600)
        page.screenshot(path=out / "document-view.png")
        page.get_by_role("tab", name="Ask").click()
        ask(page, POSTERS)
        page.get_by_role("button", name="Star quote 1: keep it in the collection").click()
        page.get_by_role("tab", name="Collection").click()
        page.get_by_text("2 starred passages").wait_for(timeout=30_000)
        page.screenshot(path=out / "collection.png")
        browser.close()
    return [out / "search.png", out / "document-view.png", out / "collection.png"]


ARCHIVE = ROOT / "docs" / "example-archive"  # a PDF, a Word file and a web page, imported with `qa add`
ARCHIVE_QUESTION = "What did the town council say about the regulation?"


def take_archive(out: Path) -> Path:
    """The chat over docs/example-archive imported into a temporary corpus: a PDF passage cited with its page."""
    import tempfile

    from qa.ingest.importer import add
    with tempfile.TemporaryDirectory() as tmp:
        add([ARCHIVE], Path(tmp) / "corpus", progress=False)
        env: dict[str, str | None] = {"QA_CORPUS_DIR": str(Path(tmp) / "corpus"), "QA_INDEX_DIR": str(Path(tmp) / "index")}
        with running_app(env) as app, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app.url)
            ask(page, ARCHIVE_QUESTION)
            page.screenshot(path=out / "chat-archive.png")
            browser.close()
    return out / "chat-archive.png"


def take_upload(out: Path) -> list[Path]:
    """Upload from the page, over a copy of the bundled corpus: docs/example-archive's files and a spreadsheet chosen
    at 1280 px, each file's line and the summary; the same files again at 390 px, skipped as duplicates."""
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "corpus", Path(tmp) / "corpus")
        sheet = Path(tmp) / "figures.xlsx"
        sheet.write_bytes(b"PK\x03\x04 not read")
        files = [str(f) for f in sorted(ARCHIVE.iterdir())] + [str(sheet)]
        env: dict[str, str | None] = {"QA_CORPUS_DIR": str(Path(tmp) / "corpus"), "QA_INDEX_DIR": str(Path(tmp) / "index"),
                                      "QA_HOST": None}
        shots = []
        with running_app(env) as app, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for width, name in ((1280, "upload.png"), (390, "upload-phone.png")):
                page = browser.new_page(viewport={"width": width, "height": 900 if width > 500 else 844})
                page.goto(app.url)
                page.locator("#upload-drop input[type=file]").set_input_files(files)
                done = page.locator("#upload-status .upload-message").filter(has_text=re.compile("indexed|Nothing new"))
                done.wait_for(timeout=120_000)
                page.wait_for_timeout(300)
                page.locator("#upload-status .upload-message").scroll_into_view_if_needed()
                page.screenshot(path=out / name)
                shots.append(out / name)
            browser.close()
    return shots


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", help="a running app (default: start one as `make run` does)")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--archive", action="store_true", help="only the chat over docs/example-archive (qa add)")
    p.add_argument("--desk", action="store_true", help="only search, the document view and the collection")
    p.add_argument("--upload", action="store_true", help="only upload from the page, at 1280 and 390 px")
    args = p.parse_args()
    if args.archive:
        print(take_archive(args.out))
        return
    if args.upload:
        print(*take_upload(args.out), sep="\n")
        return
    with nullcontext(args.url) if args.url else running_app() as app:
        url = app if isinstance(app, str) else app.url
        for path in (take_desk if args.desk else take)(url, args.out):
            print(path)


if __name__ == "__main__":
    main()
