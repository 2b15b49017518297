"""Latency and build-time benchmark: `python eval/bench.py [--runs 5]`.

Warm `ask()` latency p50/p95 over every labelled question, the floor (encoding one question alone),
and index build time on the corpus. Each figure is the median over runs, with min and max."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa import QA, Settings
from qa.encoder import MiniLMEncoder
from qa.evaluate import load_questions
from qa.store import build, save


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):8.2f}  min {min(values):8.2f}  max {max(values):8.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    questions = [q.question for q in load_questions()]
    encoder = MiniLMEncoder()
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings(), index_dir=Path(tmp))
        encoder.encode(["warm up"])
        builds = []
        for _ in range(args.runs):
            t = time.perf_counter()
            index = build(settings, encoder)
            save(index, settings.index_dir)
            builds.append(time.perf_counter() - t)
        qa = QA(settings, encoder)
        for q in questions:  # warm-up pass
            qa.ask(q)
        p50, p95, floor = [], [], []
        for _ in range(args.runs):
            ask_ms, enc_ms = [], []
            for q in questions:
                t = time.perf_counter()
                qa.ask(q)
                ask_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                encoder.encode([q])
                enc_ms.append((time.perf_counter() - t) * 1000)
            p50.append(float(np.percentile(ask_ms, 50)))
            p95.append(float(np.percentile(ask_ms, 95)))
            floor.append(float(np.percentile(enc_ms, 50)))
    n = len(index.passages)
    print(f"{len(questions)} questions, {n} passages, {args.runs} runs, {time.strftime('%Y-%m-%d')}")
    print(f"index build (s)          {summary(builds)}  ({n / statistics.median(builds):.0f} passages/s)")
    print(f"warm ask() p50 (ms)      {summary(p50)}")
    print(f"warm ask() p95 (ms)      {summary(p95)}")
    print(f"floor: encode 1 q (ms)   {summary(floor)}")
    print(f"ask p50 / floor          {statistics.median(p50) / statistics.median(floor):.2f}")


if __name__ == "__main__":
    main()
