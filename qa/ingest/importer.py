"""`qa add`, `qa list`, `qa remove`: a person's files become corpus documents (Markdown with YAML front matter, as
the bundled ones), each with its provenance; duplicates are skipped and failures listed, and the rest go on."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from tqdm import tqdm

from qa.config import Settings
from qa.corpus.documents import (
    COMMENT_MARKER,
    Document,
    corpus_files,
    load_file,
    normalise_body,
    not_regular,
    read_regular,
)
from qa.errors import CorpusError, QAError
from qa.ingest.extracted import Extracted, ImportFailure
from qa.ingest.html import DEFAULT_OPTIONS, HtmlOptions
from qa.ingest.ocr import IMAGES
from qa.ingest.text import bom_encoding
from qa.ingest.worker import Limits, Worker
from qa.pids import alive

MAX_FILE_MB = 50.0  # larger files are refused: a report of a few hundred pages is well under it
PROGRESS_FROM = 10  # files; fewer are imported without a progress bar
HTML = (".html", ".htm", ".html.gz", ".htm.gz")  # saved pages, and gzip-compressed ones as archives keep them
SUFFIXES = HTML + (".pdf", ".docx", ".txt", ".md") + IMAGES
NOT_ID = re.compile(r"[^A-Za-z0-9._-]+")
# A name or reason is one line of the summary: a line break or control character in a file's name is shown escaped,
# so that it cannot forge a line.
LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
TEMPORARY = ".importing-"  # the prefix of a document being written; then the writer's process id
STALE_SECONDS = 3600  # a temporary file without a process id is left alone this long (another writer's, at work)


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in sorted(SUFFIXES, key=len, reverse=True) if name.endswith(s)), path.suffix.lower())


def _gunzip(data: bytes, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise ImportFailure(f"the compressed page cannot be read ({exc})") from None
    if len(out) > limit:
        raise ImportFailure(f"the page is over {limit // 2**20} MB once uncompressed; split it or raise --max-mb")
    return out


def extract_file(path: Path, data: bytes, html_options: HtmlOptions = DEFAULT_OPTIONS,
                 limit: int = int(MAX_FILE_MB * 2**20)) -> Extracted:
    """The text and stated metadata of one file, by its extension (see SUFFIXES)."""
    suffix = suffix_of(path)
    if suffix in HTML:
        from qa.ingest import html
        return html.extract(_gunzip(data, limit) if suffix.endswith(".gz") else data, html_options)
    if suffix == ".pdf":
        from qa.ingest import pdf
        return pdf.extract(data)
    if suffix == ".docx":
        from qa.ingest import docx
        return docx.extract(data, limit)
    if suffix in (".txt", ".md"):  # a Markdown note without front matter is text as written
        from qa.ingest import text
        return text.extract(data)
    if suffix in IMAGES:
        from qa.ingest import ocr
        return ocr.extract_image(data)
    raise ImportFailure(f"{suffix or 'a file without an extension'} is not a format qa add reads "
                        f"({', '.join(SUFFIXES)})")


@dataclass(frozen=True)
class Outcome:
    """What became of one file: 'added' (as document `doc_id`), 'skipped' or 'failed', and why."""

    file: str
    status: str
    reason: str = ""
    doc_id: str | None = None


@dataclass
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def having(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    def summary(self) -> str:
        """A line of counts, then one line for each file (an added file's line says how its body was found when
        that was not the format's usual way)."""
        lines = [f"added {len(self.having('added'))}, skipped {len(self.having('skipped'))}, "
                 f"failed {len(self.having('failed'))}"]
        for o in self.outcomes:
            lines.append(f"  {o.status:<7} {one_line(o.file)}" + (f" -> {o.doc_id}" if o.doc_id else "") +
                         (f": {one_line(o.reason)}" if o.reason else ""))
        return "\n".join(lines)


def one_line(text: str) -> str:
    """`text` with line breaks and control characters as visible escapes."""
    return LINE_BREAKING.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def files_in(paths: Iterable[Path]) -> Iterator[tuple[Path, bool]]:
    """(file, named) for the paths given (named) and the entries inside the folders given (recursively, in name
    order; hidden ones left out; links to folders listed, not followed, as a link may loop). A folder with no
    entries is listed itself, so that every path given has a line in the summary."""
    for path in paths:
        if path.is_dir():
            inside = [p for p in sorted(path.rglob("*")) if not (p.is_dir() and not p.is_symlink()) and
                      not any(part.startswith(".") for part in p.relative_to(path).parts)]
            yield from ((p, False) for p in inside) if inside else [(path, False)]
        else:
            yield path, True


def _not_a_file(path: Path) -> str | None:
    """Why `path` is not read as a file (None: a regular file or a link to one, or nothing there). Looked at with
    lstat and stat only: opening a FIFO would wait for a writer forever."""
    try:
        if path.is_symlink():
            try:
                mode = path.stat().st_mode
            except OSError:
                return "a symbolic link to nothing (or to itself)"
            if stat.S_ISDIR(mode):
                return "a symbolic link to a folder: not followed; name the folder itself to import it"
            return None if stat.S_ISREG(mode) else f"a symbolic link to {not_regular(mode)}"
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder on the way that may not be searched
        return f"cannot be looked at ({exc.strerror or exc}); check the permissions of its folders"
    if stat.S_ISDIR(mode):
        return "no files in this folder (hidden ones are left out)"
    return None if stat.S_ISREG(mode) else not_regular(mode)


def _read(path: Path, limit: int) -> bytes:
    """The file's bytes, checked to be a regular file of at most `limit` bytes (it can change between the look and
    the read)."""
    try:
        data, info = read_regular(path, limit)
    except OSError as exc:
        raise ImportFailure(f"cannot be read ({exc.strerror or exc}); check that the file may be read") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImportFailure(not_regular(info.st_mode))
    size = max(info.st_size, len(data))
    if size > limit:
        raise ImportFailure(f"{size / 2**20:.1f} MB is over the {limit / 2**20:g} MB limit; split it or raise --max-mb")
    return data


def _has_front_matter(data: bytes) -> bool:
    """A '---' line first and another one below it, as in the corpus format; a Markdown note may well start with a
    '---' rule (or a longer one) and have no front matter."""
    text = data.decode(bom_encoding(data) or "utf-8", errors="replace").replace("\r\n", "\n")
    return text.startswith("---\n") and ("\n---\n" in text[3:] or text.endswith("\n---"))


def _source_name(path: Path) -> str:
    """The file's name as its document states it: text (a name's bytes that are not UTF-8 become U+FFFD, where
    Python would keep lone surrogates that no UTF-8 reader of the corpus accepts)."""
    return os.fsencode(path.name).decode("utf-8", errors="replace")


class _Corpus:
    """The corpus folder's documents as `add` needs them: ids, file digests and bodies already present."""

    def __init__(self, corpus_dir: Path, settings: Settings):
        self.dir = corpus_dir
        self.settings = settings
        self.ids: set[str] = set()
        self.by_sha: dict[str, str] = {}
        self.by_body: dict[str, str] = {}
        for path in corpus_files(corpus_dir, settings):
            for doc in load_file(path, settings):
                self.note(doc)

    def note(self, doc: Document) -> None:
        self.ids.add(doc.id)
        if doc.source_sha256:
            self.by_sha.setdefault(doc.source_sha256, doc.id)
        self.by_body.setdefault(_digest(doc.body), doc.id)

    def new_id(self, path: Path) -> str:
        stem = path.name[:len(path.name) - len(suffix_of(path))] or path.name
        base = NOT_ID.sub("-", stem).strip("-._")[:80] or "document"
        candidate, n = base, 1
        while candidate in self.ids or (self.dir / f"{candidate}.md").exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate


def _digest(body: str) -> str:
    """Two bodies that differ only in white space are the same text."""
    return hashlib.sha256(" ".join(body.split()).encode("utf-8")).hexdigest()


def render(doc_id: str, extracted: Extracted, source_file: str, sha256: str, imported: str) -> str:
    """The corpus file of an imported document: front matter (stated metadata, then provenance) and the body."""
    meta: dict[str, object] = {"id": doc_id, "title": extracted.title, "publisher": extracted.publisher, "date": extracted.date,
            "authors": list(extracted.authors), "url": extracted.url, "source_file": source_file,
            "source_sha256": sha256, "imported": imported, "importer": extracted.importer}
    if extracted.pages is not None:
        meta["pages"] = list(extracted.pages)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=None)
    return f"---\n{front}---\n\n{extracted.body}\n"


def _markdown(path: Path, data: bytes, sha256: str, imported: str, settings: Settings) -> tuple[str, str, str]:
    """A file already in the corpus format: (its id, its body, its text with provenance added unless it has some)."""
    try:
        text = data.decode(bom_encoding(data) or "utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise ImportFailure(f"not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start})") from None
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / path.name
        probe.write_text(text, encoding="utf-8")
        try:
            docs = load_file(probe, settings)
        except CorpusError as exc:
            raise ImportFailure(f"not a corpus document: {exc}") from None
    article = docs[0]
    if article.source_file is None:
        provenance = {"source_file": _source_name(path), "source_sha256": sha256, "imported": imported,
                      "importer": f"PyYAML {yaml.__version__} (corpus Markdown, copied as written)"}
        added = yaml.safe_dump(provenance, sort_keys=False, allow_unicode=True)
        text = text.replace("---\n", "---\n" + added, 1)
    return article.id, article.body, text


def _write(folder: Path, name: str, text: str, settings: Settings) -> Path:
    """Write `text` beside its final place and link it there: a document file is never seen half-written, and the
    name is claimed atomically (FileExistsError when another run took it first; nothing is replaced)."""
    final = folder / name
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TEMPORARY}{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            load_file(Path(tmp), settings)  # it reads back as a corpus document, or it is not put in place
        except CorpusError as exc:  # named as the document it would have been, not as the temporary file
            raise ImportFailure("its document does not read back from the corpus format "
                                f"({str(exc).replace(Path(tmp).name, name)})") from None
        os.link(tmp, final)  # unlike a rename, fails when the name exists: two runs never share an id
    finally:
        Path(tmp).unlink(missing_ok=True)
    return final


def clean_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files a `qa add` killed mid-file left (its process is gone); those of a run at work
    stay. The paths removed."""
    removed = []
    for tmp in folder.glob(f"{TEMPORARY}*.tmp"):
        pid = tmp.name[len(TEMPORARY):].split("-")[0]
        try:
            if (alive(int(pid)) if pid.isdigit() else tmp.stat().st_mtime > time.time() - STALE_SECONDS):
                continue
            tmp.unlink()
            removed.append(tmp)
        except OSError:  # gone already, or a read-only folder: nothing to clean there
            continue
    return removed


def _add_one(path: Path, corpus: _Corpus, limit: int, imported: str, worker: Worker) -> Outcome:
    name = str(path)
    if not path.exists():
        return Outcome(name, "failed", "no such file or folder")
    data = _read(path, limit)
    sha256 = hashlib.sha256(data).hexdigest()
    path_taken = ""
    if suffix_of(path) == ".md" and _has_front_matter(data):
        doc_id, body, text = _markdown(path, data, sha256, imported, corpus.settings)
        extracted = None
    else:
        extracted = worker.extract(path, data, limit)
        body = normalise_body(extracted.body)
        if body != extracted.body:  # page offsets, and what the reader sees, rely on the body as written
            raise ImportFailure("its text does not survive the corpus format unchanged (a bug in qa add; please report)")
        if COMMENT_MARKER.search(body):
            raise ImportFailure("its text has a '## Reader comment:' line, which the corpus format reads as a comment")
        path_taken = "; ".join(filter(None, (extracted.path, *extracted.notes)))
    # A digest in the corpus is only what a file claims (a note's front matter may claim any): a file is skipped for
    # its text alone, so that no claim stops another file from being imported.
    same = corpus.by_body.get(_digest(body))
    if same is not None:
        how = "file (sha256)" if corpus.by_sha.get(sha256) == same else "text"
        return Outcome(name, "skipped", f"the same {how} as document {same}")
    if extracted is None:
        if doc_id in corpus.ids:
            raise ImportFailure(f"its id {doc_id!r} is already used in the corpus; change the id in its front matter")
        try:
            written = _write(corpus.dir, f"{doc_id}.md", text, corpus.settings)
        except FileExistsError:
            raise ImportFailure(f"its id {doc_id!r} was just taken by another import; change the id in its front "
                                "matter") from None
    else:
        while True:
            doc_id = corpus.new_id(path)
            try:
                written = _write(corpus.dir, f"{doc_id}.md",
                                 render(doc_id, extracted, _source_name(path), sha256, imported), corpus.settings)
                break
            except FileExistsError:  # another run claimed it between the look and the link: the next one
                corpus.ids.add(doc_id)
    for doc in load_file(written, corpus.settings):
        corpus.note(doc)
    return Outcome(name, "added", path_taken, doc_id=doc_id)


def add(paths: Iterable[Path], corpus_dir: Path, max_mb: float | None = None, progress: bool = True,
        settings: Settings | None = None, limits: Limits = Limits()) -> ImportReport:
    """Import each file (folders recursively) into `corpus_dir`; a file that fails is listed, and the rest go on.
    Each file is extracted in a worker process within `limits`. Documents are read and checked as the index will
    read them, with `settings` (max_document_bytes ...)."""
    files = list(files_in(Path(p) for p in paths))
    bar = tqdm(total=len(files), desc="importing", unit="file", file=sys.stderr,
               disable=True if len(files) < PROGRESS_FROM or not progress else None)
    report = ImportReport()
    with bar:
        for outcome in importing(files, corpus_dir, max_mb, settings, limits):
            report.outcomes.append(outcome)
            bar.update()
    return report


def importing(files: list[tuple[Path, bool]], corpus_dir: Path, max_mb: float | None = None,
              settings: Settings | None = None, limits: Limits = Limits()) -> Iterator[Outcome]:
    """`add`, one file at a time: the Outcome of each of `files` (`files_in`'s (file, named) pairs), in order, as it
    is known. The chat's upload shows its progress from it."""
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    clean_temporaries(corpus_dir)
    corpus = _Corpus(corpus_dir, settings or Settings())
    imported = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    with Worker(limits) as worker:
        for path, named in files:
            yield _outcome(path, named, corpus, int((max_mb or MAX_FILE_MB) * 2**20), imported, worker)


def _outcome(path: Path, named: bool, corpus: _Corpus, limit: int, imported: str, worker: Worker) -> Outcome:
    """What becomes of one file: every error is caught and told, so that the rest go on."""
    problem = _not_a_file(path)
    if problem is not None:  # a FIFO, a link to nothing ...: failed when named, skipped in a folder
        return Outcome(str(path), "failed" if named else "skipped", problem)
    if not named and suffix_of(path) not in SUFFIXES:  # a folder's pictures, spreadsheets ...: not for the corpus
        return Outcome(str(path), "skipped", f"{suffix_of(path) or 'no extension'} is not a format qa add reads")
    try:
        return _add_one(path, corpus, limit, imported, worker)
    except ImportFailure as exc:
        return Outcome(str(path), "failed", str(exc))
    except OSError as exc:
        return Outcome(str(path), "failed", f"cannot be written to the corpus folder ({exc.strerror or exc})")
    except Exception as exc:  # a library's error on a file nobody foresaw: listed, the rest go on
        return Outcome(str(path), "failed", f"qa add could not read it ({type(exc).__name__}: {exc}); please "
                                            "report this as a bug, with the file if you can")


def documents(corpus_dir: Path, settings: Settings | None = None) -> list[tuple[Path, Document]]:
    """Each corpus file with its article (reader comments go with it)."""
    settings = settings or Settings()
    return [(path, load_file(path, settings)[0]) for path in corpus_files(corpus_dir, settings)]


def describe(doc: Document) -> str:
    """A document's metadata and provenance, as `qa list` shows them."""
    unstated = "(not stated)"
    lines = [doc.id, f"  title:     {doc.title or unstated}", f"  publisher: {doc.publisher or unstated}",
             f"  date:      {doc.date or unstated}", f"  authors:   {', '.join(doc.authors) or unstated}",
             f"  url:       {doc.url or unstated}"]
    if doc.source_file:
        lines += [f"  file:      {doc.source_file} (sha256 {doc.source_sha256})",
                  f"  imported:  {doc.imported} with {doc.importer}"]
        if doc.pages:
            lines.append(f"  pages:     {len(doc.pages)}")
    else:
        lines.append("  file:      written for the corpus (not imported)")
    return "\n".join(lines)


def remove(doc_id: str, corpus_dir: Path, settings: Settings | None = None) -> Path:
    """Delete the corpus file of document `doc_id` (with its reader comments); the file's path."""
    for path, doc in documents(corpus_dir, settings):
        if doc.id == doc_id:
            try:
                path.unlink()
            except OSError as exc:
                raise QAError(f"cannot remove {path.name} ({exc.strerror or exc}); the corpus folder may be "
                              "read-only: check its permissions") from None
            return path
    if "/" in doc_id:
        raise QAError(f"{doc_id!r} is a reader comment; remove its article ({doc_id.split('/')[0]!r}) or edit the file")
    raise QAError(f"no document {doc_id!r} in {corpus_dir}; 'python -m qa list' shows the ids")
