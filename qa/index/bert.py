"""The BERT forward pass of all-MiniLM-L6-v2 in plain torch, as a `torch.nn.Module` over the package's own weights.

One implementation serves both models of the product: the sentence encoder (qa/index/encoder.py: mean pooling of
one text) and the reader (qa/evidence/reader.py: a question and a sentence read together, segment ids 0 and 1, and
a trained head). It matches transformers' BertModel layer for layer (tests/test_encoder.py checks the vectors
against sentence-transformers), without importing transformers (about 8 s here, against 1.6 s for torch alone)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from qa.errors import QAError


class Layer(nn.Module):
    """One transformer block: self-attention and the feed-forward network, each with a residual and LayerNorm."""

    def __init__(self, dim: int, heads: int, hidden: int, eps: float):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.attention_out, self.attention_norm = nn.Linear(dim, dim), nn.LayerNorm(dim, eps=eps)
        self.intermediate, self.out, self.out_norm = nn.Linear(dim, hidden), nn.Linear(hidden, dim), nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        q, k, v = (m(x).view(batch, length, self.heads, -1).transpose(1, 2) for m in (self.query, self.key, self.value))
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=bias).transpose(1, 2).reshape(batch, length, dim)
        x = self.attention_norm(x + self.attention_out(context))
        return self.out_norm(x + self.out(F.gelu(self.intermediate(x))))


# Our parameter names → the checkpoint's (transformers' BertModel without the "bert." prefix).
_NAMES = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
          "attention_out": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
          "intermediate": "intermediate.dense", "out": "output.dense", "out_norm": "output.LayerNorm"}


class Bert(nn.Module):
    """Embeddings and encoder layers of a BERT checkpoint; `forward` gives the last layer's token states."""

    def __init__(self, path: Path):
        super().__init__()
        from safetensors.torch import load_file

        config = json.loads((path / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise QAError(f"{path} is not a BERT model with GELU; this code runs only all-MiniLM-L6-v2")
        dim, eps = config["hidden_size"], config["layer_norm_eps"]
        self.word = nn.Embedding(config["vocab_size"], dim)
        self.position = nn.Embedding(config["max_position_embeddings"], dim)
        self.token_type = nn.Embedding(config["type_vocab_size"], dim)
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.layers = nn.ModuleList(Layer(dim, config["num_attention_heads"], config["intermediate_size"], eps)
                                    for _ in range(config["num_hidden_layers"]))
        w = load_file(str(path / "model.safetensors"))
        state = {"word.weight": w["embeddings.word_embeddings.weight"],
                 "position.weight": w["embeddings.position_embeddings.weight"],
                 "token_type.weight": w["embeddings.token_type_embeddings.weight"],
                 "norm.weight": w["embeddings.LayerNorm.weight"], "norm.bias": w["embeddings.LayerNorm.bias"]}
        for n in range(len(self.layers)):
            for ours, theirs in _NAMES.items():
                for part in ("weight", "bias"):
                    state[f"layers.{n}.{ours}.{part}"] = w[f"encoder.layer.{n}.{theirs}.{part}"]
        self.load_state_dict(state)

    def embed(self, ids: torch.Tensor, types: torch.Tensor | None = None) -> torch.Tensor:
        x = self.word(ids) + self.position.weight[:ids.shape[1]]
        return self.norm(x + self.token_type(torch.zeros_like(ids) if types is None else types))

    @staticmethod
    def attention_bias(mask: torch.Tensor) -> torch.Tensor:
        """Padding positions get the most negative float, as transformers does."""
        return ((1.0 - mask.float()) * torch.finfo(torch.float32).min)[:, None, None, :]

    def run(self, x: torch.Tensor, mask: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """Layers `start` to `stop` (all by default) over token states `x`."""
        bias = self.attention_bias(mask)
        for layer in self.layers[start:stop]:
            x = layer(x, bias)
        return x

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None = None) -> torch.Tensor:
        return self.run(self.embed(ids, types), mask)


def mean_pool(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of the token states over the unpadded positions, as sentence-transformers' Pooling."""
    m = mask.float()[:, :, None]
    return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
