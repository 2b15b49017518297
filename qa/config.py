"""Every default lives here. Retrieval values were chosen on the dev split (see docs/EVALUATION.md)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_QUESTION_CHARS = 1000
MAX_HISTORY_TURNS = 20  # earlier turns of a chat that ask() reads; older ones are ignored
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(default_factory=lambda: Path(os.environ.get("QA_CORPUS_DIR", ROOT / "corpus")))
    index_dir: Path = field(default_factory=lambda: Path(os.environ.get("QA_INDEX_DIR", ROOT / "index")))
    # Corpus folder (docs/RELIABILITY.md, corpus folder): a symbolic link to a file outside the folder is refused
    # unless this is True (the folder is then no longer all that is read); a file over max_document_bytes is refused.
    follow_external_links: bool = False
    max_document_bytes: int = 5_000_000
    # Passages: paragraphs shorter than this many words are joined to a neighbour.
    min_passage_words: int = 30
    # Lexical ranking (rank-bm25).
    bm25_variant: str = "plus"  # okapi | plus | l
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    stem: bool = True
    stopwords: bool = False
    # Text indexed alongside each passage (never quoted): the document title.
    index_title: bool = True
    # Dense score: this share comes from the passage's best sentence, the rest from the whole passage.
    sentence_weight: float = 0.75
    # Fusion: weighted sum of min-max normalised scores.
    fusion: str = "minmax"  # minmax | rrf
    dense_weight: float = 0.6
    rrf_k: int = 60
    # Large corpora: past this many passages only the best `candidates` passages by BM25 and as many by dense
    # search are scored in full (sentence similarities, fusion). Up to it every passage is, so rankings on small
    # corpora are exact.
    exact_max_passages: int = 20_000
    candidates: int = 100
    # Abstaining (qa/abstain.py), off-topic: when no passage's dense score (cosine similarity, blended as above)
    # reaches this ...
    min_similarity: float = 0.33
    # ... and less than this share of its content words (stemmed, stop words removed) occur in the corpus.
    min_known_terms: float = 0.75
    # Answer type: a question asking for a name, quantity or time abstains when none of the `evidence_sentences`
    # sentences most similar to it in the top `evidence_passages` passages (the ones an answer shows by default),
    # keeping those within `evidence_margin` of the best, contains one.
    answer_type_check: bool = True
    evidence_passages: int = 3
    evidence_sentences: int = 2
    evidence_margin: float = 0.2
    # Not English: less than this share of the question's letters are Latin (Cyrillic, Arabic, Hebrew ...). Such a
    # question is answered only when min_known_terms of its words occur in the corpus (the model's similarity means
    # nothing across languages), else it abstains with NOT_ENGLISH_MESSAGE. Every labelled question and every corpus
    # passage is 100% Latin (docs/RELIABILITY.md).
    min_latin_share: float = 0.5
    # A question about a count (killed, injured, detained), asked without k, also quotes, from the best `figure_depth`
    # passages, those giving such a figure from a source not yet quoted (up to max_k), so differing sources are seen.
    figure_depth: int = 10
    # Passages from two documents sharing at least this share of their words (Jaccard) are shown once, both cited.
    duplicate_overlap: float = 0.8
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
