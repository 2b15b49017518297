"""Grounded question answering: every answer is passages quoted word for word from the corpus."""
import os

# torch and faiss each bring their own OpenMP runtime; with the default busy-waiting, the threads of one spin
# while the other works and a single question's encoding slows from ~20 ms to ~1 s on 2 cores (docs/PERFORMANCE.md).
# Read when those libraries load, so it is set before anything imports them.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from qa.answer.export import export
from qa.answer.model import Answer, Passage
from qa.api import QA, ask
from qa.config import MAX_QUESTION_CHARS, Settings
from qa.errors import CorpusError, IndexUnavailable, InvalidQuestion, QAError, UngroundedAnswer
from qa.search.fulltext import SearchResults
from qa.verify import assert_grounded, verify

__all__ = ["QA", "Answer", "Passage", "Settings", "ask", "QAError", "InvalidQuestion", "CorpusError",
           "IndexUnavailable", "UngroundedAnswer", "MAX_QUESTION_CHARS", "verify", "assert_grounded", "export", "SearchResults"]
