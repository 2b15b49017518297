"""The reader: a cross-encoder that reads a question and a sentence together and gives P(the sentence answers it).

It is all-MiniLM-L6-v2 (qa/index/bert.py, the package's weights) with its layers and a head trained here, on SQuAD
2.0 and then on the dev questions of both corpora, by `python -m qa_tools.train_reader` (docs/EVALUATION.md, "The
reader, second round"). The repo ships only what training changed, `reader.safetensors` beside this file (fp16),
and loads it over the packaged base model. Its sha256 is part of the calibration's identity: a new reader means a
refit."""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError

WEIGHTS = Path(__file__).with_name("reader.safetensors")


def pair_tokenizer(path: Path, max_tokens: int):
    """The base model's tokenizer for (question, text) pairs: segment ids 0 and 1, only the text truncated."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens, strategy="only_second")
    tokenizer.enable_padding(pad_id=0)
    return tokenizer


def cross_encoder(path: Path):
    """The base BERT with a one-logit head over the mean of its last layer's states (a torch module)."""
    import torch

    from qa.index.bert import Bert, mean_pool

    class CrossEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = Bert(path)
            self.head = torch.nn.Linear(self.bert.norm.normalized_shape[0], 1)

        def top(self, x: torch.Tensor, mask: torch.Tensor, start: int) -> torch.Tensor:
            """The logits from the token states `x` after layer `start - 1` (training caches the frozen layers)."""
            return self.head(mean_pool(self.bert.run(x, mask, start), mask)).squeeze(-1)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
            return self.top(self.bert.embed(ids, types), mask, 0)

    return CrossEncoder()


@dataclass(frozen=True)
class ReaderIdentity:
    sha256: str  # of the weights file
    trained_layers: tuple[int, ...]
    max_tokens: int


def metadata(weights: Path) -> dict[str, str]:
    """What the trainer wrote into a weights file about them (its safetensors metadata)."""
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        return f.metadata() or {}


def identity(weights: Path = WEIGHTS) -> ReaderIdentity:
    """What the shipped weights are, from their file (metadata written by the trainer)."""
    if not weights.is_file():
        raise QAError(f"the reader's weights {weights} are missing; reinstall, or train them with "
                      "'python -m qa_tools.train_reader'")
    meta = metadata(weights)
    return ReaderIdentity(hashlib.sha256(weights.read_bytes()).hexdigest(),
                          tuple(json.loads(meta.get("trained_layers", "[]"))), int(meta.get("max_tokens", 128)))


class Reader:
    """Scores (question, text) pairs; loaded on first use, safe to call from several threads."""

    def __init__(self, weights: Path = WEIGHTS, batch_size: int = 32):
        self.weights = weights
        self.batch_size = batch_size
        self.identity = identity(weights)
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        import torch
        from safetensors.torch import load_file

        from qa.index.encoder import model_path

        path = model_path()
        model = cross_encoder(path)
        trained = {k: v.float() for k, v in load_file(str(self.weights)).items()}
        missing = set(trained) - set(model.state_dict())
        if missing:
            raise QAError(f"{self.weights} holds weights this reader does not have ({sorted(missing)[:3]}); "
                          "retrain it with 'python -m qa_tools.train_reader'")
        model.load_state_dict(trained, strict=False)
        self._model = model.eval()
        self._torch = torch
        self._tokenizer = pair_tokenizer(path, self.identity.max_tokens)

    def score(self, question: str, texts: list[str]) -> np.ndarray:
        """P(text answers question) for each text, float64."""
        if not texts:
            return np.zeros(0)
        with self._lock:
            if self._model is None:
                self._load()
            torch, out = self._torch, np.zeros(len(texts))
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                enc = self._tokenizer.encode_batch([(question, texts[i]) for i in rows])
                ids = torch.tensor([e.ids for e in enc])
                mask = torch.tensor([e.attention_mask for e in enc])
                types = torch.tensor([e.type_ids for e in enc])
                with torch.inference_mode():
                    out[rows] = torch.sigmoid(self._model(ids, mask, types)).double().numpy()
            return out
