"""The chat: a thin Gradio layer over qa.QA. Run with `make run` or `python app.py [--host H] [--port P]`."""
from __future__ import annotations

import argparse
import logging
import os
import threading

import gradio as gr

from qa import QA, QAError
from qa.answer import escape_markdown

INTRO = ("Ask about the December 2011 shootings of striking oil workers in Zhanaozen, Kazakhstan. "
         "Answers are only passages quoted word for word from five articles, each with its source.")


def build_app(qa: QA) -> gr.Blocks:
    def respond(question: str, history: list[dict]):
        try:
            reply = qa.ask(question).to_markdown()
        except QAError as exc:
            reply = f"Sorry, {exc}."
        # The question is escaped so it shows as the text typed, never as markup.
        history = history + [{"role": "user", "content": escape_markdown(question)},
                             {"role": "assistant", "content": reply}]
        return "", history

    with gr.Blocks(title="Zhanaozen articles: quoted answers") as app:
        gr.Markdown(f"## Zhanaozen 2011: answers quoted from the articles\n{INTRO}")
        chat = gr.Chatbot(label="Answers", height=520, sanitize_html=True)
        box = gr.Textbox(label="Your question", placeholder="How many people were killed?", submit_btn=True)
        box.submit(respond, [box, chat], [box, chat], api_name=False)
    return app


def main() -> None:
    p = argparse.ArgumentParser(description=INTRO)
    p.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "7860")))
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    qa = QA()
    # The page is served while the model loads, so the first question does not wait for both.
    threading.Thread(target=qa.warm, daemon=True).start()
    build_app(qa).queue(default_concurrency_limit=2, max_size=32).launch(
        server_name=args.host, server_port=args.port, share=False)


if __name__ == "__main__":
    main()
