"""Grounded question answering: every answer is passages quoted word for word from the corpus."""
from .answer import Answer, Passage
from .api import QA, ask
from .config import MAX_QUESTION_CHARS, Settings
from .errors import CorpusError, IndexUnavailable, InvalidQuestion, QAError, UngroundedAnswer
from .verify import assert_grounded, verify

__all__ = ["QA", "Answer", "Passage", "Settings", "ask", "QAError", "InvalidQuestion", "CorpusError",
           "IndexUnavailable", "UngroundedAnswer", "MAX_QUESTION_CHARS", "verify", "assert_grounded"]
