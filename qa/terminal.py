"""The CLI's display of answers, and `python -m qa chat`, a conversation on standard input.

Highlighted sentences are shown in bold and underlined on a terminal, and between `[[` and `]]` when the output is
not one (a file, a pipe), so that they survive copying. Quotes are printed as they are, character for character."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from qa.answer.export import ALSO_IN, differ_lines, filter_text, format_of, write_export
from qa.answer.model import NOTICE_PREFIX, SEARCHED_PREFIX, SUGGESTIONS_HEADING, Answer, mark_spans
from qa.errors import QAError
from qa.safe_text import printable
from qa.search.filters import Filter
from qa.search.fulltext import SearchResults

BOLD_UNDERLINE, RESET = "\033[1;4m", "\033[0m"
PLAIN_MARKS = ("[[", "]]")
INDENT = "    "
QUIT = ("/quit", "/exit")
CHAT_HELP = ("Ask a question about the documents; a follow-up ('What were they charged with?') is searched with the "
             "questions before it. /quit or the end of input (Ctrl-D) ends the chat.")


def marked(text: str, highlights: list[tuple[int, int]], tty: bool) -> str:
    """`text` with each highlighted span in bold and underlined (tty) or between [[ and ]]. Control characters of the
    text are shown as escapes (qa.safe_text), so that only these marks act on the terminal."""
    start_mark, end_mark = (BOLD_UNDERLINE, RESET) if tty else PLAIN_MARKS
    return mark_spans(text, highlights, printable, start_mark, end_mark)


def format_answer(answer: Answer, tty: bool, limit: Filter | None = None) -> str:
    """The answer as the CLI prints it: what it was limited to, the message, what a follow-up searched for, where
    sources differ (one line per source), then each quote numbered with its citation above it."""
    lines = [printable(filter_text(limit))] if limit else []
    lines.append(printable(answer.message))  # every text from the corpus or the user is shown safe (qa.safe_text)
    if answer.abstained:
        if answer.suggestions:
            lines += ["", SUGGESTIONS_HEADING, *(f"- {printable(q)}" for q in answer.suggestions)]
        return "\n".join(lines)
    if answer.searched_for:
        lines.append(SEARCHED_PREFIX + printable(answer.searched_for))
    if answer.disagreement:
        lines += [NOTICE_PREFIX.rstrip(), *(f"- {printable(line)}" for line in differ_lines(answer))]
    for n, p in enumerate(answer.passages, 1):
        lines += ["", f"[{n}] {printable(p.citation)}", *(f"{INDENT}{ALSO_IN}{printable(q.citation)}" for q in p.also_in)]
        lines.append(INDENT + marked(p.text, p.highlights, tty).replace("\n\n", "\n" + INDENT))
    return "\n".join(lines)


def is_tty(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def chat(ask: Callable[[str, list[Answer]], Answer], stdin: TextIO, stdout: TextIO, stderr: TextIO,
         export_to: Path | None = None) -> int:
    """Questions read line by line from `stdin` (blank lines skipped), each answered with the earlier answers as its
    history, until /quit or the end of input. A bad question prints `error: ...` and the chat goes on. With
    `export_to`, every quote so far is written there after each answer (format from its suffix)."""
    fmt = format_of(str(export_to)) if export_to else None  # a bad file name fails before the first question
    tty_in, tty_out = is_tty(stdin), is_tty(stdout)
    if tty_in:
        print(CHAT_HELP + "\n", file=stdout)
    answers: list[Answer] = []
    while True:
        if tty_in:
            print("question> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        question = line.strip()
        if not line or question in QUIT:
            return 0
        if not question:
            continue
        try:
            answer = ask(question, answers)
        except QAError as exc:
            print(f"error: {printable(str(exc))}", file=stderr, flush=True)
            continue
        answers.append(answer)
        print(format_answer(answer, tty_out) + "\n", file=stdout, flush=True)
        if export_to and fmt:
            write_export(answers, fmt, export_to)


def print_answer(answer: Answer, stdout: TextIO | None = None, limit: Filter | None = None) -> None:
    stdout = stdout or sys.stdout  # read when called: a caller may have redirected it
    print(format_answer(answer, is_tty(stdout), limit), file=stdout)


def format_search(results: SearchResults, tty: bool) -> str:
    """Search results as the CLI prints them: the count, the count per document, then each hit numbered with its
    citation above it and the user's words marked."""
    shown = f"; {results.first:,}–{results.first + len(results.hits) - 1:,} shown" if results.hits else ""
    lines = [f"{results.total:,} passages in {results.matched_documents:,} documents match {printable(results.query)}"
             f" (by {results.order}, page {results.page} of {results.pages}{shown})"]
    lines += [f"  {d.count:>5,}  {printable(d.title)}" for d in results.documents]
    for n, p in enumerate(results.hits, results.first):
        lines += ["", f"[{n}] {printable(p.citation)}"]
        lines.append(INDENT + marked(p.text, p.highlights, tty).replace("\n\n", "\n" + INDENT))
    return "\n".join(lines)


def print_search(results: SearchResults, stdout: TextIO | None = None) -> None:
    stdout = stdout or sys.stdout
    print(format_search(results, is_tty(stdout)), file=stdout)
