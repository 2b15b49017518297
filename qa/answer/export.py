"""Getting quotes out of the chat: plain text to paste into a story, and an export of every quote of a conversation
as Markdown, CSV or JSON, each quote with all its citation fields and the question it answered, and each answer with
what the screen shows around its quotes: its level and heading, its filters, and where sources differ.

Plain text has no markup and no escapes: a quote in quotation marks, then its citation. Nothing is added to the
quoted words; the only wording is the fixed labels below."""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

from qa.answer.figures import figure_lines
from qa.answer.model import (
    NOTICE_PREFIX,
    SEARCHED_PREFIX,
    SUGGESTIONS_HEADING,
    Answer,
    Passage,
    mark_spans,
)
from qa.errors import QAError
from qa.safe_text import isolated
from qa.search.filters import Filter

FORMATS = ("md", "csv", "json")
ALSO_IN = "The same in near-identical words: "  # then the citation of a near-duplicate shown once
PASSAGE_FIELDS = tuple(Passage.__dataclass_fields__)


class UnknownFormat(QAError, ValueError):
    """An export format other than md, csv or json."""


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


def filter_text(limit: Filter | None) -> str:
    """What an answer or a search was limited to, as the screen, the copies and the exports say it; '' for none."""
    if limit is None:
        return ""
    parts = []
    if limit.sources is not None:
        parts.append("sources " + ", ".join(sorted(limit.sources)))
    if limit.since or limit.until:
        parts.append("documents dated" + (f" from {limit.since}" if limit.since else "")
                     + (f" until {limit.until}" if limit.until else ""))
    return "Limited to " + "; ".join(parts) + "."


def answer_text(answer: Answer, limit: Filter | None = None) -> str:
    """The whole answer as plain text: the question, what it was limited to, the message, then each quote numbered as
    on screen."""
    blocks = [f"Question: {answer.question}", *([filter_text(limit)] if limit else []), answer.message]
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


@dataclass(frozen=True)
class Asked:
    """An answer and the sources and dates it was limited to, as the chat shows it."""

    answer: Answer
    limit: Filter | None = None


def _asked(item: Answer | Mapping | Asked) -> Asked:
    if isinstance(item, Asked):
        return item
    return Asked(item if isinstance(item, Answer) else Answer.from_dict(dict(item)))


def highlighted(p: Passage) -> list[str]:
    """The highlighted sentences of a quote, as text."""
    return [p.text[start:end] for start, end in p.highlights]


def _filters(limit: Filter | None) -> dict | None:
    if limit is None:
        return None
    return {"sources": sorted(limit.sources) if limit.sources is not None else None, "since": limit.since,
            "until": limit.until, "text": filter_text(limit)}


def _records(asked: Asked) -> list[dict]:
    """One record per quote: the answer's question, level, message (its heading), filters and 'Sources differ'
    lines, the quote's number, every field of Answer.to_dict()'s passage, and its highlighted sentences as text."""
    a = asked.answer
    shared = {"question": a.question, "level": a.confidence, "heading": a.message, "searched_for": a.searched_for,
              "filters": _filters(asked.limit), "sources_differ": differ_lines(a)}
    return [{**shared, **record} for record in _passage_records(a.passages)]


def _passage_records(passages: list[Passage]) -> list[dict]:
    """The number, every field of Answer.to_dict()'s passage, and the highlighted sentences as text, of each."""
    fields = Answer("", False, passages).to_dict()["passages"]
    return [{"quote": n, **data, "highlighted": highlighted(p)} for n, (p, data) in enumerate(zip(passages, fields), 1)]


# The columns of CSV and the keys of JSON, in this order.
FIELDS = ("question", "level", "heading", "searched_for", "filters", "sources_differ", "quote", *PASSAGE_FIELDS,
          "highlighted")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


LINES = ("sources_differ", "highlighted")  # lists of text, one item a line in a CSV cell or the Markdown fields


def _field_text(name: str, value: object) -> str:
    """A field as text: text as it is, the filters as the screen words them, LINES one item a line, other lists and
    objects as JSON, none empty."""
    if value is None:
        return ""
    if name == "filters" and isinstance(value, dict):
        value = value["text"]
    elif name in LINES and isinstance(value, list):
        value = "\n".join(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _cell(name: str, value: object) -> str:
    """A CSV cell: the field as text; one a spreadsheet would run as a formula (starting with = + - @, a tab or a
    carriage return: OWASP's list) gets a ' in front, and so does one that starts with ' itself, so that removing
    one leading ' from every cell that starts with one gives the exact text back."""
    text = _field_text(name, value)
    return "'" + text if text.startswith(FORMULA_START) else text


def cell_text(cell: str) -> str:
    """The exact text of an exported CSV cell (see `_cell`): one leading ' removed."""
    return cell[1:] if cell.startswith("'") else cell


def _html(text: str) -> str:
    """Text as one line of HTML that Markdown passes through untouched and shows as written (CommonMark and GitHub's
    Markdown, math included): <, >, & and $ as entities, line breaks as <br>."""
    return escape(text, quote=False).replace("$", "&#36;").replace("\r", "").replace("\n", "<br>")


def _fenced(lines: list[str]) -> str:
    """A fenced block, shown as written: its fence longer than any run of backticks inside."""
    body = "\n".join(lines)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", body)), default=0))
    return f"{fence}text\n{body}\n{fence}"


def _markdown(conversation: list[Asked]) -> str:
    """Each answer as the screen shows it, every text from the user or the corpus as an HTML block (a raw HTML block
    ends only at a blank line, and holds none), the fields of each quote in a fenced block: nothing is Markdown
    that the corpus wrote, so nothing needs a backslash."""
    out = ["# Quotes from the conversation"]
    for turn, asked in enumerate(conversation, 1):
        a = asked.answer
        out += [f"## {turn}. Question", f"<p>{_html(a.question)}</p>"]
        if asked.limit:
            out.append(f"<p><em>{_html(filter_text(asked.limit))}</em></p>")
        out.append(f"<p><strong>{_html(a.message)}</strong> (level: {a.confidence})</p>")
        if a.searched_for:
            out.append(f"<p>{_html(SEARCHED_PREFIX + a.searched_for)}</p>")
        if a.disagreement:
            items = "".join(f"<li>{_html(line)}</li>" for line in differ_lines(a))
            out.append(f"<p>{_html(NOTICE_PREFIX.rstrip())}</p><ul>{items}</ul>")
        out += [_quote_markdown(record, p) for record, p in zip(_records(asked), a.passages)]
    return "\n\n".join(out) + "\n"


def _quote_markdown(record: dict, p: Passage) -> str:
    """A quote as an HTML block with its highlights marked, its citation, then its fields in a fenced block."""
    quoted = mark_spans(p.text, p.highlights, _html, "<mark>", "</mark>")
    fields = [f"{name}: {_field_text(name, record[name])}" for name in (*PASSAGE_FIELDS, "highlighted") if name != "text"]
    return "\n\n".join([f"### [{record['quote']}] Quote", f"<blockquote>{quoted}</blockquote>",
                        f"<p>{_html(plain_citation(p))}</p>", _fenced(fields)])


def export(answers: Iterable[Answer | Mapping | Asked], fmt: str) -> str:
    """Every quote of the conversation `answers` (Answers, Answer.to_dict()s, or Asked: an answer with its filters;
    oldest first) with all its fields, the question it answered, the answer's level and heading, its filters and
    'Sources differ' lines, and its highlighted sentences as text, as `fmt`: "md" (Markdown that renders each quote
    as written), "csv" (one row per quote, columns FIELDS, formulas neutralised: `cell_text` gives the exact text
    back) or "json" (a list of objects with the keys FIELDS, values unchanged)."""
    _check(fmt)
    conversation = [_asked(a) for a in answers]
    if fmt == "md":
        return _markdown(conversation)
    return _data([r for asked in conversation for r in _records(asked)], fmt, FIELDS)


COLLECTION_FIELDS = ("quote", *PASSAGE_FIELDS, "highlighted")


def export_collection(passages: list[Passage], fmt: str) -> str:
    """The starred passages with all their fields and marked words as text, as `export` writes quotes."""
    _check(fmt)
    records = _passage_records(passages)
    if fmt == "md":
        return "\n\n".join(["# Starred passages", *map(_quote_markdown, records, passages)]) + "\n"
    return _data(records, fmt, COLLECTION_FIELDS)


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UnknownFormat(f"export format {fmt!r} is not known; use one of {', '.join(FORMATS)}")


def _data(records: list[dict], fmt: str, fields: tuple[str, ...]) -> str:
    """Records as JSON (values unchanged) or CSV (columns `fields`, cells as `_cell` writes them)."""
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows({name: _cell(name, value) for name, value in r.items()} for r in records)
    return out.getvalue()


def format_of(path: str) -> str:
    """The export format a file name asks for by its suffix (.md, .csv, .json)."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix == "markdown":
        suffix = "md"
    if suffix not in FORMATS:
        raise UnknownFormat(f"cannot tell the export format of {path!r}; end its name with .md, .csv or .json")
    return suffix


def write_export(answers: Iterable[Answer | Mapping | Asked], fmt: str, path: Path) -> Path:
    """`export(answers, fmt)` written to `path`."""
    return write_text(export(answers, fmt), path)


def write_text(text: str, path: Path) -> Path:
    """`text` written to `path` as UTF-8, line ends as they are (its folder made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return path
