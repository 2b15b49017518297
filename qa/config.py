"""Every default lives here. Retrieval values were chosen on the dev split (see docs/EVALUATION.md)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_QUESTION_CHARS = 1000
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(default_factory=lambda: Path(os.environ.get("QA_CORPUS_DIR", ROOT / "corpus")))
    index_dir: Path = field(default_factory=lambda: Path(os.environ.get("QA_INDEX_DIR", ROOT / "index")))
    # Passages: paragraphs shorter than this many words are joined to a neighbour.
    min_passage_words: int = 30
    # Lexical ranking (rank-bm25).
    bm25_variant: str = "l"  # okapi | plus | l
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    stem: bool = True
    stopwords: bool = False
    # Text indexed alongside each passage (never quoted): the document title.
    index_title: bool = False
    # Dense score: this share comes from the passage's best sentence, the rest from the whole passage.
    sentence_weight: float = 0.5
    # Fusion: weighted sum of min-max normalised scores.
    fusion: str = "minmax"  # minmax | rrf
    dense_weight: float = 0.6
    rrf_k: int = 60
    # Large corpora: past this many passages only the best `candidates` passages by BM25 and as many by dense
    # search are scored in full (sentence similarities, fusion). Up to it every passage is, so rankings on small
    # corpora are exact.
    exact_max_passages: int = 20_000
    candidates: int = 100
    # Answering: abstain when the best passage's cosine similarity to the question is below this ...
    min_similarity: float = 0.25
    # ... unless at least this share of its content words (stop words removed) occur in that passage.
    min_shared_terms: float = 0.67
    # Keep further passages only while their fused score stays within this fraction of the best.
    relative_cutoff: float = 0.6
    default_k: int = 3
    max_k: int = 10
    # Highlights: sentences whose similarity is within this margin of the passage's best sentence.
    highlight_margin: float = 0.05

    def index_params(self) -> dict:
        """The settings an index depends on; a change to any of them makes the index stale."""
        keys = ("min_passage_words", "bm25_variant", "bm25_k1", "bm25_b", "stem", "stopwords", "index_title")
        return {k: v for k, v in asdict(self).items() if k in keys}
