"""The chat: a thin Gradio layer over qa.QA. Run with `make run` or `python app.py [--host H] [--port P]`.

Besides the page it serves one API endpoint, `/ask`, returning `Answer.to_dict()`:
    gradio_client.Client("http://127.0.0.1:7860").predict("How many people were killed?", api_name="/ask")"""
from __future__ import annotations

import argparse
import hashlib
import html
import logging
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import gradio as gr

from qa import QA, QAError, Settings, upload, web
from qa.answer.export import FORMATS, Asked, export_collection, write_export, write_text
from qa.answer.model import Passage
from qa.auth import checker, needs_login, read_users
from qa.cli import common_options
from qa.config import UPLOADS, ServerSettings
from qa.connections import bounded_connections
from qa.corpus.documents import Document
from qa.desk import (
    ask_turn,
    more,
    original_file,
    passage_dict,
    read_link,
    restore_starred,
    restore_turns,
    toggle_star,
    turn_dict,
)
from qa.present import (
    DEFAULT_TITLE,
    Turn,
    collection_html,
    conversation_html,
    intro_html,
    page_count,
    search_html,
    source_choices,
    source_html,
    source_list,
    sources_html,
)
from qa.private import go_private
from qa.safe_text import printable
from qa.search.fulltext import ORDERS
from qa.session import refused, turns_left, with_turn

CSS = (Path(__file__).parent / "qa" / "static" / "chat.css").read_text(encoding="utf-8")
# The conversation is HTML from qa.present, not Markdown, so that quotes show exactly as written.
CHAT_TEMPLATE = '<div class="log" role="region" aria-label="Conversation" tabindex="0">${value}</div>' \
                '<p class="sr-only" role="status" aria-live="polite"></p>'
SEARCH_TEMPLATE = CHAT_TEMPLATE.replace('aria-label="Conversation"', 'aria-label="Search results"')
COLLECTION_TEMPLATE = CHAT_TEMPLATE.replace('aria-label="Conversation"', 'aria-label="Starred passages"')
VIEWER_TEMPLATE = ('<div class="viewer"><div class="viewer-bar"><h2>Source viewer</h2>'
                   '<button type="button" class="act back">Back to the answer</button></div>'
                   '<div class="viewer-body" role="region" aria-label="Source viewer" tabindex="0">${value}</div></div>')
JS = Path(__file__).parent / "qa" / "static" / "chat.js"
CHAT_JS, VIEWER_JS = JS.read_text(encoding="utf-8").split("// --- viewer ---\n")
UPLOAD_JS = (Path(__file__).parent / "qa" / "static" / "upload.js").read_text(encoding="utf-8")
FORMAT_NAMES = ("Markdown", "CSV", "JSON")  # of FORMATS, on the export buttons
DOWNLOAD_JS = """(file) => {
  if (!file) return;
  const link = Object.assign(document.createElement('a'), {href: file.url, download: file.orig_name});
  document.body.appendChild(link);
  link.click();
  link.remove();
}"""
ORIGINAL = "Download the original"  # the file the document in the viewer was made from
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI events are not API endpoints; `/ask` is the one API
log = logging.getLogger("app")
# The server settings that bound what one client may take, each a flag: (name, type, help).
BOUNDS = [("max_turns", int, "questions one conversation takes at most"),
          ("max_chat_bytes", int, "bytes of one conversation's page at most"),
          ("users", str, "users file (python -m qa.auth FILE NAME); needed with a --host other than loopback"),
          ("login_attempts", int, "failed logins per client address and minute, then refused"),
          ("header_timeout", float, "seconds a client has to send a request's headers"),
          ("body_timeout", float, "seconds a client has to send a request's body"),
          ("keep_alive_timeout", float, "seconds an idle connection is kept"),
          ("max_connections", int, "connections at most"),
          ("max_connections_per_client", int, "connections per client address at most"),
          ("upload_max_files", int, "files one upload from the page takes at most"),
          ("upload_max_mb", float, "MB one upload from the page takes at most, its files together")]


class Chat(gr.Blocks):
    """A plain HTTP call to `/ask` may leave out k and history, as gradio_client does: they get the defaults of
    `ask()`'s signature. (Gradio itself refuses such a call with `"error": null`, its message hidden.)"""

    def validate_inputs(self, block_fn, inputs: list) -> None:
        if block_fn.api_name in ("ask", "search"):
            inputs.extend(block.value for block in block_fn.inputs[len(inputs):])
        super().validate_inputs(block_fn, inputs)


def build_app(qa: QA, export_dir: Path, server: ServerSettings) -> gr.Blocks:
    """The chat over `qa`: each session's files to download in a folder of `export_dir`, its conversation bounded by
    `server`'s limits."""

    uploads = upload.enabled(server)

    def session_folder(request: gr.Request) -> Path:
        """This session's folder for files to download, named by a digest of the session id, which the browser sends,
        so that no id can name a path."""
        return export_dir / hashlib.sha256((request.session_hash or "").encode()).hexdigest()[:32]

    def forget(request: gr.Request) -> None:
        """The session's files removed: at Clear chat, and when its page is closed."""
        shutil.rmtree(session_folder(request), ignore_errors=True)

    def quotes_file(fmt: str) -> Callable[[list[Turn], gr.Request], str]:
        """Export quotes: the conversation's file in `fmt`, written when the button is clicked."""
        def write(turns: list[Turn], request: gr.Request) -> str:
            answers = [Asked(t.answer, t.limit) for t in turns if t.answer]
            return str(write_export(answers, fmt, session_folder(request) / f"quotes.{fmt}"))
        return write

    def starred_file(fmt: str) -> Callable[[list[Passage], gr.Request], str]:
        """Export starred: the collection's file in `fmt`, written when the button is clicked."""
        def write(passages: list[Passage], request: gr.Request) -> str:
            return str(write_text(export_collection(passages, fmt), session_folder(request) / f"starred.{fmt}"))
        return write

    def original_button(doc: Document | None, request: gr.Request) -> gr.DownloadButton:
        """The button that downloads the file the document shown was made from (qa.desk.original_file), copied into
        this session's folder (Gradio serves only files under its own folders)."""
        path = original_file(doc, qa.index.documents, qa.settings) if doc else None
        if path is None:
            return gr.DownloadButton(ORIGINAL, value=None, interactive=False)
        copy = session_folder(request) / "original" / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        return gr.DownloadButton(f"{ORIGINAL} ({path.name})", value=copy, interactive=True)

    def conversation(turns: list[Turn], request: gr.Request, shown: str | None = None) -> dict:
        """The conversation shown (`shown`, when a limit's notice ends it), kept for follow-ups, kept in the browser,
        and its export buttons."""
        ready = any(t.answer.passages for t in turns if t.answer)
        return {chat: conversation_html(turns) if shown is None else shown, state: turns,
                saved: [turn_dict(t) for t in turns],
                **{button: gr.Button(interactive=ready) for button in exports}}

    def collection(passages: list[Passage], request: gr.Request) -> dict:
        """The collection shown, kept in the browser, and its export buttons."""
        return {collected: collection_html(passages), starred: passages, kept: [passage_dict(p) for p in passages],
                **{button: gr.Button(interactive=bool(passages)) for button in collection_exports}}

    def bounded(turns: list[Turn], turn: Turn, request: gr.Request) -> dict:
        """The conversation with `turn` added, unless that passes the session's byte limit (then a notice)."""
        kept = with_turn(turns, turn, server)
        return conversation(kept.turns, request, kept.html)

    def respond(question: str | None, turns: list[Turn], chosen: list[str] | None, since: str | None,
                until: str | None, request: gr.Request) -> dict:
        question = question or ""  # a page or client may send null: answered as an empty question
        full = turns_left(turns, server)
        if full:  # not asked: the question stays in the box
            return {box: question, **conversation(turns, request, refused(turns, full).html)}
        turn = ask_turn(qa, question, [t.answer for t in turns if t.answer], chosen, since, until)
        return {box: "", **bounded(turns, turn, request)}

    def act(turns: list[Turn], passages: list[Passage], event: gr.EventData, request: gr.Request) -> dict:
        """A button of a quote, a hit or the viewer: open a passage or a document (an empty id: the list of
        sources), star or remove a passage, or ask an answer's question again for more quotes."""
        data = event._data  # what the page sent, which may be anything: EventData's own lookup raises on a None
        key = data.get("key") if isinstance(data, dict) else None
        if isinstance(key, str) and key.startswith(("star:", "unstar:")):
            return collection(toggle_star(qa, passages, key), request)
        if isinstance(key, str) and key.startswith("more:") and key[5:].isdigit():
            return conversation(more(qa, turns, int(key[5:])), request)
        if key is None or key == "":
            return {viewer: sources_html(qa.sources()), original: original_button(None, request)}
        try:
            doc, start, end = qa.locate(key)
        except QAError as exc:
            return {viewer: f"<p>{html.escape(str(exc))}</p>", original: original_button(None, request)}
        return {viewer: source_html(doc, start, end), original: original_button(doc, request)}

    def restore(kept_turns: object, kept_passages: object, request: gr.Request) -> dict:
        """On opening the page: the conversation and collection this browser kept. Nothing kept changes nothing, so
        that a question asked before this step ends is never overwritten."""
        turns = restore_turns(kept_turns, qa.index)
        passages = restore_starred(kept_passages, qa.index)
        # Gradio reads an empty dict as one value: gr.skip() leaves the chat as it is.
        return {chat: gr.skip(), **(conversation(turns, request) if turns else {}),
                **(collection(passages, request) if passages else {})}

    def follow_link(turns: list[Turn], request: gr.Request) -> dict:
        """Then the answer the page's link asks (present.link), after the conversation so far."""
        try:
            asked = read_link(str(request.query_params))
        except QAError as exc:
            return conversation(turns + [Turn("(the link)", error=str(exc))], request)
        if asked is None:
            return {chat: gr.skip()}
        if turns_left(turns, server):
            return conversation(turns, request, refused(turns, turns_left(turns, server) or "").html)
        turn = ask_turn(qa, asked.question, asked.history, asked.sources, asked.since, asked.until, asked.k)
        return bounded(turns, turn, request)

    def take_upload(paths: list[str] | None, request: gr.Request) -> Iterator[dict]:
        """Upload from the page (qa/upload.py): each file's state as it is imported, then the sources with the new
        documents; the drop area emptied for the next upload."""
        for shown in upload.run(paths, qa, server, export_dir.parent):
            yield {uploaded: shown}
        sources = qa.sources()
        yield {drop: None, viewer: sources_html(sources), chosen: gr.Dropdown(choices=source_choices(sources))}

    def clear(request: gr.Request) -> dict:
        forget(request)
        return {box: "", viewer: sources_html(qa.sources()), original: original_button(None, request),
                **conversation([], request)}

    def opened() -> dict:
        """The source list, the source filter's choices and the list's paging, of the corpus as it is when a page
        opens: the folder may have changed since the app started. Each is sent only where it differs from what the
        page was built with, so a source opened before this returns is not replaced by the list."""
        sources = qa.sources()
        listing, choices, paged = sources_html(sources), source_choices(sources), page_count(len(sources)) > 1
        return {viewer: listing if listing != built[0] else gr.skip(),
                chosen: gr.Dropdown(choices=choices) if choices != built[1] else gr.skip(),
                paging_row: gr.Row(visible=paged) if paged != built[2] else gr.skip()}

    def list_sources(query: str | None, page: int):
        """The source list in the viewer: the sources matching `query`, page `page`, and the paging buttons."""
        listing = source_list(qa.sources(), query or "", page)
        return (listing.html, listing.page, gr.Button(interactive=listing.page > 1),
                gr.Button(interactive=listing.page < listing.pages), gr.Row(visible=listing.pages > 1))

    def find_passages(query: str, order: str, page: int, chosen: list[str] | None, since: str | None,
                      until: str | None):
        """The Search tab: page `page` of the passages matching `query`, and the paging buttons."""
        try:
            results = qa.search(query, sources=chosen or None, since=(since or "").strip() or None,
                                until=(until or "").strip() or None, page=max(int(page), 1), order=order)
        except QAError as exc:
            return search_html(None, str(exc)), 1, gr.Button(interactive=False), gr.Button(interactive=False)
        return (search_html(results), results.page, gr.Button(interactive=results.page > 1),
                gr.Button(interactive=results.page < results.pages))

    def search(query: str, sources: list[str] | None = None, since: str | None = None, until: str | None = None,
               page: int = 1, order: str = "relevance") -> dict:
        """SearchResults.to_dict(): page `page` (of 20) of every passage holding all the words of `query` and each of
        its "quoted phrases", with the total and the count per document; `order` "relevance" (BM25) or "date"
        (oldest first). `sources`, `since` and `until` limit it as they limit /ask."""
        try:
            return qa.search(query, sources=sources or None, since=since or None, until=until or None, page=page,
                             order=order).to_dict()
        except QAError as exc:
            log.info("refused: %s", exc)
            raise gr.Error(str(exc), print_exception=False) from None

    def ask(question: str, k: int | None = None, history: list[str] | None = None, sources: list[str] | None = None,
            since: str | None = None, until: str | None = None) -> dict:
        """Answer.to_dict() for the question: up to k passages quoted from the documents (3 by default, more for a
        question about a count on which sources differ), or an abstention. `history`: the chat's earlier questions;
        `sources` (document ids), `since` and `until` (YYYY-MM-DD) limit what may be quoted."""
        try:
            return qa.ask(question, k, history=history or [], sources=sources or None, since=since or None,
                          until=until or None).to_dict()
        except QAError as exc:
            log.info("refused: %s", exc)  # one line per refused request, not a traceback
            raise gr.Error(str(exc), print_exception=False) from None

    # delete_cache: Gradio copies every export file it serves into its cache (qa/private.py); copies five minutes old
    # are removed every minute. analytics_enabled: no version check or telemetry (each a lookup at every start).
    listed = qa.sources()  # as the page is built; `opened` sends what has changed since
    built = (sources_html(listed), source_choices(listed), page_count(len(listed)) > 1)
    with Chat(title=qa.collection.title or DEFAULT_TITLE, delete_cache=(60, 300), analytics_enabled=False) as app:
        gr.HTML(intro_html(qa.collection), elem_id="intro")
        with gr.Row(equal_height=False, elem_id="workspace"):
            with gr.Column(scale=3, min_width=300, elem_id="chat-column"):
                with gr.Tabs():
                    with gr.Tab("Ask", id="ask"):
                        chat = gr.HTML(conversation_html([]), html_template=CHAT_TEMPLATE, js_on_load=CHAT_JS,
                                       elem_id="chat", elem_classes=["quotes"])
                        box = gr.Textbox(label="Your question", placeholder=(qa.examples or ["Type a question"])[0],
                                         submit_btn="Ask")
                        gr.Markdown("Example questions:", visible=bool(qa.examples))
                        with gr.Row():
                            examples = [gr.Button(q, size="sm", variant="secondary") for q in qa.examples]
                        with gr.Row():
                            exports = [gr.Button(f"Export quotes ({name})", size="sm", interactive=False)
                                       for name in FORMAT_NAMES]
                            clear_button = gr.Button("Clear chat", size="sm")
                        if uploads:
                            with gr.Column(elem_id="upload-area"):
                                drop = gr.File(label="Add files to the corpus", file_count="multiple",
                                               elem_id="upload-drop", height=120)
                                gr.HTML(f'<p class="upload-hint">{html.escape(upload.HINT)}</p>')
                                folder = gr.UploadButton("Choose a folder to add", file_count="directory", size="sm")
                            uploaded = gr.HTML("", js_on_load=UPLOAD_JS, elem_id="upload-status")
                    with gr.Tab("Search", id="search"):
                        query = gr.Textbox(label="Find passages", submit_btn="Search",
                                           placeholder='words that must all be in the passage, or a "quoted phrase"')
                        order = gr.Radio([("Best match first", ORDERS[0]), ("Oldest first", ORDERS[1])],
                                         value=ORDERS[0], label="Order")
                        hits = gr.HTML(search_html(None), html_template=SEARCH_TEMPLATE, js_on_load=CHAT_JS,
                                       elem_id="search", elem_classes=["quotes"])
                        with gr.Row():
                            previous_hits = gr.Button("Previous page of passages", size="sm", interactive=False)
                            next_hits = gr.Button("Next page of passages", size="sm", interactive=False)
                    with gr.Tab("Collection", id="collection"):
                        collected = gr.HTML(collection_html([]), html_template=COLLECTION_TEMPLATE, js_on_load=CHAT_JS,
                                            elem_id="collection", elem_classes=["quotes"])
                        with gr.Row():
                            collection_exports = [gr.Button(f"Export starred ({name})", size="sm", interactive=False)
                                                  for name in FORMAT_NAMES]
                with gr.Accordion("Limit answers and searches to sources and dates", open=False):
                    chosen = gr.Dropdown(built[1], value=[], multiselect=True,
                                         label="Quote only these sources (none chosen: all)")
                    with gr.Row():
                        since = gr.Textbox(label="From date", placeholder="YYYY-MM-DD")
                        until = gr.Textbox(label="Until date", placeholder="YYYY-MM-DD")
            with gr.Column(scale=2, min_width=300):
                find = gr.Textbox(label="Find a source", placeholder="title, publisher, author or date")
                viewer = gr.HTML(built[0], html_template=VIEWER_TEMPLATE, js_on_load=VIEWER_JS,
                                 elem_id="source-viewer")
                with gr.Row(visible=built[2]) as paging_row:  # only for a long list
                    previous_page = gr.Button("Previous page of sources", size="sm", interactive=False)
                    next_page = gr.Button("Next page of sources", size="sm")
                original = gr.DownloadButton(ORIGINAL, size="sm", interactive=False)
        state = gr.State([])  # this browser session's conversation (Turns), for follow-ups and the export
        starred = gr.State([])  # the collection (Passages)
        # Both are also kept in the browser's local storage (not on the server), as JSON, for the next visit.
        saved = gr.BrowserState([], storage_key="qa-conversation")
        kept = gr.BrowserState([], storage_key="qa-collection")
        page = gr.State(1)  # of the source list
        outputs = [box, chat, state, saved, *exports]
        kept_outputs = [collected, starred, kept, *collection_exports]
        limits = [chosen, since, until]
        box.submit(respond, [box, state, *limits], outputs, show_progress_on=[box], **PRIVATE)
        for button in examples:
            button.click(respond, [button, state, *limits], outputs, show_progress_on=[box], **PRIVATE)
        # Not queued: the kept state is back before a first question can be answered.
        app.load(restore, [saved, kept], [*outputs, *kept_outputs], queue=False, **PRIVATE).then(
            follow_link, [state], outputs, **PRIVATE)
        # An export is written when its button is clicked, then handed to the browser as a download.
        download = gr.File(visible=False)
        for fmt, button, other in zip(FORMATS, exports, collection_exports):
            button.click(quotes_file(fmt), [state], download, **PRIVATE).then(None, [download], None, js=DOWNLOAD_JS)
            other.click(starred_file(fmt), [starred], download, **PRIVATE).then(None, [download], None, js=DOWNLOAD_JS)
        paging = [viewer, page, previous_page, next_page, paging_row]
        find.change(list_sources, [find, gr.State(1)], paging, show_progress="hidden", **PRIVATE)
        previous_page.click(lambda q, p: list_sources(q, p - 1), [find, page], paging, **PRIVATE)
        next_page.click(lambda q, p: list_sources(q, p + 1), [find, page], paging, **PRIVATE)
        for shown in (chat, hits, collected, viewer):
            shown.select(act, [state, starred], [viewer, original, *outputs, *kept_outputs], show_progress="hidden",
                         **PRIVATE)
        hits_page = gr.State(1)
        searching = [hits, hits_page, previous_hits, next_hits]
        query.submit(find_passages, [query, order, gr.State(1), *limits], searching, **PRIVATE)
        order.change(find_passages, [query, order, gr.State(1), *limits], searching, **PRIVATE)
        previous_hits.click(lambda q, o, p, *lim: find_passages(q, o, p - 1, *lim), [query, order, hits_page, *limits],
                            searching, **PRIVATE)
        next_hits.click(lambda q, o, p, *lim: find_passages(q, o, p + 1, *lim), [query, order, hits_page, *limits],
                        searching, **PRIVATE)
        clear_button.click(clear, None, [viewer, original, *outputs], **PRIVATE)
        app.load(opened, None, [viewer, chosen, paging_row], show_progress="hidden", **PRIVATE)
        if uploads:  # one upload at a time: each reads its files in a worker process of its own
            for source in (drop, folder):
                source.upload(take_upload, [source], [drop, uploaded, viewer, chosen], show_progress="hidden",
                              concurrency_limit=1, concurrency_id="upload", **PRIVATE)
        gr.api(ask, api_name="ask")
        gr.api(search, api_name="search")
        app.unload(forget)
    return app


def main() -> None:
    server = ServerSettings()
    p = argparse.ArgumentParser(description="The chat: answers quoted from the corpus, with citations.",
                                parents=[common_options()])
    p.add_argument("--host", help=f"address to bind (default {server.host}: this machine only; env QA_HOST)")
    p.add_argument("--port", type=int, help=f"port (default {server.port}; env QA_PORT)")
    p.add_argument("--concurrency", type=int, help=f"questions answered at once (default {server.concurrency}; "
                                                   "env QA_CONCURRENCY)")
    p.add_argument("--queue-size", type=int, help=f"questions waiting at most; beyond it users are told the app is busy "
                                                  f"(default {server.queue_size}; env QA_QUEUE_SIZE)")
    p.add_argument("--sessions", type=int, help="sessions whose state is kept in memory, the least recently used dropped "
                   f"first: every /ask call is a session of its own (default {server.sessions}; env QA_SESSIONS)")
    p.add_argument("--share", action="store_true", default=None, help="also make a public gradio.live link (off by default)")
    p.add_argument("--allowed-host", action="append", dest="allowed_hosts", metavar="NAME",
                   help="a host name the app may be reached by besides localhost and the bound address; repeatable "
                        "(env QA_ALLOWED_HOSTS, comma-separated)")
    p.add_argument("--max-body-bytes", type=int, help=f"largest request body accepted (default {server.max_body_bytes:,}; "
                   "env QA_MAX_BODY_BYTES)")
    p.add_argument("--upload", choices=UPLOADS, help="upload from the page, imported as `qa add` does: auto (the "
                   "default) is on only when the app listens on this machine alone (env QA_UPLOAD)")
    for name, kind, text in BOUNDS:
        p.add_argument("--" + name.replace("_", "-"), type=kind,
                       help=f"{text} (default {getattr(server, name)}; env QA_{name.upper()})")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        flags = {name: getattr(args, name) for name in (f.name for f in fields(ServerSettings))}
        flags["allowed_hosts"] = ",".join(args.allowed_hosts) if args.allowed_hosts else None
        server = ServerSettings.load(config_file=args.config, **{k: v for k, v in flags.items() if v is not None})
        if (needs_login(server.host) or server.share) and not server.users:
            raise QAError(f"--host {server.host}{' --share' if server.share else ''} lets other machines reach the app; "
                          "give a users file with --users FILE (QA_USERS), made with 'python -m qa.auth FILE NAME'")
        auth = checker(read_users(Path(server.users))) if server.users else None
        qa = QA(Settings.load(args.param, args.config))
        qa.calibration  # noqa: B018 (read now: a bad calibration file stops the app here, not at the first question)
    except QAError as exc:  # a corpus or index the app cannot serve: one line, as the CLI says it, not a traceback
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from None
    # The page is served while the model loads, so the first question does not wait for both.
    threading.Thread(target=qa.warm, daemon=True).start()
    # show_error: an error Gradio raises itself (a file path it will not read, say) reaches the caller as its
    # message, not as "error": null; the engine's own errors are gr.Error messages either way.
    # max_file_size (web.launch_kwargs): with upload off (qa/upload.py) the app takes no files, so
    # /gradio_api/upload refuses any instead of storing it; with it on, an upload up to upload_max_mb.
    # run_history=False: no record of questions in the browser, and no run-history routes (which reach Hugging Face
    # buckets, for a local caller with the host's own saved token).
    # state_session_capacity: Gradio keeps the state of its last 10,000 sessions by default, and every /ask call is a
    # session, so memory grew with every call until then (docs/RELIABILITY.md, Load).
    app = build_app(qa, go_private() / "exports", server)
    with bounded_connections(server):
        app.queue(default_concurrency_limit=server.concurrency, max_size=server.queue_size).launch(
            server_name=server.host, server_port=server.port, share=server.share, css=CSS, show_error=True,
            state_session_capacity=server.sessions, run_history=False, auth=auth,
            **web.launch_kwargs(app, server, upload=upload.enabled(server)))


if __name__ == "__main__":
    main()
