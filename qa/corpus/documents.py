"""Load the corpus: Markdown files with YAML front matter, one per source page."""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from qa.errors import CorpusError

COMMENT_MARKER = re.compile(r"^## Reader comment: (\S+)[ \t]*$", re.MULTILINE)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")
DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # no '/' or '#': they separate comment and passage ids
WORD = re.compile(r"\w")
REQUIRED = ("id", "title", "publisher")
TEXT_FIELDS = ("id", "title", "publisher", "url", "seed")


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as written, so that an impossible date is reported with its field's name."""


_Loader.yaml_implicit_resolvers = {
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
    value = str(value)
    try:
        if not ISO_DATE.match(value):
            raise ValueError
        dt.datetime.fromisoformat(value)  # a real date: not 2011-02-30
    except ValueError:
        raise CorpusError(f"{path.name}: field '{field}' is {value!r}; "
                          "write an ISO date such as 2011-12-19, or leave it empty") from None
    return value


def _check_fields(meta: dict, path: Path) -> None:
    """Required fields present; text fields are text, lists are lists: never a traceback, never a guess."""
    for name in required_fields(meta):
        if not str(meta.get(name) or "").strip():
            raise CorpusError(f"{path.name}: field '{name}' is missing or empty")
    for name in TEXT_FIELDS:
        if isinstance(meta.get(name), (list, dict)):
            raise CorpusError(f"{path.name}: field '{name}' must be text, not a {type(meta[name]).__name__}")
    if not DOC_ID.match(str(meta["id"])):
        raise CorpusError(f"{path.name}: field 'id' is {str(meta['id'])!r}; use letters, digits, '.', '_' and '-' only")
    authors = meta.get("authors") or []
    if not isinstance(authors, list) or any(isinstance(a, (list, dict)) for a in authors):
        raise CorpusError(f"{path.name}: field 'authors' must be a list of names, such as [Ann Writer]")
    comments = meta.get("comments") or []
    if not isinstance(comments, list) or not all(isinstance(c, dict) for c in comments):
        raise CorpusError(f"{path.name}: field 'comments' must be a list of entries with an id and an author")


def _split_front_matter(path: Path) -> tuple[dict, str]:
    try:
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path.name}: not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                          "save the file as UTF-8") from None
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.DOTALL)
    if not match:
        raise CorpusError(f"{path.name}: no front matter; start the file with a '---' line, the YAML fields, then '---'")
    try:
        meta = yaml.load(match.group(1), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path.name}: front matter is not valid YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise CorpusError(f"{path.name}: front matter must be YAML fields (key: value)")
    return meta, match.group(2)


def load_file(path: Path) -> list[Document]:
    """The article in `path` followed by its reader comments, each a Document."""
    meta, text = _split_front_matter(path)
    _check_fields(meta, path)
    parts = COMMENT_MARKER.split(text)
    article = Document(
        id=str(meta["id"]), title=str(meta.get("title") or ""), publisher=str(meta.get("publisher") or ""),
        date=_iso(meta.get("date"), path, "date"), authors=tuple(str(a) for a in meta.get("authors") or ()),
        url=meta.get("url") or None, seed=meta.get("seed") or None, body=normalise_body(parts[0]),
    )
    if meta.get("source_file"):
        article = replace(article, **provenance(meta, path, article.body))
    comment_meta = {str(c.get("id")): c for c in meta.get("comments") or ()}
    docs = [article]
    for comment_id, comment_text in zip(parts[1::2], parts[2::2]):
        info = comment_meta.get(comment_id)
        if info is None or not info.get("author"):
            raise CorpusError(f"{path.name}: reader comment '{comment_id}' needs an entry with an author under 'comments'")
        docs.append(Document(
            id=f"{article.id}/{comment_id}", title=article.title, publisher=article.publisher,
            date=_iso(info.get("date"), path, f"comments.{comment_id}.date"), authors=(str(info["author"]),),
            url=article.url, seed=article.seed, body=normalise_body(comment_text), kind="comment",
            comment_author=str(info["author"]), comment_location=info.get("location") or None, parent_id=article.id,
        ))
    for doc in docs:
        if not WORD.search(doc.body):
            raise CorpusError(f"{path.name}: document '{doc.id}' has no text (no words to quote); write its text "
                              "below the front matter or remove the file")
    return docs


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(Path(corpus_dir).glob("*.md"))


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Every document in `corpus_dir`, in file order; ids must be unique."""
    files = corpus_files(corpus_dir)
    if not files:
        raise CorpusError(f"no corpus files (*.md) in {corpus_dir}; add documents or set QA_CORPUS_DIR")
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for path in files:
        for doc in load_file(path):
            if doc.id in seen:
                raise CorpusError(f"{path.name}: id '{doc.id}' is also used by {seen[doc.id]}; ids must be unique")
            seen[doc.id] = path.name
            docs.append(doc)
    return docs


def corpus_checksum(corpus_dir: Path) -> str:
    """sha256 over the names and bytes of every corpus file."""
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_examples(corpus_dir: Path) -> list[str]:
    """Example questions from `examples.txt` in the corpus folder (one per line, `#` starts a comment); none if absent."""
    path = Path(corpus_dir) / "examples.txt"
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


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
