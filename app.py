"""The chat: a thin Gradio layer over qa.QA. Run with `make run` or `python app.py [--host H] [--port P]`.

Besides the page it serves one API endpoint, `/ask`, returning `Answer.to_dict()`:
    gradio_client.Client("http://127.0.0.1:7860").predict("How many people were killed?", api_name="/ask")"""
from __future__ import annotations

import argparse
import html
import logging
import threading
from typing import Any

import gradio as gr

from qa import QA, QAError, Settings
from qa.answer.model import escape_markdown
from qa.cli import common_options
from qa.config import ServerSettings
from qa.present import QUOTED_ID, passage_choices, source_html, sources_html

INTRO = ("Ask about the December 2011 shootings of striking oil workers in Zhanaozen, Kazakhstan. "
         "The bot answers only with passages quoted word for word from five articles, each with its source; "
         "when they do not answer, it says so.")
CSS = "mark { background: #ffe58a; color: inherit; padding: 0 1px; }"
SCROLL_TO_QUOTE = f"() => document.getElementById('{QUOTED_ID}')?.scrollIntoView({{block: 'center'}})"
# Long answers: show the start of the newest reply, where its best passage is, not its end.
SCROLL_TO_REPLY = ("() => { const replies = document.querySelectorAll('[data-testid=bot]');"
                   " replies[replies.length - 1]?.scrollIntoView({block: 'start'}); }")
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # UI events are not API endpoints; `/ask` is the one API
log = logging.getLogger("app")


class Chat(gr.Blocks):
    """A plain HTTP call to `/ask` may leave out k and history, as gradio_client does: they get the defaults of
    `ask()`'s signature. (Gradio itself refuses such a call with `"error": null`, its message hidden.)"""

    def validate_inputs(self, block_fn, inputs: list) -> None:
        if block_fn.api_name == "ask":
            inputs.extend(block.value for block in block_fn.inputs[len(inputs):])
        super().validate_inputs(block_fn, inputs)


def build_app(qa: QA) -> gr.Blocks:
    sources = sources_html(qa.sources())

    def respond(question: str, messages: list[dict], turns: list[dict]):
        try:
            answer = qa.ask(question, history=turns)
            reply, choices = answer.to_markdown(), passage_choices(answer.passages)
            turns = turns + [{"question": answer.question, "abstained": answer.abstained}]
        except QAError as exc:
            reply, choices = f"Sorry, {escape_markdown(str(exc))}.", []
        # The question is escaped so it shows as the text typed, never as markup.
        messages = messages + [{"role": "user", "content": escape_markdown(question)},
                               {"role": "assistant", "content": reply}]
        return "", messages, turns, gr.Radio(choices=choices, value=None, visible=bool(choices))

    def open_source(key: str | None):
        if not key:
            return gr.skip()
        try:
            return source_html(*qa.locate(key))
        except QAError as exc:
            return f"<p>{html.escape(str(exc))}</p>"

    def clear():
        return [], [], "", gr.Radio(choices=[], value=None, visible=False), sources

    def ask(question: str, k: int | None = None, history: list[str] | None = None) -> dict:
        """Answer.to_dict() for the question: up to k passages quoted from the articles (3 by default, more for a
        question about a count on which sources differ), or an abstention. `history`: the chat's earlier questions."""
        try:
            return qa.ask(question, k, history=history or []).to_dict()
        except QAError as exc:
            log.info("refused: %s", exc)  # one line per refused request, not a traceback
            raise gr.Error(str(exc), print_exception=False) from None

    with Chat(title="Zhanaozen 2011: answers quoted from the articles") as app:
        gr.Markdown(f"## Zhanaozen 2011: answers quoted from the articles\n{INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                chat = gr.Chatbot(label="Chat", height=560, sanitize_html=True, layout="panel", autoscroll=False)
                box = gr.Textbox(label="Your question", placeholder="How many people were killed?", submit_btn="Ask")
                gr.Markdown("Example questions:")
                with gr.Row():
                    examples = [gr.Button(q, size="sm", variant="secondary") for q in qa.examples]
                clear_button = gr.Button("Clear chat", size="sm")
            with gr.Column(scale=2, min_width=300):
                pick = gr.Radio(label="Open a quoted passage in its article", choices=[], visible=False)
                viewer = gr.HTML(sources, elem_id="source-viewer", label="Source viewer", show_label=True, max_height=600,
                                 container=True)
        turns = gr.State([])  # this browser session's earlier questions, for follow-ups
        outputs = [box, chat, turns, pick]
        box.submit(respond, [box, chat, turns], outputs, **PRIVATE).then(None, js=SCROLL_TO_REPLY, **PRIVATE)
        for button in examples:
            button.click(respond, [button, chat, turns], outputs, **PRIVATE).then(None, js=SCROLL_TO_REPLY, **PRIVATE)
        pick.change(open_source, pick, viewer, **PRIVATE).then(None, js=SCROLL_TO_QUOTE, **PRIVATE)
        clear_button.click(clear, None, [chat, turns, box, pick, viewer], **PRIVATE)
        gr.api(ask, api_name="ask")
    return app


def main() -> None:
    server = ServerSettings()
    p = argparse.ArgumentParser(description=INTRO, parents=[common_options()])
    p.add_argument("--host", help=f"address to bind (default {server.host}: this machine only; env QA_HOST)")
    p.add_argument("--port", type=int, help=f"port (default {server.port}; env QA_PORT)")
    p.add_argument("--concurrency", type=int, help=f"questions answered at once (default {server.concurrency}; "
                                                   "env QA_CONCURRENCY)")
    p.add_argument("--queue-size", type=int, help=f"questions waiting at most; beyond it users are told the app is busy "
                                                  f"(default {server.queue_size}; env QA_QUEUE_SIZE)")
    p.add_argument("--sessions", type=int, help="sessions whose state is kept in memory, the least recently used dropped "
                   f"first: every /ask call is a session of its own (default {server.sessions}; env QA_SESSIONS)")
    p.add_argument("--share", action="store_true", default=None, help="also make a public gradio.live link (off by default)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        flags = {name: getattr(args, name) for name in ("host", "port", "concurrency", "queue_size", "sessions", "share")}
        server = ServerSettings.load(config_file=args.config, **{k: v for k, v in flags.items() if v is not None})
        qa = QA(Settings.load(args.param, args.config))
    except QAError as exc:
        raise SystemExit(f"error: {exc}") from None
    # The page is served while the model loads, so the first question does not wait for both.
    threading.Thread(target=qa.warm, daemon=True).start()
    # show_error: an error Gradio raises itself (a file path it will not read, say) reaches the caller as its
    # message, not as "error": null; the engine's own errors are gr.Error messages either way.
    # max_file_size=0: the app takes no files, so /gradio_api/upload refuses any instead of storing it.
    # run_history=False: no record of questions in the browser, and no run-history routes (which reach Hugging Face
    # buckets, for a local caller with the host's own saved token).
    # state_session_capacity: Gradio keeps the state of its last 10,000 sessions by default, and every /ask call is a
    # session, so memory grew with every call until then (docs/RELIABILITY.md, Load).
    build_app(qa).queue(default_concurrency_limit=server.concurrency, max_size=server.queue_size).launch(
        server_name=server.host, server_port=server.port, share=server.share, css=CSS, show_error=True,
        max_file_size=0, state_session_capacity=server.sessions, run_history=False)


if __name__ == "__main__":
    main()
