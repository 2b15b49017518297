"""Upload from the page (qa/upload.py): files imported by `qa add`'s own code, within the upload's limits, the setting
that turns it on and off; and the running app driven in headless Chromium at 1280 and 390 px: files chosen, a real
folder dropped (a drag of the folder's path, as the browser makes one from the desktop), too many files, too many MB,
and a question over the new documents."""
from __future__ import annotations

import html
import http.client
import time
from dataclasses import replace
from pathlib import Path

import pytest
import test_app
from conftest import FIXTURE
from playwright.sync_api import Page, expect
from test_app import _ask, _context
from test_incremental import GAMMA
from test_ingest import ARTICLE_HTML, PDF_PAGES, encrypted_pdf, make_docx, make_pdf, write

from qa import upload
from qa.config import ServerSettings
from qa.errors import SettingsError
from qa.ingest.importer import add
from qa_tools.launch import running_app

browser = test_app.browser  # the fixture: one Chromium for the module
ODD = "dam plan (v2) – é#.html"  # spaces, brackets, a dash and a letter beyond ASCII, a '#'
FILES = {"water.pdf": make_pdf(PDF_PAGES), "notes.docx": make_docx(), ODD: ARTICLE_HTML.encode(),
         "locked.pdf": encrypted_pdf()}
LOCKED = "the PDF is encrypted with a password; save an unprotected copy and import that"
SUMMARY = ["added 3, skipped 0, failed 1", f"  added   {ODD} -> dam-plan-v2", f"  failed  locked.pdf: {LOCKED}",
           "  added   notes.docx -> notes", "  added   water.pdf -> water"]


def gradio_copies(folder: Path, files: dict[str, bytes]) -> list[str]:
    """The files as Gradio keeps an upload: each in a folder of its own (named by a digest) under its cache."""
    paths = []
    for n, (name, data) in enumerate(sorted(files.items())):
        paths.append(str(write(folder / f"{n:064x}", {name: data}) / name))
    return paths


def every_file(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


# --- the setting -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, host, share, on", [
    ("auto", "127.0.0.1", False, True), ("auto", "localhost", False, True), ("auto", "::1", False, True),
    ("auto", "0.0.0.0", False, False), ("auto", "192.168.1.5", False, False), ("auto", "127.0.0.1", True, False),
    ("on", "0.0.0.0", False, True), ("on", "127.0.0.1", True, True), ("off", "127.0.0.1", False, False)])
def test_upload_is_off_beyond_this_machine_unless_the_setting_turns_it_on(setting, host, share, on):
    assert upload.enabled(ServerSettings(upload=setting, host=host, share=share)) is on


def test_the_setting_comes_from_the_environment_and_refuses_unknown_values():
    assert ServerSettings.load(env={"QA_UPLOAD": "off", "QA_UPLOAD_MAX_FILES": "7"}).upload_max_files == 7
    assert ServerSettings.load(env={"QA_UPLOAD": "off"}).upload == "off"
    with pytest.raises(SettingsError, match="unknown upload 'yes'; choose one of auto, on, off"):
        ServerSettings(upload="yes")
    with pytest.raises(SettingsError, match="upload_max_mb is 0.0; it must be at least 0.001"):
        ServerSettings(upload_max_mb=0.0)


def test_the_page_has_no_upload_when_it_is_off(fixture_qa, tmp_path):
    from app import build_app
    from qa import web
    off = build_app(fixture_qa, tmp_path / "exports", ServerSettings(host="0.0.0.0", users="u"))
    on = build_app(fixture_qa, tmp_path / "exports", ServerSettings())
    assert [b.elem_id for b in off.blocks.values() if b.elem_id and "upload" in b.elem_id] == []
    assert {b.elem_id for b in on.blocks.values() if b.elem_id and "upload" in b.elem_id} == \
        {"upload-area", "upload-drop", "upload-status"}
    assert web.launch_kwargs(off, ServerSettings(host="0.0.0.0", users="u"))["max_file_size"] == 0
    assert web.launch_kwargs(on, ServerSettings(), upload=True)["max_file_size"] == 100 * 2**20


# --- the import: qa add's code, its summary, nothing written outside the corpus folder ----------------------------

def test_an_upload_is_imported_as_qa_add_imports_it_and_the_next_question_quotes_it(fixture_qa, tmp_path):
    uploads = tmp_path / "gradio"
    paths = gradio_copies(uploads, FILES)
    # The summary `qa add` gives for the same files (named by their paths there).
    by_hand = add([Path(p) for p in paths], tmp_path / "by-hand", progress=False).summary()
    for path in paths:  # qa add names each file by the path it was given
        by_hand = by_hand.replace(path, Path(path).name)
    assert by_hand == "\n".join(SUMMARY)
    before = every_file(tmp_path)
    shown = list(upload.run(paths, fixture_qa, ServerSettings(), uploads))
    # One step before the first file, one per file, one while indexing, the last with the summary.
    assert len(shown) == 1 + len(FILES) + 2
    assert shown[0].count("<progress") == 4 and "reading …" in shown[0] and shown[0].count(">waiting<") == 3
    assert "1 of 4 files read" in shown[1] and "added as dam-plan-v2" in shown[1]
    assert html.escape("\n".join(SUMMARY)) in shown[-1]
    assert "The new documents are indexed: ask about them now." in shown[-1]
    # Gradio's copies are gone; what is new is the corpus folder's three documents (and the index).
    assert every_file(uploads) == set()
    new = {p for p in every_file(tmp_path) - before if p.parts[0] not in ("fixture-index", "by-hand")}
    assert new == {Path("corpus/dam-plan-v2.md"), Path("corpus/notes.md"), Path("corpus/water.md")}
    answer = fixture_qa.ask("What did the town council say about the regulation?")
    assert answer.passages[0].doc_id == "water" and "file water.pdf, p. 2" in answer.passages[0].citation


def test_an_upload_over_the_count_or_the_size_is_refused_whole(fixture_qa, tmp_path):
    uploads = tmp_path / "gradio"
    six = gradio_copies(uploads, {f"n{i}.txt": b"A note on the river." for i in range(6)})
    assert list(upload.run(six, fixture_qa, ServerSettings(upload_max_files=5), uploads)) == [upload.status_html(
        [], [], message="6 files were uploaded; at most 5 are imported at once (upload_max_files): upload them in "
                        "parts. Nothing was imported.")]
    big = gradio_copies(uploads, {"big.txt": b"word " * 300_000})
    [shown] = upload.run(big, fixture_qa, ServerSettings(upload_max_mb=1), uploads)
    assert "the upload is 1.4 MB; at most 1 MB are imported at once (upload_max_mb)" in shown
    assert every_file(uploads) == set() and sorted(p.name for p in fixture_qa.settings.corpus_dir.iterdir()) == \
        sorted(FIXTURE)


def test_a_corpus_folder_that_cannot_be_written_stops_with_a_message(fixture_qa, tmp_path):
    uploads = tmp_path / "gradio"
    paths = gradio_copies(uploads, {"a.txt": b"A note on the river and the town."})
    blocked = replace(fixture_qa.settings, corpus_dir=tmp_path / "a-file")
    (tmp_path / "a-file").write_text("not a folder")
    fixture_qa.settings = blocked
    shown = list(upload.run(paths, fixture_qa, ServerSettings(), uploads))
    assert "the import stopped: File exists" in shown[-1]
    assert every_file(uploads) == set()


def test_only_gradios_copies_are_removed(tmp_path):
    uploads, outside = tmp_path / "gradio", write(tmp_path / "mine", {"keep.txt": b"mine"})
    paths = [Path(p) for p in gradio_copies(uploads, {"a.txt": b"a"})]
    upload.remove_copies([*paths, outside / "keep.txt", uploads / ".." / "mine" / "keep.txt"], uploads)
    assert every_file(tmp_path) == {Path("mine/keep.txt")}


# --- the page, in Chromium ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def upload_app(tmp_path_factory):
    """The chat started as `make run` starts it, over the fixture corpus, with upload's limits lowered to 5 files
    and 1 MB."""
    folder = tmp_path_factory.mktemp("upload")
    write(folder / "corpus", {name: text.encode() for name, text in FIXTURE.items()})
    env = {"QA_CORPUS_DIR": str(folder / "corpus"), "QA_INDEX_DIR": str(folder / "index"), "QA_HOST": None,
           "QA_UPLOAD_MAX_FILES": "5", "QA_UPLOAD_MAX_MB": "1"}
    with running_app(env, log=folder / "app.log") as running:
        yield running, folder


def _open(browser, url: str, width: int) -> Page:
    page = _context(browser, width).new_page()
    page.goto(url)
    page.locator("#upload-drop").wait_for()
    # Every state the upload's status shows, as the browser shows it.
    page.evaluate("""() => { window.seen = [];
      new MutationObserver(() => window.seen.push(document.getElementById('upload-status').innerText))
        .observe(document.getElementById('upload-status'), {childList: true, subtree: true, characterData: true}); }""")
    return page


def _finished(page: Page) -> str:
    status = page.locator("#upload-status .upload-message")
    expect(status).to_have_text("The new documents are indexed: ask about them now.", timeout=60_000)
    return page.locator("#upload-status").inner_text()


def _drop(page: Page, path: Path) -> None:
    """Drag `path` (a folder) from outside the browser and drop it on the upload area, as a person does."""
    box = page.locator("#upload-drop").bounding_box()
    assert box is not None
    cdp = page.context.new_cdp_session(page)
    data = {"items": [], "files": [str(path)], "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": box["x"] + box["width"] / 2,
                                             "y": box["y"] + box["height"] / 2, "data": data})


@pytest.mark.slow  # an app of its own
def test_files_uploaded_at_1280_show_each_files_progress_and_the_summary_then_answer(browser, upload_app, tmp_path):
    running, folder = upload_app
    page = _open(browser, running.url, 1280)
    files = write(tmp_path / "files", FILES)
    started = time.monotonic()
    page.locator("#upload-drop input[type=file]").set_input_files([str(files / name) for name in sorted(FILES)])
    shown = _finished(page)
    took = time.monotonic() - started
    assert page.locator("#upload-status .upload-summary").inner_text() == "\n".join(SUMMARY)
    for name, state in [(ODD, "added as dam-plan-v2"), ("locked.pdf", f"failed: {LOCKED}"),
                        ("notes.docx", "added as notes"), ("water.pdf", "added as water")]:
        row = page.locator("#upload-status .upload-file").filter(has_text=name)
        expect(row.locator(".upload-state")).to_have_text(state)
        expect(row.locator("progress")).to_be_visible()
        assert row.locator("progress").get_attribute("value") == "1"
    assert "4 of 4 files read" in shown
    seen = page.evaluate("window.seen")
    assert any("0 of 4 files read" in s and "reading …" in s for s in seen)  # each file's progress as it came
    assert any("2 of 4 files read" in s for s in seen)
    assert sorted(p.name for p in (folder / "corpus").iterdir()) == sorted(
        [*FIXTURE, "dam-plan-v2.md", "notes.md", "water.md"])
    expect(page.locator("#source-viewer")).to_contain_text("Valley water report")
    reply = _ask(page, "What did the town council say about the regulation?")
    expect(reply).to_contain_text("The town council disagreed. It said the regulation protects the river in dry years.")
    expect(reply).to_contain_text("file water.pdf, pp. 1–3")  # one passage here: its paragraphs are short
    print(f"upload of {len(FILES)} files, imported and indexed: {took:.1f} s")


@pytest.mark.slow
def test_a_folder_dropped_at_390_is_imported_without_its_hidden_files_and_limits_are_told(browser, upload_app,
                                                                                          tmp_path):
    running, folder = upload_app
    page = _open(browser, running.url, 390)
    dropped = write(tmp_path / "trip", {"mayor.txt": b"The mayor of the valley town resigned in April after the "
                                                     b"flood destroyed the old bridge over the river."})
    write(dropped / "photos", {"bridge.txt": b"The new bridge opened in September, built with money from the "
                                            b"region and the town."})
    write(dropped / ".git", {"config.txt": b"hidden: never imported"})
    _drop(page, dropped)
    shown = _finished(page)
    assert page.locator("#upload-status .upload-summary").inner_text() == \
        "added 2, skipped 0, failed 0\n  added   mayor.txt -> mayor\n  added   bridge.txt -> bridge"
    assert "2 of 2 files read" in shown and "config" not in shown
    expect(page.locator("#upload-status progress")).to_have_count(2)
    for bar in page.locator("#upload-status progress").all():
        expect(bar).to_be_visible()
    # Too many files: refused whole, with the limit named.
    many = write(tmp_path / "many", {f"n{i}.txt": f"Note {i} on the river.".encode() for i in range(6)})
    page.locator("#upload-drop input[type=file]").set_input_files([str(p) for p in sorted(many.iterdir())])
    expect(page.locator("#upload-status")).to_have_text(
        "6 files were uploaded; at most 5 are imported at once (upload_max_files): upload them in parts. Nothing "
        "was imported.", timeout=30_000)
    # Too many MB: refused before it is read (413 from the guard), and the page says why.
    two = write(tmp_path / "two", {"a.txt": b"river " * 120_000, "b.txt": b"water " * 120_000})
    page.locator("#upload-drop input[type=file]").set_input_files([str(two / "a.txt"), str(two / "b.txt")])
    expect(page.get_by_text("the upload is 1.4 MB; at most 1 MB may be uploaded at once (upload_max_mb)")) \
        .to_be_visible(timeout=30_000)
    assert not (folder / "corpus" / "n0.md").exists() and not (folder / "corpus" / "a.md").exists()


@pytest.mark.slow
def test_the_upload_route_is_bounded_before_it_reads(upload_app):
    running, _ = upload_app

    def post(headers: dict[str, str]) -> tuple[int, str]:
        # The headers alone: the answer comes before any of the body is sent (sending a body after it would race the
        # server's closing of the connection, a broken pipe).
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        conn.putrequest("POST", "/gradio_api/upload")
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        reply = conn.getresponse()
        text = reply.read().decode()
        conn.close()
        return reply.status, text
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    assert post({**form, "Content-Length": str(2 * 2**20)}) == (
        413, "the upload is 2.0 MB; at most 1 MB may be uploaded at once (upload_max_mb): upload fewer files at a time")
    assert post({**form, "Transfer-Encoding": "chunked"}) == (411, "an upload needs one Content-Length header")


@pytest.mark.slow  # an app of its own
def test_with_upload_off_the_page_has_none_and_the_route_takes_no_file(browser, tmp_path):
    env = {"QA_CORPUS_DIR": str(write(tmp_path / "corpus", {n: t.encode() for n, t in FIXTURE.items()})),
           "QA_INDEX_DIR": str(tmp_path / "index"), "QA_HOST": None, "QA_UPLOAD": "off"}
    with running_app(env, log=tmp_path / "app.log") as running:
        page = _context(browser, 1280).new_page()
        page.goto(running.url)
        expect(page.get_by_label("Your question")).to_be_visible()
        assert page.locator("#upload-drop, #upload-status, input[type=file]").count() == 0
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        conn.request("POST", "/gradio_api/upload", body=b"--x\r\nContent-Disposition: form-data; name=\"files\"; "
                     b"filename=\"x.txt\"\r\n\r\nnot wanted\r\n--x--\r\n",
                     headers={"Content-Type": "multipart/form-data; boundary=x"})
        reply = conn.getresponse()
        assert (reply.status, reply.read().decode()) == (413, "File size exceeded maximum allowed size of 0 bytes.")


@pytest.mark.slow  # an app of its own
def test_a_page_opened_after_the_corpus_folder_changed_lists_its_sources_as_they_are(browser, tmp_path):
    """A document put in the folder by another program while the app runs (`python -m qa add`, a sync) is in the
    source list and the source filter of every page opened after it, not only after an upload of this page's."""
    corpus = write(tmp_path / "corpus", {n: t.encode() for n, t in FIXTURE.items()})
    env = {"QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index"), "QA_HOST": None,
           "QA_CORPUS_CHECK_SECONDS": "0"}
    with running_app(env, log=tmp_path / "app.log") as running:
        before = _context(browser, 1280).new_page()
        before.goto(running.url)
        expect(before.locator("#source-viewer")).to_contain_text("Alpha report")
        assert "Gamma gazette" not in before.locator("#source-viewer").inner_text()
        (corpus / "gamma.md").write_text(GAMMA, encoding="utf-8")
        page = _context(browser, 390).new_page()
        page.goto(running.url)
        expect(page.locator("#source-viewer")).to_contain_text("Gamma gazette")
        assert "updated (" in (tmp_path / "app.log").read_text()
