"""Every default lives here, grouped by stage: index, retrieval, answer, server.

Where a value comes from, later winning: the default below, then a settings file (TOML, `QA_CONFIG` or `--config`),
then an environment variable `QA_<NAME>` (e.g. `QA_BM25_K1=0.9`, `QA_CORPUS_DIR=...`), then a flag
(`--param NAME=VALUE` on every command that uses the settings; the server's own flags such as `--port`).
`Settings.load()` and `ServerSettings.load()` are the one place that reads them.
Retrieval values were chosen on the dev split (see docs/EVALUATION.md)."""
from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar, get_args, get_type_hints

from qa.errors import SettingsError

ROOT = Path(__file__).resolve().parent.parent
MAX_QUESTION_CHARS = 1000
MAX_FIND_CHARS = 200  # the source finder's query: each word is looked for in every source's fields
MAX_HISTORY_TURNS = 20  # earlier turns of a chat that ask() reads; older ones are ignored
# A longer paragraph is split at sentence boundaries (qa/corpus/passages.py), so an answer's size is bounded. High
# enough that no passage of either evaluation corpus is split (the longest, in CLAPNQ, has 23,147 characters; the
# bundled articles' 807), so the calibration fitted on them holds.
MAX_PASSAGE_CHARS = 24_000
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODES = ("bm25", "dense", "hybrid")
FUSIONS = ("minmax", "rrf")
BM25_VARIANTS = ("okapi", "plus", "l")
BACKENDS = ("inprocess", "milvus")
UPLOADS = ("auto", "on", "off")  # auto: on when the app listens on this machine only
ENV_PREFIX = "QA_"


def _group(name: str, default: Any = MISSING, low: float | None = None, high: float | None = None,
           infinite: bool = False, **kwargs: Any) -> Any:
    """A setting of group `name`; a number must be finite (unless `infinite`) and within [low, high]."""
    metadata = {"group": name, "low": low, "high": high, "infinite": infinite}
    if default is MISSING:
        return field(metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata, **kwargs)


def index(default: Any = MISSING, low: float | None = None, high: float | None = None, infinite: bool = False,
          **kwargs: Any) -> Any:
    return _group("index", default, low, high, infinite, **kwargs)


def retrieval(default: Any, low: float | None = 0, high: float | None = None) -> Any:
    return _group("retrieval", default, low, high)


def answer(default: Any = MISSING, low: float | None = 0, high: float | None = None, **kwargs: Any) -> Any:
    return _group("answer", default, low, high, **kwargs)


def server(default: Any, low: float | None = None, high: float | None = None) -> Any:
    return _group("server", default, low, high)


def check_number(name: str, value: float, low: float | None = None, high: float | None = None,
                 infinite: bool = False) -> None:
    """SettingsError naming `name` unless `value` is a number (finite unless `infinite`) within [low, high]."""
    if math.isnan(value) or (math.isinf(value) and not infinite):
        raise SettingsError(f"{name} is {value}; it must be a finite number")
    if low is not None and high is not None and not low <= value <= high:
        raise SettingsError(f"{name} is {value}; it must be from {low:g} to {high:g}")
    if low == 0 and value < 0:
        raise SettingsError(f"{name} is {value}; it must not be negative")
    if low is not None and value < low:
        raise SettingsError(f"{name} is {value}; it must be at least {low:g}")


def _check_choices(settings: Any, **choices: Sequence[str]) -> None:
    """SettingsError naming the setting unless each named setting of `settings` is one of its choices."""
    for name, valid in choices.items():
        value = getattr(settings, name)
        if value not in valid:
            raise SettingsError(f"unknown {name} {value!r}; choose one of {', '.join(valid)}")


def _check_fields(settings: Any) -> None:
    """Every number of `settings` within its field's bounds (the one check, for every way a value arrives)."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            check_number(f.name, value, f.metadata.get("low"), f.metadata.get("high"), f.metadata.get("infinite", False))


S = TypeVar("S", bound="_Loadable")


class _Loadable:
    """Typed loading from a file, the environment and `name=value` flags, in that order."""

    @classmethod
    def load(cls: type[S], params: Sequence[str] = (), config_file: Path | None = None,
             env: Mapping[str, str] | None = None, **overrides: Any) -> S:
        """The defaults, then `config_file` (or the file `QA_CONFIG` names), then `QA_<NAME>` variables, then each
        `name=value` of `params`, then `overrides` (already typed)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = config_file or (Path(env["QA_CONFIG"]) if env.get("QA_CONFIG") else None)
        if path is not None:
            values |= _read_file(cls, Path(path))
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        for name in names:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = _convert(cls, name, raw, f"environment variable {ENV_PREFIX}{name.upper()}")
        values |= parse_params(cls, params)
        return cls(**(values | overrides))

    @classmethod
    def groups(cls) -> dict[str, list[str]]:
        """Setting names by group, in definition order (for help texts and docs)."""
        out: dict[str, list[str]] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            out.setdefault(f.metadata.get("group", "other"), []).append(f.name)
        return out


def _field_type(cls: type, name: str) -> Any:
    """The type of the setting's default value (every setting has one)."""
    f = next(f for f in fields(cls) if f.name == name)
    if f.default is None:  # an optional setting: the type it takes when given
        return next(t for t in get_args(get_type_hints(cls)[name]) if t is not type(None))
    if f.default is not MISSING:
        return type(f.default)
    assert f.default_factory is not MISSING
    return type(f.default_factory())


def _convert(cls: type, name: str, raw: Any, where: str) -> Any:
    """`raw` (text from the environment or a flag, or a TOML value) as the setting's type, or SettingsError."""
    kind = _field_type(cls, name)
    if isinstance(raw, str):
        text = raw.strip()
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise SettingsError(f"{where}: {name} needs true or false, not {raw!r}")
        try:
            return Path(text).expanduser() if issubclass(kind, Path) else kind(text)
        except ValueError:
            raise SettingsError(f"{where}: {name} needs a {kind.__name__} value, not {raw!r}") from None
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
        raise SettingsError(f"{where}: {name} needs a {kind.__name__} value, not {raw!r}")
    return raw


def parse_params(cls: type, params: Sequence[str]) -> dict[str, Any]:
    """Each `name=value` of `params` as a typed setting of `cls`, or SettingsError naming the valid settings."""
    names = {f.name for f in fields(cls)}
    values = {}
    for pair in params:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or name not in names or not raw:
            raise SettingsError(f"--param {pair!r}: write NAME=VALUE with NAME one of {cls.__name__}'s settings "
                                f"({', '.join(sorted(names))}), such as bm25_k1=0.9")
        values[name] = _convert(cls, name, raw, f"--param {pair!r}")
    return values


def _read_file(cls: type, path: Path) -> dict[str, Any]:
    """The settings a TOML file gives: plain `name = value` lines, or the same under [index], [retrieval] ..."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path} cannot be read ({exc}); fix the path in QA_CONFIG or --config") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML ({exc})") from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat |= value if isinstance(value, dict) else {key: value}
    names = {f.name for f in fields(cls)}
    values = {}
    for key, value in flat.items():
        if key in names:  # the same file may hold the server's settings and the engine's
            values[key] = _convert(cls, key, value, str(path))
    return values


@dataclass(frozen=True)
class Settings(_Loadable):
    """How the corpus is indexed, searched and answered. `Settings()` is the defaults; `Settings.load()` adds the
    settings file, the environment and flags."""

    # --- index: a change to any of these (or to the tokenising and splitting code) makes a saved index stale ---
    corpus_dir: Path = index(default_factory=lambda: ROOT / "corpus")
    index_dir: Path = index(default_factory=lambda: ROOT / "index")
    # Corpus folder (docs/RELIABILITY.md, corpus folder): a symbolic link to a file outside the folder is refused
    # unless this is True (the folder is then no longer all that is read); a file over max_document_bytes is refused.
    follow_external_links: bool = index(False)
    max_document_bytes: int = index(5_000_000, low=1)
    # Passages: paragraphs shorter than this many words are joined to a neighbour.
    min_passage_words: int = index(30, low=0)
    # ... and longer ones split at sentence boundaries into passages of at most this many characters.
    max_passage_chars: int = index(MAX_PASSAGE_CHARS, low=200)
    # Lexical ranking (rank-bm25).
    bm25_variant: str = index("plus")  # okapi | plus | l
    bm25_k1: float = index(1.2, low=0)
    bm25_b: float = index(0.75, low=0, high=1)
    stem: bool = index(True)
    stopwords: bool = index(False)
    # Text indexed alongside each passage (never quoted): the document title.
    index_title: bool = index(True)
    # Texts encoded per call while building.
    encode_batch: int = index(256, low=1)
    # Up to this many passages dense search is exact (flat). Past it, it scans 8-bit scalar-quantised codes (a quarter
    # of the memory and memory traffic) for candidates that rank() re-scores exactly from the float vectors
    # (top-10 recall against exact search is measured by `python -m qa bench`, docs/PERFORMANCE.md).
    flat_max_passages: int = index(200_000, low=0)
    # Past this many, the codes are split into inverted lists (IVF, about the square root of the passages, a power of
    # two) and a question scans the `ivf_probes` lists nearest it, not every code.
    ivf_min_passages: int = index(2_000_000, low=0)
    # The search engine that finds candidates (qa/index/engine.py): "inprocess", the index's own arrays, or "milvus",
    # Milvus through `backend_uri`: a file ending in .db is Milvus Lite, run in this process (empty: index_dir/milvus.db);
    # http://host:19530 is a Milvus server or cluster. Either is kept in step with the corpus (docs/SCALING.md).
    backend: str = index("inprocess")
    backend_uri: str = index("")
    # Vector files up to this size are loaded; larger ones are read row by row (qa/index/rows.py). Likewise, a corpus
    # whose texts total more keeps them in a temporary file in index_dir when the index is loaded (qa/corpus/shelf.py).
    in_memory_bytes: int = index(256 * 2**20, low=0)
    # A running QA looks at the corpus folder and index/CURRENT (names, sizes, times, inodes: no file is read) at most
    # this often, so an edit is answered from within about this many seconds plus the rebuild; the look costs a few
    # microseconds per ask (docs/PERFORMANCE.md). 0 looks on every ask; inf never.
    corpus_check_seconds: float = index(2.0, low=0, infinite=True)
    # Asks that arrive while a changed corpus is re-indexed wait this long for it, then are refused with a message.
    corpus_wait_seconds: float = index(30.0, low=0)

    # --- retrieval ---
    # Dense score: this share comes from the passage's best sentence, the rest from the whole passage.
    sentence_weight: float = retrieval(0.75, high=1)
    # Fusion: weighted sum of min-max normalised scores.
    fusion: str = retrieval("minmax")  # minmax | rrf
    dense_weight: float = retrieval(0.6, high=1)
    rrf_k: int = retrieval(60)
    # Large corpora: past this many passages only the best `candidates` passages by BM25 and as many by dense
    # search are scored in full (sentence similarities, fusion). Up to it every passage is, so rankings on small
    # corpora are exact.
    exact_max_passages: int = retrieval(20_000)
    candidates: int = retrieval(100, low=1)
    # Inverted lists of dense codes scanned per question, on corpora past ivf_min_passages (top-10 recall against
    # exact search is measured by `python -m qa bench`, docs/SCALING.md).
    ivf_probes: int = retrieval(64, low=1)
    # Follow-ups: questions searched together at most (this one and the ones it leans on).
    max_chain: int = retrieval(3, low=1)
    # Re-ranking (qa/evidence/rerank.py): the best `rerank_depth` hybrid candidates get these weights times the
    # idf-weighted share of the question's terms in their best sentence (so the passage holding the question's rare
    # words comes first) and times the whole passage's cosine similarity (closeness in meaning of the passage as a
    # whole, which the fused score weighs at only a quarter of the dense share) added to their fused score. Fitted
    # on the dev data of both corpora (articles dev split and CLAPNQ tune half) by qa_tools/fit_confidence.py,
    # which also prints them cross-validated: mean MRR of the corpora 0.9319 with both terms, 0.9278 with coverage
    # alone, 0.9223 with similarity alone (docs/EVALUATION.md). Passage coverage was fitted at weight 0 twice and is
    # left out. rerank_depth 0 turns re-ranking off; 5 to 30 rank alike on dev.
    rerank_depth: int = retrieval(10)
    rerank_sentence_coverage: float = retrieval(0.3)
    rerank_similarity: float = retrieval(0.75)
    # The reader (qa/evidence/reader.py, a cross-encoder trained here) reads the question with the sentences of the
    # passages the level and the highlights look at (and, when `rerank_reader` is not 0, of those `rerank_depth`
    # passages, its best probability in a passage times `rerank_reader` added to their score); its scores feed the
    # calibrated level and highlights (calibration-reader.json). Off by default: trained twice, the second time on
    # the dev questions too (cross-fitted), it raised the articles' confidence AUC and highlight F1 but neither on
    # CLAPNQ, and the fit gave its re-ranking weight 0 (docs/EVALUATION.md, "The reader, second round").
    reader: bool = retrieval(False)
    rerank_reader: float = retrieval(0.0)

    # --- answer ---
    # Abstaining (qa/answer/decide.py), off-topic: when no passage's dense score (cosine similarity, blended as
    # above) reaches this ...
    min_similarity: float = answer(0.33)
    # ... and less than this share of its content words (stemmed, stop words removed) occur in the corpus.
    min_known_terms: float = answer(0.75, high=1)
    # Answer type: a question asking for a name, quantity or time abstains when none of the `evidence_sentences`
    # sentences most similar to it in the top `evidence_passages` passages (the ones an answer shows by default),
    # keeping those within `evidence_margin` of the best, contains one.
    answer_type_check: bool = answer(True)
    evidence_passages: int = answer(3, low=1)
    evidence_sentences: int = answer(2, low=1)
    evidence_margin: float = answer(0.2)
    # Not English: less than this share of the question's letters are Latin (Cyrillic, Arabic, Hebrew ...). Such a
    # question is answered only when min_known_terms of its words occur in the corpus (the model's similarity means
    # nothing across languages), else it abstains with NOT_ENGLISH_MESSAGE. Every labelled question and every corpus
    # passage is 100% Latin (docs/RELIABILITY.md).
    min_latin_share: float = answer(0.5, high=1)
    # Passages from two documents sharing at least this share of their words (Jaccard) are shown once, both cited.
    duplicate_overlap: float = answer(0.8, high=1)
    # Keep further passages only while their fused score stays within this fraction of the best.
    relative_cutoff: float = answer(0.6)
    default_k: int = answer(3)
    max_k: int = answer(10, low=1)
    # Confidence and highlights (qa/answer/confidence.py): the calibrated models' coefficients and thresholds, as
    # readable JSON with a version (fitted on dev data only by qa_tools/fit_confidence.py). The answer's level
    # ('answered', 'uncertain', 'abstained') and its highlighted sentences come from it.
    # Without a file named, calibration.json, or with `reader = true` calibration-reader.json (fitted with it).
    calibration: Path | None = answer(None)

    def __post_init__(self) -> None:
        _check_choices(self, fusion=FUSIONS, bm25_variant=BM25_VARIANTS, backend=BACKENDS)
        _check_fields(self)
        if not 1 <= self.default_k <= self.max_k:
            raise SettingsError(f"default_k is {self.default_k}; it must be from 1 to max_k ({self.max_k})")
        object.__setattr__(self, "corpus_dir", Path(self.corpus_dir))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        if self.calibration is not None:
            object.__setattr__(self, "calibration", Path(self.calibration))

    @property
    def calibration_file(self) -> Path:
        """The calibration named, or the one fitted with the reader when it is on, or without it."""
        default = "calibration-reader.json" if self.reader else "calibration.json"
        return self.calibration or ROOT / "qa" / "answer" / default

    def index_params(self) -> dict:
        """The index settings a saved index depends on (where the corpus and index live, and how large files are
        read, do not change what is built)."""
        unbuilt = {"corpus_dir", "index_dir", "encode_batch", "in_memory_bytes", "corpus_check_seconds",
                   "corpus_wait_seconds", "backend", "backend_uri"}
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.metadata.get("group") == "index" and f.name not in unbuilt}

    def with_params(self, params: Sequence[str]) -> Settings:
        """These settings with each `name=value` of `params` applied (as `--param` does)."""
        return replace(self, **parse_params(type(self), params))


@dataclass(frozen=True)
class ServerSettings(_Loadable):
    """The chat server (`app.py`): each also a flag of the same name (`--queue-size`) and a variable (`QA_PORT`)."""

    host: str = server("127.0.0.1")  # this machine only
    port: int = server(7860)
    concurrency: int = server(2, low=1)  # questions answered at once
    queue_size: int = server(32, low=1)  # questions waiting at most; beyond it a user is told the app is busy
    # Sessions whose state is kept in memory, the least recently used dropped first: every /ask call is a session
    # of its own.
    sessions: int = server(1000, low=1)
    share: bool = server(False)  # also make a public gradio.live link
    # The HTTP guard (qa/web.py): host names the app may be reached by besides this machine and the bound address
    # (comma-separated), and the largest request body read (a question, k and 20 turns of history need ~120 kB).
    allowed_hosts: str = server("")
    max_body_bytes: int = server(1_000_000, low=1)
    # A browser session's conversation (qa/session.py): questions, and bytes of its page, at most; then the user is
    # asked to export and clear. Memory for conversations stays under about sessions x max_chat_bytes.
    max_turns: int = server(50, low=1)
    max_chat_bytes: int = server(1_000_000, low=10_000)
    # Login (qa/auth.py): the users file (`python -m qa.auth FILE NAME`); needed when the host is not loopback.
    # Failed logins per client address and minute, then refused for the rest of the minute.
    users: str = server("")
    login_attempts: int = server(5, low=1)
    # Connections (qa/connections.py): seconds a client has to send a request's headers, and then its body; idle
    # keep-alive seconds; connections at most in all and per client address (under a 1,024 open-file limit).
    header_timeout: float = server(10.0, low=0.1)
    body_timeout: float = server(30.0, low=0.1)
    keep_alive_timeout: float = server(5.0, low=0.1)
    max_connections: int = server(500, low=1)
    max_connections_per_client: int = server(32, low=1)
    # Upload from the page (qa/upload.py, as `qa add`): auto | on | off; auto is on only when the app listens on
    # loopback without a share link. Files at most in one upload, and MB of one upload in all (each file also within
    # qa add's own 50 MB).
    upload: str = server("auto")
    upload_max_files: int = server(50, low=1)
    upload_max_mb: float = server(100.0, low=0.001)

    def __post_init__(self) -> None:
        _check_choices(self, upload=UPLOADS)
        if not 0 <= self.port < 65536:
            raise SettingsError(f"port is {self.port}; choose one from 1 to 65535 (0: any free port)")
        _check_fields(self)
        if self.max_connections_per_client > self.max_connections:
            raise SettingsError(f"max_connections_per_client is {self.max_connections_per_client}; it must not be "
                                f"over max_connections ({self.max_connections})")
