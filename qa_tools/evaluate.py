"""Measure retrieval and abstention on the labelled question set, for BM25, dense and hybrid."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.answer.decide import Decision, decide
from qa.answer.model import CONFIDENCE_LEVELS, Answer
from qa.api import QA
from qa.config import ROOT
from qa.evidence.rerank import ranked_evidence
from qa.index.store import Index
from qa.search.followup import Turn, search_questions
from qa.search.query import Query, build_query, query_for
from qa.search.retrieval import MODES
from qa.verify import verify
from qa_tools.clapnq import ClapnqQuestion
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
    """Per mode (hybrid re-ranked with sentence evidence): hit@1, hit@3, MRR and nDCG@10 on answerable questions,
    then the abstention precision and recall and the grounding rate (share of answers `verify` passes) of `ask()`
    on every question."""
    report: dict = {"questions": len(questions)}
    answerable = [q for q in questions if q.answerable]
    golds = {q.id: gold_passages(qa, q) for q in answerable}
    vectors = dict(zip([q.id for q in questions], qa.encoder.encode([q.question for q in questions])))
    should = {q.id for q in questions if not q.answerable}
    for mode in MODES:
        ranks = []
        for q in answerable:
            query = Query(q.question, vectors[q.id], (q.question,))
            order = ranked_evidence(qa.index, q.question, query, qa.settings, mode, reader=qa.reader)[1].order
            ranks.append(gold_ranks(order, golds[q.id]))
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
                order = ranked_evidence(qa.index, q.question, query, qa.settings, reader=qa.reader)[1].order
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


@dataclass(frozen=True)
class Labelled:
    """A question of either corpus with what answers it: passage indices, and their answering sentences."""

    corpus: str  # 'articles' | 'clapnq'
    id: str
    question: str
    history: tuple[str, ...]
    answerable: bool
    offtopic: bool
    gold: frozenset[int]
    gold_sentences: dict[int, frozenset[int]]  # gold passage -> its answering sentences (indices in the passage)


def sentences_in_span(index: Index, i: int, start: int, end: int) -> set[int]:
    """The sentences of passage `i` that overlap body[start:end] of its document."""
    record = index.passages[i]
    return {j for j, (a, b) in enumerate(record.sentences) if record.start + a < end and start < record.start + b}


def labelled_articles(qa: QA, questions: list[Question]) -> list[Labelled]:
    """The articles' questions; a gold passage's answering sentences are those its gold quotes overlap."""
    out = []
    for q in questions:
        gold = gold_passages(qa, q) if q.answerable else set()
        spans: dict[int, set[int]] = {}
        for doc_id, quote in q.gold if q.answerable else ():
            pos = qa.index.documents[doc_id].body.find(quote)
            for i in gold:
                if qa.index.passages[i].doc_id == doc_id:
                    spans.setdefault(i, set()).update(sentences_in_span(qa.index, i, pos, pos + len(quote)))
        out.append(Labelled("articles", q.id, q.question, q.history, q.answerable, q.type == "offtopic",
                            frozenset(gold), {i: frozenset(s) for i, s in spans.items() if s}))
    return out


def labelled_clapnq(index: Index, questions: list[ClapnqQuestion]) -> list[Labelled]:
    """CLAPNQ questions; a gold passage's answering sentences are those the annotator's selected sentences cover."""
    by_doc = {p.doc_id: i for i, p in enumerate(index.passages)}  # one passage per CLAPNQ document
    out = []
    for q in questions:
        gold = {by_doc[q.doc_id]} if q.answerable else set()
        spans = {}
        for i in gold:
            record, chosen = index.passages[i], set()
            for sentence in (s.strip() for s in q.selected):
                pos = record.text.find(sentence)
                if pos >= 0:
                    chosen |= sentences_in_span(index, i, record.start + pos, record.start + pos + len(sentence))
            spans[i] = frozenset(chosen)
        out.append(Labelled("clapnq", q.id, q.question, (), q.answerable, False, frozenset(gold),
                            {i: s for i, s in spans.items() if s}))
    return out


@dataclass(frozen=True)
class Traced:
    """A question answered, with what the pipeline decided on the way."""

    item: Labelled
    answer: Answer
    order: list[int]  # the final ranking (after re-ranking)
    decision: Decision
    capped: bool  # at most 'uncertain' by rule (a missing answer type, or a name the corpus lacks)


def trace(qa: QA, item: Labelled) -> Traced:
    """`qa.ask(item.question, k=3, history=...)`, and the same stages run again to keep their intermediate values
    (the ranking and the calibrated probability, which an Answer does not carry)."""
    s = qa.settings
    query = build_query(item.question, [Turn(h) for h in item.history], qa.encoder, s.max_chain)
    evidence, ranking = ranked_evidence(qa.index, item.question, query, s, reader=qa.reader)
    decision = decide(ranking, evidence, qa.index.words, qa.calibration)
    answer = qa.ask(item.question, k=3, history=item.history)
    return Traced(item, answer, [int(i) for i in ranking.order], decision, bool(decision.caps))


def _highlighted(qa: QA, passage_index: int, spans: list[tuple[int, int]]) -> set[int]:
    record = qa.index.passages[passage_index]
    return {j for j, span in enumerate(record.sentences) if tuple(span) in {tuple(h) for h in spans}}


def confidence_report(qa: QA, items: list[Labelled]) -> dict:
    """Confidence levels by kind of question, risk and coverage over thresholds, ranking of the answerable
    questions (hit@1, hit@3, MRR after re-ranking), sentence-level highlight precision, recall and F1 on the gold
    passages the answers quote, and the grounding rate."""
    traced = [trace(qa, item) for item in items]
    kinds = {"answerable": [t for t in traced if t.item.answerable],
             "unanswerable": [t for t in traced if not t.item.answerable and not t.item.offtopic],
             "offtopic": [t for t in traced if t.item.offtopic]}
    levels = {kind: {level: sum(t.answer.confidence == level for t in rows) for level in CONFIDENCE_LEVELS}
              for kind, rows in kinds.items() if rows}
    ranks = {id(t): next((n for n, i in enumerate(t.order, 1) if i in t.item.gold), len(t.order) + 1)
             for t in kinds["answerable"]}
    right = {id(t): t.item.answerable and any(qa.index.passages.row_of(p.passage_id) == i
                                              for p in t.answer.passages[:3] for i in t.item.gold) for t in traced}
    answered = [t for t in traced if t.answer.confidence == "answered"]
    curve = []
    for threshold in (*np.round(np.arange(0.1, 1.0, 0.1), 1), qa.calibration.answered):
        confident = [t for t in traced if t.decision.probability is not None and not t.capped
                     and t.decision.probability >= threshold]
        curve.append({"threshold": float(threshold), "coverage": sum(t.item.answerable for t in confident)
                      / max(len(kinds["answerable"]), 1), "risk": sum(not right[id(t)] for t in confident)
                      / len(confident) if confident else 0.0, "confident": len(confident)})
    scores = []
    for t in kinds["answerable"]:
        by_index = {qa.index.passages.row_of(p.passage_id): p for p in t.answer.passages}
        for i, gold in t.item.gold_sentences.items():
            if i in by_index:
                chosen = _highlighted(qa, i, by_index[i].highlights)
                hit = len(chosen & gold)
                scores.append((hit / len(chosen) if chosen else 0.0, hit / len(gold), 2 * hit / (len(chosen) + len(gold)),
                               hit > 0))
    n = max(len(kinds["answerable"]), 1)
    return {"questions": len(items), "levels": levels,
            "hit@1": sum(r <= 1 for r in ranks.values()) / n, "hit@3": sum(r <= 3 for r in ranks.values()) / n,
            "mrr": sum(1 / r for r in ranks.values()) / n,
            "answered_right": sum(right[id(t)] for t in answered) / len(answered) if answered else 1.0,
            "risk_coverage": curve,
            "highlights": {"passages": len(scores), **{name: float(np.mean([s[k] for s in scores])) if scores else 0.0
                                                        for k, name in enumerate(("precision", "recall", "f1",
                                                                                  "gold_sentence_marked"))}},
            "grounding_rate": sum(verify(t.answer, qa.index.documents) == [] for t in traced) / max(len(traced), 1),
            "flagged_wrongly": sorted(t.item.id for t in kinds["answerable"] if t.answer.confidence == "abstained"),
            "unanswerable_answered": sorted(t.item.id for t in kinds["unanswerable"] + kinds["offtopic"]
                                            if t.answer.confidence == "answered"),
            "offtopic_not_abstained": sorted(t.item.id for t in kinds["offtopic"] if not t.answer.abstained),
            "calibration": qa.calibration.version}


def format_confidence(title: str, r: dict) -> str:
    lines = [f"{title}: {r['questions']} questions (calibration {r['calibration']})"]
    for kind, counts in r["levels"].items():
        total = max(sum(counts.values()), 1)
        lines.append(f"  {kind:13} " + "  ".join(f"{level} {counts[level] / total:.3f} ({counts[level]})"
                                                 for level in CONFIDENCE_LEVELS))
    lines.append(f"  ranking (answerable): hit@1 {r['hit@1']:.3f}  hit@3 {r['hit@3']:.3f}  MRR {r['mrr']:.3f}")
    lines.append(f"  'answered' answers with the answer in the top 3: {r['answered_right']:.3f}")
    lines.append("  risk and coverage (confident at P >= threshold; the last row is the calibrated 'answered'):")
    lines.append(f"    {'threshold':>9} {'coverage':>9} {'risk':>6} {'confident':>9}")
    lines += [f"    {c['threshold']:9.3f} {c['coverage']:9.3f} {c['risk']:6.3f} {c['confident']:9d}" for c in r["risk_coverage"]]
    h = r["highlights"]
    lines.append(f"  highlights on {h['passages']} quoted gold passages: precision {h['precision']:.3f}  recall "
                 f"{h['recall']:.3f}  F1 {h['f1']:.3f}  gold sentence marked {h['gold_sentence_marked']:.3f}")
    lines.append(f"  grounded {r['grounding_rate']:.1%}; answerable abstained: {', '.join(r['flagged_wrongly']) or 'none'}; "
                 f"unanswerable or off-topic 'answered': {', '.join(r['unanswerable_answered']) or 'none'}; "
                 f"off-topic not abstained: {', '.join(r['offtopic_not_abstained']) or 'none'}")
    return "\n".join(lines)
