"""The dev tuning grid scores passages exactly as the engine does, so what it chooses is what ships."""
from __future__ import annotations

from qa.search.retrieval import rank
from qa_tools import tune
from qa_tools.evaluate import Question, gold_passages


def test_tuning_grid_ranks_as_the_engine_does(fixture_qa, monkeypatch):
    settings, index = fixture_qa.settings, fixture_qa.index
    questions = [Question("a", "dev", "keyword", "police fired on striking oil workers", (("alpha", "Police fired"),)),
                 Question("b", "dev", "paraphrase", "what did activists ask for", (("beta", "Rights groups demanded"),))]
    vectors = fixture_qa.encoder.encode([q.question for q in questions])
    sigs = [tune.signals(index, settings, q, v, gold_passages(fixture_qa, q)) for q, v in zip(questions, vectors)]
    grid = {"fusion": settings.fusion, "dense_weight": settings.dense_weight, "sentence_weight": settings.sentence_weight}
    monkeypatch.setattr(tune, "FUSION_GRID", [grid])
    [(_, measured)] = tune.evaluate_fusions(index, settings, sigs)
    engine_ranks = [1 + min(list(rank(index, q.question, v, settings).order).index(i) for i in s.gold)
                    for q, v, s in zip(questions, vectors, sigs)]
    assert measured["hybrid"] == tune.metrics(engine_ranks)
