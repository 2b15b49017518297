"""The calibrated models: the shipped calibration file, the levels its thresholds give, names the corpus never
mentions, the features the models read, and how many sentences the highlights mark."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import WordHashEncoder

from qa.answer.confidence import FORMAT, Logistic, load_calibration
from qa.answer.highlight import EXACT_MAX_SENTENCES, answering
from qa.api import QA
from qa.config import ROOT, Settings
from qa.errors import SettingsError
from qa.evidence.features import (
    QUESTION_FEATURES,
    READER_QUESTION_FEATURES,
    READER_SENTENCE_FEATURES,
    SENTENCE_FEATURES,
    Sentences,
    sentence_features,
)
from qa.evidence.question import analyse, question_names, unknown_names
from qa.evidence.reader import identity
from qa.evidence.rerank import RERANK_WEIGHTS


def test_the_shipped_calibration_is_readable_json_with_a_version():
    path = Settings().calibration_file
    data = json.loads(path.read_text(encoding="utf-8"))
    calibration = load_calibration(path)
    assert (data["format"], calibration.version) == (FORMAT, data["version"])
    assert data["question"]["features"] == list(QUESTION_FEATURES)
    assert data["sentence"]["features"] == list(SENTENCE_FEATURES)
    assert 0 < calibration.uncertain < calibration.answered < 1
    assert set(data["fitted_on"]) >= {"articles", "clapnq", "cases", "rerank"}
    assert data["fitted_on"]["rerank"] == {name: getattr(Settings(), name) for name in RERANK_WEIGHTS[:-1]}
    assert calibration.reader is None


def test_the_reader_calibration_names_the_shipped_reader_and_reads_its_scores():
    settings = Settings(reader=True)
    data = json.loads(settings.calibration_file.read_text(encoding="utf-8"))
    calibration = load_calibration(settings.calibration_file)
    assert settings.calibration_file.name == "calibration-reader.json"
    assert calibration.reader == identity().sha256 == data["reader"]
    assert calibration.question.features == QUESTION_FEATURES + READER_QUESTION_FEATURES
    assert calibration.sentence.features == SENTENCE_FEATURES + READER_SENTENCE_FEATURES
    assert data["fitted_on"]["rerank"] == {name: getattr(settings, name) for name in RERANK_WEIGHTS}


def test_a_calibration_for_another_reader_is_refused(tmp_path, fixture_settings):
    data = json.loads(Settings(reader=True).calibration_file.read_text(encoding="utf-8"))
    path = tmp_path / "other-reader.json"
    path.write_text(json.dumps({**data, "reader": "0" * 64}), encoding="utf-8")
    qa = QA(replace(fixture_settings, reader=True, calibration=path), WordHashEncoder())
    with pytest.raises(SettingsError, match="fitted with the reader 000000000000, and the reader installed is "):
        qa.calibration
    without = QA(replace(fixture_settings, calibration=path), WordHashEncoder())
    with pytest.raises(SettingsError, match="fitted with the reader 000000000000, and the reader is off"):
        without.calibration


def test_levels_follow_the_thresholds():
    calibration = replace(load_calibration(Settings().calibration_file), answered=0.6, uncertain=0.2)
    assert [calibration.level(p) for p in (0.0, 0.19, 0.2, 0.59, 0.6, 1.0)] == [
        "abstained", "abstained", "uncertain", "uncertain", "answered", "answered"]


def test_logistic_probability_is_exact():
    model = Logistic(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5)
    assert model.probability(np.array([3.0, 0.5])) == pytest.approx(1 / (1 + np.exp(-1.0)))
    again = Logistic.from_dict(model.to_dict(), ("a", "b"))
    assert again.probability(np.array([3.0, 0.5])) == model.probability(np.array([3.0, 0.5]))


def test_a_refit_with_float_noise_writes_the_same_coefficients():
    model = Logistic(("a",), np.array([0.1234567891]), np.array([1.0]), np.array([-2.0000000004]), 0.5 + 1e-9)
    noisy = Logistic(("a",), np.array([0.1234567896]), np.array([1.0]), np.array([-1.9999999998]), 0.5)
    assert model.to_dict() == noisy.to_dict() == {"features": ["a"], "mean": [0.123457], "scale": [1.0],
                                                  "coef": [-2.0], "intercept": 0.5}


@pytest.mark.parametrize("content, message", [
    ("not json", "is not valid"),
    ('{"format": "other"}', r"is not valid \(format is 'other'"),
])
def test_a_bad_calibration_file_says_how_to_fix_it(tmp_path, content, message):
    path = tmp_path / "calibration.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        load_calibration(path)


def test_a_missing_calibration_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(SettingsError, match="cannot be read"):
        load_calibration(tmp_path / "none.json")


def test_features_of_another_model_are_refused(tmp_path):
    data = json.loads(Settings().calibration_file.read_text(encoding="utf-8"))
    data["question"]["features"] = data["question"]["features"][::-1]
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SettingsError, match="are not the code's"):
        load_calibration(path)


@pytest.mark.parametrize("question, names", [
    ("Who is Vadim Kuramshin?", [("vadim", "kuramshin")]),
    ("Vadim Kuramshin arrest", [("vadim", "kuramshin")]),
    ("What did the posters in Astana say?", [("astana",)]),
    ("What did Kazakhstan's ambassador to the U.S. say?", [("kazakhstan",), ("u",)]),  # 's' is a stop word
    ("How many people were killed in December?", []),
    ("Why were the oil workers on strike?", []),
    ("who plays the joker in the dark knight", []),
])
def test_question_names(question, names):
    assert question_names(question) == names


def test_unknown_names_are_those_with_a_word_the_corpus_never_uses():
    words = frozenset({"vladimir", "kozlov", "astana"})
    assert unknown_names(analyse("Who is Vadim Kuramshin?"), words) == [("vadim", "kuramshin")]
    assert unknown_names(analyse("Who is Vladimir Kozlov?"), words) == []
    assert unknown_names(analyse("What happened in Astana and Almaty?"), words) == [("almaty",)]


def sentences(opens_document: bool) -> Sentences:
    return Sentences(np.array([0.2, 0.5, 0.4]), np.array([0.0, 1.0, 0.5]), np.array([0.0, 0.5, 1.0]),
                     np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0]), 1.0,
                     (frozenset(), frozenset({"a"}), frozenset({"b"})), frozenset(), np.array([3.0, 7.0, 1.0]),
                     opens_document, np.array([-2.0, 3.0, 1.0]))


def test_sentence_features_compare_each_sentence_with_the_passage_best_and_its_neighbours():
    log1p = [float(np.log1p(w)) for w in (3.0, 7.0, 1.0)]
    assert sentence_features(sentences(True)).tolist() == [
        [0.2, 0.3, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, log1p[0], 0.5, 0.0, 1.0],
        [0.5, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, log1p[1], 0.4, 0.5, 0.5],
        [0.4, 0.09999999999999998, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, log1p[2], 0.5, 1.0, 0.0]]


def test_only_the_first_sentence_of_a_document_is_its_lead():
    assert sentence_features(sentences(False))[:, SENTENCE_FEATURES.index("lead")].tolist() == [0.0, 0.0, 0.0]


def test_a_lone_sentence_is_its_own_neighbour():
    lone = Sentences(np.array([0.3]), np.array([1.0]), np.array([1.0]), np.array([0.0]), np.array([0.0]), 1.0,
                     (frozenset({"a"}),), frozenset(), np.array([4.0]), False, np.array([0.5]))
    assert sentence_features(lone)[:, SENTENCE_FEATURES.index("neighbour")].tolist() == [0.3]


@pytest.mark.parametrize("p, marked", [
    ([0.9, 0.1, 0.05], [0]),  # one clear answer: expected F1 0.856 alone, 0.629 with the next
    ([0.6, 0.55, 0.5, 0.05], [0, 1, 2]),  # three alike: expected F1 0.412, 0.577, 0.655, then 0.560 with the fourth
    ([0.1, 0.8, 0.7], [1, 2]),  # in text order, whatever the order of their probabilities
    ([0.05, 0.02], [0]),  # always the likeliest, however unlikely
    # Where the exact expectation and the ratio of expectations, 2 E[hits] / (k + E[answering]), part: the ratio
    # (0.692, 0.722, 0.696) would mark two; exactly, one alone is better (0.708, 0.696, 0.661).
    ([0.9, 0.4, 0.3], [0]),
    ([0.4, 0.2, 0.2], [0, 1, 2]),  # the ratio (0.444, 0.429, 0.421) would mark one; exactly 0.349, 0.355, 0.362
])
def test_highlights_are_the_likeliest_sentences_by_expected_f1(p, marked):
    assert answering(np.array(p)) == marked


def test_the_expected_f1_is_exact():
    """The count marked is the one with the best F1 averaged over every set of answering sentences, each set as
    likely as the independent probabilities make it."""
    p = np.array([0.38, 0.05, 0.8, 0.19, 0.29, 0.84])
    order = np.argsort(-p, kind="stable")
    expected = []
    for k in range(1, len(p) + 1):
        total = 0.0
        for answers in itertools.product((0, 1), repeat=len(p)):
            gold = {i for i, a in enumerate(answers) if a}
            likelihood = float(np.prod(np.where(answers, p, 1 - p)))
            total += likelihood * 2 * len(gold & set(order[:k].tolist())) / (k + len(gold))
        expected.append(total)
    assert int(np.argmax(expected)) + 1 == 2  # the ratio of expectations would mark three
    assert answering(p) == [2, 5]


def test_a_passage_of_thousands_of_sentences_is_marked_by_the_ratio_of_expectations():
    """The exact expectation costs n^3 / 6 (a paragraph-less text file is one passage); above EXACT_MAX_SENTENCES the
    ratio of expectations chooses: here the likeliest 3 of 3,000, in text order."""
    p = np.full(3000, 0.001)
    p[[10, 1500, 2999]] = [0.9, 0.8, 0.7]
    assert len(p) > EXACT_MAX_SENTENCES
    assert answering(p) == [10, 1500, 2999]


def test_a_qa_reads_its_calibration_when_first_needed(fixture_settings, tmp_path):
    """Built while the calibration file is for other features (the fitter needs a QA to refit it), a QA says how to
    fix it when asked a question, and answers once the file is valid again."""
    path = tmp_path / "calibration.json"
    data = json.loads(Settings().calibration_file.read_text(encoding="utf-8"))
    path.write_text(json.dumps(data | {"question": data["question"] | {"features": ["dense"]}}), encoding="utf-8")
    qa = QA(replace(fixture_settings, calibration=path), WordHashEncoder())
    with pytest.raises(SettingsError, match="refit it with `python -m qa_tools.fit_confidence`"):
        qa.ask("How many bodies did the nurse count at the hospital?")
    path.write_text(json.dumps(data), encoding="utf-8")
    assert qa.ask("How many bodies did the nurse count at the hospital?").confidence == "answered"


@pytest.mark.slow  # app.py in a process of its own, with the real model
def test_the_app_refuses_to_start_with_a_bad_calibration_file(fixture_settings, tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text("{}", encoding="utf-8")
    result = subprocess.run([sys.executable, "app.py", "--port", "0"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "QA_CORPUS_DIR": str(fixture_settings.corpus_dir),
                                              "QA_INDEX_DIR": str(tmp_path / "index"), "QA_CALIBRATION": str(path)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (f"error: calibration file {path} is not valid (format is None, not "
                                              f"'{FORMAT}'); refit it with `python -m qa_tools.fit_confidence` or set "
                                              "`calibration` to a valid file")


def test_the_reader_adds_its_log_odds_and_how_far_they_fall_short_of_the_passage_best():
    x = sentence_features(sentences(True), reader=True)
    assert x.shape == (3, len(SENTENCE_FEATURES) + 2)
    assert x[:, -2:].tolist() == [[-2.0, 5.0], [3.0, 0.0], [1.0, 2.0]]
