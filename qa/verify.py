"""Grounding check for answers, deterministic and without a model: every quote is its document's body slice,
every citation field is the document's own, and nothing is said beyond the fixed templates.

`verify(answer)` lists the problems (empty means grounded); `assert_grounded(answer)` raises them."""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from qa.answer.figures import source_label
from qa.answer.model import (
    ABSTAIN_MESSAGE,
    ANSWER_HEADING,
    NOT_ENGLISH_MESSAGE,
    NOTICE_PREFIX,
    SEARCHED_PREFIX,
    SUGGESTIONS_HEADING,
    Answer,
    Passage,
    citation,
)
from qa.config import Settings
from qa.corpus.documents import Document, corpus_checksum, load_corpus, load_examples, page_at
from qa.errors import UngroundedAnswer

# The only wording an answer may add, one entry per message line. To add a line (a translated abstention,
# 'Searched for: {question}', a 'Sources differ: ...' notice), add its template here. A `{name}` slot
# matches any text that SLOTS[name](text, answer) accepts.
ABSTAIN_TEMPLATES = (ABSTAIN_MESSAGE, NOT_ENGLISH_MESSAGE)  # lines that say the answer abstains
ANSWER_TEMPLATES = (ANSWER_HEADING,)  # lines that may introduce quoted passages
SLOTS = {
    "question": lambda text, answer: bool(text) and text in answer.question,
}
CITED_FIELDS = ("title", "publisher", "date", "url", "kind", "comment_author", "comment_location", "source_file")

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
    if p.page != page_at(doc, p.start):
        problems.append(f"{where}: page {p.page!r} is not the page {page_at(doc, p.start)!r} its text starts on")
    if p.citation != citation(doc, page=page_at(doc, p.start)):
        problems.append(f"{where}: citation {p.citation!r} is not the one built from {doc.id}'s metadata")
    return problems


def _unescape(text: str) -> tuple[str, list[tuple[int, int]], list[str]]:
    """Plain text, marked spans and stray markup of text written by `escape_markdown` with <mark> around highlights."""
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
        elif text.startswith("<mark>", i) and bold_start is None:
            bold_start = len("".join(out))
            i += len("<mark>")
        elif text.startswith("</mark>", i) and bold_start is not None:
            spans.append((bold_start, len("".join(out))))
            bold_start = None
            i += len("</mark>")
        elif text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            if text[i] in "&<>\\`*_{}[]()#+!|~":
                stray.append(text[i])
            out.append(text[i])
            i += 1
    if bold_start is not None:
        stray.append("<mark>")
    return "".join(out), spans, stray


def _plain(block: str, prefix: str, suffix: str) -> str | None:
    """The escaped text between a fixed prefix and suffix, as plain text; None if it is not that or holds markup."""
    if not (block.startswith(prefix) and block.endswith(suffix)) or len(block) < len(prefix) + len(suffix):
        return None
    text, marked, stray = _unescape(block[len(prefix):len(block) - len(suffix)])
    return None if marked or stray else text


def _markdown_problems(answer: Answer, documents: Mapping[str, Document]) -> list[str]:
    """Read `to_markdown()` back and require exactly the message, the fixed lines the answer carries (suggestions,
    'Searched for', 'Sources differ'), then each citation, built from the documents, and each quote."""
    blocks = answer.to_markdown().split("\n\n")
    problems = [] if blocks[0] == answer.message else ["the Markdown does not start with exactly the answer's message"]
    rest = blocks[1:]
    if answer.abstained:
        expected = [f"{SUGGESTIONS_HEADING}\n" + "\n".join(f"- {q}" for q in answer.suggestions)] if answer.suggestions else []
        shown = [line.removeprefix("- ") for block in rest for line in block.split("\n")[1:]]
        if len(rest) != len(expected) or (rest and not rest[0].startswith(SUGGESTIONS_HEADING + "\n")) or \
                [_plain(q, "", "") for q in shown] != answer.suggestions:
            problems.append("the Markdown of the abstention holds more than its message and example questions")
        return problems
    if answer.searched_for is not None:
        if not rest or _plain(rest[0], f"**{SEARCHED_PREFIX.rstrip()}** ", "") != answer.searched_for:
            problems.append("the Markdown does not show exactly what was searched for")
        rest = rest[1:]
    if answer.disagreement is not None:
        notice = _plain(rest[0], f"**{NOTICE_PREFIX.rstrip()}** ", "") if rest else None
        if notice is None or NOTICE_PREFIX + notice != answer.disagreement.notice:
            problems.append("the Markdown does not show exactly the disagreement notice")
        rest = rest[1:]
    if len(rest) != 2 * len(answer.passages):
        return problems + [f"the Markdown has {len(rest)} blocks after the message; "
                           f"expected a citation and a quote for each of {len(answer.passages)} passages"]
    for n, (p, head, quote) in enumerate(zip(answer.passages, rest[::2], rest[1::2]), 1):
        quoted = [(documents.get(q.doc_id), q.start) for q in [p, *p.also_in]]
        if any(d is None for d, _ in quoted) or head != f"**[{n}]** " + "; ".join(
                citation(d, markdown=True, page=page_at(d, start)) for d, start in quoted if d is not None):
            problems.append(f"the Markdown citation of passage {n} is not exactly the citation of its sources")
        lines = quote.split("\n")
        if not all(line == ">" or line.startswith("> ") for line in lines):
            problems.append(f"the Markdown quote of passage {n} has a line outside the quote block")
        text, marked, stray = _unescape("\n".join(line[2:] for line in lines))
        if text != p.text or stray:
            problems.append(f"the Markdown quote of passage {n} is not exactly its text")
        elif marked != [tuple(h) for h in p.highlights]:
            problems.append(f"the Markdown marks of passage {n} do not match its highlights")
    return problems


def _extra_problems(answer: Answer, examples: list[str] | None) -> list[str]:
    """What a follow-up searched for, the disagreement notice and the example questions: nothing but the user's
    words, figures as their passages word them, and the corpus's example questions."""
    problems = []
    if answer.searched_for is not None and not answer.searched_for.endswith(answer.question):
        problems.append("'Searched for' does not end with the question asked")
    if answer.disagreement is not None:
        quoted = {p.passage_id: p for p in answer.passages}
        for f in answer.disagreement.figures:
            p = quoted.get(f.passage_id)
            if p is None or p.text[f.start:f.end] != f.text:
                problems.append(f"figure {f.text!r} is not the words of quoted passage {f.passage_id}")
            elif f.source != source_label(p):
                problems.append(f"figure {f.text!r} names source {f.source!r}, not its passage's {source_label(p)!r}")
        listed = NOTICE_PREFIX + "; ".join(f"{f.text} ({f.source})" for f in answer.disagreement.figures)
        if answer.disagreement.notice != listed:
            problems.append("the disagreement notice is not exactly its figures and their sources")
    if answer.suggestions and (not answer.abstained or (examples is not None and not set(answer.suggestions) <= set(examples))):
        problems.append("the example questions are not the corpus's own, or come with an answer")
    return problems


def verify(answer: Answer, documents: Mapping[str, Document] | None = None) -> list[str]:
    """The ways `answer` is not grounded in `documents` (default: the configured corpus, whose example questions
    then also bound the suggestions); empty when it is."""
    examples = None
    if documents is None:
        documents = _corpus(Settings().corpus_dir)
        examples = load_examples(Settings().corpus_dir)
    problems = _message_problems(answer)
    if answer.abstained and answer.passages:
        problems.append(f"the answer abstains but quotes {len(answer.passages)} passages")
    if not answer.abstained and not answer.passages:
        problems.append("the answer neither abstains nor quotes a passage")
    ids = [p.passage_id for p in answer.passages]
    problems += [f"passage {pid} is quoted more than once" for pid in sorted({i for i in ids if ids.count(i) > 1})]
    for n, p in enumerate(answer.passages, 1):
        problems += _passage_problems(n, p, documents)
        for m, twin in enumerate(p.also_in, 1):
            problems += _passage_problems(f"{n}, also in {m}", twin, documents)
    return problems + _extra_problems(answer, examples) + _markdown_problems(answer, documents)


def assert_grounded(answer: Answer, documents: Mapping[str, Document] | None = None) -> None:
    """Raise UngroundedAnswer listing every problem `verify` finds."""
    problems = verify(answer, documents)
    if problems:
        raise UngroundedAnswer(problems)
