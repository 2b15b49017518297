"""Measure retrieval and abstention on the labelled question set, for BM25, dense and hybrid."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from qa.api import QA
from qa.config import ROOT
from qa.search.followup import Turn, search_questions
from qa.search.query import query_for
from qa.search.retrieval import MODES, rank
from qa.verify import verify
from qa_tools.metrics import first_rank, gold_ranks, ranking_report, summary

QUESTIONS = ROOT / "eval" / "questions.jsonl"
FOLLOWUPS = ROOT / "eval" / "followups.jsonl"  # second questions of a chat, each with the questions before it
ABSTAIN_TYPES = ("offtopic", "unanswerable")


@dataclass(frozen=True)
class Question:
    id: str
    split: str
    type: str
    question: str
    gold: tuple[tuple[str, str], ...]  # (doc id, verbatim quote)
    history: tuple[str, ...] = ()  # earlier questions in the same chat, oldest first

    @property
    def answerable(self) -> bool:
        return self.type not in ABSTAIN_TYPES


def load_questions(path: Path = QUESTIONS, split: str | None = None) -> list[Question]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Question(r["id"], r["split"], r["type"], r["question"], tuple((g["doc"], g["quote"]) for g in r["gold"]),
                     tuple(r.get("history", ()))) for r in rows if split in (None, "all", r["split"])]


def questions_option() -> argparse.ArgumentParser:
    """The tools' --questions option: a labelled question file (default eval/questions.jsonl)."""
    option = argparse.ArgumentParser(add_help=False)
    option.add_argument("--questions", type=Path, default=QUESTIONS, metavar="FILE",
                        help="labelled questions, one JSON object a line (default eval/questions.jsonl)")
    return option


def gold_passages(qa: QA, question: Question) -> set[int]:
    """Indices of the passages that contain each gold quote."""
    found = set()
    for doc_id, quote in question.gold:
        pos = qa.index.documents[doc_id].body.find(quote)
        if pos < 0:
            raise ValueError(f"{question.id}: gold quote not found in {doc_id}: {quote!r}")
        found |= {i for i, p in enumerate(qa.index.passages)
                  if p.doc_id == doc_id and p.start <= pos and pos + len(quote) <= p.end}
    return found


def evaluate(qa: QA, questions: list[Question]) -> dict:
    """Per mode: hit@1, hit@3, MRR and nDCG@10 on answerable questions, then the abstention precision and recall
    and the grounding rate (share of answers `verify` passes) of `ask()` on every question."""
    report: dict = {"questions": len(questions)}
    answerable = [q for q in questions if q.answerable]
    golds = {q.id: gold_passages(qa, q) for q in answerable}
    vectors = dict(zip([q.id for q in questions], qa.encoder.encode([q.question for q in questions])))
    should = {q.id for q in questions if not q.answerable}
    for mode in MODES:
        ranks = [gold_ranks(rank(qa.index, q.question, vectors[q.id], qa.settings, mode).order, golds[q.id])
                 for q in answerable]
        ranking = ranking_report(ranks) if ranks else dict.fromkeys(("hit@1", "hit@3", "mrr", "ndcg@10"), 0.0)
        answers = {q.id: qa.ask(q.question, mode=mode) for q in questions}
        did = {i for i, a in answers.items() if a.abstained}
        ungrounded = {i: problems for i, a in answers.items() if (problems := verify(a, qa.index))}
        report[mode] = {
            **ranking,
            "abstention_precision": len(did & should) / len(did) if did else 1.0,
            "abstention_recall": len(did & should) / len(should) if should else 1.0,
            "grounding_rate": 1 - len(ungrounded) / max(len(questions), 1),
            "answerable_abstained": sorted(did - should),
            "unanswerable_answered": sorted(should - did),
            "ungrounded": ungrounded,
        }
    return report


def evaluate_followups(qa: QA, questions: list[Question]) -> dict:
    """Hybrid hit@3 and MRR of each question type (followup, standalone) searched as `ask(question, history)`
    searches it, and searched alone; and the grounding rate of those answers."""
    report: dict = {}
    for kind in sorted({q.type for q in questions}):
        rows = [q for q in questions if q.type == kind]
        ranks: dict[str, list[int]] = {"with_history": [], "without": []}
        grounded = 0
        for q in rows:
            gold = gold_passages(qa, q)
            searched = search_questions(q.question, [Turn(h) for h in q.history], qa.settings.max_chain)
            for key, questions_searched in (("with_history", searched), ("without", [q.question])):
                query = query_for(q.question, questions_searched, qa.encoder)
                order = rank(qa.index, query.text, query.vector, qa.settings).order
                ranks[key].append(first_rank(order, gold))
            grounded += verify(qa.ask(q.question, history=q.history), qa.index, history=q.history) == []
        report[kind] = {"questions": len(rows), "grounding_rate": grounded / len(rows)} | {
            key: {m: v for m, v in summary(found).items() if m != "hit@1"}
            for key, found in ranks.items()}
    return report


def format_report(report: dict) -> str:
    """One table, a row per mode; then the questions each mode abstained on wrongly, and any ungrounded answer."""
    lines = [f"{report['questions']} questions",
             f"{'mode':8} {'hit@1':>6} {'hit@3':>6} {'MRR':>6} {'nDCG@10':>8} {'abst-P':>7} {'abst-R':>7} {'grounded':>9}"]
    for mode in MODES:
        m = report[mode]
        lines.append(f"{mode:8} {m['hit@1']:6.3f} {m['hit@3']:6.3f} {m['mrr']:6.3f} {m['ndcg@10']:8.3f} "
                     f"{m['abstention_precision']:7.3f} {m['abstention_recall']:7.3f} {m['grounding_rate']:9.1%}")
    for mode in MODES:
        m = report[mode]
        lines.append(f"{mode}: answerable questions abstained: {', '.join(m['answerable_abstained']) or 'none'}; "
                     f"unanswerable questions answered: {', '.join(m['unanswerable_answered']) or 'none'}")
        lines += [f"{mode}: {qid} is not grounded: {'; '.join(problems)}" for qid, problems in m["ungrounded"].items()]
    for kind, f in report.get("followups", {}).items():
        lines.append(f"{kind} questions after an earlier one ({f['questions']}, hybrid): "
                     f"hit@3 {f['with_history']['hit@3']:.3f} with history, {f['without']['hit@3']:.3f} without; "
                     f"MRR {f['with_history']['mrr']:.3f} with, {f['without']['mrr']:.3f} without; "
                     f"grounded {f['grounding_rate']:.0%}")
    return "\n".join(lines)
