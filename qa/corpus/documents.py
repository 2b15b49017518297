"""Load the corpus: Markdown files with YAML front matter, one per source page.

The corpus folder is input, and may one day hold users' own archives: every entry is looked at without being opened
(a FIFO would block the open forever), and only regular `.md` files are read. Others are skipped with one log line
each; what cannot be read safely is refused with a CorpusError naming it (docs/RELIABILITY.md, corpus folder)."""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from qa.config import Settings
from qa.errors import CorpusError

log = logging.getLogger("qa.corpus")

COMMENT_MARKER = re.compile(r"^## Reader comment: (\S+)[ \t]*$", re.MULTILINE)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")
DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # no '/' or '#': they separate comment and passage ids
WORD = re.compile(r"\w")
REQUIRED = ("id", "title", "publisher")
TEXT_FIELDS = ("id", "title", "publisher", "url", "seed")


class _Refused(yaml.YAMLError):
    """YAML that is valid but not accepted in front matter; the message says what to change."""


class _Fields(yaml.constructor.SafeConstructor):
    """Refuses a key given twice (YAML would silently keep the last value)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _Refused(f"gives the field {key!r} twice (lines {seen[key]} and "
                                   f"{key_node.start_mark.line + 1}); keep one")
                seen[key] = key_node.start_mark.line + 1
            except TypeError:  # an unhashable key: SafeLoader reports it below
                break
        return super().construct_mapping(node, deep)


class _Loader(_Fields, yaml.SafeLoader):
    """Safe YAML that keeps dates as written, so that an impossible date is reported with its field's name. Anchors
    and aliases are refused before anything is built (ten nested aliases make a billion strings), and so is a key
    given twice."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1
            raise _Refused(f"uses an anchor or alias (&name or *name, line {line}); write each value out in full")
        return super().compose_node(parent, index)


class _FastLoader(_Fields, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser, several times as fast on front matter. It composes in C, where _Loader's check for anchors
    cannot run, so it reads only text without FAST_YAML_UNSAFE; any error is reported by _Loader, as before."""


# No anchor or alias can be written without '&' or '*'. With a tab, a '?' or a byte-order mark, libyaml and PyYAML
# can read the same text differently: two differential runs over 5,292 randomly edited front matters found those
# three, and a third run of 15,820 without them found no difference.
FAST_YAML_UNSAFE = "&*\t?\ufeff"


_Loader.yaml_implicit_resolvers = _FastLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


@dataclass(frozen=True)
class Document:
    """One quotable text: an article, or a reader comment posted below one."""

    id: str
    title: str
    publisher: str
    date: str | None
    authors: tuple[str, ...]
    url: str | None
    seed: str | None
    body: str
    kind: str = "article"  # "article" | "comment"
    comment_author: str | None = None
    comment_location: str | None = None
    parent_id: str | None = None
    # Provenance of a document imported with `qa add` (see "Imported documents" below); None for the others.
    source_file: str | None = None
    source_sha256: str | None = None
    imported: str | None = None
    importer: str | None = None
    pages: tuple[int, ...] | None = None  # PDF: the body offset where each page starts


def normalise_body(text: str) -> str:
    """Non-breaking spaces become spaces, lines inside a paragraph are joined, paragraphs are split by one blank line."""
    paragraphs = re.split(r"\n[ \t\xa0]*\n", text.replace("\r\n", "\n"))
    joined = (re.sub(r"[ \t\xa0]*\n[ \t\xa0]*", " ", p.replace("\xa0", " ")).strip() for p in paragraphs)
    return "\n\n".join(p for p in joined if p)


def _iso(value, path: Path, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        if not ISO_DATE.match(value):
            raise ValueError
        dt.datetime.fromisoformat(value)  # a real date: not 2011-02-30
    except ValueError:
        raise CorpusError(f"{path.name}: field '{field}' is {value!r}; "
                          "write an ISO date such as 2011-12-19, or leave it empty") from None
    return value


def _kind_of(value: object) -> str:
    """What a YAML value is, in the words of a message."""
    if isinstance(value, bool):
        return "true/false (yes, no, on and off are read so; put the text in quotes)"
    if isinstance(value, (int, float)):
        return "a number (put it in quotes to make it text)"
    if isinstance(value, (dt.date, dt.datetime)):
        return "a YAML date (write it as plain text, such as 2011-12-19)"
    names: dict[type, str] = {list: "a list", dict: "a map of fields", bytes: "binary data", set: "a set"}
    return names.get(type(value), type(value).__name__)


def _text(meta: dict, name: str, path: Path, where: str = "") -> None:
    """The field is text or empty; otherwise a CorpusError naming the file and the field."""
    value = meta.get(name)
    if value is not None and not isinstance(value, str):
        raise CorpusError(f"{path.name}: field '{where}{name}' must be text, not {_kind_of(value)}")


def _check_fields(meta: dict, path: Path) -> None:
    """Required fields present and every field of its type: never a traceback, never a guess."""
    for name in (*TEXT_FIELDS, "date"):
        _text(meta, name, path)
    for name in required_fields(meta):
        if not (meta.get(name) or "").strip():
            raise CorpusError(f"{path.name}: field '{name}' is missing or empty")
    if not DOC_ID.match(meta["id"]):
        raise CorpusError(f"{path.name}: field 'id' is {meta['id']!r}; use letters, digits, '.', '_' and '-' only")
    authors = meta.get("authors") or []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise CorpusError(f"{path.name}: field 'authors' must be a list of names, such as [Ann Writer]")
    comments = meta.get("comments") or []
    if not isinstance(comments, list) or not all(isinstance(c, dict) for c in comments):
        raise CorpusError(f"{path.name}: field 'comments' must be a list of entries with an id and an author")
    for n, comment in enumerate(comments, 1):
        for name in ("id", "author", "location", "date"):
            _text(comment, name, path, f"comments.{comment.get('id') if isinstance(comment.get('id'), str) else n}.")


def _split_front_matter(path: Path, data: bytes) -> tuple[dict, str]:
    try:
        text = data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path.name}: not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                          "save the file as UTF-8") from None
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    if not match:
        raise CorpusError(f"{path.name}: no front matter; start the file with a '---' line, the YAML fields, then '---'")
    meta = load_yaml(match.group(1), f"{path.name}: front matter")
    if not isinstance(meta, dict):
        raise CorpusError(f"{path.name}: front matter must be YAML fields (key: value)")
    return meta, match.group(2)


def load_file(path: Path, settings: Settings | None = None) -> list[Document]:
    """The article in `path` followed by its reader comments, each a Document."""
    return parse_file(path, read_document(path, settings or Settings()))


def parse_file(path: Path, data: bytes) -> list[Document]:
    """load_file's documents from the file's bytes `data` (`path` names it in messages)."""
    meta, text = _split_front_matter(path, data)
    _check_fields(meta, path)
    parts = COMMENT_MARKER.split(text)
    article = Document(
        id=meta["id"], title=meta.get("title") or "", publisher=meta.get("publisher") or "",
        date=_iso(meta.get("date"), path, "date"), authors=tuple(meta.get("authors") or ()),
        url=meta.get("url") or None, seed=meta.get("seed") or None, body=normalise_body(parts[0]),
    )
    if meta.get("source_file"):
        article = replace(article, **provenance(meta, path, article.body))
    comment_meta = {c.get("id"): c for c in meta.get("comments") or ()}
    docs = [article]
    for comment_id, comment_text in zip(parts[1::2], parts[2::2]):
        info = comment_meta.get(comment_id)
        if info is None or not info.get("author"):
            raise CorpusError(f"{path.name}: reader comment '{comment_id}' needs an entry with an author under 'comments'")
        docs.append(Document(
            id=f"{article.id}/{comment_id}", title=article.title, publisher=article.publisher,
            date=_iso(info.get("date"), path, f"comments.{comment_id}.date"), authors=(info["author"],),
            url=article.url, seed=article.seed, body=normalise_body(comment_text), kind="comment",
            comment_author=info["author"], comment_location=info.get("location") or None, parent_id=article.id,
        ))
    for doc in docs:
        if not WORD.search(doc.body):
            raise CorpusError(f"{path.name}: document '{doc.id}' has no text (no words to quote); write its text "
                              "below the front matter or remove the file")
    return docs


# Editors' files beside a document: an Emacs lock (.#name.md, a link to nowhere) or auto-save (#name.md#), a backup
# (name.md~), a Vim swap file (.name.md.swp).
EDITOR_FILE = re.compile(r"^\.#|^#.*#$|~$|^\..*\.sw[a-p]$")
_reported: set[tuple[str, str]] = set()


def shown_name(name: str) -> str:
    """A file name as it can be printed in one line: as it is when printable, else its escaped bytes."""
    return name if name.isprintable() else repr(os.fsencode(name))[1:]


def _skip(folder: Path, name: str, why: str) -> None:
    """One log line per skipped entry and process, however often the folder is read."""
    if (str(folder), name) not in _reported:
        _reported.add((str(folder), name))
        log.warning("skipping %s in %s: %s", shown_name(name), folder, why)


def not_regular(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]
    return next((f"{what}, not a file" for test, what in kinds if test(mode)), "not a regular file")


def _entry_problem(path: str, name: str, root: Path, settings: Settings) -> str | None:
    """Why a folder entry is not read (None: it is a regular file, or a link to one inside the folder). Looked at with
    lstat and stat only; a link out of the folder is a CorpusError unless settings.follow_external_links."""
    if os.path.islink(path):
        try:
            target = Path(os.path.realpath(path, strict=True))
            mode = os.stat(path).st_mode
        except OSError:
            return "a symbolic link to nothing (an editor's lock file, or its target was removed)"
        if root not in target.parents and not settings.follow_external_links:
            raise CorpusError(f"{shown_name(name)}: a symbolic link to {target}, outside the corpus folder "
                              f"{root}; copy the file into the folder, or set follow_external_links in qa/config.py")
        return None if stat.S_ISREG(mode) else "a link to " + not_regular(mode)
    mode = os.lstat(path).st_mode
    return None if stat.S_ISREG(mode) else not_regular(mode)


def corpus_files(corpus_dir: Path, settings: Settings | None = None) -> list[Path]:
    """The regular `*.md` files of the folder, by name; every other entry that looks like one is skipped with a log
    line: folders, FIFOs, sockets, dangling links, editors' lock and backup files, names that are not UTF-8."""
    settings = settings or Settings()
    folder = Path(corpus_dir)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise CorpusError(f"the corpus folder {folder} is a file; set QA_CORPUS_DIR to a folder of .md files") from None
    except OSError as exc:
        raise CorpusError(f"the corpus folder {folder} cannot be read ({exc.strerror})") from None
    root = folder.resolve()
    files = []
    for entry in entries:
        name = entry.name
        if ".md" in name and EDITOR_FILE.search(name):
            _skip(folder, name, "an editor's lock, auto-save, backup or swap file")
        elif not name.endswith(".md"):
            continue
        elif not _is_utf8(name):
            _skip(folder, name, "its name is not UTF-8; rename the file to have it read")
        elif name.startswith("."):
            _skip(folder, name, "a hidden file")
        elif (why := _entry_problem(entry.path, name, root, settings)) is not None:
            _skip(folder, name, why)
        else:
            files.append(folder / name)
    return files


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.scandir gives undecodable bytes as lone surrogates
        return False
    return True


def read_regular(path: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """`path` opened without blocking (a FIFO would wait for a writer forever), its fstat, and, when it is a regular
    file of at most `limit` bytes, its bytes up to `limit` + 1 (it may grow after the fstat); else no bytes. Callers
    check the mode and max(st_size, len(bytes)) against the limit. OSError when it cannot be opened or read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        return (f.read(limit + 1) if stat.S_ISREG(info.st_mode) and info.st_size <= limit else b""), info


def read_document(path: Path, settings: Settings) -> bytes:
    """The bytes of a corpus file, checked to be a regular file of at most settings.max_document_bytes (the folder
    can change between listing and reading)."""
    name = shown_name(path.name)
    limit = settings.max_document_bytes
    try:
        data, info = read_regular(path, limit)
    except OSError as exc:
        raise CorpusError(f"{name}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise CorpusError(f"{name}: {not_regular(info.st_mode)}; remove it from the corpus folder")
    if max(info.st_size, len(data)) > limit:
        raise CorpusError(f"{name}: over {limit:,} bytes, the limit for one document (max_document_bytes in "
                          "qa/config.py); split it into smaller documents")
    return data


def load_corpus(corpus_dir: Path, settings: Settings | None = None) -> list[Document]:
    """Every document in `corpus_dir`, in file order; ids must be unique."""
    return list(corpus_documents(corpus_dir, settings))


def corpus_documents(corpus_dir: Path, settings: Settings | None = None) -> Iterator[Document]:
    """load_corpus's documents one at a time, each read as it is reached, so that a caller need not hold them all."""
    settings = settings or Settings()
    seen: dict[str, str] = {}
    for path in _some_files(corpus_dir, settings):
        yield from _unique(load_file(path, settings), path.name, seen)


def _some_files(corpus_dir: Path, settings: Settings) -> list[Path]:
    """corpus_files, refused when there is none."""
    files = corpus_files(corpus_dir, settings)
    if not files:
        raise CorpusError(f"no corpus files (*.md) in {corpus_dir}; add documents or set QA_CORPUS_DIR")
    return files


def _unique(docs: list[Document], name: str, seen: dict[str, str]) -> list[Document]:
    """`docs`, the documents of file `name`, after checking that no earlier file (`seen`: id to file) used their ids."""
    for doc in docs:
        if doc.id in seen:
            raise CorpusError(f"{name}: id '{doc.id}' is also used by {seen[doc.id]}; ids must be unique")
        seen[doc.id] = name
    return docs


def corpus_checksum(corpus_dir: Path, settings: Settings | None = None) -> str:
    """sha256 over the names and bytes of every corpus file."""
    settings = settings or Settings()
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir, settings):
        digest.update(_checksummed(path.name, read_document(path, settings)))
    return digest.hexdigest()


def _checksummed(name: str, data: bytes) -> bytes:
    """What corpus_checksum hashes of one file."""
    return name.encode() + b"\0" + data + b"\0"


@dataclass(frozen=True)
class CorpusFile:
    """One corpus file as an index saw it: its name, the sha256 of its bytes, and how many documents it holds (its
    article and reader comments, consecutive in corpus order)."""

    name: str
    sha256: str
    documents: int


@dataclass(frozen=True)
class CorpusRead:
    """The corpus folder read once: its checksum (corpus_checksum's), each file, and their documents in order."""

    checksum: str
    files: list[CorpusFile]
    documents: list[Document]


def read_corpus(corpus_dir: Path, settings: Settings,
                known: Callable[[CorpusFile], list[Document] | None] = lambda _: None) -> CorpusRead:
    """Every file read once: its bytes give the checksum and its digest, and are parsed only when `known` has no
    documents for a file of that name and digest (an index's, unchanged since it was built)."""
    checksum = hashlib.sha256()
    seen: dict[str, str] = {}
    read: list[CorpusFile] = []
    documents: list[Document] = []
    for path in _some_files(corpus_dir, settings):
        data = read_document(path, settings)
        checksum.update(_checksummed(path.name, data))
        file = CorpusFile(path.name, hashlib.sha256(data).hexdigest(), 0)
        docs = _unique(known(file) or parse_file(path, data), path.name, seen)
        read.append(replace(file, documents=len(docs)))
        documents.extend(docs)
    return CorpusRead(checksum.hexdigest(), read, documents)


def read_optional(folder: Path, name: str, settings: Settings | None = None) -> str | None:
    """The text of the folder's own file `name` (collection.yaml), None when there is none; anything but a regular
    UTF-8 file is skipped with a log line or refused, as corpus files are."""
    settings = settings or Settings()
    path = Path(folder) / name
    if not os.path.lexists(path):
        return None
    why = _entry_problem(str(path), name, Path(folder).resolve(), settings)
    if why is not None:
        _skip(path.parent, path.name, why)
        return None
    try:
        return read_document(path, settings).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{name}: not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                          "save the file as UTF-8") from None


def load_yaml(text: str, where: str) -> object:
    """YAML as the corpus reads it: no anchors or aliases, no key twice, dates kept as written. `where` names the
    text in messages ('alpha.md: front matter', 'collection.yaml')."""
    if not any(c in text for c in FAST_YAML_UNSAFE):
        try:
            return yaml.load(text, Loader=_FastLoader)
        except (yaml.YAMLError, RecursionError):
            pass  # reported by _Loader below
    try:
        return yaml.load(text, Loader=_Loader)
    except _Refused as exc:
        raise CorpusError(f"{where} {exc}") from None
    except yaml.YAMLError as exc:
        raise CorpusError(f"{where} is not valid YAML ({exc})") from None
    except RecursionError:
        raise CorpusError(f"{where} is nested too deeply to read; write plain fields") from None


# --- Imported documents (`qa add`) ------------------------------------------------------------------------------
# A document imported from a person's own file carries its provenance, and may leave unstated what its file does
# not state (a text file has no title, a PDF no publisher): its citation then names the file.
PROVENANCE = ("source_file", "source_sha256", "imported", "importer")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def required_fields(meta: dict) -> tuple[str, ...]:
    """The fields a document must fill: id, title and publisher; only id for an imported one."""
    return ("id",) if meta.get("source_file") else REQUIRED


def provenance(meta: dict, path: Path, body: str) -> dict:
    """The provenance fields of an imported document, checked: never a traceback, never a guess."""
    fields: dict[str, object] = {}
    for name in PROVENANCE:
        value = meta.get(name)
        if not isinstance(value, str) or not value.strip():
            raise CorpusError(f"{path.name}: field '{name}' must be text: an imported document states its provenance")
        fields[name] = value
    if not SHA256.match(str(fields["source_sha256"])):
        raise CorpusError(f"{path.name}: field 'source_sha256' must be the 64 hexadecimal digits of a sha256")
    try:
        dt.datetime.fromisoformat(str(fields["imported"]))
    except ValueError:
        raise CorpusError(f"{path.name}: field 'imported' is {fields['imported']!r}; write an ISO time") from None
    pages = meta.get("pages")
    if pages is not None:
        if not isinstance(pages, list) or not pages or not all(type(n) is int for n in pages) or pages[0] != 0 or \
                pages != sorted(pages) or pages[-1] > len(body):
            raise CorpusError(f"{path.name}: field 'pages' must list where each page starts in the body: "
                              f"whole numbers from 0, in order, at most the body's length ({len(body)})")
        fields["pages"] = tuple(pages)
    return fields


def page_at(doc: Document, offset: int) -> int | None:
    """The page (from 1) of `doc` on which body[offset] stands; None for a document without pages."""
    return bisect.bisect_right(doc.pages, offset) if doc.pages else None
