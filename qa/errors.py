"""Error types. Each message says what went wrong and how to fix it."""


class QAError(Exception):
    """Base class for every error this package raises on purpose."""


class InvalidQuestion(QAError, ValueError):
    """The question cannot be answered as given (empty, too long, control characters)."""


class CorpusError(QAError):
    """A corpus document is malformed; the message names the file and the field."""


class IndexUnavailable(QAError):
    """The index is missing, damaged or stale and cannot be rebuilt here."""


class UnknownSource(QAError, KeyError):
    """A passage or document id that the index does not hold."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class StaleIndex(IndexUnavailable):
    """The saved index is missing, damaged or does not match the corpus, model or settings; `reason` says which."""

    def __init__(self, reason: str, index_dir: object):
        self.reason = reason
        super().__init__(f"the index in {index_dir} cannot be used: {reason}; run 'python -m qa index' to rebuild it")


class UngroundedAnswer(QAError, AssertionError):
    """An answer says something its sources do not; `problems` lists each finding of `qa.verify`."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("the answer is not grounded:\n- " + "\n- ".join(self.problems))


class SettingsError(QAError, ValueError):
    """A setting has an unknown name, a value of the wrong type, or a name outside its list of choices."""
