"""Safe to leave running, in process (docs/RELIABILITY.md, Safe to leave running): settings checked at load, the
corpus as it is (links into sub-folders, edits that keep size and time), text shown as written (direction
controls, carriage returns) and contained (passage and query lengths)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import WordHashEncoder

from qa import QA, Settings, auth, private, verify
from qa.answer.export import quote_text
from qa.answer.model import citation
from qa.config import MAX_FIND_CHARS, ServerSettings
from qa.corpus.documents import Document, load_corpus
from qa.corpus.passages import split_document
from qa.errors import SettingsError
from qa.index import live
from qa.present import Turn, answer_html, citation_html, conversation_html, source_html, source_list
from qa.session import turns_left, with_turn

ROOT = Path(__file__).resolve().parent.parent

# --- every setting checked at load, naming the field (the table of bad values: tests/test_config.py) -----------

def test_never_checking_the_corpus_is_still_a_setting():
    assert Settings.load(["corpus_check_seconds=inf"], env={}).corpus_check_seconds == float("inf")


@pytest.mark.parametrize("value, message", [("nan", "--max-mb is nan; it must be a finite number"),
                                            ("-1", "--max-mb is -1.0; it must be at least 0.001"),
                                            ("inf", "--max-mb is inf; it must be a finite number")])
def test_import_size_limit_is_checked(cli, tmp_path, value, message):
    (tmp_path / "note.txt").write_text("A note.")
    code, out, err = cli("add", str(tmp_path / "note.txt"), "--corpus", str(tmp_path / "corpus"), "--max-mb", value)
    assert (code, out, err) == (2, "", f"error: {message}\n")
    assert not (tmp_path / "corpus").exists()


# --- the corpus as it is --------------------------------------------------------------------------------------

@pytest.fixture
def watched(fixture_settings):
    """The fixture corpus, looked at on every ask."""
    return replace(fixture_settings, corpus_check_seconds=0.0)


INVESTIGATION = "investigation into police weapons"


def test_an_edit_behind_a_link_into_a_sub_folder_is_answered(watched):
    """beta.md is a link to drafts/beta.md: an edit there changes nothing in the corpus folder itself."""
    drafts = watched.corpus_dir / "drafts"
    drafts.mkdir()
    os.replace(watched.corpus_dir / "beta.md", drafts / "beta.md")
    os.symlink("drafts/beta.md", watched.corpus_dir / "beta.md")
    qa = QA(watched, WordHashEncoder())
    assert "opened an investigation" in qa.ask(INVESTIGATION, 1).passages[0].text
    before = os.lstat(watched.corpus_dir / "beta.md")
    target = drafts / "beta.md"
    target.write_text(target.read_text().replace("opened an investigation", "closed the investigation, with regret"))
    assert os.lstat(watched.corpus_dir / "beta.md") == before  # the link itself is as it was
    answer = qa.ask(INVESTIGATION, 1)
    assert "closed the investigation, with regret" in answer.passages[0].text
    assert verify(answer, qa.index) == []


def _edit_keeping_size_and_times(path: Path) -> None:
    before = os.stat(path)
    text = path.read_text()
    path.write_text(text.replace("opened an investigation", "closed an investigation"))  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)


def test_an_edit_keeping_size_and_modification_time_is_answered(watched):
    qa = QA(watched, WordHashEncoder())
    assert "opened an investigation" in qa.ask(INVESTIGATION, 1).passages[0].text
    time.sleep(live.RACY_NS / 1e9)  # the change is then told by its ctime, not by the content hash
    _edit_keeping_size_and_times(watched.corpus_dir / "beta.md")
    assert "closed an investigation" in qa.ask(INVESTIGATION, 1).passages[0].text


def test_an_edit_within_one_timestamp_tick_is_told_by_the_content(watched, monkeypatch):
    """A filesystem whose times do not move between two writes (a coarse tick): the content hash of a file changed
    within RACY_NS tells the edit."""
    monkeypatch.setattr(live, "_stat", lambda st: (st.st_mode, st.st_size, 0, 0, st.st_ino))
    qa = QA(watched, WordHashEncoder())
    path = watched.corpus_dir / "beta.md"
    path.write_text(path.read_text())  # a write just now: the file is racy
    assert "opened an investigation" in qa.ask(INVESTIGATION, 1).passages[0].text
    _edit_keeping_size_and_times(path)
    assert "closed an investigation" in qa.ask(INVESTIGATION, 1).passages[0].text


# --- text contained: passages of bounded length, at sentence boundaries -------------------------------------------

def _document(body: str) -> Document:
    return Document(id="log", title="Log", publisher="P", date=None, authors=(), url=None, seed=None, body=body)


def test_a_long_paragraph_with_single_line_breaks_is_split_at_sentences_with_exact_offsets():
    lines = [f"Line {n} of the field log says the {n % 7}th well was dry. Crews moved on." for n in range(4000)]
    body = "\n".join(lines)  # 279 kB, one paragraph
    records = split_document(_document(body), 30, 1000)
    assert len(body) == 278_889 and len(records) == 286
    assert max(len(r.text) for r in records) <= 1000
    for r in records:
        assert body[r.start:r.end] == r.text
        assert r.text[0] in "LC" and r.text.endswith(".")  # whole sentences
    gaps = [body[a.end:b.start] for a, b in zip(records, records[1:], strict=False)]
    assert set(gaps) == {"\n", " "}  # nothing but the white space between two sentences is left out


def test_a_sentence_over_the_limit_is_cut_at_a_space():
    body = "word " * 100 + "end."
    records = split_document(_document(body), 1, 200)
    assert [len(r.text) for r in records] == [199, 199, 104]
    assert all(body[r.start:r.end] == r.text and not r.text[0].isspace() for r in records)


def test_the_bundled_corpus_passages_are_unchanged_by_the_limit():
    documents = load_corpus(ROOT / "corpus")
    assert ([split_document(d, 30, Settings().max_passage_chars) for d in documents]
            == [split_document(d, 30, 10**9) for d in documents])


def test_an_answer_from_a_long_paragraph_stays_small(fixture_settings):
    (fixture_settings.corpus_dir / "log.md").write_text(
        "---\nid: log\ntitle: Field log\npublisher: Log Wire\n---\n\n"
        + "\n".join(f"Police weapons inspection {n} found the rifles in order." for n in range(5000)) + "\n")
    qa = QA(replace(fixture_settings, max_passage_chars=2000), WordHashEncoder())
    answer = qa.ask("police weapons inspection rifles", 3)
    assert answer.passages and all(len(p.text) <= 2000 for p in answer.passages)
    assert len(answer_html(answer)) < 25_000  # each quote is in the page three times: shown, copied, in the answer
    assert verify(answer, qa.index) == []


# --- text shown as written: direction controls isolated, carriage returns kept -------------------------------------

RLO, PDF_ = "\u202e", "\u202c"


def test_a_direction_override_in_a_title_cannot_reorder_what_follows(fixture_settings):
    path = fixture_settings.corpus_dir / "beta.md"
    path.write_text(path.read_text().replace("title: Beta bulletin", f"title: {RLO}Beta bulletin"))
    qa = QA(fixture_settings, WordHashEncoder())
    passage = qa.ask(INVESTIGATION, 1).passages[0]
    assert passage.title == f"{RLO}Beta bulletin"  # the data as stated
    assert passage.citation == "“\u2068\u202eBeta bulletin\u2069”, Beta Wire, date not stated"
    assert quote_text(passage).splitlines()[1] == passage.citation
    assert citation_html(passage) == "<bdi>“\u2068\u202eBeta bulletin\u2069”</bdi>, Beta Wire, date not stated"
    assert "<h3><bdi>\u202eBeta bulletin</bdi></h3>" in source_html(qa.index.documents["beta"])
    assert "<bdi>\u202eBeta bulletin</bdi><br>" in source_list(qa.sources()).html
    assert verify(qa.ask(INVESTIGATION, 1), qa.index) == []


def test_fields_without_direction_controls_are_unchanged(fixture_qa):
    passage = fixture_qa.ask("How many people died?", 1).passages[0]
    assert passage.citation == citation(fixture_qa.index.documents[passage.doc_id]) or passage.kind == "comment"
    assert "\u2068" not in quote_text(passage) and "<bdi>" not in answer_html(fixture_qa.ask("How many people died?"))


class _Copies(HTMLParser):
    """The text and data-copy attributes of an HTML fragment, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.copies: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.copies += [v or "" for k, v in attrs if k == "data-copy"]

    def handle_data(self, data):
        self.text.append(data)


def test_a_lone_carriage_return_is_shown_and_copied_as_it_is(fixture_settings):
    path = fixture_settings.corpus_dir / "beta.md"
    path.write_bytes(path.read_bytes().replace(b"use of weapons by the police", b"use of weapons\rby the police"))
    qa = QA(fixture_settings, WordHashEncoder())
    passage = qa.ask(INVESTIGATION, 1).passages[0]
    assert "weapons\rby the police" in passage.text
    html = answer_html(qa.ask(INVESTIGATION, 1))
    assert "\r" not in html and "weapons&#13;by the police" in html  # a raw CR would be parsed as a line feed
    parsed = _Copies()
    parsed.feed(html)
    assert passage.text in "".join(parsed.text)
    assert parsed.copies[0] == quote_text(passage) and "weapons\rby" in parsed.copies[0]


# --- every input of a search has a length limit ------------------------------------------------------------------

def test_the_source_finder_refuses_a_long_query_at_once(fixture_qa):
    documents = fixture_qa.sources()
    began = time.perf_counter()
    listing = source_list(documents, "beta " * 180_000)  # 900 kB
    assert time.perf_counter() - began < 0.05
    assert f"The search is 900,000 characters long; the limit is {MAX_FIND_CHARS}" in listing.html
    assert "Beta bulletin" in source_list(documents, "x" * 0 + "beta " * 40).html  # 200 characters: searched


# --- a session's conversation is bounded ----------------------------------------------------------------------------

def test_a_session_takes_max_turns_questions_then_says_what_to_do(fixture_qa):
    server = ServerSettings(max_turns=2)
    turns: list[Turn] = []
    for question in ("How many people died?", "What did rights groups demand?"):
        assert turns_left(turns, server) is None
        turns = with_turn(turns, Turn(question, fixture_qa.ask(question)), server).turns
    assert [t.question for t in turns] == ["How many people died?", "What did rights groups demand?"]
    assert turns_left(turns, server) == ("This conversation has reached 2 questions, the limit of one conversation. "
                                         "Export the quotes you want to keep, then press Clear chat to start a new "
                                         "conversation.")


def test_an_answer_that_would_pass_the_byte_limit_is_not_kept(fixture_qa):
    first = Turn("How many people died?", fixture_qa.ask("How many people died?"))
    one = conversation_html([first])
    server = ServerSettings(max_chat_bytes=max(10_000, len(one.encode())))
    kept = with_turn([], first, server)
    assert (kept.turns, kept.html) == ([first], one)
    big = Turn("x", fixture_qa.ask("How many people died?"))
    while len(conversation_html([first, big]).encode()) <= server.max_chat_bytes:  # grow the second turn past it
        big = Turn(big.question + " x" * 500, big.answer)
    over = with_turn([first], big, server)
    assert over.turns == [first]
    assert over.html.startswith(one) and over.html.endswith(
        f'<p class="message limit" role="status">This answer would take the conversation past '
        f'{server.max_chat_bytes:,} bytes, the limit of one conversation. Export the quotes you want to keep, then '
        "press Clear chat to start a new conversation.</p>")


# --- login: hashed passwords, failed logins limited ------------------------------------------------------------------

def test_a_users_file_holds_hashes_that_check_the_password(tmp_path, monkeypatch, capsys):
    users = tmp_path / "users"
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    assert auth.main([str(users), "alice"]) == 0
    line = users.read_text()
    assert line.startswith("alice:scrypt:16384:8:1:") and "correct horse" not in line
    assert oct(users.stat().st_mode & 0o777) == "0o600"
    check = auth.checker(auth.read_users(users))
    assert (check("alice", "correct horse"), check("alice", "wrong horse"), check("bob", "correct horse")) == \
        (True, False, False)


@pytest.mark.parametrize("text, message", [
    ("", "names no user"),
    ("alice:plain-password\n", "line 1 is not 'name:scrypt:N:r:p:SALT:HASH'"),
    ("# users\nalice:scrypt:16384:8:1:zz:00\n", "line 2 is not"),
])
def test_a_bad_users_file_is_named_with_the_line(tmp_path, text, message):
    (tmp_path / "users").write_text(text)
    with pytest.raises(SettingsError, match=message):
        auth.read_users(tmp_path / "users")


def test_failed_logins_are_limited_per_address_and_logged_without_the_password(caplog):
    limiter = auth.LoginLimiter(attempts=3, window=60)
    with caplog.at_level("WARNING", logger="qa.auth"):
        for t in (0, 1, 2):
            assert limiter.blocked("10.0.0.9", now=t) == 0
            limiter.failed("10.0.0.9", "alice", now=t)
    assert limiter.blocked("10.0.0.9", now=3) == 57  # until the first failure is a minute old
    assert limiter.blocked("10.0.0.8", now=3) == 0  # another address is not
    assert limiter.blocked("10.0.0.9", now=60.5) == 0
    assert [r.getMessage() for r in caplog.records] == [
        f"failed login for user 'alice' from 10.0.0.9 ({n} in the last 60 s)" for n in (1, 2, 3)]


@pytest.mark.parametrize("host, needed", [("127.0.0.1", False), ("localhost", False), ("::1", False),
                                          ("127.0.0.2", False), ("0.0.0.0", True), ("192.168.1.5", True),
                                          ("::", True)])
def test_a_login_is_needed_beyond_loopback(host, needed):
    assert auth.needs_login(host) is needed


# --- the private folder ------------------------------------------------------------------------------------------

def test_a_private_folder_left_by_a_killed_process_is_removed_at_the_next_start(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f"{private.PREFIX}{gone.stdout.strip()}-abc"  # its process has exited
    (left / "gradio" / "exports").mkdir(parents=True)
    (left / "gradio" / "exports" / "quotes.md").write_text("a question")
    alive = tmp_path / f"{private.PREFIX}{os.getpid()}-def"
    alive.mkdir()
    folder = private.private_folder(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, folder.name])
    assert folder.name.startswith(f"{private.PREFIX}{os.getpid()}-") and folder.stat().st_mode & 0o777 == 0o700
