"""What a corpus folder says about itself, in its `collection.yaml`: the chat's title and introduction and the example
questions it offers. Nothing about a collection is written in code, so another corpus shows none of this one's
wording; with no file, or a field left out, nothing is shown for it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa.config import Settings
from qa.corpus.documents import load_yaml, read_optional
from qa.errors import CorpusError

FILE = "collection.yaml"
FIELDS = ("title", "description", "examples")


@dataclass(frozen=True)
class Collection:
    title: str | None = None  # the chat's heading
    description: str | None = None  # one paragraph under it: what the documents are
    examples: tuple[str, ...] = ()  # questions the documents answer, offered in the chat and when it abstains


def load_collection(corpus_dir: Path, settings: Settings | None = None) -> Collection:
    """The folder's collection.yaml, every field checked; an empty Collection when there is none."""
    text = read_optional(Path(corpus_dir), FILE, settings)
    if text is None:
        return Collection()
    data = load_yaml(text, FILE)
    if data is None:
        return Collection()
    if not isinstance(data, dict):
        raise CorpusError(f"{FILE} must be fields (title: ..., description: ..., examples: [...])")
    unknown = sorted(str(k) for k in data if k not in FIELDS)
    if unknown:
        raise CorpusError(f"{FILE}: unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}")
    for name in ("title", "description"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise CorpusError(f"{FILE}: field '{name}' must be text (put it in quotes)")
    examples = data.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(q, str) and q.strip() for q in examples):
        raise CorpusError(f"{FILE}: field 'examples' must be a list of questions, one per line starting with '- '")
    return Collection(data.get("title") or None, data.get("description") or None, tuple(q.strip() for q in examples))
