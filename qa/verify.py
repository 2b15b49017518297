"""Grounding check for answers, deterministic and without a model: every quote is its document's body slice,
every citation field is the document's own, and nothing is said beyond the fixed templates.

`verify(answer)` lists the problems (empty means grounded); `assert_grounded(answer)` raises them."""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .answer import ABSTAIN_MESSAGE, ANSWER_HEADING, Answer, Passage, citation
from .config import Settings
from .corpus import Document, corpus_checksum, load_corpus
from .errors import UngroundedAnswer

# The only wording an answer may add, one entry per message line. To add a line (a translated abstention,
# 'Searched for: {question}', a 'Sources differ: ...' notice), add its template here. A `{name}` slot
# matches any text that SLOTS[name](text, answer) accepts.
ABSTAIN_TEMPLATES = (ABSTAIN_MESSAGE,)  # lines that say the answer abstains
ANSWER_TEMPLATES = (ANSWER_HEADING,)  # lines that may introduce quoted passages
SLOTS = {
    "question": lambda text, answer: bool(text) and text in answer.question,
}
CITED_FIELDS = ("title", "publisher", "date", "url", "kind", "comment_author")

_cache: dict[tuple[Path, str], dict[str, Document]] = {}


def _corpus(corpus_dir: Path) -> dict[str, Document]:
    """The documents of `corpus_dir`, read again only when its files change."""
    key = (Path(corpus_dir).resolve(), corpus_checksum(corpus_dir))
    if key not in _cache:
        _cache[key] = {d.id: d for d in load_corpus(corpus_dir)}
    return _cache[key]


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+)" for i, p in enumerate(parts)) + r"\Z")


def _fits(line: str, templates: tuple[str, ...], answer: Answer) -> bool:
    for template in templates:
        match = _template_regex(template).match(line)
        if match and all(SLOTS[name](text, answer) for name, text in match.groupdict().items()):
            return True
    return False


def _message_problems(answer: Answer) -> list[str]:
    lines = answer.message.split("\n")
    allowed = ABSTAIN_TEMPLATES if answer.abstained else ANSWER_TEMPLATES
    problems = [f"message line {line!r} is not one of the fixed templates" for line in lines
                if not _fits(line, allowed, answer)]
    if answer.abstained and not any(_fits(line, ABSTAIN_TEMPLATES, answer) for line in lines):
        problems.append("the answer abstains but its message does not say so")
    return problems


def _passage_problems(n: int, p: Passage, documents: Mapping[str, Document]) -> list[str]:
    where = f"passage {n} ({p.passage_id})"
    doc = documents.get(p.doc_id)
    if doc is None:
        return [f"{where} quotes unknown document {p.doc_id!r}"]
    problems = []
    if not p.passage_id.startswith(f"{doc.id}#"):
        problems.append(f"{where}: passage id does not belong to document {doc.id!r}")
    if not (0 <= p.start < p.end <= len(doc.body)) or doc.body[p.start:p.end] != p.text:
        problems.append(f"{where}: text is not body[{p.start}:{p.end}] of {doc.id}")
    previous_end = 0
    for s, e in p.highlights:
        if not 0 <= s < e <= len(p.text):
            problems.append(f"{where}: highlight ({s}, {e}) is outside the passage text (length {len(p.text)})")
        elif s < previous_end:
            problems.append(f"{where}: highlight ({s}, {e}) overlaps or precedes the one before it")
        previous_end = max(previous_end, e)
    for name in CITED_FIELDS:
        if getattr(p, name) != getattr(doc, name):
            problems.append(f"{where}: {name} {getattr(p, name)!r} is not the document's {getattr(doc, name)!r}")
    if list(p.authors) != list(doc.authors):
        problems.append(f"{where}: authors {list(p.authors)!r} are not the document's {list(doc.authors)!r}")
    if p.citation != citation(doc):
        problems.append(f"{where}: citation {p.citation!r} is not the one built from {doc.id}'s metadata")
    return problems


def _unescape(text: str) -> tuple[str, list[tuple[int, int]], list[str]]:
    """Plain text, bold spans and stray markup of text written by `escape_markdown` with `**` around highlights."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    stray: list[str] = []
    bold_start, i = None, 0
    entities = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
    while i < len(text):
        entity = next((e for e in entities if text.startswith(e, i)), None)
        if entity:
            out.append(entities[entity])
            i += len(entity)
        elif text.startswith("**", i):
            pos = len("".join(out))
            if bold_start is None:
                bold_start = pos
            else:
                spans.append((bold_start, pos))
                bold_start = None
            i += 2
        elif text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            if text[i] in "&<>\\`*_{}[]()#+!|~":
                stray.append(text[i])
            out.append(text[i])
            i += 1
    if bold_start is not None:
        stray.append("**")
    return "".join(out), spans, stray


def _markdown_problems(answer: Answer) -> list[str]:
    """Read `to_markdown()` back and require exactly the message, then each citation and quote."""
    blocks = answer.to_markdown().split("\n\n")
    first_quote = next((i for i, b in enumerate(blocks) if b.startswith("**[1]** ")), len(blocks))
    problems = []
    if "\n\n".join(blocks[:first_quote]) != answer.message:
        problems.append("the Markdown does not start with exactly the answer's message")
    rest = blocks[first_quote:]
    if len(rest) != 2 * len(answer.passages):
        return problems + [f"the Markdown has {len(rest)} blocks after the message; "
                           f"expected a citation and a quote for each of {len(answer.passages)} passages"]
    for n, (p, head, quote) in enumerate(zip(answer.passages, rest[::2], rest[1::2]), 1):
        cited, _, cited_stray = _unescape(head.removeprefix(f"**[{n}]** "))
        if not head.startswith(f"**[{n}]** ") or cited != p.citation or cited_stray:
            problems.append(f"the Markdown citation of passage {n} is not exactly its citation")
        lines = quote.split("\n")
        if not all(line == ">" or line.startswith("> ") for line in lines):
            problems.append(f"the Markdown quote of passage {n} has a line outside the quote block")
        text, bold, stray = _unescape("\n".join(line[2:] for line in lines))
        if text != p.text or stray:
            problems.append(f"the Markdown quote of passage {n} is not exactly its text")
        elif bold != [tuple(h) for h in p.highlights]:
            problems.append(f"the Markdown bold of passage {n} does not match its highlights")
    return problems


def verify(answer: Answer, documents: Mapping[str, Document] | None = None) -> list[str]:
    """The ways `answer` is not grounded in `documents` (default: the configured corpus); empty when it is."""
    if documents is None:
        documents = _corpus(Settings().corpus_dir)
    problems = _message_problems(answer)
    if answer.abstained and answer.passages:
        problems.append(f"the answer abstains but quotes {len(answer.passages)} passages")
    if not answer.abstained and not answer.passages:
        problems.append("the answer neither abstains nor quotes a passage")
    ids = [p.passage_id for p in answer.passages]
    problems += [f"passage {pid} is quoted more than once" for pid in sorted({i for i in ids if ids.count(i) > 1})]
    for n, p in enumerate(answer.passages, 1):
        problems += _passage_problems(n, p, documents)
    return problems + _markdown_problems(answer)


def assert_grounded(answer: Answer, documents: Mapping[str, Document] | None = None) -> None:
    """Raise UngroundedAnswer listing every problem `verify` finds."""
    problems = verify(answer, documents)
    if problems:
        raise UngroundedAnswer(problems)
