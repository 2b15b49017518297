"""CLAPNQ-format benchmarks (answerable.jsonl, unanswerable.jsonl) as a corpus of their own: every distinct passage
becomes one corpus Markdown file (title = the Wikipedia title, publisher "Wikipedia", no date or URL: none is
given), indexed by the same qa.corpus / qa.index.store code as any corpus, and every question is asked of it.

Questions are split into a `tune` and a `report` half by the sha256 of their id, so that what is fitted on one
half is reported on the other."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from qa.config import Settings
from qa.errors import QAError
from qa.index.encoder import Encoder
from qa.index.store import Index
from qa.index.update import open_index

FILES = {"answerable.jsonl": True, "unanswerable.jsonl": False}
SPLITS = ("tune", "report", "all")


@dataclass(frozen=True)
class ClapnqQuestion:
    id: str
    question: str
    answerable: bool
    doc_id: str  # the document of the question's passage
    selected: tuple[str, ...]  # the annotator's answer sentences, as the passage words them

    @property
    def split(self) -> str:
        return split_of(self.id)


def split_of(question_id: str) -> str:
    """'tune' or 'report', by the parity of the sha256 of the question id (deterministic, about half each)."""
    return ("tune", "report")[hashlib.sha256(question_id.encode()).digest()[0] % 2]


def doc_id(title: str, text: str) -> str:
    return "clapnq-" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()[:16]


def load_clapnq(folder: Path) -> tuple[list[ClapnqQuestion], dict[str, tuple[str, str]]]:
    """The questions of a CLAPNQ folder, and its passages by document id (title, text)."""
    questions, passages = [], {}
    for name, answerable in FILES.items():
        path = Path(folder) / name
        try:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, ValueError) as exc:
            raise QAError(f"{path} cannot be read as CLAPNQ JSON lines ({exc}); the folder needs answerable.jsonl "
                          "and unanswerable.jsonl") from None
        for row in rows:
            try:
                passage = row["passages"][0]
                key = doc_id(passage["title"], passage["text"])
                selected = tuple(row["output"][0]["selected_sentences"]) if answerable else ()
                questions.append(ClapnqQuestion(str(row["id"]), row["input"], answerable, key, selected))
            except (KeyError, IndexError, TypeError) as exc:
                raise QAError(f"{path}: a line lacks {exc} (needs id, input, passages[0].title/text, "
                              "output[0].selected_sentences)") from None
            passages[key] = (passage["title"], passage["text"])
    return questions, passages


def write_corpus(passages: dict[str, tuple[str, str]], corpus_dir: Path) -> None:
    """One Markdown file with YAML front matter per passage; files of an earlier run that differ are replaced."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"{key}.md" for key in passages}
    for stale in corpus_dir.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    for key, (title, text) in passages.items():
        front = yaml.safe_dump({"id": key, "title": title, "publisher": "Wikipedia"}, allow_unicode=True)
        content = f"---\n{front}---\n{text.strip()}\n"
        path = corpus_dir / f"{key}.md"
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")


def clapnq_index(folder: Path, cache: Path, settings: Settings, encoder: Encoder) -> tuple[Settings, Index, list[ClapnqQuestion]]:
    """The CLAPNQ corpus written to `cache/corpus` and indexed into `cache/index` (reused while current), with the
    settings that point at them and the questions."""
    questions, passages = load_clapnq(folder)
    write_corpus(passages, Path(cache) / "corpus")
    settings = replace(settings, corpus_dir=Path(cache) / "corpus", index_dir=Path(cache) / "index")
    return settings, open_index(settings, encoder), questions


def in_split(questions: list[ClapnqQuestion], split: str) -> list[ClapnqQuestion]:
    if split not in SPLITS:
        raise QAError(f"unknown CLAPNQ split {split!r}; choose one of {', '.join(SPLITS)}")
    return [q for q in questions if split == "all" or q.split == split]
