"""The tools' subcommands of `python -m qa`: `eval`, `bench` and `load`, registered through the `qa.commands`
entry points in pyproject.toml. Each handler imports its tool only when run."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.cli import settings_from
from qa.errors import QAError


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from qa.index.encoder import MiniLMEncoder
    settings, encoder = settings_from(args), MiniLMEncoder()
    split = args.split or "test"
    if args.beir:
        from qa_tools.beir import format_beir, run_beir
        report = run_beir(args.beir, encoder, settings, args.cache or settings.index_dir / "beir-cache", split)
        report["params"] = args.param
        print(json.dumps(report, indent=2) if args.json else format_beir(report))
        return 0
    if split in ("train", "tune", "report") and not args.clapnq:
        folders = "--beir" if split == "train" else "--clapnq"
        raise QAError(f"the question set has dev and test splits; {split} is for {folders} folders")
    readers = {"setting": [settings.reader], "on": [True], "off": [False], "both": [False, True]}[args.reader]
    reports, texts = {}, []
    for on in readers:
        report, text = _eval_report(args, replace(settings, reader=on), encoder, split)
        reports[f"reader {'on' if on else 'off'}"] = report
        texts.append((f"reader {'on' if on else 'off'}\n" if len(readers) > 1 else "") + text)
    print(json.dumps(reports if len(readers) > 1 else report, indent=2) if args.json else "\n\n".join(texts))
    return 0


def _eval_report(args: argparse.Namespace, settings, encoder, split: str) -> tuple[dict, str]:
    """The evaluation of one setting: its report and how it prints."""
    from qa.api import QA
    from qa.index.store import build, problem
    from qa.index.update import open_index
    from qa_tools.evaluate import (
        FOLLOWUPS,
        confidence_report,
        evaluate,
        evaluate_followups,
        format_confidence,
        format_report,
        labelled_articles,
        labelled_clapnq,
        load_questions,
    )
    if args.clapnq:
        from qa_tools.clapnq import clapnq_index, in_split
        split = args.split or "report"
        clapnq_settings, index, questions = clapnq_index(args.clapnq, args.cache or settings.index_dir / "clapnq-cache",
                                                         settings, encoder)
        report = confidence_report(QA(clapnq_settings, encoder, index), labelled_clapnq(index, in_split(questions, split)))
        report["split"] = split
        return report, format_confidence(f"CLAPNQ {split}", report)
    # Overridden settings are measured on an index built in memory, leaving the saved one as it is.
    index = build(settings, encoder) if args.param and problem(settings, encoder) else open_index(settings, encoder)
    qa = QA(settings, encoder, index)
    report = evaluate(qa, load_questions(split=split))
    report["followups"] = evaluate_followups(qa, load_questions(FOLLOWUPS, split=split))
    report["split"] = split
    report["confidence"] = confidence_report(qa, labelled_articles(qa, load_questions(split=split)
                                                                   + load_questions(FOLLOWUPS, split=split)))
    return report, (f"split: {split}\n" + format_report(report) + "\n"
                    + format_confidence(f"articles {split} (questions and follow-ups)", report["confidence"]))


def add_eval(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    e = sub.add_parser("eval", parents=[common], help="measure retrieval, abstention and grounding on the labelled "
                                                      "questions, or retrieval on a BEIR folder")
    e.add_argument("--split", choices=("dev", "test", "train", "tune", "report", "all"), default=None,
                   help="question split (default test); with --beir, the qrels file (test or train); with --clapnq, "
                        "the half (tune or report, default report)")
    e.add_argument("--json", action="store_true")
    e.add_argument("--beir", type=Path, metavar="PATH",
                   help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/*.tsv): nDCG@10 and Recall@100 per mode")
    e.add_argument("--clapnq", type=Path, metavar="PATH",
                   help="a CLAPNQ-format folder (answerable.jsonl, unanswerable.jsonl) indexed as a corpus of its own: "
                        "confidence levels, risk and coverage, ranking and highlight precision/recall/F1")
    e.add_argument("--cache", type=Path, metavar="DIR", help="where --beir keeps encoded vectors and --clapnq its "
                   "corpus and index (default: beir-cache or clapnq-cache in the index folder)")
    e.add_argument("--reader", choices=("setting", "on", "off", "both"), default="setting",
                   help="with the reader (qa/evidence/reader.py) on, off, or both, each printed in turn (default: as "
                        "the `reader` setting says)")
    e.set_defaults(run=_eval)


def _bench(args: argparse.Namespace) -> int:
    from qa_tools.bench import bench_backends, bench_scale, format_backends, format_report, format_search, run
    if args.backends:
        rows = bench_backends(list(args.sizes), args.runs, list(args.param), args.config)
        print(json.dumps(rows, indent=2) if args.json else "\n".join(
            ["rank() through each backend on GENERATED passages, medians of per-run p50s (min, max)",
             *format_backends(rows)]))
        return 0
    if args.search_only:
        rows = bench_scale(list(args.sizes), args.runs, list(args.param), args.config, search_only=True)
        print(json.dumps(rows, indent=2) if args.json else "\n".join(
            ["search on GENERATED passages, medians of per-run p50s (min, max)", *format_search(rows)]))
        return 0
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
    b.add_argument("--search-only", action="store_true",
                   help="only the search rows (QA.search at --sizes generated passages), about 4 min at 1,000,000")
    b.add_argument("--backends", action="store_true",
                   help="only the backend rows (rank() through each search backend at --sizes generated passages)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(run=_bench)


def _load(args: argparse.Namespace) -> int:
    from qa_tools.loadtest import load, soak, summary
    if args.clients < 1 or args.seconds <= 0:
        raise QAError("--clients must be at least 1 and --seconds more than 0")
    if args.sessions:  # the soak: browser sessions with long conversations
        if args.sessions < 1 or args.questions < 1:
            raise QAError("--sessions and --questions must be at least 1")
        soaked = soak(args.url, args.sessions, args.questions)
        print(json.dumps(soaked.to_dict(), indent=2))
        return 0 if not soaked.errors else 1
    report = load(args.url, args.clients, args.seconds)
    print(json.dumps(report.to_dict(), indent=2) if args.json else summary(report))
    return 0 if not report.errors and not report.ungrounded else 1


def add_load(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    ld = sub.add_parser("load", help="concurrent clients asking the labelled questions through the app's /ask "
                                     "endpoint (docs/RELIABILITY.md)")
    ld.add_argument("--url", help="a running app (default: start one as `make run` does, on a free port)")
    ld.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    ld.add_argument("--seconds", type=float, default=60, help="how long they ask (default 60)")
    ld.add_argument("--sessions", type=int, help="instead: this many browser sessions at once, each asking --questions "
                    "questions in the chat (a soak; prints JSON with the app's memory, open files and files at the "
                    "start and the end)")
    ld.add_argument("--questions", type=int, default=200, help="questions per session of the soak (default 200)")
    ld.add_argument("--json", action="store_true")
    ld.set_defaults(run=_load)
