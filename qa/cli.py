"""Command line: `python -m qa ask "question"`, `python -m qa index`, `python -m qa eval`, `python -m qa bench`,
`python -m qa load`, `python -m qa add|list|remove`."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from qa.config import Settings
from qa.errors import QAError


def _ask(args) -> int:
    from qa.api import QA, validate_request
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
    from qa.index.encoder import MiniLMEncoder
    from qa.index.store import build, problem, save
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


def _with_params(settings: Settings, pairs: list[str]) -> Settings:
    """`settings` with each `name=value` applied, the value read as the field's type."""
    changes = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        current = getattr(settings, name, None)
        if not isinstance(current, (bool, int, float, str)) or not value:
            raise QAError(f"--param {pair!r}: write name=value with a retrieval setting from qa/config.py, "
                          "such as bm25_k1=0.9")
        try:
            changes[name] = value.lower() in ("1", "true", "yes") if isinstance(current, bool) else type(current)(value)
        except ValueError:
            raise QAError(f"--param {pair!r}: {name} needs a {type(current).__name__} value") from None
    return replace(settings, **changes)


def _eval(args) -> int:
    from qa.index.encoder import MiniLMEncoder
    settings, encoder = _with_params(Settings(), args.param), MiniLMEncoder()
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


def _bench(args) -> int:
    from qa_tools.bench import format_report, run
    report = run(args.runs, args.scifact_docs, tuple(args.sizes), app=not args.no_app, encoders=args.encoders)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _load(args) -> int:
    from qa_tools.loadtest import load, summary
    if args.clients < 1 or args.seconds <= 0:
        raise QAError("--clients must be at least 1 and --seconds more than 0")
    report = load(args.url, args.clients, args.seconds)
    print(json.dumps(report.to_dict(), indent=2) if args.json else summary(report))
    return 0 if not report.errors and not report.ungrounded else 1


def _add(args) -> int:
    from qa.ingest.importer import add
    report = add(args.paths, args.corpus or Settings().corpus_dir, args.max_mb)
    print(report.summary())
    if report.having("added"):
        print("the index is rebuilt from the corpus on the next 'python -m qa index --if-needed' (as 'make run' does)")
    return 1 if report.having("failed") else 0


def _list(args) -> int:
    from qa.ingest.importer import describe, documents
    print("\n".join(describe(doc) for _, doc in documents(args.corpus or Settings().corpus_dir)))
    return 0


def _remove(args) -> int:
    from qa.ingest.importer import remove
    print(f"removed {args.id} ({remove(args.id, args.corpus or Settings().corpus_dir)})")
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
    e = sub.add_parser("eval", help="measure retrieval, abstention and grounding on the labelled questions, "
                                    "or retrieval on a BEIR folder")
    e.add_argument("--split", choices=("dev", "test", "train", "all"), default=None,
                   help="question split (default test); with --beir, the qrels file (test or train)")
    e.add_argument("--json", action="store_true")
    e.add_argument("--beir", type=Path, metavar="PATH",
                   help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/*.tsv): nDCG@10 and Recall@100 per mode")
    e.add_argument("--cache", type=Path, metavar="DIR", help="where --beir keeps encoded vectors "
                   "(default: beir-cache in the index folder)")
    e.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a retrieval setting of qa/config.py for this run (repeatable)")
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
    ld = sub.add_parser("load", help="concurrent clients asking the labelled questions through the app's /ask endpoint "
                                     "(docs/RELIABILITY.md)")
    ld.add_argument("--url", help="a running app (default: start one as `make run` does, on a free port)")
    ld.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    ld.add_argument("--seconds", type=float, default=60, help="how long they ask (default 60)")
    ld.add_argument("--json", action="store_true")
    ld.set_defaults(run=_load)
    ad = sub.add_parser("add", help="import files and folders (HTML, PDF, Word, text, corpus Markdown) into the corpus")
    ad.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ad.add_argument("--corpus", type=Path, metavar="DIR", help="the corpus folder (default: QA_CORPUS_DIR or corpus/)")
    ad.add_argument("--max-mb", type=float, help="refuse files larger than this many MB (default 50)")
    ad.set_defaults(run=_add)
    ls = sub.add_parser("list", help="the corpus documents with their metadata and provenance")
    ls.add_argument("--corpus", type=Path, metavar="DIR")
    ls.set_defaults(run=_list)
    rm = sub.add_parser("remove", help="remove one document (its corpus file) by id")
    rm.add_argument("id")
    rm.add_argument("--corpus", type=Path, metavar="DIR")
    rm.set_defaults(run=_remove)
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
