"""The tools' subcommands of `python -m qa`: `eval`, `bench` and `load`, registered through the `qa.commands`
entry points in pyproject.toml. Each handler imports its tool only when run."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.cli import settings_from
from qa.errors import QAError


def _eval(args: argparse.Namespace) -> int:
    from qa.index.encoder import MiniLMEncoder
    settings, encoder = settings_from(args), MiniLMEncoder()
    split = args.split or "test"
    if args.beir:
        from qa_tools.beir import format_beir, run_beir
        report = run_beir(args.beir, encoder, settings, args.cache or settings.index_dir / "beir-cache", split)
        report["params"] = args.param
        print(json.dumps(report, indent=2) if args.json else format_beir(report))
        return 0
    from qa.api import QA
    from qa.index.store import build, open_index, problem
    from qa_tools.evaluate import FOLLOWUPS, evaluate, evaluate_followups, format_report, load_questions
    if split == "train":
        raise QAError("the question set has dev and test splits; train is for --beir folders")
    # Overridden settings are measured on an index built in memory, leaving the saved one as it is.
    index = build(settings, encoder) if args.param and problem(settings, encoder) else open_index(settings, encoder)
    qa = QA(settings, encoder, index)
    report = evaluate(qa, load_questions(split=split))
    report["followups"] = evaluate_followups(qa, load_questions(FOLLOWUPS, split=split))
    report["split"] = split
    print(json.dumps(report, indent=2) if args.json else f"split: {split}\n" + format_report(report))
    return 0


def add_eval(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    e = sub.add_parser("eval", parents=[common], help="measure retrieval, abstention and grounding on the labelled "
                                                      "questions, or retrieval on a BEIR folder")
    e.add_argument("--split", choices=("dev", "test", "train", "all"), default=None,
                   help="question split (default test); with --beir, the qrels file (test or train)")
    e.add_argument("--json", action="store_true")
    e.add_argument("--beir", type=Path, metavar="PATH",
                   help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/*.tsv): nDCG@10 and Recall@100 per mode")
    e.add_argument("--cache", type=Path, metavar="DIR", help="where --beir keeps encoded vectors "
                   "(default: beir-cache in the index folder)")
    e.set_defaults(run=_eval)


def _bench(args: argparse.Namespace) -> int:
    from qa_tools.bench import format_report, run
    report = run(args.runs, args.scifact_docs, tuple(args.sizes), app=not args.no_app, encoders=args.encoders,
                 params=tuple(args.param), config=args.config)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def add_bench(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    b = sub.add_parser("bench", parents=[common],
                       help="measure latency, cold start, index build, memory and scale (docs/PERFORMANCE.md)")
    b.add_argument("--runs", type=int, default=3, help="repetitions of every timing (default 3)")
    b.add_argument("--scifact-docs", type=int, default=100, help="SciFact abstracts indexed for the build rate")
    b.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000], help="generated corpus sizes")
    b.add_argument("--no-app", action="store_true", help="skip the `make run` cold start")
    b.add_argument("--encoders", action="store_true",
                   help="also compare encoding rates and vectors with sentence-transformers (about 2 min more)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(run=_bench)


def _load(args: argparse.Namespace) -> int:
    from qa_tools.loadtest import load, summary
    if args.clients < 1 or args.seconds <= 0:
        raise QAError("--clients must be at least 1 and --seconds more than 0")
    report = load(args.url, args.clients, args.seconds)
    print(json.dumps(report.to_dict(), indent=2) if args.json else summary(report))
    return 0 if not report.errors and not report.ungrounded else 1


def add_load(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    ld = sub.add_parser("load", help="concurrent clients asking the labelled questions through the app's /ask "
                                     "endpoint (docs/RELIABILITY.md)")
    ld.add_argument("--url", help="a running app (default: start one as `make run` does, on a free port)")
    ld.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    ld.add_argument("--seconds", type=float, default=60, help="how long they ask (default 60)")
    ld.add_argument("--json", action="store_true")
    ld.set_defaults(run=_load)
