"""The calibrated models behind an answer's confidence level and its highlights, read from readable JSON
(`Settings.calibration`, by default qa/answer/calibration.json; never pickle).

Both are logistic regressions over standardised features (qa/evidence/features.py), fitted on dev data only by
`python -m qa_tools.fit_confidence`:
- `question`: the probability that the best passages answer the question (the answer is in the top 3). At or above
  `thresholds.answered` the answer is 'answered', at or above `thresholds.uncertain` 'uncertain', else 'abstained'.
- `sentence`: the probability that a sentence of a quoted passage is one that answers; qa/answer/highlight.py marks
  the likeliest sentences, as many as maximise the expected F1.
A calibration fitted with the reader (qa/evidence/reader.py) names the sha256 of its weights (`reader`), and both
models read its scores too; `QA` refuses one whose reader is not the one installed (a new reader means a refit).
With the setting `reader = true`, `calibration-reader.json`, fitted with it, is read instead of calibration.json."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import SettingsError
from qa.evidence.features import READER_QUESTION_FEATURES, feature_names

FORMAT = "qa-calibration/2"  # 2: the sentence model has no threshold (highlights by expected F1)


@dataclass(frozen=True)
class Logistic:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(positive) of each row of `x` (or of the single vector `x`)."""
        z = ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict:
        """Rounded to 6 decimals: far finer than any probability needs, and coarse enough that a refit on a rebuilt
        index (float noise of about 1e-9) writes the same file and version."""
        def rounded(a: np.ndarray) -> list[float]:
            return [round(float(v), 6) for v in a]
        return {"features": list(self.features), "mean": rounded(self.mean), "scale": rounded(self.scale),
                "coef": rounded(self.coef), "intercept": round(self.intercept, 6)}

    @classmethod
    def from_dict(cls, data: dict, expected: tuple[str, ...]) -> Logistic:
        """The model in `data`, whose features must be `expected`."""
        if tuple(data["features"]) != expected:
            raise ValueError(f"features {data['features']} are not the code's {list(expected)}")
        mean, scale, coef = (np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef"))
        if any(a.shape != (len(expected),) for a in (mean, scale, coef)):
            raise ValueError(f"mean, scale and coef need {len(expected)} values each")
        return cls(expected, mean, scale, coef, float(data["intercept"]))


@dataclass(frozen=True)
class Calibration:
    version: str
    question: Logistic
    answered: float  # P(answer in the top 3) at or above which the answer is 'answered'
    uncertain: float  # ... at or above which it is 'uncertain'; below, it abstains
    sentence: Logistic
    reader: str | None = None  # the sha256 of the reader's weights the models read, None when fitted without it

    def level(self, probability: float) -> str:
        if probability >= self.answered:
            return "answered"
        return "uncertain" if probability >= self.uncertain else "abstained"

    def to_dict(self, fitted_on: dict) -> dict:
        return {"format": FORMAT, "version": self.version, "fitted_on": fitted_on, "reader": self.reader,
                "question": self.question.to_dict(),
                "thresholds": {"answered": self.answered, "uncertain": self.uncertain},
                "sentence": self.sentence.to_dict()}


@functools.cache
def _read(path: Path, mtime_ns: int) -> Calibration:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
        reader = data.get("reader")
        if reader is None and set(READER_QUESTION_FEATURES) & set(data["question"]["features"]):
            raise ValueError("its models read the reader's scores but it names no reader")
        questions, sentences = feature_names(reader is not None)
        return Calibration(str(data["version"]), Logistic.from_dict(data["question"], questions),
                           float(data["thresholds"]["answered"]), float(data["thresholds"]["uncertain"]),
                           Logistic.from_dict(data["sentence"], sentences), reader)
    except (ValueError, KeyError, TypeError) as exc:
        raise SettingsError(f"calibration file {path} is not valid ({exc}); refit it with "
                            "`python -m qa_tools.fit_confidence` or set `calibration` to a valid file") from None


def load_calibration(path: Path) -> Calibration:
    """The calibration in `path` (read once per version of the file)."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise SettingsError(f"calibration file {path} cannot be read ({exc}); set `calibration` to the path of "
                            "qa/answer/calibration.json") from None
    return _read(path, mtime)
