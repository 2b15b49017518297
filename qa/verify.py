"""Grounding check for answers, deterministic and without a model: every quote is its document's body slice,
every citation field is the document's own, and nothing is said beyond the fixed templates.

`verify(answer)` lists the problems (empty means grounded); `assert_grounded(answer)` raises them."""
from __future__ import annotations

import functools
import re
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path

from qa.answer.compose import near_duplicate
from qa.answer.figures import find_figures, notice, same_event, source_label
from qa.answer.model import (
    ABSTAIN_MESSAGE,
    ANSWER_HEADING,
    CONFIDENCE_LEVELS,
    NO_MATCH_MESSAGE,
    NOT_ENGLISH_MESSAGE,
    NOTICE_PREFIX,
    SEARCHED_PREFIX,
    SUGGESTIONS_HEADING,
    UNCERTAIN_HEADING,
    Answer,
    Disagreement,
    Figure,
    Passage,
    citation,
    marked_pages,
    place,
)
from qa.config import Settings
from qa.corpus.collection import load_collection
from qa.corpus.documents import Document, corpus_checksum, load_corpus
from qa.corpus.passages import split_document
from qa.errors import CorpusError, QAError, UngroundedAnswer
from qa.index.store import Index
from qa.index.table import PassageTable
from qa.request import validate_history
from qa.search.followup import leans_on_history, search_questions

# The only wording an answer may add, one entry per message line. To add a line (a translated abstention,
# 'Searched for: {question}', a 'Sources differ: ...' notice), add its template here. A `{name}` slot
# matches any text that SLOTS[name](text, answer) accepts.
ABSTAIN_TEMPLATES = (ABSTAIN_MESSAGE, NOT_ENGLISH_MESSAGE, NO_MATCH_MESSAGE)  # lines that say the answer abstains
ANSWER_TEMPLATES = (ANSWER_HEADING, UNCERTAIN_HEADING)  # lines that may introduce quoted passages
SLOTS = {
    "question": lambda text, answer: bool(text) and text in answer.question,
}
CITED_FIELDS = ("title", "publisher", "date", "url", "kind", "comment_author", "comment_location", "source_file")

_cache: dict[tuple[Path, str], dict[str, Document]] = {}


def _corpus(settings: Settings) -> dict[str, Document]:
    """The documents of the configured corpus folder, read again only when its files change."""
    key = (Path(settings.corpus_dir).resolve(), corpus_checksum(settings.corpus_dir, settings))
    if key not in _cache:
        _cache[key] = {d.id: d for d in load_corpus(settings.corpus_dir, settings)}
    return _cache[key]


# --- the answer's shape: every field of the type Answer.to_dict() gives, or a problem naming it --------------------

_TEXT, _OPTIONAL_TEXT, _FLAG, _WHOLE, _NUMBER = "text", "text or null", "true or false", "a whole number", "a number"
_OPTIONAL_WHOLE = "a whole number or null"
PASSAGE_FIELDS = {"text": _TEXT, "doc_id": _TEXT, "passage_id": _TEXT, "start": _WHOLE, "end": _WHOLE,
                  "score": _NUMBER, "highlights": "a list of [start, end] pairs", "title": _TEXT, "publisher": _TEXT,
                  "date": _OPTIONAL_TEXT, "url": _OPTIONAL_TEXT, "authors": "a list of text", "kind": _TEXT,
                  "comment_author": _OPTIONAL_TEXT, "comment_location": _OPTIONAL_TEXT, "citation": _TEXT,
                  "also_in": "a list of passages", "page": _OPTIONAL_WHOLE, "last_page": _OPTIONAL_WHOLE,
                  "ocr": _FLAG, "source_file": _OPTIONAL_TEXT, "highlight_page": _OPTIONAL_WHOLE,
                  "highlight_last_page": _OPTIONAL_WHOLE}
FIGURE_FIELDS = {"text": _TEXT, "measure": _TEXT, "passage_id": _TEXT, "start": _WHOLE, "end": _WHOLE,
                 "source": _TEXT}
ANSWER_FIELDS = {"question": _TEXT, "abstained": _FLAG, "passages": "a list of passages", "message": _TEXT,
                 "suggestions": "a list of text", "searched_for": _OPTIONAL_TEXT,
                 "disagreement": "a disagreement (measure, figures, notice) or null", "confidence": _TEXT}
DISAGREEMENT_FIELDS = {"measure": _TEXT, "figures": "a list of figures", "notice": _TEXT}
MAX_OFFSET = 2**63  # offsets past any text there can be; also keeps str() of a number from refusing it


def _shown(value: object) -> str:
    """A short form of any value for a message (str() of an int of over 4,300 digits raises)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a {value.bit_length():,}-bit number"
    if isinstance(value, (list, tuple)):  # as in Answer.to_dict(): highlights are lists there, tuples in an Answer
        value = [list(v) if isinstance(v, tuple) else v for v in value]
    try:
        return reprlib.repr(value)
    except Exception:  # a value whose repr fails is shown by its type
        return f"a {type(value).__name__}"


def _data(value: object) -> object:
    """An Answer, Passage, Figure or Disagreement as the dict of its fields, lists item by item; anything else as is."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return value


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_OFFSET


def _field_ok(kind: str, value: object) -> bool:
    if kind == _TEXT:
        return _is_text(value)
    if kind == _OPTIONAL_TEXT:
        return value is None or _is_text(value)
    if kind == _FLAG:
        return isinstance(value, bool)
    if kind == _WHOLE:
        return _is_whole(value)
    if kind == _OPTIONAL_WHOLE:
        return value is None or _is_whole(value)
    if kind == _NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind.startswith("a list of text"):
        return isinstance(value, (list, tuple)) and all(_is_text(v) for v in value)
    if kind.startswith("a list of [start"):
        return isinstance(value, (list, tuple)) and all(
            isinstance(h, (list, tuple)) and len(h) == 2 and all(_is_whole(x) for x in h) for h in value)
    if kind.startswith("a list of"):
        return isinstance(value, (list, tuple))  # each passage or figure is then checked field by field
    return True  # a disagreement: checked field by field


# Fields that may be left out: those with a default in the dataclass.
OPTIONAL_FIELDS = {"also_in", "passages", "message", "suggestions", "searched_for", "disagreement", "confidence",
                   "page", "last_page", "ocr", "source_file", "highlight_page", "highlight_last_page"}


def _record_problems(where: str, value: object, expected: dict[str, str]) -> list[str]:
    """Problems with one record (answer, passage, figure, disagreement): not a record, missing, unknown or mistyped
    fields, each named."""
    data = _data(value)
    if not isinstance(data, Mapping):
        return [f"{where} is not a record of fields but {_shown(value)}"]
    problems = [f"{where}: field {name!r} is missing" for name in expected
                if name not in data and name not in OPTIONAL_FIELDS]
    problems += [f"{where}: unknown field {_shown(name)}" for name in data if name not in expected]
    for name, kind in expected.items():
        if name in data and not _field_ok(kind, data[name]):
            problems.append(f"{where}: field {name!r} must be {kind}, not {_shown(data[name])}")
    return problems


def _list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def shape_problems(answer: object) -> list[str]:
    """Every field of `answer` (an Answer or Answer.to_dict()) that is missing, unknown or not of its type."""
    problems = _record_problems("the answer", answer, ANSWER_FIELDS)
    data = _data(answer)
    if not isinstance(data, Mapping):
        return problems
    if "passages" in data and not isinstance(data["passages"], (list, tuple)):
        return problems
    for n, p in enumerate(_list(data.get("passages")), 1):
        problems += _record_problems(f"passage {n}", p, PASSAGE_FIELDS)
        p_data = _data(p)
        twins = p_data.get("also_in", []) if isinstance(p_data, Mapping) else []
        if not isinstance(twins, (list, tuple)):
            continue
        for m, twin in enumerate(twins, 1):
            problems += _record_problems(f"passage {n}, also in {m}", twin, PASSAGE_FIELDS)
            twin_data = _data(twin)
            if isinstance(twin_data, Mapping) and twin_data.get("also_in"):
                problems.append(f"passage {n}, also in {m}: a twin has no twins of its own")
    d = data.get("disagreement")
    if d is not None:
        problems += _record_problems("the disagreement", d, DISAGREEMENT_FIELDS)
        d_data = _data(d)
        if isinstance(d_data, Mapping) and isinstance(d_data.get("figures"), (list, tuple)):
            for n, f in enumerate(d_data["figures"], 1):
                problems += _record_problems(f"figure {n}", f, FIGURE_FIELDS)
    return problems


def _as_answer(answer: object) -> Answer:
    """The Answer of a well-shaped Answer or dict (shape_problems found nothing), with tuples for highlights."""
    data = dict(_data(answer))  # type: ignore[call-overload]

    def passage(p: object) -> Passage:
        q = dict(_data(p))  # type: ignore[call-overload]
        return Passage(**{**q, "highlights": [tuple(h) for h in q["highlights"]],
                          "authors": list(q["authors"]), "also_in": [passage(t) for t in q.get("also_in", [])]})
    d = _data(data.get("disagreement"))
    disagreement = None if d is None else Disagreement(
        d["measure"], [Figure(**_data(f)) for f in d["figures"]], d["notice"])  # type: ignore[index, arg-type]
    return Answer(question=data["question"], abstained=data["abstained"],
                  passages=[passage(p) for p in data.get("passages", [])], message=data.get("message", ""),
                  suggestions=list(data.get("suggestions", [])), searched_for=data.get("searched_for"),
                  disagreement=disagreement, confidence=data.get("confidence", ""))


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
    if answer.confidence not in CONFIDENCE_LEVELS or answer.abstained != (answer.confidence == "abstained"):
        problems.append(f"confidence {answer.confidence!r} does not agree with abstained={answer.abstained}")
    elif (UNCERTAIN_HEADING in lines) != (answer.confidence == "uncertain"):
        problems.append(f"a {answer.confidence!r} answer must carry the uncertain heading exactly when uncertain")
    return problems


@functools.lru_cache(maxsize=4096)
def _split(doc: Document, min_words: int, max_chars: int) -> dict[str, tuple[int, int]]:
    """The spans of the document's passages as the index splits them, by passage id (computed once per body)."""
    return {r.passage_id: (r.start, r.end) for r in split_document(doc, min_words, max_chars)}


class _Indexed:
    """Where each passage lies in its document, as indexed: read from an Index when one is given, else the documents
    split again with the configured settings."""

    def __init__(self, source: object, settings: Settings):
        self.documents: Mapping[str, Document] = getattr(source, "documents", source)  # type: ignore[arg-type]
        self._table: PassageTable | None = getattr(source, "passages", None)
        self._min_words, self._max_chars = settings.min_passage_words, settings.max_passage_chars

    def span(self, doc: Document, passage_id: str) -> tuple[int, int] | None:
        if self._table is not None:
            row = self._table.row_of(passage_id)
            return None if row is None else (int(self._table.start[row]), int(self._table.end[row]))
        return _split(doc, self._min_words, self._max_chars).get(passage_id)


def _passage_problems(n: int | str, p: Passage, indexed: _Indexed) -> list[str]:
    where = f"passage {n} ({p.passage_id})"
    doc = indexed.documents.get(p.doc_id)
    if doc is None:
        return [f"{where} quotes unknown document {p.doc_id!r}"]
    problems = []
    if not p.passage_id.startswith(f"{doc.id}#"):
        problems.append(f"{where}: passage id does not belong to document {doc.id!r}")
    if not (0 <= p.start < p.end <= len(doc.body)) or doc.body[p.start:p.end] != p.text:
        problems.append(f"{where}: text is not body[{p.start}:{p.end}] of {doc.id}")
    else:
        span = indexed.span(doc, p.passage_id)
        if span is None:
            problems.append(f"{where}: {doc.id} has no indexed passage of that id")
        elif span != (p.start, p.end):
            problems.append(f"{where}: the quote is body[{p.start}:{p.end}], not the whole indexed passage, "
                            f"body[{span[0]}:{span[1]}]")
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
    page, last_page, ocr = place(doc, p.start, p.end)
    if (p.page, p.last_page) != (page, last_page):
        problems.append(f"{where}: pages {p.page!r} to {p.last_page!r} are not the pages {page!r} to {last_page!r} its "
                        "text is on")
    if p.ocr != ocr:
        problems.append(f"{where}: ocr {p.ocr!r} is not what {doc.id}'s importer says ({doc.importer!r})")
    marked = marked_pages(doc, p.start, p.highlights)
    if (p.highlight_page, p.highlight_last_page) != marked:
        problems.append(f"{where}: highlighted pages {p.highlight_page!r} to {p.highlight_last_page!r} are not the "
                        f"pages {marked[0]!r} to {marked[1]!r} its highlighted sentences are on")
    if p.citation != citation(doc, page=page, last_page=last_page, ocr=ocr, marked=marked):
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
        found = [(documents.get(q.doc_id), q) for q in [p, *p.also_in]]
        sources = [(d, place(d, q.start, q.end), marked_pages(d, q.start, q.highlights)) for d, q in found if d]
        if len(sources) < len(found) or head != f"**[{n}]** " + "; ".join(
                citation(d, markdown=True, page=first, last_page=last, ocr=ocr, marked=marked)
                for d, (first, last, ocr), marked in sources):
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


def _searched_problems(answer: Answer, history: Sequence[object] | None, max_chain: int) -> list[str]:
    """'Searched for' holds only the user's own questions. With the chat's history, exactly the questions that
    ask() searched with (the rule of qa.search.followup, applied again). Without it, what can be told from the
    answer alone: the line ends with the question after an earlier one, and the question leans on an earlier turn;
    words put before the question can only be told from the history."""
    if history is not None:
        try:
            searched = search_questions(answer.question, validate_history(history), max_chain)
        except QAError as exc:
            return [f"the history given to verify cannot be read: {exc}"]
        expected = " ".join(searched) if len(searched) > 1 and not answer.abstained else None  # abstentions show none
        if answer.searched_for != expected:
            return [f"'Searched for' is {answer.searched_for!r}, not the user's own questions {expected!r}"]
        return []
    if answer.searched_for is None:
        return []
    if not answer.searched_for.endswith(" " + answer.question):
        return ["'Searched for' does not end with the question asked"]
    if not leans_on_history(answer.question):
        return ["'Searched for' is shown for a question that does not lean on an earlier one"]
    return []


def _twin_problems(n: int, p: Passage, overlap: float) -> list[str]:
    """A passage shown once for several sources: each twin makes the same claim, by the composer's own rule."""
    return [f"passage {n}, also in {m} ({twin.passage_id}): does not make the same claim as passage {n} "
            f"(near-duplicate rule, {overlap:.0%} of words shared)"
            for m, twin in enumerate(p.also_in, 1) if not near_duplicate(p, twin, overlap)]


def _figure_problems(answer: Answer, documents: Mapping[str, Document]) -> list[str]:
    """Each figure of 'Sources differ' is one the figure finder reads in its quoted passage, with its measure and
    source; the list holds every figure the passages give for that measure about the same event (qa/answer/figures.py
    same_event, reading `documents`), in their order; the notice is exactly the list."""
    d = answer.disagreement
    if d is None:
        return []
    quoted = {p.passage_id: p for p in answer.passages}
    found = {(f.passage_id, f.start, f.end): f for p in answer.passages for f in find_figures(p)}
    problems = []
    for f in d.figures:
        p = quoted.get(f.passage_id)
        real = found.get((f.passage_id, f.start, f.end))
        if p is None or p.text[f.start:f.end] != f.text:
            problems.append(f"figure {f.text!r} is not the words of quoted passage {f.passage_id}")
        elif real is None or real.text != f.text:
            problems.append(f"figure {f.text!r} is not a figure in passage {f.passage_id}: the figure finder reads "
                            "none there")
        elif real.measure != f.measure:
            problems.append(f"figure {f.text!r} counts {real.measure} in passage {f.passage_id}, not {f.measure}")
        elif f.measure != d.measure:
            problems.append(f"figure {f.text!r} counts {f.measure}, but the notice is about {d.measure}")
        elif f.source != source_label(p):
            problems.append(f"figure {f.text!r} names source {f.source!r}, not its passage's {source_label(p)!r}")
    found_for = [(f, p) for p in answer.passages for f in find_figures(p) if f.measure == d.measure]
    bodies = {p.doc_id: documents[p.doc_id].body for _, p in found_for if p.doc_id in documents}
    given = [(f.passage_id, f.start, f.end) for f in same_event(answer.question, found_for, bodies)] if found_for else []
    if not problems and [(f.passage_id, f.start, f.end) for f in d.figures] != given:
        problems.append(f"the disagreement does not list exactly the figures for {d.measure} about one event that its "
                        "passages give")
    if d.notice != notice(d.figures):
        problems.append("the disagreement notice is not exactly its figures and their sources")
    return problems


def _suggestion_problems(answer: Answer, examples: list[str] | None) -> list[str]:
    """Example questions only with an abstention, and only the corpus's own."""
    if answer.suggestions and (not answer.abstained or (examples is not None and not set(answer.suggestions) <= set(examples))):
        return ["the example questions are not the corpus's own, or come with an answer"]
    return []


def verify(answer: Answer | Mapping, documents: Mapping[str, Document] | Index | None = None,
           history: Sequence[object] | None = None, settings: Settings | None = None) -> list[str]:
    """The ways `answer` (an Answer, or Answer.to_dict() as the `/ask` endpoint returns it) is not grounded; empty
    when it is. Never raises: a field of the wrong type or shape is a problem like any other.

    `documents`: an Index (its passages are what was indexed), or documents by id (split again into passages with
    `settings`), or None for the configured corpus, whose example questions then also bound the suggestions.
    `history`: the chat's earlier questions (as given to ask()), to check 'Searched for' exactly."""
    problems = shape_problems(answer)
    if problems:
        return problems
    try:
        return _problems(_as_answer(answer), documents, history, settings or Settings.load())
    except Exception as exc:  # a last guard: verify reports, it does not raise (tests require this never happens)
        return [f"the answer could not be checked: {type(exc).__name__}: {_shown(str(exc))}"]


def _problems(answer: Answer, documents: Mapping[str, Document] | Index | None, history: Sequence[object] | None,
              settings: Settings) -> list[str]:
    examples = None
    if documents is None:
        try:
            documents = _corpus(settings)
            examples = list(load_collection(settings.corpus_dir, settings).examples)
        except CorpusError as exc:
            return [f"the corpus cannot be read, so nothing can be checked against it: {exc}"]
    indexed = _Indexed(documents, settings)
    problems = _message_problems(answer)
    if answer.abstained and answer.passages:
        problems.append(f"the answer abstains but quotes {len(answer.passages)} passages")
    if not answer.abstained and not answer.passages:
        problems.append("the answer neither abstains nor quotes a passage")
    ids = [p.passage_id for p in answer.passages]
    problems += [f"passage {pid} is quoted more than once" for pid in sorted({i for i in ids if ids.count(i) > 1})]
    for n, p in enumerate(answer.passages, 1):
        problems += _passage_problems(n, p, indexed)
        for m, twin in enumerate(p.also_in, 1):
            problems += _passage_problems(f"{n}, also in {m}", twin, indexed)
        problems += _twin_problems(n, p, settings.duplicate_overlap)
    problems += _searched_problems(answer, history, settings.max_chain) + _figure_problems(answer, indexed.documents)
    problems += _suggestion_problems(answer, examples)
    return problems + _markdown_problems(answer, indexed.documents)


def assert_grounded(answer: Answer | Mapping, documents: Mapping[str, Document] | Index | None = None,
                    history: Sequence[object] | None = None, settings: Settings | None = None) -> None:
    """Raise UngroundedAnswer listing every problem `verify` finds."""
    problems = verify(answer, documents, history, settings)
    if problems:
        raise UngroundedAnswer(problems)
