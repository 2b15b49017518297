"""Command line: `python -m qa ask "question"`, `python -m qa search WORDS`, `python -m qa chat`, `python -m qa index`
and `python -m qa add|list|remove` (import files into the corpus), the product's own commands. The tools' commands
(`eval`, `bench`, `load`) register themselves through the `qa.commands` entry points (qa_tools/cli.py), so the product
imports none of their code.

Every command that uses the settings takes `--param NAME=VALUE` (repeatable) and `--config FILE`; where a value
comes from, later winning: default, settings file, environment (`QA_<NAME>`), flag (qa/config.py)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from qa.config import Settings, check_number
from qa.errors import QAError
from qa.ingest.worker import Limits
from qa.safe_text import printable

if TYPE_CHECKING:
    from qa.index.store import Index

COMMANDS_GROUP = "qa.commands"  # entry points: functions that add a subcommand, given (subparsers, common)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings for this run: defaults, settings file, environment, then --param flags."""
    return Settings.load(args.param, args.config)


def _ask(args: argparse.Namespace) -> int:
    from qa.answer.export import Asked, export
    from qa.api import QA
    from qa.request import validate
    from qa.search.filters import validate_filter
    from qa.terminal import print_answer
    settings = settings_from(args)
    validate(args.question, args.k, args.history, settings, since=args.since, until=args.until)  # before the model loads
    qa = QA(settings)
    answer = qa.ask(args.question, args.k, history=args.history, sources=args.source, since=args.since,
                    until=args.until)
    limit = validate_filter(args.source, args.since, args.until, qa.index.documents)
    if args.json:
        print(printable(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)))  # still JSON: \u escapes
    elif args.export:
        print(printable(export([Asked(answer, limit)], args.export)), end="")
    else:
        print_answer(answer, limit=limit)
    return 0


def _search(args: argparse.Namespace) -> int:
    from qa.answer.export import export_collection
    from qa.api import QA
    from qa.search.fulltext import parse
    from qa.terminal import print_search
    settings = settings_from(args)
    parse(args.query, settings)  # a bad search fails before the index loads
    results = QA(settings).search(args.query, sources=args.source, since=args.since, until=args.until,
                                  page=args.page, order=args.order)
    if args.json:
        print(printable(json.dumps(results.to_dict(), ensure_ascii=False, indent=2)))
    elif args.export:
        print(printable(export_collection(results.hits, args.export)), end="")
    else:
        print_search(results)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from qa.answer.export import format_of
    from qa.answer.model import Answer
    from qa.api import QA
    from qa.request import validate_k
    from qa.terminal import chat
    settings = settings_from(args)
    if args.k is not None:  # bad options fail before the model and index load
        validate_k(args.k, settings.max_k)
    if args.export:
        format_of(str(args.export))
    loaded: list[QA] = []  # loaded with the first question, so that the prompt shows at once

    def ask(question: str, history: list[Answer]) -> Answer:
        if not loaded:
            loaded.append(QA(settings))
        return loaded[0].ask(question, args.k, history=history)
    return chat(ask, sys.stdin, sys.stdout, sys.stderr, args.export)


def _index(args: argparse.Namespace) -> int:
    from qa.index.encoder import MiniLMEncoder
    from qa.index.store import CORPUS_CHANGED, problem, rebuild, save
    from qa.index.update import resumed
    settings, encoder = settings_from(args), MiniLMEncoder()
    index = None
    if args.if_needed:
        reason = problem(settings, encoder)
        if reason is None:
            print(f"the index in {settings.index_dir} is current")
            return 0
        index = resumed(settings, encoder) if reason == CORPUS_CHANGED else None  # the changed files' work alone
        print(f"{'rebuilding' if index is None else 'updating'} the index: {reason}")
    index = index or rebuild(settings, encoder, progress=True)  # reuses the vectors of unchanged text
    save(index, settings.index_dir)
    texts = index.manifest["texts"]
    print(f"indexed {len(index.passages)} passages from {len(index.documents)} documents into {settings.index_dir} "
          f"({texts['encoded']} texts encoded, {texts['reused']} reused)")
    _sync_engine(settings, index)
    return 0


def _sync_engine(settings: Settings, index: Index) -> None:
    """Bring the chosen search engine up to the index, so app replicas start with it filled."""
    from qa.index.milvus import open_engine
    engine = open_engine(settings)
    if engine is not None:
        sync = engine.sync(index)
        print(f"{settings.backend} backend at {engine.uri}: {sync}{' (rebuilt)' if sync.rebuilt else ''}")


def _corpus(args: argparse.Namespace) -> tuple[Path, Settings]:
    """The corpus folder `--corpus` names (else the settings' one), and the settings its documents are read with."""
    settings = settings_from(args)
    return args.corpus or settings.corpus_dir, settings


def _add(args: argparse.Namespace) -> int:
    from qa.ingest.importer import add
    corpus_dir, settings = _corpus(args)
    if args.max_mb is not None:
        check_number("--max-mb", args.max_mb, low=0.001)  # nan or -1 would reach the size check as no limit
    report = add(args.paths, corpus_dir, args.max_mb, settings=settings,
                 limits=Limits(args.max_seconds, args.max_memory_mb))
    print(printable(report.summary()))  # file names and reasons may hold any character
    if report.having("added"):
        print("the index follows on the next question or 'python -m qa index' (only new text is encoded)")
    return 1 if report.having("failed") else 0


def _list(args: argparse.Namespace) -> int:
    from qa.ingest.importer import describe, documents
    print(printable("\n".join(describe(doc) for _, doc in documents(*_corpus(args)))))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from qa.ingest.importer import remove
    print(printable(f"removed {args.id} ({remove(args.id, *_corpus(args))})"))
    return 0


def common_options() -> argparse.ArgumentParser:
    """The options of every command that uses the settings."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a setting of qa/config.py for this run (repeatable), e.g. bm25_k1=0.9")
    common.add_argument("--config", type=Path, metavar="FILE", help="a TOML settings file (default: $QA_CONFIG)")
    return common


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m qa", description="Answers with passages quoted from the corpus.")
    sub = p.add_subparsers(dest="command", required=True)
    common = common_options()
    a = sub.add_parser("ask", parents=[common], help="answer a question with quoted passages")
    a.add_argument("question")
    a.add_argument("-k", type=int, default=None, help="at most this many passages (1-10, default 3)")
    a.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    a.add_argument("--source", action="append", metavar="ID", help="quote only this document (repeatable; see its id "
                   "in the corpus file's front matter)")
    a.add_argument("--since", metavar="DATE", help="quote only documents dated on or after DATE (YYYY-MM-DD)")
    a.add_argument("--until", metavar="DATE", help="quote only documents dated on or before DATE (YYYY-MM-DD)")
    a.add_argument("--history", action="append", default=[], metavar="QUESTION",
                   help="an earlier question of the conversation, for a follow-up (repeatable, oldest first)")
    a.add_argument("--export", choices=("md", "csv", "json"), help="print the quotes with all citation fields as "
                   "Markdown, CSV or JSON")
    a.set_defaults(run=_ask)
    se = sub.add_parser("search", parents=[common], help='every passage holding all the words, or a "quoted phrase"')
    se.add_argument("query", help='words (each must be in the passage, any form: kill matches killed) and "exact '
                    'phrases"')
    se.add_argument("--order", choices=("relevance", "date"), default="relevance",
                    help="relevance: BM25, best first (default); date: oldest first, undated last")
    se.add_argument("--page", type=int, default=1, help="which page of 20 hits (default 1)")
    se.add_argument("--source", action="append", metavar="ID", help="only this document (repeatable)")
    se.add_argument("--since", metavar="DATE", help="only documents dated on or after DATE (YYYY-MM-DD)")
    se.add_argument("--until", metavar="DATE", help="only documents dated on or before DATE (YYYY-MM-DD)")
    se.add_argument("--json", action="store_true", help="print SearchResults.to_dict() as JSON")
    se.add_argument("--export", choices=("md", "csv", "json"), help="print the page's hits with all citation fields "
                    "as Markdown, CSV or JSON, as the chat exports starred passages")
    se.set_defaults(run=_search)
    c = sub.add_parser("chat", parents=[common], help="a conversation: questions read from standard input, "
                                                      "follow-ups searched with the questions before them")
    c.add_argument("-k", type=int, default=None, help="at most this many passages per answer (1-10, default 3)")
    c.add_argument("--export", type=Path, metavar="FILE", help="keep every quote of the conversation in FILE "
                   "(.md, .csv or .json), rewritten after each answer")
    c.set_defaults(run=_chat)
    i = sub.add_parser("index", parents=[common], help="rebuild the index from the corpus")
    i.add_argument("--if-needed", action="store_true", help="rebuild only when the index is missing or stale")
    i.set_defaults(run=_index)
    ad = sub.add_parser("add", parents=[common], help="import files and folders (HTML, PDF, Word, text, Markdown "
                                                     "notes and corpus files) into the corpus folder (docs/IMPORT.md)")
    ad.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ad.add_argument("--corpus", type=Path, metavar="DIR", help="the corpus folder (default: the setting corpus_dir)")
    ad.add_argument("--max-mb", type=float, help="refuse files larger than this many MB (default 50)")
    ad.add_argument("--max-seconds", type=float, default=Limits.seconds, help="stop reading a file after this many "
                    f"seconds (default {Limits.seconds:g})")
    ad.add_argument("--max-memory-mb", type=int, default=Limits.memory_mb, help="stop reading a file that needs more "
                    f"memory than this many MB (default {Limits.memory_mb})")
    ad.set_defaults(run=_add)
    ls = sub.add_parser("list", parents=[common], help="the corpus documents with their metadata and provenance")
    ls.add_argument("--corpus", type=Path, metavar="DIR")
    ls.set_defaults(run=_list)
    rm = sub.add_parser("remove", parents=[common], help="remove one document (its corpus file) by id")
    rm.add_argument("id")
    rm.add_argument("--corpus", type=Path, metavar="DIR")
    rm.set_defaults(run=_remove)
    for entry in sorted(metadata.entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        entry.load()(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):  # a terminal that is not UTF-8 gets \u escapes, not a traceback
        sys.stdout.reconfigure(errors="backslashreplace")
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        return args.run(args)
    except BrokenPipeError:  # `... | head -n 1` closed the pipe: stop quietly, as a process killed by SIGPIPE does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the flush at exit must not fail again
        return 141
    except QAError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
