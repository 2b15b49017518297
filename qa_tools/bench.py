"""Speed and memory benchmark: `python -m qa bench` (docs/PERFORMANCE.md has the results and how to read them).

Every timing is repeated `--runs` times and shown as the median with min and max. The scale rows use generated
passages (words drawn with Zipf's law over a vocabulary ranked by SciFact's word frequencies, passage and sentence
lengths like the seed corpus) and random unit vectors; each size runs in its own process so its peak RSS is its own."""
from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from itertools import accumulate, chain
from pathlib import Path

import numpy as np

from qa.config import BACKENDS, ROOT, Settings
from qa.index.rows import Rows
from qa_tools.launch import descendants, free_port, make_run_command, status_mb

SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact" / "corpus.jsonl"
COLD_QUESTION = "How many people were killed in Zhanaozen?"
APP_TIMEOUT = 90.0


def _row(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def _fmt(stat: dict, unit: str) -> str:
    return f"{stat['median']:9.2f} {unit:3} (min {stat['min']:.2f}, max {stat['max']:.2f}, {stat['runs']} runs)"


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 95))


def _dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- seed corpus: warm latency, floor, build ------------------------------------------------------------------

def _timed_builds(settings: Settings, encoder, runs: int, save_to: Path | None = None):
    """Build (and save, with `save_to`) the index `runs` times with a warm encoder: the last index, seconds per build."""
    from qa.index.store import build, save

    encoder.encode(["warm up"])
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        index = build(settings, encoder)
        if save_to:
            save(index, save_to)
        times.append(time.perf_counter() - t)
    return index, times


def bench_seed(runs: int, index_dir: Path, settings: Settings) -> dict:
    from qa.api import QA
    from qa.index.encoder import MiniLMEncoder
    from qa_tools.evaluate import load_questions

    questions = [q.question for q in load_questions()]
    settings = replace(settings, index_dir=index_dir)
    encoder = MiniLMEncoder()
    index, builds = _timed_builds(settings, encoder, runs, save_to=index_dir)
    qa = QA(settings, encoder)
    # The same index answered with the reader switched off, interleaved question by question, so that both see
    # the same machine load.
    off = QA(replace(settings, reader=False), encoder, qa.index)
    for q in questions:  # warm-up pass
        qa.ask(q)
        off.ask(q)
    p50, p95, floor, ratio, off50, off_ratio, reader_ratio = [], [], [], [], [], [], []
    for _ in range(runs):
        ask_ms, off_ms, enc_ms = [], [], []
        for q in questions:
            t = time.perf_counter()
            qa.ask(q)
            ask_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            off.ask(q)
            off_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            encoder.encode([q])
            enc_ms.append((time.perf_counter() - t) * 1000)
        a50, a95 = _percentiles(ask_ms)
        p50.append(a50)
        p95.append(a95)
        floor.append(float(np.median(enc_ms)))
        ratio.append(a50 / floor[-1])
        off50.append(_percentiles(off_ms)[0])
        off_ratio.append(off50[-1] / floor[-1])
        reader_ratio.append(a50 / off50[-1])
    n = len(index.passages)
    build_dir = index_dir / (index_dir / "CURRENT").read_text().strip()
    return {"questions": len(questions), "passages": n, "sentences": len(index.sentence_vectors),
            "ask_p50_ms": _row(p50), "ask_p95_ms": _row(p95), "floor_ms": _row(floor), "ratio": _row(ratio),
            "ask_no_reader_p50_ms": _row(off50), "no_reader_ratio": _row(off_ratio), "reader_ratio": _row(reader_ratio),
            "build_s": _row(builds), "build_passages_per_s": n / statistics.median(builds),
            "index_bytes_per_passage": _dir_bytes(build_dir) / n}


def bench_scifact(docs: int, runs: int, work: Path, settings: Settings) -> dict:
    """Index build on the first `docs` SciFact abstracts, written as corpus documents."""
    from qa.index.encoder import MiniLMEncoder

    corpus = work / "scifact-corpus"
    corpus.mkdir()
    for name, text in _scifact_documents(docs):
        (corpus / name).write_text(text, encoding="utf-8")
    settings = replace(settings, corpus_dir=corpus, index_dir=work / "scifact-index")
    index, times = _timed_builds(settings, MiniLMEncoder(), runs)
    n = len(index.passages)
    return {"documents": docs, "passages": n, "sentences": len(index.sentence_vectors), "build_s": _row(times),
            "passages_per_s": n / statistics.median(times), "texts_per_s": (n + len(index.sentence_vectors))
            / statistics.median(times)}


def _scifact_documents(docs: int) -> list[tuple[str, str]]:
    """The first `docs` SciFact abstracts as corpus documents: (file name, text)."""
    out = []
    with open(SCIFACT, encoding="utf-8") as f:
        for line, _ in zip(f, range(docs)):
            row = json.loads(line)
            title = json.dumps(row["title"])
            out.append((f"s{row['_id']}.md",
                        f"---\nid: s{row['_id']}\ntitle: {title}\npublisher: SciFact\n---\n\n{row['text']}\n"))
    return out


def bench_encoders(docs: int, work: Path) -> list[dict]:
    """Encoding rate of the texts a build encodes (passages and sentences of `docs` SciFact abstracts) for the
    sentence-transformers reference and for qa.encoder with and without length-sorted batches; cosine to the
    reference."""
    from qa.corpus.documents import load_corpus
    from qa.corpus.passages import split_document
    from qa.index.encoder import MiniLMEncoder, model_path

    corpus = work / "scifact-corpus"
    passages = [p for d in load_corpus(corpus)[:docs] for p in split_document(d, Settings().min_passage_words)]
    texts = [p.text for p in passages] + [p.text[a:b] for p in passages for a, b in p.sentences]
    from sentence_transformers import SentenceTransformer
    reference_model = SentenceTransformer(str(model_path()), device="cpu")
    encoder = MiniLMEncoder()
    encoder.encode(["warm up"])
    model = encoder._model
    assert model is not None  # loaded by the warm-up
    runs = {
        "sentence-transformers, batch 64": lambda: reference_model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False),
        "qa.encoder, batch 32, length-sorted": lambda: encoder.encode(texts),
        "qa.encoder, batch 32, corpus order": lambda: np.concatenate(
            [model(texts[i:i + 32]) for i in range(0, len(texts), 32)]),
        "qa.encoder, batch 128, length-sorted": lambda: MiniLMEncoder(batch_size=128).encode(texts),
    }
    out, reference = [], None
    for name, encode in runs.items():
        t = time.perf_counter()
        vectors = encode()
        seconds = time.perf_counter() - t
        reference = vectors if reference is None else reference
        out.append({"encoder": name, "texts": len(texts), "texts_per_s": len(texts) / seconds,
                    "min_cosine": float(np.einsum("ij,ij->i", vectors, reference).min())})
    return out


# --- cold start -------------------------------------------------------------------------------------------------

# --- the corpus, now: the live check's cost, edit to answer, incremental builds ----------------------------------

LIVE_EDIT = ("amnesty-advisory.md", "Amnesty International is demanding transparency",
             "Amnesty International is demanding full transparency")
LIVE_QUESTION = "What is Amnesty International demanding?"
INCREMENTAL_DOCS = 600


def _median_us(call, times: int = 2000) -> float:
    samples = []
    for _ in range(times):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1e6)
    return float(np.median(samples))


def bench_live(runs: int, work: Path, settings: Settings) -> dict:
    """The warm-ask overhead of the live-corpus check (qa/index/live.py) and the time from an edit to the first
    answer that quotes it, on a copy of the seed corpus."""
    from qa.api import QA
    from qa.index.encoder import MiniLMEncoder
    from qa.index.live import Fingerprint
    from qa_tools.evaluate import load_questions

    corpus = work / "live-corpus"
    shutil.copytree(settings.corpus_dir, corpus, ignore=shutil.ignore_patterns("seeds"))
    base = replace(settings, corpus_dir=corpus, index_dir=work / "live-index")
    encoder = MiniLMEncoder()
    never = QA(replace(base, corpus_check_seconds=float("inf")), encoder)
    every = QA(replace(base, corpus_check_seconds=0.0), encoder, never.index)
    default = QA(base, encoder, never.index)
    questions = [q.question for q in load_questions()]
    for q in questions:  # warm-up pass
        never.ask(q)
    timings: dict[str, list[float]] = {"never": [], "every": [], "default": []}
    for _ in range(runs):
        for q in questions:  # interleaved, so the shared machine's load falls on all three alike
            for name, qa in (("never", never), ("every", every), ("default", default)):
                t = time.perf_counter()
                qa.ask(q)
                timings[name].append((time.perf_counter() - t) * 1000)
    medians = {name: float(np.median(ms)) for name, ms in timings.items()}
    # Paired: each ask against the unchecked ask of the same question in the same round.
    paired = {name: float(np.median(np.subtract(timings[name], timings["never"]))) for name in ("every", "default")}
    check_us = _median_us(lambda: Fingerprint.take(base))
    name, old, new = LIVE_EDIT
    path = corpus / name
    original = path.read_text(encoding="utf-8")
    if old not in default.ask(LIVE_QUESTION).passages[0].text:
        raise RuntimeError(f"the live-edit question no longer quotes {old!r}; update LIVE_EDIT")
    edits = []
    for n in range(runs):
        text, words = (original.replace(old, new), new) if n % 2 == 0 else (original, old)
        time.sleep(base.corpus_check_seconds)
        default.ask(LIVE_QUESTION)  # a check now: the next is due corpus_check_seconds later
        # Edits spread evenly over the interval between two checks, as edits at random times would be.
        time.sleep((n + 0.5) / runs * base.corpus_check_seconds)
        written = time.perf_counter()
        path.write_text(text, encoding="utf-8")
        while words not in default.ask(LIVE_QUESTION).passages[0].text:
            if time.perf_counter() - written > 120:
                raise RuntimeError("the edit was not answered from within 120 s")
        edits.append(time.perf_counter() - written)
    path.write_text(original, encoding="utf-8")
    return {"questions": len(questions), "asks_each": len(timings["never"]), "ask_ms": medians,
            "overhead_every_ask_ms": paired["every"], "overhead_default_ms": paired["default"],
            "check_us": check_us, "check_seconds": base.corpus_check_seconds, "edit_to_answer_s": _row(edits)}


def bench_incremental(docs: int, runs: int, work: Path, settings: Settings) -> dict:
    """A full build of `docs` SciFact abstracts against adding (and removing) one abstract: `python -m qa index`'s
    rebuild, which reuses the saved build's vectors, and a running QA's swap."""
    from qa.api import QA
    from qa.index.encoder import MiniLMEncoder
    from qa.index.store import build, rebuild, save

    documents = _scifact_documents(docs + runs)
    corpus = work / "incremental-corpus"
    corpus.mkdir()
    for name, text in documents[:docs]:
        (corpus / name).write_text(text, encoding="utf-8")
    settings = replace(settings, corpus_dir=corpus, index_dir=work / "incremental-index", corpus_check_seconds=0.0)
    encoder = MiniLMEncoder()
    encoder.encode(["warm up"])
    t = time.perf_counter()
    full = build(settings, encoder)
    save(full, settings.index_dir)
    full_s = time.perf_counter() - t
    added, removed, encoded = [], [], []
    for name, text in documents[docs:]:
        (corpus / name).write_text(text, encoding="utf-8")
        t = time.perf_counter()
        index = rebuild(settings, encoder)
        save(index, settings.index_dir)
        added.append(time.perf_counter() - t)
        encoded.append(index.manifest["texts"]["encoded"])
        (corpus / name).unlink()
        t = time.perf_counter()
        save(rebuild(settings, encoder), settings.index_dir)
        removed.append(time.perf_counter() - t)
    qa = QA(settings, encoder)
    swaps = []
    for name, text in documents[docs:]:
        (corpus / name).write_text(text, encoding="utf-8")
        t = time.perf_counter()
        qa.live.current()
        swaps.append(time.perf_counter() - t)
        (corpus / name).unlink()
        qa.live.current()
    return {"documents": docs, "passages": len(full.passages), "texts": sum(full.manifest["texts"].values()),
            "full_build_s": full_s,
            "add_one_s": _row(added), "remove_one_s": _row(removed), "add_one_encoded": _row(encoded),
            "live_swap_s": _row(swaps), "add_share": statistics.median(added) / full_s}


def _env(index_dir: Path) -> dict:
    return {**os.environ, "QA_INDEX_DIR": str(index_dir), "PYTHONPATH": str(ROOT)}


def bench_cli(runs: int, index_dir: Path) -> dict:
    """Process start to the first answer printed, for `python -m qa ask`."""
    times, rss = [], []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "qa", "ask", COLD_QUESTION], cwd=ROOT, env=_env(index_dir),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        out = proc.stdout.read()  # to the end; the process is then reaped with its resource usage
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 or b"[1]" not in out:
            raise RuntimeError(f"python -m qa ask failed (exit {proc.returncode}): {out[:300]!r}")
        rss.append(usage.ru_maxrss / 1024)
    return {"first_answer_s": _row(times), "peak_rss_mb": _row(rss)}


def _peak_rss_mb(pids: list[int]) -> float:
    return max((status_mb(pid, "VmHWM:") for pid in pids), default=0.0)


def _has_ask_endpoint(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/gradio_api/info", timeout=5) as r:
        return "/ask" in json.loads(r.read()).get("named_endpoints", {})


def _app_once(index_dir: Path) -> dict:
    """`make run` on a free port; polls until the page is served, then asks through the `/ask` API when the app
    has one (gradio_client), which returns once the model has answered."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**_env(index_dir), "QA_PORT": str(port), "QA_HOST": "127.0.0.1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(make_run_command(), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    result = {}
    try:
        while "page_s" not in result:
            if proc.poll() is not None:
                raise RuntimeError(f"make run exited with {proc.returncode} before serving the page")
            if time.perf_counter() - t0 > APP_TIMEOUT:
                raise RuntimeError(f"make run served no page within {APP_TIMEOUT:.0f} s")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        result["page_s"] = time.perf_counter() - t0
            except OSError:
                time.sleep(0.1)
        if _has_ask_endpoint(url):
            from gradio_client import Client
            answer = Client(url, verbose=False).predict(COLD_QUESTION, api_name="/ask")
            if not answer:
                raise RuntimeError("the app's /ask endpoint returned an empty answer")
            result["answer_s"] = time.perf_counter() - t0
        else:
            time.sleep(3)  # let the background model load finish, so the peak RSS includes the model
        result["peak_rss_mb"] = _peak_rss_mb(descendants(proc.pid))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return result


def bench_app(runs: int, index_dir: Path) -> dict:
    results = [_app_once(index_dir) for _ in range(runs)]
    out = {"page_s": _row([r["page_s"] for r in results]), "peak_rss_mb": _row([r["peak_rss_mb"] for r in results])}
    if all("answer_s" in r for r in results):
        out["answer_s"] = _row([r["answer_s"] for r in results])
    return out


# --- scale: generated corpora ----------------------------------------------------------------------------------

def _vocabulary(size: int) -> list[str]:
    """Words ranked by their frequency in SciFact and the seed corpus, padded with made-up words."""
    from qa.corpus.documents import load_corpus
    from qa.corpus.text import tokenize

    counts: Counter[str] = Counter()
    if SCIFACT.is_file():
        with open(SCIFACT, encoding="utf-8") as f:
            for line in f:
                counts.update(tokenize(json.loads(line)["text"], stem=True, stopwords=False))
    for doc in load_corpus(Settings().corpus_dir):
        counts.update(tokenize(doc.body, stem=True, stopwords=False))
    words = [w for w, _ in counts.most_common(size)]
    return words + [f"zz{i}" for i in range(size - len(words))]


def _word_classes(words: list[str], stem: bool) -> tuple[np.ndarray, list[str]]:
    """For each vocabulary word, the id of its content stem (-1 for a stop word) or of its bare form, as CorpusWords
    reads them (a word of the vocabulary is one token), and the forms by id."""
    from qa.corpus.text import tokenize
    from qa.index.words import bare

    ids: dict[str, int] = {}
    forms: list[str | None] = [next(iter(tokenize(w, stem=True, stopwords=True)), None) if stem else bare(w)
                               for w in words]
    return np.array([-1 if f is None else ids.setdefault(f, len(ids)) for f in forms], dtype=np.int64), list(ids)


def _named(names: list[str], documents: np.ndarray) -> dict[str, int]:
    return {names[k]: int(documents[k]) for k in np.flatnonzero(documents).tolist()}


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    return dict(Counter(a) + Counter(b))


def _unit(rng: np.random.Generator, rows: int, dim: int = 384) -> np.ndarray:
    v = rng.random((rows, dim), dtype=np.float32) - np.float32(0.5)  # uniform in a cube, then onto the sphere
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def _write_npy(path: Path, rows: int, chunks) -> np.ndarray | Rows:
    """Write rows of 384 (float32, or float16 when the chunks are) to an .npy file, then open it as `store.load`
    does."""
    from qa.index.rows import open_rows

    chunks = iter(chunks)
    first = next(chunks)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": np.lib.format.dtype_to_descr(first.dtype),
                                                 "fortran_order": False, "shape": (rows, 384)})
        for chunk in chain([first], chunks):
            f.write(np.ascontiguousarray(chunk).tobytes())
    return open_rows(path, Settings().in_memory_bytes)


SIMILAR_NOISE = 1.0  # noise added to a real vector, in units of the real vectors' own spread (see LikeMiniLM)


def real_vectors(encoder, texts: int) -> np.ndarray:
    """MiniLM vectors of real texts: the seed corpus's passages and sentences (so that the labelled questions have
    neighbours, as in an archive about their subject), and `texts` SciFact abstracts, their first 600 characters
    (an archive's other subjects)."""
    from qa.corpus.documents import load_corpus
    from qa.corpus.passages import split_document

    settings = Settings()
    seed = [p for d in load_corpus(settings.corpus_dir) for p in split_document(d, settings.min_passage_words)]
    chosen = [p.text for p in seed] + [p.text[a:b] for p in seed for a, b in p.sentences]
    if SCIFACT.is_file():
        with open(SCIFACT, encoding="utf-8") as f:
            chosen += [json.loads(line)["text"][:600] for line, _ in zip(f, range(texts))]
    return encoder.encode(chosen)


class LikeMiniLM:
    """Generated vectors with the statistics of real MiniLM vectors (`pool`): each is a real vector plus Gaussian
    noise with the pool's covariance (SIMILAR_NOISE times it), put back on the unit sphere. So the generated vectors
    lie in MiniLM's narrow cone, clustered around real texts' vectors, rather than spread evenly over the sphere as
    random unit vectors are (on which inverted lists find no structure and exact search is the only search)."""

    def __init__(self, pool: np.ndarray, rng: np.random.Generator):
        self.pool, self.rng = pool.astype(np.float32), rng
        _, spread, axes = np.linalg.svd(self.pool - self.pool.mean(0), full_matrices=False)
        self.basis = (SIMILAR_NOISE * spread[:, None] / np.sqrt(len(pool)) * axes).astype(np.float32)

    def __call__(self, rows: int) -> np.ndarray:
        v = self.pool[self.rng.integers(len(self.pool), size=rows)]
        v += self.rng.standard_normal((rows, len(self.basis)), dtype=np.float32) @ self.basis
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return v


def build_generated(n: int, work: Path, settings: Settings, seed: int = 0, pool: np.ndarray | None = None):
    """An Index of `n` generated passages, built as `store.build` builds one and held as `store.load` holds it: the
    passages in a PassageTable over the documents' bodies, the postings built in blocks, the dense index chosen for
    `n` by `store.dense_index`. Vectors LikeMiniLM(`pool`), or random unit vectors without a pool. Writes the float
    vectors to `work` (the sentence vectors as float16, to halve the disk at ten million passages; they are read a
    few hundred rows a question), and the documents' bodies, past `in_memory_bytes`, to a temporary file there, as
    `store.load` keeps them (qa/corpus/shelf.py)."""
    from qa.corpus.documents import Document, load_corpus
    from qa.corpus.passages import split_document
    from qa.corpus.shelf import Shelf
    from qa.corpus.text import tokenize
    from qa.index.figures import FigurePassages
    from qa.index.lexical import LexicalIndex
    from qa.index.store import Index, dense_index
    from qa.index.table import PassageTable
    from qa.index.words import CorpusWords

    rng = np.random.default_rng(seed)
    seed_passages = [p for d in load_corpus(settings.corpus_dir) for p in split_document(d, settings.min_passage_words)]
    lengths = np.array([len(tokenize(p.text, stem=True, stopwords=False)) for p in seed_passages])
    step = max(1, round(lengths.sum() / sum(len(p.sentences) for p in seed_passages)))  # words per sentence
    words = _vocabulary(200_000)
    word_chars = [len(w) + 1 for w in words]  # with the following space
    cdf = np.cumsum(1.0 / np.arange(1, len(words) + 1))  # Zipf's law, exponent 1
    cdf /= cdf[-1]
    per_doc, chunk = 10, 10_000
    doc_ids = [f"gen{d}" for d in range(-(-n // per_doc))]
    shelf = Shelf(settings.in_memory_bytes, work)
    starts, ends = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    spans, counts = array("i"), array("i")
    # Each word's and stem's number of documents, as CorpusWords counts them (a document's distinct words at its end).
    (stem_ids, stem_names), (bare_ids, bare_names) = _word_classes(words, True), _word_classes(words, False)
    stem_documents = np.zeros(len(stem_names), dtype=np.int64)
    word_documents = np.zeros(len(bare_names), dtype=np.int64)
    in_document: list[np.ndarray] = []

    def generate():
        texts: list[str] = []  # the current document's passages
        for first in range(0, n, chunk):
            sizes = rng.choice(lengths, min(chunk, n - first))
            ids = np.searchsorted(cdf, rng.random(int(sizes.sum())))
            ends_of = np.cumsum(sizes)
            for i, (size, end) in enumerate(zip(sizes.tolist(), ends_of.tolist())):
                chosen = ids[end - size:end].tolist()
                in_document.append(ids[end - size:end])
                tokens = [words[t] for t in chosen]
                text = " ".join(tokens)
                pos = [0, *accumulate(word_chars[t] for t in chosen)]
                for c in range(0, size, step):
                    spans.extend((pos[c], min(pos[c + step], pos[size]) - 1) if c + step < size else (pos[c], len(text)))
                counts.append(-(-size // step))
                number = first + i
                offset = sum(len(t) + 2 for t in texts)
                starts[number], ends[number] = offset, offset + len(text)
                texts.append(text)
                if number % per_doc == per_doc - 1 or number == n - 1:
                    used = np.concatenate(in_document)
                    in_document.clear()
                    stems = np.unique(stem_ids[used])
                    stem_documents[stems[stems >= 0]] += 1
                    word_documents[np.unique(bare_ids[used])] += 1
                    doc_id = doc_ids[number // per_doc]
                    shelf.add(Document(doc_id, f"Generated {doc_id}", "generated", None, (), None, None,
                                       "\n\n".join(texts)))
                    texts = []
                yield tokens

    lexical = LexicalIndex(generate(), settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
    documents = shelf.documents
    table = PassageTable(documents, doc_ids, (np.arange(n) // per_doc).astype(np.int32), starts, ends,
                         np.frombuffer(spans, dtype=np.int32).reshape(-1, 2),
                         np.concatenate([[0], np.cumsum(np.frombuffer(counts, dtype=np.int32), dtype=np.int64)]))
    # Every passage is words of the vocabulary joined by spaces, so its words are the vocabulary's words it used,
    # counted above; what each document states about itself is counted by CorpusWords.
    stated = CorpusWords.of((doc, ()) for doc in documents.values())
    corpus_words = CorpusWords(_add(stated.stems, _named(stem_names, stem_documents)),
                               _add(stated.words, _named(bare_names, word_documents)))
    generated = LikeMiniLM(pool, rng) if pool is not None else (lambda rows: _unit(rng, rows))
    dense = dense_index(384, n, settings)
    blocks = [generated(min(n, 200_000))]
    if not dense.is_trained:
        dense.train(blocks[0])

    def passage_blocks():
        for i in range(0, n, 200_000):
            block = blocks.pop() if blocks else generated(min(200_000, n - i))
            dense.add(block)
            yield block

    vectors = _write_npy(work / "vectors.npy", n, passage_blocks())
    # Sentence vectors: a pool of generated vectors repeated (their values do not change the timing).
    repeated = generated(65_536).astype(np.float16)
    rows = int(table.span_offsets[-1])
    sentences = _write_npy(work / "sentences.npy", rows,
                           (repeated[: min(len(repeated), rows - i)] for i in range(0, rows, len(repeated))))
    return Index(documents, table, dense, vectors, sentences, table.span_offsets, lexical,
                 {"passages": n, "generated": True}, corpus_words, FigurePassages.of(table, documents))


def dense_recall(index, searcher, questions: list[str], vectors: np.ndarray, settings: Settings, k: int = 10) -> float:
    """Top-k recall of the searcher's dense candidates, re-scored exactly as rank() does, against exact search over
    the float vectors (read 100,000 rows at a time)."""
    from qa.corpus.text import tokenize

    exact = np.zeros((len(vectors), 0), dtype=np.int64)
    best = np.zeros((len(vectors), 0), dtype=np.float32)
    n = len(index.vectors)
    for start in range(0, n, 100_000):
        rows = np.arange(start, min(n, start + 100_000))
        sims = np.concatenate([best, vectors @ np.asarray(index.vectors[rows]).T], 1)
        ids = np.concatenate([exact, np.broadcast_to(rows, (len(vectors), len(rows)))], 1)
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        exact, best = np.take_along_axis(ids, top, 1), np.take_along_axis(sims, top, 1)
    hits = 0
    for question, vector, truth in zip(questions, vectors, exact):
        found = searcher.candidates(tokenize(question, settings.stem, settings.stopwords), vector, settings.candidates,
                                    False, None).dense
        rescored = found[np.argsort(-(index.vectors[found] @ vector), kind="stable")[:k]]
        hits += len(set(rescored.tolist()) & set(truth.tolist()))
    return hits / (k * len(questions))


def bm25_recall(index, questions: list[str], settings: Settings, k: int = 10) -> float:
    """Top-k recall of the BM25 candidates (LexicalIndex.best) against every passage's BM25 score."""
    from qa.corpus.text import tokenize

    lexical, hits = index.lexical, 0
    for question in questions:
        terms = tokenize(question, settings.stem, settings.stopwords)
        scores = lexical.scores(terms)
        held = np.flatnonzero(scores > lexical.baseline(terms))
        exact = held[np.lexsort((held, -scores[held]))[:k]]
        hits += len(set(lexical.best(terms, settings.candidates)[:k].tolist()) & set(exact.tolist()))
    return hits / (k * len(questions))


SEARCH_TIMES = 20  # searches per timed run
SEARCH_MAX_PASSAGES = 2_000_000  # larger scale rows leave search out


def search_queries(index) -> dict[str, str]:
    """Two words, and the same two as a phrase: the first adjacent pair of a generated passage whose words both rank
    from the 100th to the 1,000th commonest (about 1 to 5% of passages hold each: a common name, a place); and, the
    worst case, the two commonest words, each in most passages. Each word is its own index token."""
    from qa.corpus.text import tokenize

    lexical = index.lexical
    by_df = np.argsort(-np.diff(lexical.starts), kind="stable").tolist()
    words = {t: w for w, t in lexical.vocabulary.items()}
    common = [words[t] for t in by_df if tokenize(words[t]) == [words[t]]][:2]
    band = set(by_df[100:1000])
    for passage in index.passages:
        tokens = passage.text.split()
        for a, b in zip(tokens, tokens[1:]):
            if a != b and all(tokenize(w) == [w] and lexical.vocabulary[w] in band for w in (a, b)):
                return {"words": f"{a} {b}", "phrase": f'"{a} {b}"', "commonest words": " ".join(common),
                        "commonest phrase": f'"{" ".join(common)}"'}
    raise ValueError("no pair of words of middling frequency in the generated passages")


def bench_search(search, index, runs: int) -> dict:
    """Milliseconds per `search(query)` (`QA.search`: page 1, with the total and per-document counts) for two words
    and for the same two words as a phrase; the phrase is the postings intersection of its words, then verified on
    the text of each candidate."""
    out: dict = {}
    for kind, query in search_queries(index).items():
        search(query)  # warm
        medians = []
        for _ in range(runs):
            ms = []
            for _ in range(SEARCH_TIMES):
                t = time.perf_counter()
                results = search(query)
                ms.append((time.perf_counter() - t) * 1000)
            medians.append(statistics.median(ms))
        out[kind] = {"query": query, "total": results.total, "documents": results.matched_documents, "p50_ms": _row(medians)}
    return out


def rank_times(index, questions: list[str], vectors: np.ndarray, settings: Settings, runs: int) -> dict:
    """Milliseconds per rank(), the stage a search engine changes, on the questions' real vectors: hybrid, dense, and
    hybrid limited to a tenth of the documents (generated documents are numbered in order)."""
    from qa.search.retrieval import rank

    allowed = index.passages.doc % 10 == 0
    timings = {}
    for name, mode, limit in (("hybrid", "hybrid", None), ("dense", "dense", None), ("filtered", "hybrid", allowed)):
        p50, p95 = [], []
        for _ in range(runs):
            ms = []
            for question, vector in zip(questions, vectors):
                t = time.perf_counter()
                rank(index, question, vector, settings, mode, limit)
                ms.append((time.perf_counter() - t) * 1000)
            a, b = _percentiles(ms)
            p50.append(a)
            p95.append(b)
        timings[name] = {"p50_ms": _row(p50), "p95_ms": _row(p95)}
    return timings


def pool_texts(n: int) -> int:
    """How many real texts' vectors the generated vectors of `n` passages are made from (LikeMiniLM)."""
    return min(2_000, max(100, n // 500))


def scale_worker(n: int, runs: int, settings: Settings) -> dict:
    """Run in a child process: build a generated index of `n` passages (its time and peak memory), then time
    `QA.ask` on the labelled questions, search, and rank() by mode, with the dense candidates' top-10 recall."""
    from qa.api import QA
    from qa.index.encoder import MiniLMEncoder
    from qa.index.engine import InProcess
    from qa_tools.evaluate import load_questions

    questions = [q.question for q in load_questions()]
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        encoder = MiniLMEncoder()
        vectors = encoder.encode(questions)
        pool = real_vectors(encoder, pool_texts(n))
        t = time.perf_counter()
        index = build_generated(n, Path(tmp), settings, pool=pool)
        built_s, built_peak = time.perf_counter() - t, status_mb("self", "VmHWM:")
        t = time.perf_counter()
        qa = QA(settings, encoder, index)
        opened_s = time.perf_counter() - t
        # Search mode's phrases are checked on every candidate's text: past a few million passages its timings
        # take longer than the rest of the run, and they are not this row's subject.
        search = bench_search(qa.search, index, runs) if n <= SEARCH_MAX_PASSAGES else {}
        for q in questions[:10]:
            qa.ask(q)
        p50, p95 = [], []
        for _ in range(runs):
            ms = []
            for q in questions:
                t = time.perf_counter()
                qa.ask(q)
                ms.append((time.perf_counter() - t) * 1000)
            a, b = _percentiles(ms)
            p50.append(a)
            p95.append(b)
        ranked = rank_times(index, questions[:BACKEND_QUESTIONS], vectors[:BACKEND_QUESTIONS], settings, runs)
        lex = index.lexical
        ram = (index.dense.sa_code_size() * n + lex.postings.nbytes + lex.frequencies.nbytes
               + lex.length_norm.nbytes + index.sentence_offsets.nbytes)
        peak, rss = status_mb("self", "VmHWM:"), status_mb("self", "VmRSS:")
        recall = dense_recall(index, InProcess(index, settings.ivf_probes), questions[:30], vectors[:30], settings)
        bm25 = bm25_recall(index, questions[:30], settings)
        del qa  # its tables of the corpus: the update below is timed as a refresh makes it, beside the served index
        update_ms = _inprocess_update_ms(index, settings, encoder)
        return {"dense_index": type(index.dense).__name__, "recall_at_10": recall, "passages": n,
                "update_one_document_ms": update_ms, "update_peak_rss_mb": status_mb("self", "VmHWM:"),
                "bm25_recall_at_10": bm25,
                "sentences": len(index.sentence_vectors), "generate_s": built_s, "generate_peak_rss_mb": built_peak,
                "open_s": opened_s, "ask_p50_ms": _row(p50), "ask_p95_ms": _row(p95), "search": search, "rank": ranked,
                "rss_mb": rss, "peak_rss_mb": peak, "ram_index_bytes_per_passage": ram / n,
                "disk_vector_bytes_per_passage": (index.vectors.nbytes + index.sentence_vectors.nbytes) / n,
                "mean_postings_per_passage": len(lex.postings) / n}


def search_worker(n: int, runs: int, settings: Settings) -> dict:
    """Run in a child process: build a generated index of `n` passages and time only the search (no model, and
    none of the answer stages' corpus tables, which take minutes at a million passages)."""
    from qa.search.fulltext import Corpus, search

    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        t = time.perf_counter()
        index = build_generated(n, Path(tmp), settings)
        built_s = time.perf_counter() - t
        corpus = Corpus.of(index, list(index.documents.values()), index.passages.doc.astype(np.int64), settings)
        timings = bench_search(lambda query: search(corpus, query, settings), index, runs)
        return {"passages": n, "generate_s": built_s, "search": timings, "peak_rss_mb": status_mb("self", "VmHWM:")}


BACKEND_QUESTIONS = 100  # the first labelled questions, each timed in three modes per run


def backend_worker(backend: str, n: int, runs: int, settings: Settings) -> dict:
    """Run in a child process: a generated index of `n` passages searched through `backend` (qa/index/engine.py).
    Times rank(), the stage a backend changes, on the labelled questions' real vectors: hybrid, dense, and hybrid
    limited to a tenth of the documents. Also the engine's build (sync) time, one document's update, memory, disk,
    and the top-10 recall of its dense candidates (30 questions) against exact search over the float vectors."""
    from qa.index.encoder import MiniLMEncoder
    from qa.index.engine import InProcess, Searcher
    from qa.index.milvus import DOCUMENTS, PASSAGES, MilvusEngine, _among
    from qa_tools.evaluate import load_questions

    questions = [q.question for q in load_questions()][:BACKEND_QUESTIONS]
    # Milvus Lite may still be writing its files as the worker ends: their folder is left for the system to clean.
    with tempfile.TemporaryDirectory(prefix="qa-bench-", ignore_cleanup_errors=True) as tmp:
        encoder = MiniLMEncoder()
        vectors = encoder.encode(questions)
        index = build_generated(n, Path(tmp), settings, pool=real_vectors(encoder, pool_texts(n)))
        t = time.perf_counter()
        engine = None if backend == "inprocess" else MilvusEngine(str(Path(tmp) / "engine" / "milvus.db"), settings)
        searcher: Searcher = InProcess(index, settings.ivf_probes)
        if engine is not None:
            engine.sync(index)
            searcher = engine.searcher(index)
        build_s = time.perf_counter() - t
        searched = replace(index, searcher=None if engine is None else searcher)
        timings = rank_times(searched, questions, vectors, settings, runs)
        hits = dense_recall(index, searcher, questions[:30], vectors[:30], settings)
        update_ms = None
        if engine is None:  # one document removed and one added, as the live refresh applies them
            update_ms = _inprocess_update_ms(index, settings, encoder)
        else:  # one document missing from the engine: sync writes it alone
            engine.client.delete(PASSAGES, filter=_among(["gen5"]))
            engine.client.delete(DOCUMENTS, filter=_among(["gen5"]))
            t = time.perf_counter()
            written = engine.sync(index)
            update_ms = (time.perf_counter() - t) * 1000
            assert written.inserted == 1 and not written.rebuilt
            engine.client.close()
        return {"backend": backend, "passages": n, "engine_build_s": build_s, "update_one_document_ms": update_ms,
                "rank": timings, "recall_at_10": hits, "rss_mb": status_mb("self", "VmRSS:"),
                "peak_rss_mb": status_mb("self", "VmHWM:"), "disk_mb": _dir_bytes(Path(tmp)) / 2**20}


def _inprocess_update_ms(index, settings: Settings, encoder, runs: int = 3) -> float:
    """Milliseconds (median of `runs`) for qa/index/update.py to make the index of the corpus with one document removed
    (from the middle) and one added (a seed article, encoded), from `index`."""
    from qa.corpus.documents import load_corpus
    from qa.index.update import spliced

    documents = list(index.documents.values())
    del documents[len(documents) // 2]
    documents.append(replace(load_corpus(settings.corpus_dir)[0], id="added"))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        after = spliced(index, documents, index.manifest, None, settings, encoder)
        times.append((time.perf_counter() - t) * 1000)
        assert after is not None and len(after.documents) == len(index.documents)
        del after
    return statistics.median(times)


def bench_backends(sizes: list[int], runs: int, params: list[str], config: Path | None) -> list[dict]:
    """backend_worker for each size and backend, each in a process of its own (so memory is its own)."""
    return [row for n in sizes for backend in BACKENDS
            for row in bench_scale([n], runs, params, config, worker=["backend", backend])]


def bench_scale(sizes: list[int], runs: int, params: list[str], config: Path | None,
                search_only: bool = False, worker: list[str] | None = None) -> list[dict]:
    out = []
    for n in sizes:
        env = {**os.environ, "PYTHONPATH": str(ROOT), **({"QA_CONFIG": str(config)} if config else {})}
        mode = worker or (["search"] if search_only else [])
        proc = subprocess.run([sys.executable, "-m", "qa_tools.bench", *mode, str(n), str(runs), *params], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"scale run at {n:,} passages failed:\n{proc.stderr[-2000:]}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        # Each row as it is measured, so that a run stopped before its report still leaves the rows done.
        print(f"scale row, {n:,} passages: {json.dumps(out[-1])}", file=sys.stderr, flush=True)
    return out


# --- linear time: splitting and figure finding on adversarial input -----------------------------------------

LINEAR_PARAGRAPHS = (2_000, 4_000, 8_000, 16_000)
FIGURE_LIST_CHARS = 40_000


def bench_linear(runs: int) -> dict:
    """Milliseconds to split a document of N one-line paragraphs (each too short to stand alone, so all are merged) and to
    find the figures in a passage that is a 40,000-character list of comma-separated numbers: both were quadratic."""
    from qa.answer.figures import find_figures
    from qa.answer.model import Passage
    from qa.corpus.documents import Document
    from qa.corpus.passages import split_document

    def timed(work) -> dict:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            work()
            times.append((time.perf_counter() - t) * 1000)
        return _row(times)

    split = {}
    for n in LINEAR_PARAGRAPHS:
        doc = Document("long", "t", "p", None, (), None, None, "\n\n".join(f"Line {i} of the list." for i in range(n)))
        split[n] = timed(lambda: split_document(doc, Settings().min_passage_words))
    # No measure follows the list, so every place a figure could start is tried (the worst case).
    text = ",".join(str(i) for i in range(FIGURE_LIST_CHARS))[:FIGURE_LIST_CHARS]
    passage = Passage(text, "long", "long#p1", 0, len(text), 0.0, [], "t", "p", None, None, [], "article", None, None, "")
    return {"split_ms": split, "figures_ms": timed(lambda: find_figures(passage)), "figure_chars": len(text)}


def format_linear(r: dict) -> list[str]:
    lines = ["linear time (was quadratic: docs/RELIABILITY.md, Time)"]
    lines += [f"  split {n:>6,} one-line paragraphs {_fmt(stat, 'ms')}" for n, stat in r["split_ms"].items()]
    lines.append(f"  figures in a {r['figure_chars']:,}-character number list {_fmt(r['figures_ms'], 'ms')}")
    return lines


# --- report ----------------------------------------------------------------------------------------------------

def run(runs: int = 3, scifact_docs: int = 100, sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000),
        app: bool = True, encoders: bool = False, params: tuple[str, ...] = (), config: Path | None = None) -> dict:
    settings = Settings.load(params, config)
    started = time.perf_counter()
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "runs": runs,
                    "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"
                               f", load average {os.getloadavg()[0]:.1f} at start"}
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        index_dir = work / "index"
        report["seed"] = bench_seed(runs, index_dir, settings)
        report["linear"] = bench_linear(runs)
        report["cli"] = bench_cli(runs, index_dir)
        if app:
            report["app"] = bench_app(runs, index_dir)
        if SCIFACT.is_file() and scifact_docs:
            report["scifact"] = bench_scifact(scifact_docs, runs, work, settings)
            if encoders:
                report["encoders"] = bench_encoders(min(scifact_docs, 30), work)
            report["incremental"] = bench_incremental(INCREMENTAL_DOCS, runs, work, settings)
        report["live"] = bench_live(runs, work, settings)
        report["scale"] = bench_scale(list(sizes), runs, list(params), config)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["load_average_end"] = os.getloadavg()[0]
    report["total_s"] = time.perf_counter() - started
    return report


def format_report(r: dict) -> str:
    s = r["seed"]
    lines = [f"python -m qa bench, {r['date']}, {r['machine']}; medians of {r['runs']} runs (min, max)",
             f"seed corpus: {s['passages']} passages, {s['sentences']} sentences, {s['questions']} labelled questions",
             f"  warm ask() p50        {_fmt(s['ask_p50_ms'], 'ms')}",
             f"  warm ask() p95        {_fmt(s['ask_p95_ms'], 'ms')}",
             f"  floor (encode 1 q)    {_fmt(s['floor_ms'], 'ms')}",
             f"  ask p50 / floor       {_fmt(s['ratio'], 'x')}   target <= 3 with the reader",
             f"  reader off: ask p50   {_fmt(s['ask_no_reader_p50_ms'], 'ms')}  / floor {_fmt(s['no_reader_ratio'], 'x')}",
             f"  reader on / off p50   {_fmt(s['reader_ratio'], 'x')}",
             f"  index build           {_fmt(s['build_s'], 's')}  {s['build_passages_per_s']:.1f} passages/s",
             f"  index on disk         {s['index_bytes_per_passage']:,.0f} bytes per passage",
             "cold start",
             f"  python -m qa ask      {_fmt(r['cli']['first_answer_s'], 's')}   target <= 10 (stretch 3); "
             f"peak RSS {r['cli']['peak_rss_mb']['median']:.0f} MB"]
    if "linear" in r:
        lines += format_linear(r["linear"])
    if "app" in r:
        a = r["app"]
        lines.append(f"  make run: page served {_fmt(a['page_s'], 's')}")
        if "answer_s" in a:
            lines.append(f"  make run: first answer {_fmt(a['answer_s'], 's')}  target <= 12")
        else:
            lines.append("  make run: first answer  not measured: app.py has no /ask API endpoint yet")
        lines.append(f"  app peak RSS          {_fmt(a['peak_rss_mb'], 'MB')}")
    if "scifact" in r:
        f = r["scifact"]
        lines.append(f"SciFact sample: first {f['documents']} of 5,183 abstracts -> {f['passages']} passages, "
                     f"{f['sentences']} sentences")
        lines.append(f"  index build           {_fmt(f['build_s'], 's')}  {f['passages_per_s']:.1f} passages/s "
                     f"({f['texts_per_s']:.0f} texts encoded/s)")
    for e in r.get("encoders", []):
        lines.append(f"  encoding {e['texts']} build texts: {e['encoder']:38} {e['texts_per_s']:6.1f} texts/s, "
                     f"min cosine to sentence-transformers {e['min_cosine']:.6f}")
    if "incremental" in r:
        i = r["incremental"]
        lines.append(f"incremental index: {i['documents']} SciFact abstracts, {i['passages']} passages, {i['texts']} texts")
        lines.append(f"  full build + save     {i['full_build_s']:.1f} s")
        lines.append(f"  add 1 file, qa index  {_fmt(i['add_one_s'], 's')}  ({i['add_share']:.1%} of the full build; "
                     f"{i['add_one_encoded']['median']:.0f} texts encoded)")
        lines.append(f"  remove 1 file         {_fmt(i['remove_one_s'], 's')}")
        lines.append(f"  live swap, add 1 file {_fmt(i['live_swap_s'], 's')}")
    if "live" in r:
        v = r["live"]
        lines.append(f"live corpus check (seed corpus, {v['asks_each']} asks each, interleaved)")
        lines.append(f"  warm ask() median     {v['ask_ms']['never']:.2f} ms never checked, {v['ask_ms']['every']:.2f} ms "
                     f"checked every ask, {v['ask_ms']['default']:.2f} ms every {v['check_seconds']:g} s (default)")
        lines.append(f"  paired difference     {v['overhead_every_ask_ms']:+.3f} ms checked every ask, "
                     f"{v['overhead_default_ms']:+.3f} ms default (median of per-question differences)")
        lines.append(f"  one check             {v['check_us']:.1f} us (scandir of the corpus folder + lstat of CURRENT)")
        lines.append(f"  edit to first answer  {_fmt(v['edit_to_answer_s'], 's')}  quoting the edit")
    if r["scale"]:
        lines.append("scale: GENERATED passages (Zipfian words over a SciFact-ranked vocabulary, seed-corpus passage lengths) "
                     "and GENERATED vectors like MiniLM's (bench.LikeMiniLM); labelled questions encoded by the real model")
    for row in r["scale"]:
        lines += format_scale_row(row)
    if r["scale"]:
        lines += format_search(r["scale"])
    lines.append(f"load average {r['load_average_end']:.1f} at the end (2 cores shared with other engineers); "
                 f"benchmark took {r['total_s']:.0f} s")
    return "\n".join(lines)


def format_scale_row(row: dict) -> list[str]:
    ranked = "; ".join(f"{m} {row['rank'][m]['p50_ms']['median']:.1f} / {row['rank'][m]['p95_ms']['median']:.1f} ms"
                       for m in ("hybrid", "dense", "filtered"))
    return [f"  {row['passages']:>9,} passages  ask() p50 {_fmt(row['ask_p50_ms'], 'ms')}",
            f"  {'':>9}            p95 {_fmt(row['ask_p95_ms'], 'ms')}",
            f"  {'':>9}            rank() p50 / p95: {ranked}",
            f"  {'':>9}            peak RSS {row['peak_rss_mb']:,.0f} MB (after the timed runs {row['rss_mb']:,.0f} MB); "
            f"generated in {row['generate_s']:.0f} s, peak RSS {row['generate_peak_rss_mb']:,.0f} MB by then; "
            f"opened in {row['open_s']:.1f} s",
            f"  {'':>9}            dense {row['dense_index']}, top-10 recall vs exact {row['recall_at_10']:.3f}; "
            f"index {row['ram_index_bytes_per_passage']:,.0f} B/passage in RAM (dense codes, postings) + "
            f"{row['disk_vector_bytes_per_passage']:,.0f} B/passage of vectors on disk, read per question; "
            f"BM25 candidates' top-10 recall vs exact {row['bm25_recall_at_10']:.3f}",
            f"  {'':>9}            one document removed and one added, without a rebuild (qa/index/update.py): "
            f"{row['update_one_document_ms'] / 1000:.1f} s, peak RSS by then {row['update_peak_rss_mb']:,.0f} MB"]


def format_search(rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        for kind, r in row["search"].items():
            lines.append(f"  {row['passages']:>9,} passages  search {kind:16} p50 {_fmt(r['p50_ms'], 'ms')}  target <= 100; "
                         f"{r['query']}: {r['total']:,} passages in {r['documents']:,} documents")
    return lines


def format_backends(rows: list[dict]) -> list[str]:
    lines = ["backend     passages  hybrid p50/p95 ms   dense p50/p95 ms   filtered p50/p95 ms  recall@10  build s  "
             "update ms  peak RSS MB  disk MB"]
    for r in rows:
        times = "  ".join(f"{r['rank'][m]['p50_ms']['median']:7.1f} /{r['rank'][m]['p95_ms']['median']:7.1f}   "
                          for m in ("hybrid", "dense", "filtered"))
        update = "-" if r["update_one_document_ms"] is None else f"{r['update_one_document_ms']:.0f}"
        lines.append(f"{r['backend']:10s} {r['passages']:9,d}  {times} {r['recall_at_10']:8.3f} {r['engine_build_s']:8.1f} "
                     f"{update:>9s} {r['peak_rss_mb']:11.0f} {r['disk_mb']:8.0f}")
    return lines


if __name__ == "__main__":  # the child process of one scale size: python -m qa_tools.bench [search] N RUNS [NAME=VALUE ...]
    if sys.argv[1] == "backend":  # python -m qa_tools.bench backend NAME N RUNS [NAME=VALUE ...]
        print(json.dumps(backend_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Settings.load(sys.argv[5:]))))
        sys.exit()
    worker = scale_worker
    if sys.argv[1] == "search":
        worker = search_worker
        del sys.argv[1]
    print(json.dumps(worker(int(sys.argv[1]), int(sys.argv[2]), Settings.load(sys.argv[3:]))))
