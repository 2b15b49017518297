"""The reader's training data (qa_tools/train_reader.py): SQuAD 2.0's paragraphs cut into (question, sentence) pairs,
and read whole as (question, paragraph) pairs, split by article. The training itself runs in the background, never in a test."""
from __future__ import annotations

import json

import numpy as np
import pytest

from qa_tools.train_reader import auc, question_auc, split, squad_pairs, squad_passage_pairs, tune_figures

PARAGRAPHS = [
    {"title": "Miners", "context": "The strike began in May. Police fired on the miners in December. Ten people died.",
     "qas": [{"id": "a1", "question": "When did police fire on the miners?", "answers": ["in December", "December"],
              "is_impossible": False},
             {"id": "a2", "question": "Who ordered the police to fire on the miners?", "answers": [],
              "is_impossible": True}]},
    {"title": "Rivers", "context": "The river floods each spring. Its delta is wide.",
     "qas": [{"id": "b1", "question": "When does the river flood?", "answers": ["each spring"], "is_impossible": False}]},
]


@pytest.fixture
def squad(tmp_path):
    path = tmp_path / "squad2_dev.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in PARAGRAPHS), encoding="utf-8")
    return path


def test_pairs_are_answer_sentences_and_the_nearest_others(squad):
    pairs = squad_pairs(squad, negatives=1)
    assert [(p.qid, p.text, p.label) for p in pairs] == [
        # the answer's sentence, then the other sentence sharing most of the question's words
        ("a1", "Police fired on the miners in December.", 1), ("a1", "The strike began in May.", 0),
        # unanswerable: one more negative instead of a positive, nearest first
        ("a2", "Police fired on the miners in December.", 0), ("a2", "The strike began in May.", 0),
        ("b1", "The river floods each spring.", 1), ("b1", "Its delta is wide.", 0)]


def test_the_split_is_by_article_every_fifth_title_held_out(squad):
    pairs = squad_pairs(squad, negatives=1)
    renamed = [p.__class__(p.question, p.text, p.label, f"T{n}", p.qid) for n, p in enumerate(pairs)]
    train, tune = split(renamed)
    assert [p.article for p in tune] == ["T4"]
    assert len(train) == 5


def test_auc_counts_ties_as_half_and_the_question_task_takes_each_question_best_sentence(squad):
    assert auc(np.array([0.9, 0.5, 0.5, 0.1]), np.array([1, 1, 0, 0])) == pytest.approx(0.875)
    pairs = squad_pairs(squad, negatives=1)
    scores = np.array([3.0, 0.0, 1.0, 0.5, 2.0, -1.0])  # a1 best 3, a2 best 1 (unanswerable), b1 best 2
    assert question_auc(pairs, scores) == 1.0


def test_passage_pairs_are_each_question_own_paragraph_and_for_an_answerable_one_its_article_nearest_other(tmp_path):
    reopened = {"title": "Miners", "context": "The mine reopened in March. Miners went back to work.",
                "qas": [{"id": "c1", "question": "When did the mine reopen?", "answers": ["in March"],
                         "is_impossible": False}]}
    path = tmp_path / "squad2_dev.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in [*PARAGRAPHS, reopened]), encoding="utf-8")
    pairs = squad_passage_pairs(path, negatives=1)
    miners, rivers, mine = PARAGRAPHS[0]["context"], PARAGRAPHS[1]["context"], reopened["context"]
    assert [(p.qid, p.text, p.label, p.unit) for p in pairs] == [
        ("a1", miners, 1, "passage"), ("a1", mine, 0, "passage"),  # the other paragraph of its article
        ("a2", miners, 0, "passage"),  # unanswerable: its own paragraph, a negative, and nothing more
        ("b1", rivers, 1, "passage"),  # an article of one paragraph has no other
        ("c1", mine, 1, "passage"), ("c1", miners, 0, "passage")]
    sentences = squad_pairs(path, negatives=1)
    scores = np.array([0.0] * len(sentences) + [2.0, 0.0, 1.0, 3.0, 0.5, -1.0])
    figures = tune_figures(sentences + pairs, scores)
    # the passage pairs' AUC (8 of 9 pairs in order) and their question AUC (a2's best, 1, beats c1's, 0.5),
    # apart from the sentence pairs'
    assert figures["tune_passage_auc"] == 0.8889 and figures["tune_passage_question_auc"] == 0.6667
    assert figures["tune_sentence_auc"] == 0.5
