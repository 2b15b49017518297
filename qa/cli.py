"""Command line: `python -m qa ask "question"`, `python -m qa index`, `python -m qa eval`, `python -m qa bench`."""
from __future__ import annotations

import argparse
import json
import logging
import sys

from .config import Settings


def _ask(args) -> int:
    from .api import QA, validate_request
    validate_request(args.question, args.k, Settings())  # bad input fails before the model and index load
    answer = QA().ask(args.question, args.k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if answer.abstained:
        print(answer.message)
        return 0
    print(answer.message)
    for n, p in enumerate(answer.passages, 1):
        print(f"\n[{n}] {p.citation}")
        print("    " + p.text.replace("\n\n", "\n    "))
    return 0


def _index(args) -> int:
    from .encoder import MiniLMEncoder
    from .store import build, problem, save
    settings, encoder = Settings(), MiniLMEncoder()
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


def _eval(args) -> int:
    from .api import QA
    from .evaluate import evaluate, format_report, load_questions
    report = evaluate(QA(), load_questions(split=args.split))
    report["split"] = args.split
    print(json.dumps(report, indent=2) if args.json else f"split: {args.split}\n" + format_report(report))
    return 0


def _bench(args) -> int:
    from .bench import format_report, run
    report = run(args.runs, args.scifact_docs, tuple(args.sizes), app=not args.no_app, encoders=args.encoders)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m qa", description="Answers with passages quoted from the articles.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("ask", help="answer a question with quoted passages")
    a.add_argument("question")
    a.add_argument("-k", type=int, default=None, help="at most this many passages (1-10, default 3)")
    a.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    a.set_defaults(run=_ask)
    i = sub.add_parser("index", help="rebuild the index from the corpus")
    i.add_argument("--if-needed", action="store_true", help="rebuild only when the index is missing or stale")
    i.set_defaults(run=_index)
    e = sub.add_parser("eval", help="measure retrieval and abstention on the labelled questions")
    e.add_argument("--split", choices=("dev", "test", "all"), default="test")
    e.add_argument("--json", action="store_true")
    e.set_defaults(run=_eval)
    b = sub.add_parser("bench", help="measure latency, cold start, index build, memory and scale (docs/PERFORMANCE.md)")
    b.add_argument("--runs", type=int, default=3, help="repetitions of every timing (default 3)")
    b.add_argument("--scifact-docs", type=int, default=100, help="SciFact abstracts indexed for the build rate")
    b.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000], help="generated corpus sizes")
    b.add_argument("--no-app", action="store_true", help="skip the `make run` cold start")
    b.add_argument("--encoders", action="store_true",
                   help="also compare encoding rates and vectors with sentence-transformers (about 2 min more)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(run=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):  # a terminal that is not UTF-8 gets \u escapes, not a traceback
        sys.stdout.reconfigure(errors="backslashreplace")
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    from .errors import QAError
    try:
        return args.run(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
