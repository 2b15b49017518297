"""The torch-only encoder against sentence-transformers, the reference, on the real corpus."""
import numpy as np
import pytest
from conftest import ROOT

from qa.corpus.documents import load_corpus
from qa.corpus.passages import split_document
from qa.index.encoder import MiniLMEncoder, model_path


@pytest.mark.slow
def test_vectors_match_sentence_transformers():
    from sentence_transformers import SentenceTransformer
    passages = [p for d in load_corpus(ROOT / "corpus") for p in split_document(d, 30)]
    texts = [p.text for p in passages[:40]] + [p.text[a:b] for p in passages[:10] for a, b in p.sentences]
    texts += ["How many people died?", "x", "Zhanaozen " * 400]  # a one-token text and one past 256 tokens
    reference = SentenceTransformer(str(model_path()), device="cpu").encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    vectors = MiniLMEncoder().encode(texts)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert np.einsum("ij,ij->i", vectors, reference).min() >= 0.999
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(np.ones(len(texts)), abs=1e-5)
