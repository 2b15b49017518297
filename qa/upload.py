"""Upload from the page: files (or a folder's files) dropped on the chat are imported exactly as `qa add` imports
them (qa/ingest/importer.py `importing`: the same worker process with its time and memory limits, the same ids,
duplicates, failures and summary), one at a time, each file's line shown as it is known. Then the live index looks at
the corpus folder at once (qa/index/live.py), so the next question can quote the new documents.

Nothing is written but the corpus folder's documents; Gradio's copies of the uploaded files, in the app's private
folder (qa/private.py), are removed once they are read. An upload holds at most `upload_max_files` files and
`upload_max_mb` MB in all (the HTTP guard refuses a larger body before it is read, qa/web.py), and each file is
within `qa add`'s own size limit. Upload is off when the app can be reached from other machines, unless the `upload`
setting says `on` (`ServerSettings`)."""
from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from qa.auth import needs_login
from qa.config import ServerSettings
from qa.errors import QAError
from qa.ingest.importer import MAX_FILE_MB, ImportReport, Outcome, importing, one_line
from qa.web import upload_bytes

if TYPE_CHECKING:
    from qa.api import QA

HINT = (f"Drop files or a folder here, or click to choose files: web pages, PDFs, Word, text and Markdown files and "
        f"pictures (each up to {MAX_FILE_MB:g} MB). They are imported into the corpus as qa add imports them.")


def enabled(server: ServerSettings) -> bool:
    """Whether the page takes uploads: `upload` on, or auto and the app reachable from this machine only."""
    if server.upload != "auto":
        return server.upload == "on"
    return not needs_login(server.host) and not server.share


def refusal(files: list[Path], server: ServerSettings) -> str | None:
    """Why the upload as a whole is refused (too many files, too many MB), or None."""
    if len(files) > server.upload_max_files:
        return (f"{len(files):,} files were uploaded; at most {server.upload_max_files:,} are imported at once "
                "(upload_max_files): upload them in parts. Nothing was imported.")
    size = sum(f.stat().st_size for f in files if f.is_file())
    if size > upload_bytes(server):
        return (f"the upload is {size / 2**20:.1f} MB; at most {server.upload_max_mb:g} MB are imported at once "
                "(upload_max_mb): upload fewer files at a time. Nothing was imported.")
    return None


def run(paths: list[str] | None, qa: QA, server: ServerSettings, uploads: Path) -> Iterator[str]:
    """Import the uploaded files `paths` (Gradio's copies, under `uploads`) into the corpus folder of `qa`: the
    upload's HTML after each file, and last with the summary once the index has the new documents. Gradio's copies
    are removed at the end, however it ends."""
    files = [Path(p) for p in paths or []]
    try:
        if not files:
            return
        refused = refusal(files, server)
        if refused:
            yield status_html([], [], message=refused)
            return
        names = [f.name for f in files]  # Gradio keeps a file's own name, its separators and controls removed
        outcomes: list[Outcome] = []
        yield status_html(names, outcomes)
        try:
            for outcome in importing([(f, True) for f in files], qa.settings.corpus_dir, settings=qa.settings):
                outcomes.append(replace(outcome, file=names[len(outcomes)]))
                yield status_html(names, outcomes)
        except (QAError, OSError) as exc:  # a corpus folder that cannot be read or written: nothing more is imported
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            yield status_html(names, outcomes, message=f"the import stopped: {reason}")
            return
        report = ImportReport(outcomes)
        note = "Nothing new for the index."
        if report.having("added"):
            yield status_html(names, outcomes, summary=report.summary(), message="Indexing the new documents …")
            try:
                qa.live.look_now()
                note = "The new documents are indexed: ask about them now."
            except QAError as exc:
                note = str(exc)
        yield status_html(names, outcomes, summary=report.summary(), message=note)
    finally:
        remove_copies(files, uploads)


def remove_copies(files: list[Path], uploads: Path) -> None:
    """Remove Gradio's copies of uploaded files (each in a folder of its own, removed when empty); nothing outside
    `uploads` is touched."""
    root = uploads.resolve()
    for f in files:
        try:
            path = f.resolve()
            if not path.is_relative_to(root) or path == root:
                continue
            path.unlink(missing_ok=True)
            if path.parent != root:
                path.parent.rmdir()
        except OSError:  # a folder holding another upload's copy of the same file: Gradio's cleaner removes it
            continue


def status_html(names: list[str], outcomes: list[Outcome], summary: str = "", message: str = "") -> str:
    """The upload as it stands: each file with its progress bar and state (waiting, reading, added, skipped, failed
    and why), then the summary `qa add` prints and a closing message."""
    rows = []
    for n, name in enumerate(names):
        shown = html.escape(one_line(name))
        if n < len(outcomes):
            o = outcomes[n]
            state = o.status + (f" as {o.doc_id}" if o.doc_id else "") + (f": {o.reason}" if o.reason else "")
            bar, kind = '<progress max="1" value="1"', o.status
        elif n == len(outcomes) and not summary:
            state, bar, kind = "reading …", "<progress", "reading"  # no value: the bar moves, not knowing how long
        else:
            state, bar, kind = "waiting", '<progress max="1" value="0"', "waiting"
        rows.append(f'<li class="upload-file {kind}"><span class="upload-name">{shown}</span>'
                    f'{bar} aria-label="{shown}"></progress>'
                    f'<span class="upload-state">{html.escape(one_line(state))}</span></li>')
    head = (f'<p class="upload-count">{len(outcomes)} of {len(names)} files read</p>' if names else "")
    listing = f'<ul class="upload-files">{"".join(rows)}</ul>' if rows else ""
    done = f'<pre class="upload-summary">{html.escape(summary)}</pre>' if summary else ""
    closing = f'<p class="upload-message">{html.escape(message)}</p>' if message else ""
    return f'<div class="upload-status">{head}{listing}{done}{closing}</div>'
