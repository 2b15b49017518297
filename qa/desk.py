"""The reporter's desk: what the chat keeps in the browser (the conversation and the starred passages, in its local
storage, never on the server's disk), and links that reproduce an answer.

What comes back from the browser is checked before it is shown again: a kept answer must still be grounded in the
corpus as it is now (qa.verify), and a starred passage must still be `body[start:end]` of its document; anything
else is dropped or marked, never shown stale."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs

from qa.answer.model import Answer, Passage
from qa.api import QA
from qa.config import Settings
from qa.corpus.documents import Document, corpus_files, load_file
from qa.corpus.passages import PassageRecord
from qa.errors import InvalidQuestion, QAError
from qa.index.store import Index
from qa.present import MAX_MORE, Turn
from qa.search.filters import Filter, validate_filter
from qa.verify import verify

CHANGED = "this answer's documents have changed since it was given; ask again"
MAX_KEPT = 200  # turns or starred passages taken back from the browser at most


def limit_dict(limit: Filter | None) -> dict | None:
    if limit is None:
        return None
    return {"sources": sorted(limit.sources) if limit.sources is not None else None, "since": limit.since,
            "until": limit.until}


def _limit(data: object) -> Filter | None:
    if not isinstance(data, Mapping):
        return None
    sources = data.get("sources")
    return Filter(frozenset(sources) if isinstance(sources, list) else None, data.get("since"), data.get("until"))


def turn_dict(turn: Turn) -> dict:
    """A turn as the browser keeps it: JSON."""
    return {"question": turn.question, "answer": turn.answer.to_dict() if turn.answer else None, "error": turn.error,
            "limit": limit_dict(turn.limit), "k": turn.k}


def restore_turns(kept: object, index: Index) -> list[Turn]:
    """The conversation the browser kept, each answer checked against the corpus now: one that is no longer
    grounded keeps its question and says to ask again. Anything malformed is left out."""
    turns: list[Turn] = []
    if not isinstance(kept, list):
        return turns
    for item in kept[-MAX_KEPT:]:
        if not isinstance(item, Mapping) or not isinstance(item.get("question"), str):
            continue
        question, data, k = item["question"], item.get("answer"), item.get("k")
        k = k if isinstance(k, int) and not isinstance(k, bool) else None
        if data is None:
            turns.append(Turn(question, error=str(item.get("error") or CHANGED)))
            continue
        earlier = [t.question for t in turns if t.answer]
        if verify(data, index, history=earlier):
            turns.append(Turn(question, error=CHANGED))
            continue
        turns.append(Turn(question, Answer.from_dict(dict(data)), limit=_limit(item.get("limit")), k=k))
    return turns


def starred_passage(record: PassageRecord, doc: Document, highlights: Sequence[Sequence[int]]) -> Passage:
    """A passage to keep in the collection, with the spans that were marked where it was starred (those inside it)."""
    spans = [(a, b) for a, b in highlights if 0 <= a < b <= len(record.text)]
    return Passage.quote(record, doc, 0.0, spans)


def restore_starred(kept: object, index: Index) -> list[Passage]:
    """The starred passages the browser kept that are still in the corpus word for word, re-cited from it."""
    out: list[Passage] = []
    if not isinstance(kept, list):
        return out
    for item in kept[-MAX_KEPT:]:
        if not isinstance(item, Mapping):
            continue
        record = index.passages.get(str(item.get("passage_id")))
        if record is None or record.text != item.get("text"):
            continue
        highlights = item.get("highlights")
        spans = [h for h in highlights if isinstance(h, list) and len(h) == 2 and all(type(v) is int for v in h)] \
            if isinstance(highlights, list) else []
        out.append(starred_passage(record, index.documents[record.doc_id], spans))
    return out


def passage_dict(p: Passage) -> dict:
    return Answer("", False, [p]).to_dict()["passages"][0]


def parse_star(key: str) -> tuple[str, list[tuple[int, int]]]:
    """'PASSAGE_ID|0-83,90-120' (a star button's key, after 'star:'): the passage id and its marked spans."""
    passage_id, _, marks = key.rpartition("|")
    spans = []
    for part in marks.split(","):
        a, _, b = part.partition("-")
        if a.isdigit() and b.isdigit():
            spans.append((int(a), int(b)))
    return passage_id, spans


@dataclasses.dataclass(frozen=True)
class Link:
    """What a link to an answer asks: the question, k, filters and the earlier questions of a follow-up."""

    question: str
    k: int | None
    sources: list[str] | None
    since: str | None
    until: str | None
    history: list[str]


def read_link(query: str) -> Link | None:
    """The request a link's query string (`present.link`) holds, None when it asks nothing; InvalidQuestion for a k
    that is not a number."""
    params = parse_qs(query.lstrip("?"))
    question = (params.get("q") or [""])[0]
    if not question.strip():
        return None
    k_text = (params.get("k") or [""])[0]
    if k_text and not k_text.isdigit():
        raise InvalidQuestion(f"the link's k is {k_text[:20]!r}; it must be a whole number from 1 to 10")
    since, until = params.get("since", [""])[0] or None, params.get("until", [""])[0] or None
    return Link(question, int(k_text) if k_text else None, params.get("source"), since, until, params.get("h", []))


def ask_turn(qa: QA, question: str, history: Sequence[object], sources: list[str] | None, since: str | None,
             until: str | None, k: int | None = None) -> Turn:
    """A turn of the chat: the answer with the filters it was limited to, or why there is none."""
    since, until = (since or "").strip() or None, (until or "").strip() or None
    try:
        limit = validate_filter(sources or None, since, until, qa.index.documents)
        return Turn(question, qa.ask(question, k, history=history, sources=sources or None, since=since, until=until),
                    limit=limit, k=k)
    except QAError as exc:
        return Turn(question, error=str(exc), k=k)


def more(qa: QA, turns: list[Turn], n: int) -> list[Turn]:
    """The conversation with turn `n` asked again for up to MAX_MORE quotes, with the same filters and history."""
    if not 0 <= n < len(turns) or turns[n].answer is None:
        return turns
    turn, limit = turns[n], turns[n].limit
    sources = sorted(limit.sources) if limit and limit.sources is not None else None
    again = ask_turn(qa, turn.question, [t.answer for t in turns[:n] if t.answer], sources,
                     limit.since if limit else None, limit.until if limit else None, MAX_MORE)
    return turns[:n] + [again] + turns[n + 1:]


def toggle_star(qa: QA, starred: list[Passage], key: str) -> list[Passage]:
    """The collection after a Star ('star:ID|SPANS', added once) or Remove ('unstar:ID') button."""
    action, _, rest = key.partition(":")
    passage_id, spans = parse_star(rest) if action == "star" else (rest, [])
    kept = [p for p in starred if p.passage_id != passage_id]
    if action != "star":
        return kept
    if len(kept) < len(starred):
        return starred  # starred already
    record = qa.live.current().index.passages.get(passage_id)
    if record is None:
        return starred
    return starred + [starred_passage(record, qa.index.documents[record.doc_id], spans)]


SEEDS = "seeds"  # the corpus folder's raw pages, named by a document's `seed`


def original_file(doc: Document, documents: Mapping[str, Document], settings: Settings) -> Path | None:
    """The file a document was made from, from the corpus folder alone: its raw page (`seed`, in the folder's
    seeds/) when it states one and it is there, else the corpus file that holds it. A reader comment's is its
    article's. None when neither is found. Nothing here comes from a request: only the document's own fields."""
    article = documents.get(doc.parent_id or "", doc)
    folder = Path(settings.corpus_dir)
    if article.seed:
        seeds = (folder / SEEDS).resolve()
        seed = (seeds / article.seed).resolve()
        if seed.parent == seeds and seed.is_file():
            return seed
    for path in corpus_files(folder, settings):
        try:
            if any(d.id == article.id for d in load_file(path, settings)):
                return path
        except QAError:
            continue  # a malformed file holds no document the index serves
    return None
