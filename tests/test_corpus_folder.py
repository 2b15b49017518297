"""The corpus folder is input: every entry that is not a regular `.md` file is skipped with one log line, what cannot
be read safely is refused with an error naming it, and nothing hangs or ends in a traceback, from every entry point
(docs/RELIABILITY.md, corpus folder)."""
import json
import logging
import os
import random
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE, ROOT, WordHashEncoder

from qa import QA, Answer, CorpusError, Settings, verify
from qa.answer.model import ABSTAIN_MESSAGE
from qa.corpus import documents
from qa.corpus.collection import load_collection
from qa.corpus.documents import corpus_checksum, load_corpus

ALPHA = FIXTURE["alpha.md"]


def _fifo(folder: Path, name: str) -> None:
    os.mkfifo(folder / name)


def _socket(folder: Path, name: str) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / name))
    sock.close()  # the socket file stays


def _not_utf8_name(folder: Path, name: str) -> None:
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.md"), "wb") as f:
        f.write(ALPHA.replace("id: alpha", "id: cafe").encode())


def _link_to_fifo(folder: Path, name: str) -> None:
    os.mkfifo(folder / "pipe")
    (folder / name).symlink_to("pipe")


SKIPPED = [
    ("FIFO", "x.md", _fifo, "a named pipe (FIFO), not a file"),
    ("socket", "s.md", _socket, "a socket, not a file"),
    ("directory", "notes.md", lambda f, n: (f / n).mkdir(), "a folder, not a file"),
    ("dangling link", "gone.md", lambda f, n: (f / n).symlink_to(f / "nowhere.md"),
     "a symbolic link to nothing (an editor's lock file, or its target was removed)"),
    ("link to a FIFO", "p.md", _link_to_fifo, "a link to a named pipe (FIFO), not a file"),
    ("Emacs lock", ".#alpha.md", lambda f, n: (f / n).symlink_to("root@host.4242:1700000000"),
     "an editor's lock, auto-save, backup or swap file"),
    ("Emacs auto-save", "#alpha.md#", lambda f, n: (f / n).write_text(ALPHA),
     "an editor's lock, auto-save, backup or swap file"),
    ("backup", "alpha.md~", lambda f, n: (f / n).write_text(ALPHA), "an editor's lock, auto-save, backup or swap file"),
    ("Vim swap", ".alpha.md.swp", lambda f, n: (f / n).write_bytes(b"b0VIM 9.0\0"),
     "an editor's lock, auto-save, backup or swap file"),
    ("hidden file", "._alpha.md", lambda f, n: (f / n).write_bytes(b"\0\x05\x16\x07"), "a hidden file"),
    ("name not UTF-8", "'caf\\xe9.md'", _not_utf8_name, "its name is not UTF-8; rename the file to have it read"),
    ("collection.yaml a FIFO", "collection.yaml", lambda f, n: ((f / n).unlink(), _fifo(f, n)),
     "a named pipe (FIFO), not a file"),
]


@pytest.fixture(autouse=True)
def _fresh_log():
    """Each test sees its own one line per entry (the log is once per process and folder)."""
    documents._reported.clear()


@pytest.mark.parametrize("case, name, make, why", SKIPPED, ids=[c[0] for c in SKIPPED])
def test_entries_that_are_not_regular_md_files_are_skipped_with_one_log_line(fixture_settings, caplog, case, name,
                                                                              make, why):
    folder = fixture_settings.corpus_dir
    make(folder, name)
    caplog.set_level(logging.WARNING, "qa.corpus")
    for _ in range(3):  # listing, checksum and loading read the folder again: still one line
        assert [d.id for d in load_corpus(folder, fixture_settings)] == ["alpha", "alpha/comment-1", "beta"]
        corpus_checksum(folder, fixture_settings)
    qa = QA(fixture_settings, WordHashEncoder())
    assert verify(qa.ask("police"), qa.index) == []
    assert [r.getMessage() for r in caplog.records if r.name == "qa.corpus"] == [f"skipping {name} in {folder}: {why}"]


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def _doc(fields: str, body: str = "Some text to quote.\n") -> str:
    return f"---\n{fields}\n---\n{body}"


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, "
                                                         f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
REFUSED = [
    ("link out of the folder", lambda f: (f / "outside.md").symlink_to(f.parent / "elsewhere.md"),
     "outside.md: a symbolic link to {tmp}/elsewhere.md, outside the corpus folder {tmp}/corpus; copy the file into "
     "the folder, or set follow_external_links in qa/config.py"),
    ("url: 12345", lambda f: _write(f, "bad.md", _doc("id: x\ntitle: T\npublisher: P\nurl: 12345")),
     "bad.md: field 'url' must be text, not a number (put it in quotes to make it text)"),
    ("title: [a, b]", lambda f: _write(f, "bad.md", _doc("id: x\ntitle: [a, b]\npublisher: P")),
     "bad.md: field 'title' must be text, not a list"),
    ("date as a YAML date", lambda f: _write(f, "bad.md", _doc("id: x\ntitle: T\npublisher: P\ndate: !!timestamp 2011-12-19")),
     "bad.md: field 'date' must be text, not a YAML date (write it as plain text, such as 2011-12-19)"),
    ("boolean title", lambda f: _write(f, "bad.md", _doc("id: x\ntitle: yes\npublisher: P")),
     "bad.md: field 'title' must be text, not true/false (yes, no, on and off are read so; put the text in quotes)"),
    ("nested map", lambda f: _write(f, "bad.md", _doc("id: x\ntitle: T\npublisher: {name: P, country: KZ}")),
     "bad.md: field 'publisher' must be text, not a map of fields"),
    ("number id", lambda f: _write(f, "bad.md", _doc("id: 2011\ntitle: T\npublisher: P")),
     "bad.md: field 'id' must be text, not a number (put it in quotes to make it text)"),
    ("comment author a number", lambda f: _write(f, "bad.md", _doc(
        "id: x\ntitle: T\npublisher: P\ncomments:\n- id: c1\n  author: 5", "text\n\n## Reader comment: c1\n\nhi\n")),
     "bad.md: field 'comments.c1.author' must be text, not a number (put it in quotes to make it text)"),
    ("alias bomb", lambda f: _write(f, "bad.md", _doc(f"id: x\ntitle: *j\npublisher: P\n{BOMB}")),
     "bad.md: front matter uses an anchor or alias (&name or *name, line 2); write each value out in full"),
    ("one anchor", lambda f: _write(f, "bad.md", _doc("id: &i x\ntitle: T\npublisher: P")),
     "bad.md: front matter uses an anchor or alias (&name or *name, line 1); write each value out in full"),
    ("duplicate key", lambda f: _write(f, "bad.md", _doc("id: x\ntitle: T\ntitle: U\npublisher: P")),
     "bad.md: front matter gives the field 'title' twice (lines 2 and 3); keep one"),
    ("deep nesting", lambda f: _write(f, "bad.md", _doc("id: x\ntitle: " + "[" * 100_000 + "\npublisher: P")),
     "bad.md: front matter is nested too deeply to read; write plain fields"),
    ("over the size limit", lambda f: _write(f, "big.md", _doc("id: big\ntitle: T\npublisher: P", "word " * 1_000_001)),
     "big.md: over 5,000,000 bytes, the limit for one document (max_document_bytes in qa/config.py); split it into "
     "smaller documents"),
    ("collection.yaml a link out of the folder", lambda f: (f / "collection.yaml").symlink_to(f.parent / "elsewhere.md"),
     "collection.yaml: a symbolic link to {tmp}/elsewhere.md, outside the corpus folder {tmp}/corpus; copy the file "
     "into the folder, or set follow_external_links in qa/config.py"),
    ("collection.yaml not UTF-8", lambda f: (f / "collection.yaml").write_bytes(b"title: Who fired?\n\xff\n"),
     "collection.yaml: not UTF-8 (byte 0xff at offset 18); save the file as UTF-8"),
    ("collection.yaml alias", lambda f: (f / "collection.yaml").write_text("title: &t T\ndescription: *t\n"),
     "collection.yaml uses an anchor or alias (&name or *name, line 1); write each value out in full"),
    ("collection.yaml unknown field", lambda f: (f / "collection.yaml").write_text("name: T\n"),
     "collection.yaml: unknown field 'name'; the fields are title, description, examples"),
    ("collection.yaml examples not a list", lambda f: (f / "collection.yaml").write_text("examples: Who fired?\n"),
     "collection.yaml: field 'examples' must be a list of questions, one per line starting with '- '"),
]


def _refused(tmp_path: Path, make) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    _write(folder, "alpha.md", ALPHA)
    (tmp_path / "elsewhere.md").write_text(FIXTURE["beta.md"])
    make(folder)
    return folder


def _load_everything(folder: Path, settings) -> None:
    load_corpus(folder, settings)
    load_collection(folder, settings)


@pytest.mark.parametrize("case, make, message", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_cannot_be_read_safely_is_refused_with_file_and_field(tmp_path, case, make, message):
    folder = _refused(tmp_path, make)
    settings = replace(Settings(), corpus_dir=folder, index_dir=tmp_path / "index")
    expected = message.format(tmp=tmp_path)
    with pytest.raises(CorpusError) as info:
        _load_everything(folder, settings)
        QA(settings, WordHashEncoder())
    assert str(info.value) == expected
    problems = verify(Answer("q", True, message=ABSTAIN_MESSAGE), settings=settings)
    assert problems == [f"the corpus cannot be read, so nothing can be checked against it: {expected}"]


def test_a_link_out_of_the_folder_is_read_when_the_setting_allows_it(tmp_path):
    folder = _refused(tmp_path, REFUSED[0][1])
    settings = replace(Settings(), corpus_dir=folder, follow_external_links=True)
    assert [d.id for d in load_corpus(folder, settings)] == ["alpha", "alpha/comment-1", "beta"]


def test_a_link_inside_the_folder_is_read(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    _write(folder / "sub", "beta.txt", FIXTURE["beta.md"])
    (folder / "beta.md").symlink_to("sub/beta.txt")
    assert [d.id for d in load_corpus(folder)] == ["beta"]


def _cli(*args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, **env})


CLI_REFUSED = [c for c in REFUSED if c[0] in ("link out of the folder", "url: 12345", "alias bomb", "duplicate key",
                                              "over the size limit")]


@pytest.mark.parametrize("command", [("index",), ("ask", "Who fired?")])
@pytest.mark.slow  # `python -m qa` in a process of its own
@pytest.mark.parametrize("case, make, message", CLI_REFUSED, ids=[c[0] for c in CLI_REFUSED])
def test_the_cli_refuses_with_one_error_line(tmp_path, command, case, make, message):
    folder = _refused(tmp_path, make)
    result = _cli(*command, env={"QA_CORPUS_DIR": str(folder), "QA_INDEX_DIR": str(tmp_path / "index")})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == "error: " + message.format(tmp=tmp_path)
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # app.py in a process of its own
def test_the_app_refuses_to_start_with_one_error_line(tmp_path):
    folder = _refused(tmp_path, REFUSED[1][1])
    result = subprocess.run([sys.executable, "app.py", "--port", "0"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "QA_CORPUS_DIR": str(folder),
                                              "QA_INDEX_DIR": str(tmp_path / "index")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "error: " + REFUSED[1][2]


@pytest.mark.slow
def test_the_cli_skips_every_odd_entry_once_and_answers(fixture_settings):
    """`python -m qa index` then `ask` (the real model) on a folder holding one of every skipped kind: one log line
    each, no hang, no traceback."""
    folder = fixture_settings.corpus_dir
    for case, name, make, why in SKIPPED:
        make(folder, name)
    env = {"QA_CORPUS_DIR": str(folder), "QA_INDEX_DIR": str(fixture_settings.index_dir)}
    built = _cli("index", env=env, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr
    expected = sorted(f"qa.corpus: skipping {name} in {folder}: {why}" for case, name, make, why in SKIPPED)
    # `index` does not read the example questions; `ask` (a new process, so its own lines) does.
    assert _skip_lines(built.stderr) == [line for line in expected if "collection.yaml" not in line]
    asked = _cli("ask", "Who fired on the oil workers?", "-k", "1", env=env)
    assert asked.returncode == 0 and "Traceback" not in asked.stderr
    assert _skip_lines(asked.stderr) == expected
    assert "Police fired on striking oil workers" in asked.stdout


def _skip_lines(stderr: str) -> list[str]:
    return sorted(line for line in stderr.splitlines() if line.startswith("qa.corpus: skipping"))


# --- terminal control characters from the corpus ----------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("\x1b[31mred\x1b[0m", "\\u001b[31mred\\u001b[0m"),  # ANSI colour
    ("done\rOVERWRITTEN", "done\\u000dOVERWRITTEN"),  # carriage return rewrites the line
    ("\x9b2J", "\\u009b2J"),  # C1 CSI: clear screen
    ("bell\x07 del\x7f nul\x00", "bell\\u0007 del\\u007f nul\\u0000"),
    ("line\nnext\ttab “quote” Жаңаөзен", "line\nnext\ttab “quote” Жаңаөзен"),  # kept as they are
])
def test_printable_shows_control_characters_as_escapes(text, shown):
    from qa.safe_text import printable
    assert printable(text) == shown


@pytest.mark.slow
def test_cli_prints_control_characters_of_the_corpus_as_escapes(fixture_settings):
    folder = fixture_settings.corpus_dir
    _write(folder, "alpha.md", ALPHA.replace("Police fired", "\x1b[2J\x1b[31mPolice\x9b0m fired\r"))
    env = {"QA_CORPUS_DIR": str(folder), "QA_INDEX_DIR": str(fixture_settings.index_dir)}
    shown = _cli("ask", "Who fired on the oil workers?", "-k", "1", env=env, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "\\u001b[2J\\u001b[31mPolice\\u009b0m fired\\u000d" in shown.stdout
    assert not any(c in shown.stdout for c in "\x1b\x9b\r")
    as_json = _cli("ask", "Who fired on the oil workers?", "-k", "1", "--json", env=env)
    assert not any(c in as_json.stdout for c in "\x1b\x9b\r")
    assert json.loads(as_json.stdout)["passages"][0]["text"].startswith("\x1b[2J\x1b[31mPolice\x9b0m fired\r")


def test_on_a_terminal_only_the_highlight_marks_are_controls(fixture_settings):
    """Highlights in bold and underlined on a terminal: those two escapes are the CLI's own; the corpus's are shown."""
    from qa.terminal import BOLD_UNDERLINE, RESET, format_answer
    folder = fixture_settings.corpus_dir
    _write(folder, "alpha.md", ALPHA.replace("Police fired", "\x1b[2J\x1b[31mPolice\x9b0m fired\r"))
    answer = QA(fixture_settings, WordHashEncoder()).ask("Who fired on the oil workers?", k=1)
    shown = format_answer(answer, tty=True)
    assert "\\u001b[2J\\u001b[31mPolice\\u009b0m fired\\u000d" in shown
    assert shown.count("\x1b") == shown.count(BOLD_UNDERLINE) + shown.count(RESET) == 2 * len(answer.passages[0].highlights)
    assert not any(c in shown for c in "\x9b\r")


def _outcome(read, text):
    try:
        return read(text)
    except CorpusError as exc:
        return str(exc)


def test_front_matter_reads_the_same_through_libyaml_as_through_pyyaml():
    """load_yaml reads front matter without FAST_YAML_UNSAFE with libyaml: over 3,000 random edits of the fixture
    corpus's front matter, what it reads, or the error it reports, is what PyYAML alone gives."""
    def pyyaml_only(text):
        try:
            return yaml.load(text, Loader=documents._Loader)
        except yaml.YAMLError as exc:
            raise CorpusError(f"x: front matter {exc}" if isinstance(exc, documents._Refused)
                              else f"x: front matter is not valid YAML ({exc})") from None

    rng = random.Random(3)
    alphabet = list(":-#'\"\n []{},|>!%@`\\\x85\u2028\x00é0a") + ["null", "2011-12-99", "yes", "1e3"]
    sources = [FIXTURE[name].split("---\n")[1] for name in ("alpha.md", "beta.md")] + [FIXTURE["collection.yaml"]]
    fast = 0
    for n in range(3000):
        text = list(sources[n % len(sources)])
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(text) + 1)
            if rng.random() < 0.5:
                text.insert(i, rng.choice(alphabet))
            elif text:
                del text[min(i, len(text) - 1)]
        edited = "".join(text)
        fast += not any(c in edited for c in documents.FAST_YAML_UNSAFE)
        assert _outcome(lambda t: documents.load_yaml(t, "x: front matter"), edited) == _outcome(pyyaml_only, edited)
    assert fast == 2000  # the two articles' front matter took the fast path; collection.yaml's questions hold '?'
