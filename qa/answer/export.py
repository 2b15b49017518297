"""Getting quotes out of the chat: plain text to paste into a story, and an export of every quote of a conversation
as Markdown, CSV or JSON, each quote with all its citation fields and the question it answered.

Plain text has no markup and no escapes: a quote in quotation marks, then its citation. Nothing is added to the
quoted words; the only wording is the fixed labels below."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from qa.answer.figures import figure_lines
from qa.answer.model import NOTICE_PREFIX, SEARCHED_PREFIX, SUGGESTIONS_HEADING, Answer, Passage, escape_markdown
from qa.errors import QAError
from qa.safe_text import isolated

FORMATS = ("md", "csv", "json")
ALSO_IN = "The same in near-identical words: "  # then the citation of a near-duplicate shown once
# The columns of CSV and the keys of JSON: the question, the quote's number in its answer, then every field of
# Answer.to_dict()'s passages in their order there.
PASSAGE_FIELDS = tuple(Passage.__dataclass_fields__)
FIELDS = ("question", "quote", *PASSAGE_FIELDS)


class UnknownFormat(QAError, ValueError):
    """An export format other than md, csv or json."""


@dataclass(frozen=True)
class Quote:
    """One quote of a conversation: the passage, its number in its answer, and the question it answered."""

    question: str
    number: int
    passage: Passage


def plain_citation(p: Passage) -> str:
    """The citation as plain text: title, publisher, date, authors and URL where known (`Passage.citation`); a
    reader comment is named as one, with its author, and also gets the URL of the page it was posted on."""
    if p.kind == "comment" and p.url:
        return f"{p.citation}, {p.url}"
    return p.citation


def quote_text(p: Passage) -> str:
    """A quote to paste: the passage in quotation marks, then its citation, then any near-identical source's."""
    lines = [f"“{isolated(p.text)}”", plain_citation(p)]
    lines += [ALSO_IN + plain_citation(q) for q in p.also_in]
    return "\n".join(lines)


def answer_text(answer: Answer) -> str:
    """The whole answer as plain text: the question, the message, then each quote numbered as on screen."""
    blocks = [f"Question: {answer.question}", answer.message]
    if answer.abstained:
        if answer.suggestions:
            blocks.append("\n".join([SUGGESTIONS_HEADING, *(f"- {q}" for q in answer.suggestions)]))
        return "\n\n".join(blocks)
    if answer.searched_for:
        blocks.append(SEARCHED_PREFIX + answer.searched_for)
    if answer.disagreement:
        blocks.append("\n".join([NOTICE_PREFIX.rstrip(), *(f"- {line}" for line in differ_lines(answer))]))
    blocks += [f"[{n}] {quote_text(p)}" for n, p in enumerate(answer.passages, 1)]
    return "\n\n".join(blocks)


def differ_lines(answer: Answer) -> list[str]:
    """'Sources differ' as one line per figure, in the notice's order: its wordings, then each source stating it
    with the numbers of the quotes it comes from ('14 — The Moscow Times, 2011-12-19 [1]; RFE/RL, 2011-12-21 [4]')."""
    if not answer.disagreement:
        return []
    return figure_lines(answer.disagreement.figures, {p.passage_id: n for n, p in enumerate(answer.passages, 1)})


def quotes(answers: Iterable[Answer]) -> list[Quote]:
    return [Quote(a.question, n, p) for a in answers for n, p in enumerate(a.passages, 1)]


def _record(q: Quote) -> dict:
    passage = Answer(q.question, False, [q.passage]).to_dict()["passages"][0]
    return {"question": q.question, "quote": q.number, **passage}


def _cell(value: object) -> str:
    """A CSV cell: text as it is, lists and objects as JSON, an unknown field empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _markdown(answers: list[Answer]) -> str:
    out = ["# Quotes from the conversation"]
    for turn, answer in enumerate(answers, 1):
        out.append(f"## {turn}. {escape_markdown(answer.question)}")
        if not answer.passages:
            out.append(escape_markdown(answer.message))
        for q in quotes([answer]):
            record = _record(q)
            quoted = escape_markdown(q.passage.text).replace("\n\n", "\n>\n> ")
            fields = "".join(f"\n- {name}: {escape_markdown(_cell(record[name]))}" for name in PASSAGE_FIELDS
                             if name != "text")
            out.append(f"### [{q.number}] {escape_markdown(plain_citation(q.passage))}\n\n> {quoted}\n{fields}")
    return "\n\n".join(out) + "\n"


def export(answers: Iterable[Answer | Mapping], fmt: str) -> str:
    """Every quote of the conversation `answers` (Answers or Answer.to_dict()s, oldest first) with all its fields
    and the question it answered, as `fmt`: "md" (Markdown, text escaped so it renders as written), "csv" (one row
    per quote, columns FIELDS) or "json" (a list of objects with the keys FIELDS)."""
    if fmt not in FORMATS:
        raise UnknownFormat(f"export format {fmt!r} is not known; use one of {', '.join(FORMATS)}")
    conversation = [a if isinstance(a, Answer) else Answer.from_dict(dict(a)) for a in answers]
    if fmt == "md":
        return _markdown(conversation)
    records = [_record(q) for q in quotes(conversation)]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({name: _cell(value) for name, value in r.items()} for r in records)
    return out.getvalue()


def format_of(path: str) -> str:
    """The export format a file name asks for by its suffix (.md, .csv, .json)."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix == "markdown":
        suffix = "md"
    if suffix not in FORMATS:
        raise UnknownFormat(f"cannot tell the export format of {path!r}; end its name with .md, .csv or .json")
    return suffix


def write_export(answers: Iterable[Answer | Mapping], fmt: str, path: Path) -> Path:
    """`export(answers, fmt)` written to `path` as UTF-8 (its folder made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(export(answers, fmt), encoding="utf-8", newline="")
    return path
