"""Command line: `python -m qa ask "question"` and `python -m qa index`, the product's own commands. The tools'
commands (`eval`, `bench`, `load`) register themselves through the `qa.commands` entry points (qa_tools/cli.py), so
the product imports none of their code.

Every command that uses the settings takes `--param NAME=VALUE` (repeatable) and `--config FILE`; where a value
comes from, later winning: default, settings file, environment (`QA_<NAME>`), flag (qa/config.py)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from importlib import metadata
from pathlib import Path

from qa.config import Settings
from qa.errors import QAError

COMMANDS_GROUP = "qa.commands"  # entry points: functions that add a subcommand, given (subparsers, common)


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings for this run: defaults, settings file, environment, then --param flags."""
    return Settings.load(args.param, args.config)


def _ask(args: argparse.Namespace) -> int:
    from qa.api import QA
    from qa.request import validate
    settings = settings_from(args)
    validate(args.question, args.k, (), settings)  # bad input fails before the model and index load
    answer = QA(settings).ask(args.question, args.k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"[{answer.confidence}] {answer.message}")
    for n, p in enumerate(answer.passages, 1):
        print(f"\n[{n}] {p.citation}")
        print("    " + p.text.replace("\n\n", "\n    "))
    return 0


def _index(args: argparse.Namespace) -> int:
    from qa.index.encoder import MiniLMEncoder
    from qa.index.store import build, problem, save
    settings, encoder = settings_from(args), MiniLMEncoder()
    if args.if_needed:
        reason = problem(settings, encoder)
        if reason is None:
            print(f"the index in {settings.index_dir} is current")
            return 0
        print(f"rebuilding the index: {reason}")
    index = build(settings, encoder, progress=True)
    save(index, settings.index_dir)
    print(f"indexed {len(index.passages)} passages from {len(index.documents)} documents into {settings.index_dir}")
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
    a.set_defaults(run=_ask)
    i = sub.add_parser("index", parents=[common], help="rebuild the index from the corpus")
    i.add_argument("--if-needed", action="store_true", help="rebuild only when the index is missing or stale")
    i.set_defaults(run=_index)
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
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
