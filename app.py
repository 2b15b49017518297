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
from dataclasses import fields
from pathlib import Path
from typing import Any

import gradio as gr

from qa import QA, QAError, Settings, web
from qa.answer.export import FORMATS, write_export
from qa.auth import checker, needs_login, read_users
from qa.cli import common_options
from qa.config import ServerSettings
from qa.connections import bounded_connections
from qa.present import (
    DEFAULT_TITLE,
    Turn,
    conversation_html,
    intro_html,
    page_count,
    source_choices,
    source_html,
    source_list,
    sources_html,
)
from qa.private import go_private
from qa.safe_text import printable
from qa.session import refused, turns_left, with_turn

CSS = (Path(__file__).parent / "qa" / "static" / "chat.css").read_text(encoding="utf-8")
# The conversation is HTML from qa.present, not Markdown, so that quotes show exactly as written.
CHAT_TEMPLATE = '<div class="log" role="region" aria-label="Conversation" tabindex="0">${value}</div>' \
                '<p class="sr-only" role="status" aria-live="polite"></p>'
VIEWER_TEMPLATE = ('<div class="viewer"><div class="viewer-bar"><h2>Source viewer</h2>'
                   '<button type="button" class="act back">Back to the answer</button></div>'
                   '<div class="viewer-body" role="region" aria-label="Source viewer" tabindex="0">${value}</div></div>')
JS = Path(__file__).parent / "qa" / "static" / "chat.js"
CHAT_JS, VIEWER_JS = JS.read_text(encoding="utf-8").split("// --- viewer ---\n")
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
          ("max_connections_per_client", int, "connections per client address at most")]


class Chat(gr.Blocks):
    """A plain HTTP call to `/ask` may leave out k and history, as gradio_client does: they get the defaults of
    `ask()`'s signature. (Gradio itself refuses such a call with `"error": null`, its message hidden.)"""

    def validate_inputs(self, block_fn, inputs: list) -> None:
        if block_fn.api_name == "ask":
            inputs.extend(block.value for block in block_fn.inputs[len(inputs):])
        super().validate_inputs(block_fn, inputs)


def build_app(qa: QA, export_dir: Path, server: ServerSettings) -> gr.Blocks:
    """The chat over `qa`: each session's export files in a folder of `export_dir`, its conversation bounded by
    `server`'s limits."""

    def session_folder(request: gr.Request) -> Path:
        """This session's export folder, named by a digest of the session id, which the browser sends, so that no
        id can name a path."""
        return export_dir / hashlib.sha256((request.session_hash or "").encode()).hexdigest()[:32]

    def forget(request: gr.Request) -> None:
        """The session's export files removed: at Clear chat, and when its page is closed."""
        shutil.rmtree(session_folder(request), ignore_errors=True)

    def downloads(turns: list[Turn], request: gr.Request) -> list:
        """The export buttons, each with this session's file."""
        answers = [t.answer for t in turns if t.answer]
        ready = any(a.passages for a in answers)
        folder = session_folder(request)
        return [gr.DownloadButton(value=write_export(answers, fmt, folder / f"quotes.{fmt}") if ready else None,
                                  interactive=ready) for fmt in FORMATS]

    def respond(question: str | None, turns: list[Turn], chosen: list[str] | None, since: str | None,
                until: str | None, request: gr.Request):
        question = question or ""  # a page or client may send null: answered as an empty question
        full = turns_left(turns, server)
        if full:  # not asked: the question stays in the box
            conversation = refused(turns, full)
            return question, conversation.html, turns, *downloads(turns, request)
        try:
            turn = Turn(question, qa.ask(question, history=[t.answer for t in turns if t.answer], sources=chosen or None,
                                         since=(since or "").strip() or None, until=(until or "").strip() or None))
        except QAError as exc:
            turn = Turn(question, error=str(exc))
        conversation = with_turn(turns, turn, server)
        return "", conversation.html, conversation.turns, *downloads(conversation.turns, request)

    def open_source(event: gr.EventData):
        data = event._data  # what the page sent, which may be anything: EventData's own lookup raises on a None
        try:
            return source_html(*qa.locate(data.get("key") if isinstance(data, dict) else None))
        except QAError as exc:
            return f"<p>{html.escape(str(exc))}</p>"

    def clear(request: gr.Request):
        forget(request)
        return [], conversation_html([]), "", sources_html(qa.sources()), *downloads([], request)

    def list_sources(query: str | None, page: int):
        """The source list in the viewer: the sources matching `query`, page `page`, and the paging buttons."""
        listing = source_list(qa.sources(), query or "", page)
        return (listing.html, listing.page, gr.Button(interactive=listing.page > 1),
                gr.Button(interactive=listing.page < listing.pages), gr.Row(visible=listing.pages > 1))

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
    with Chat(title=qa.collection.title or DEFAULT_TITLE, delete_cache=(60, 300), analytics_enabled=False) as app:
        gr.HTML(intro_html(qa.collection), elem_id="intro")
        with gr.Row(equal_height=False, elem_id="workspace"):
            with gr.Column(scale=3, min_width=300, elem_id="chat-column"):
                chat = gr.HTML(conversation_html([]), html_template=CHAT_TEMPLATE, js_on_load=CHAT_JS, elem_id="chat")
                box = gr.Textbox(label="Your question", placeholder=(qa.examples or ["Type a question"])[0], submit_btn="Ask")
                gr.Markdown("Example questions:", visible=bool(qa.examples))
                with gr.Row():
                    examples = [gr.Button(q, size="sm", variant="secondary") for q in qa.examples]
                with gr.Accordion("Limit answers to sources and dates", open=False):
                    chosen = gr.Dropdown(source_choices(qa.sources()), value=[], multiselect=True,
                                         label="Quote only these sources (none chosen: all)")
                    with gr.Row():
                        since = gr.Textbox(label="From date", placeholder="YYYY-MM-DD")
                        until = gr.Textbox(label="Until date", placeholder="YYYY-MM-DD")
                with gr.Row():
                    exports = [gr.DownloadButton(f"Export quotes ({name})", size="sm", interactive=False)
                               for name in ("Markdown", "CSV", "JSON")]
                    clear_button = gr.Button("Clear chat", size="sm")
            with gr.Column(scale=2, min_width=300):
                find = gr.Textbox(label="Find a source", placeholder="title, publisher, author or date")
                viewer = gr.HTML(sources_html(qa.sources()), html_template=VIEWER_TEMPLATE, js_on_load=VIEWER_JS,
                                 elem_id="source-viewer")
                with gr.Row(visible=page_count(len(qa.sources())) > 1) as paging_row:  # only for a long list
                    previous_page = gr.Button("Previous page of sources", size="sm", interactive=False)
                    next_page = gr.Button("Next page of sources", size="sm")
        turns = gr.State([])  # this browser session's conversation, for follow-ups and the export
        page = gr.State(1)  # of the source list
        outputs = [box, chat, turns, *exports]
        limits = [chosen, since, until]
        box.submit(respond, [box, turns, *limits], outputs, show_progress_on=[box], **PRIVATE)
        for button in examples:
            button.click(respond, [button, turns, *limits], outputs, show_progress_on=[box], **PRIVATE)
        paging = [viewer, page, previous_page, next_page, paging_row]
        find.change(list_sources, [find, gr.State(1)], paging, show_progress="hidden", **PRIVATE)
        previous_page.click(lambda q, p: list_sources(q, p - 1), [find, page], paging, **PRIVATE)
        next_page.click(lambda q, p: list_sources(q, p + 1), [find, page], paging, **PRIVATE)
        chat.select(open_source, None, viewer, show_progress="hidden", **PRIVATE)
        clear_button.click(clear, None, [turns, chat, box, viewer, *exports], **PRIVATE)
        gr.api(ask, api_name="ask")
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
    # max_file_size=0: the app takes no files, so /gradio_api/upload refuses any instead of storing it.
    # run_history=False: no record of questions in the browser, and no run-history routes (which reach Hugging Face
    # buckets, for a local caller with the host's own saved token).
    # state_session_capacity: Gradio keeps the state of its last 10,000 sessions by default, and every /ask call is a
    # session, so memory grew with every call until then (docs/RELIABILITY.md, Load).
    app = build_app(qa, go_private() / "exports", server)
    with bounded_connections(server):
        app.queue(default_concurrency_limit=server.concurrency, max_size=server.queue_size).launch(
            server_name=server.host, server_port=server.port, share=server.share, css=CSS, show_error=True,
            max_file_size=0, state_session_capacity=server.sessions, run_history=False, auth=auth,
            **web.launch_kwargs(app, server))


if __name__ == "__main__":
    main()
