"""BEIR evaluation on a tiny folder written here: exact figures, the vector cache, and the CLI."""
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, WordHashEncoder

from qa import Settings
from qa_tools.beir import encode_cached, load_beir, run_beir


class CountingEncoder(WordHashEncoder):
    def __init__(self):
        self.texts = 0

    def encode(self, texts):
        self.texts += len(texts)
        return super().encode(texts)


def test_beir_folder_is_read_as_title_plus_abstract(beir_dir):
    data = load_beir(beir_dir)
    assert data.doc_ids == ["d1", "d2", "d3", "d4", "d5", "d6"]
    assert data.texts[1] == "Statins and muscle pain\nStatin therapy causes muscle pain in a minority of patients."
    assert data.qrels["test"]["q1"] == {"d1": 1, "d3": 1} and sorted(data.qrels) == ["test", "train"]


def test_beir_figures_are_exact_and_vectors_are_cached(beir_dir, tmp_path):
    encoder, cache = CountingEncoder(), tmp_path / "cache"
    report = run_beir(beir_dir, encoder, Settings(), cache)
    assert (report["queries"], report["documents"]) == (3, 6)
    assert {mode: (round(m["ndcg@10"], 4), round(m["recall@100"], 4)) for mode, m in report.items()
            if isinstance(m, dict)} == {"bm25": (0.877, 1.0), "dense": (0.877, 1.0), "hybrid": (0.877, 1.0)}
    # q3's only relevant document (d4, sleep and memory) is second after d6 (exercise and memory): 1 / log2(3).
    assert encoder.texts == 6 + 8 + 3  # documents, their sentences (d1 and d3 have two), the test queries
    assert run_beir(beir_dir, encoder, Settings(), cache) == report
    assert encoder.texts == 17  # the second run encodes nothing
    assert len(list(cache.glob("vectors-*.npy"))) == 3
    train = run_beir(beir_dir, encoder, Settings(), cache, split="train")
    assert train["queries"] == 2


def test_sentences_are_encoded_only_when_they_count(beir_dir, tmp_path):
    encoder = CountingEncoder()
    report = run_beir(beir_dir, encoder, replace(Settings(), sentence_weight=0.0, fusion="rrf"), tmp_path)
    assert encoder.texts == 6 + 3
    assert round(report["hybrid"]["ndcg@10"], 4) == 0.877


def test_cache_key_is_the_model_and_the_texts(tmp_path):
    encoder = CountingEncoder()
    first = encode_cached(encoder, ["bone density", "memory"], tmp_path)
    assert np.array_equal(encode_cached(encoder, ["bone density", "memory"], tmp_path), first)
    encode_cached(encoder, ["bone density", "memory!"], tmp_path)
    assert encoder.texts == 4


@pytest.mark.slow  # the real entry point with the real model
def test_cli_beir_prints_one_row_per_mode(beir_dir, tmp_path):
    result = subprocess.run([sys.executable, "-m", "qa", "eval", "--beir", str(beir_dir), "--cache", str(tmp_path / "c"),
                             "--param", "bm25_variant=okapi", "--param", "dense_weight=0.5"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["6 documents, 3 test queries", "mode      nDCG@10   R@100"]
    assert [line.split()[0] for line in lines[2:]] == ["bm25", "dense", "hybrid"]


@pytest.mark.parametrize("args, message", [
    (("--beir", "/nonexistent"), "is not a readable BEIR folder"),
    (("--split", "train"), "train is for --beir folders"),
    (("--param", "bm25_k1"), "write NAME=VALUE"),
    (("--param", "nonsense=1"), "write NAME=VALUE"),
    (("--param", "bm25_k1=high"), "bm25_k1 needs a float value"),
])
def test_cli_eval_bad_arguments_give_a_clear_error(cli, args, message):
    code, _, err = cli("eval", *args)
    assert code == 2
    assert err.startswith("error: ") and message in err and "Traceback" not in err
