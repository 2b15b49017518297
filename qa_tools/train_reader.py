"""Train the reader (qa/evidence/reader.py) on SQuAD 2.0 dev: `python -m qa_tools.train_reader --squad DIR`.

The task: (question, sentence) → does this sentence hold the answer? Positives are the sentences holding an
annotator's answer; negatives are the other sentences of the paragraph that share most words with the question, and
the sentences of paragraphs that do not answer at all (SQuAD 2.0's unanswerable questions, written to look
answerable there: the near misses a bi-encoder cannot tell). The split is by article: every fifth article, in
title order, is held out as `tune`, and the run reports the reader's AUC there. With `--passages N` it also reads
(question, paragraph) pairs: P(this passage answers), the question-level task SQuAD 2.0's unanswerable questions
pose, with N other paragraphs of the article as negatives for each answerable question.

The embeddings and the lower layers stay as the base model has them; their output is computed once per pair and
cached, and only the top layers and the head are trained. Checkpoints (`--work`) let a run stop and resume: a
killed run started again with the same arguments goes on from its last checkpoint, with the same seeds. It runs
on CPU in the background (never in CI); `--threads` bounds it."""
from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.corpus.text import sentence_spans, tokenize
from qa.evidence.reader import WEIGHTS, cross_encoder, metadata, pair_tokenizer
from qa.index.encoder import model_path

SEED = 13


@dataclass(frozen=True)
class Pair:
    question: str
    text: str
    label: int
    article: str
    qid: str
    unit: str = "sentence"  # or "passage": the text is a whole paragraph


def squad_pairs(path: Path, negatives: int) -> list[Pair]:
    """The (question, sentence) pairs of SQuAD 2.0: every answer-holding sentence, and per question the
    `negatives` other sentences sharing most of its content words (ties: paragraph order)."""
    pairs = []
    for line in path.read_text().splitlines():
        para = json.loads(line)
        context = para["context"]
        spans = sentence_spans(context)
        tokens = [set(tokenize(context[a:b])) for a, b in spans]
        for qa in para["qas"]:
            answer = set()
            for text in qa["answers"]:
                at = context.find(text)
                if at >= 0:
                    answer |= {j for j, (a, b) in enumerate(spans) if a < at + len(text) and at < b}
            q = set(tokenize(qa["question"]))
            rest = sorted((j for j in range(len(spans)) if j not in answer), key=lambda j: (-len(q & tokens[j]), j))
            for j in sorted(answer):
                pairs.append(Pair(qa["question"], context[spans[j][0]:spans[j][1]], 1, para["title"], qa["id"]))
            for j in rest[:negatives + (0 if answer else 1)]:
                pairs.append(Pair(qa["question"], context[spans[j][0]:spans[j][1]], 0, para["title"], qa["id"]))
    return pairs


def squad_passage_pairs(path: Path, negatives: int) -> list[Pair]:
    """The (question, paragraph) pairs of SQuAD 2.0: each question with its own paragraph (positive when SQuAD
    gives an answer, negative for its unanswerable questions, written to look answerable there), and each answerable
    question with the `negatives` other paragraphs of its article sharing most of its content words (ties: article
    order), which do not answer it."""
    paragraphs = [json.loads(line) for line in path.read_text().splitlines()]
    tokens = [set(tokenize(p["context"])) for p in paragraphs]
    pairs = []
    for n, para in enumerate(paragraphs):
        siblings = [m for m, other in enumerate(paragraphs) if other["title"] == para["title"] and m != n]
        for qa in para["qas"]:
            answerable = bool(qa["answers"]) and not qa.get("is_impossible")
            pairs.append(Pair(qa["question"], para["context"], int(answerable), para["title"], qa["id"], "passage"))
            if answerable:
                q = set(tokenize(qa["question"]))
                for m in sorted(siblings, key=lambda m: (-len(q & tokens[m]), m))[:negatives]:
                    pairs.append(Pair(qa["question"], paragraphs[m]["context"], 0, para["title"], qa["id"], "passage"))
    return pairs


def split(pairs: list[Pair]) -> tuple[list[Pair], list[Pair]]:
    """(train, tune): every fifth article in title order is tune."""
    titles = sorted({p.article for p in pairs})
    tune = set(titles[4::5])
    return [p for p in pairs if p.article not in tune], [p for p in pairs if p.article in tune]


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """The area under the ROC curve (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


class Cache:
    """The frozen layers' output for every pair, fp16, one row of token states per token, in pair order."""

    def __init__(self, model, tokenizer, pairs: list[Pair], frozen: int, path: Path, batch: int = 64):
        import torch
        from safetensors.torch import load_file, save_file

        self.path = path
        if path.is_file():
            data = load_file(str(path))
            self.states, self.offsets, self.types = data["states"], data["offsets"], data["types"]
            return
        enc = tokenizer.encode_batch([(p.question, p.text) for p in pairs])
        lengths = [sum(e.attention_mask) for e in enc]
        self.offsets = torch.tensor(np.concatenate([[0], np.cumsum(lengths)]))
        self.states = torch.empty(int(self.offsets[-1]), model.bert.norm.normalized_shape[0], dtype=torch.float16)
        self.types = torch.empty(int(self.offsets[-1]), dtype=torch.int8)
        order = sorted(range(len(pairs)), key=lambda i: lengths[i])
        started = time.time()
        with torch.inference_mode():
            for n, s in enumerate(range(0, len(order), batch)):
                rows = order[s:s + batch]
                width = max(lengths[i] for i in rows)
                ids = torch.tensor([enc[i].ids[:width] for i in rows])
                mask = torch.tensor([enc[i].attention_mask[:width] for i in rows])
                types = torch.tensor([enc[i].type_ids[:width] for i in rows])
                x = model.bert.run(model.bert.embed(ids, types), mask, 0, frozen)
                for r, i in enumerate(rows):
                    a, b = int(self.offsets[i]), int(self.offsets[i + 1])
                    self.states[a:b] = x[r, :lengths[i]].half()
                    self.types[a:b] = types[r, :lengths[i]].to(torch.int8)
                if n % 50 == 0:
                    print(f"  cache {s + len(rows)}/{len(pairs)} pairs, {time.time() - started:.0f} s", flush=True)
        save_file({"states": self.states, "offsets": self.offsets, "types": self.types}, str(path))

    def batch(self, rows: list[int]):
        import torch

        lengths = [int(self.offsets[i + 1] - self.offsets[i]) for i in rows]
        width = max(lengths)
        x = torch.zeros(len(rows), width, self.states.shape[1])
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for r, i in enumerate(rows):
            x[r, :lengths[r]] = self.states[int(self.offsets[i]):int(self.offsets[i + 1])].float()
            mask[r, :lengths[r]] = 1
        return x, mask


def length_batches(cache: Cache, n: int, size: int, rng: random.Random) -> list[list[int]]:
    """Batches of pairs of similar length (little padding), in shuffled order."""
    lengths = (cache.offsets[1:] - cache.offsets[:-1]).tolist()
    order = sorted(range(n), key=lambda i: (lengths[i], rng.random()))
    batches = [order[s:s + size] for s in range(0, n, size)]
    rng.shuffle(batches)
    return batches


def predict(model, cache: Cache, n: int, frozen: int) -> np.ndarray:
    import torch

    out = np.zeros(n)
    lengths = (cache.offsets[1:] - cache.offsets[:-1]).tolist()
    order = sorted(range(n), key=lambda i: lengths[i])
    model.eval()
    with torch.inference_mode():
        for s in range(0, n, 128):
            rows = order[s:s + 128]
            x, mask = cache.batch(rows)
            out[rows] = model.top(x, mask, frozen).double().numpy()
    model.train()
    return out


def question_auc(pairs: list[Pair], scores: np.ndarray) -> float:
    """Per question, the best sentence's score against 'SQuAD says it is answerable': the passage-level task."""
    best: dict[str, float] = {}
    answerable: dict[str, int] = {}
    for p, s in zip(pairs, scores):
        best[p.qid] = max(best.get(p.qid, -math.inf), s)
        answerable[p.qid] = max(answerable.get(p.qid, 0), p.label)
    ids = sorted(best)
    return auc(np.array([best[i] for i in ids]), np.array([answerable[i] for i in ids]))


def save_checkpoint(path: Path, model, optimizer, schedule, step: int, losses: list[float]) -> None:
    """The model, the optimizer's moments and the schedule's step, as safetensors (no pickle), written atomically."""
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    state = optimizer.state_dict()
    for n, moments in state["state"].items():
        tensors |= {f"optimizer.{n}.{k}": v.contiguous().reshape(-1) if v.dim() == 0 else v.contiguous()
                    for k, v in moments.items()}
    meta = {"step": str(step), "losses": json.dumps(losses), "schedule": json.dumps(schedule.state_dict())}
    save_file(tensors, str(path.with_suffix(".tmp")), metadata=meta)
    path.with_suffix(".tmp").replace(path)


def resume(path: Path, model, optimizer, schedule) -> tuple[int, list[float]]:
    """Load what save_checkpoint wrote into the model, optimizer and schedule; (step, losses)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    model.load_state_dict({k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")})
    state = optimizer.state_dict()
    for key, v in tensors.items():
        if key.startswith("optimizer."):
            _, n, name = key.split(".", 2)
            state["state"].setdefault(int(n), {})[name] = v.reshape(()) if name == "step" else v
    optimizer.load_state_dict(state)
    schedule.load_state_dict(json.loads(meta["schedule"]))
    return int(meta["step"]), json.loads(meta["losses"])


def export(model, frozen: int, max_tokens: int, out: Path, info: dict) -> None:
    """The trained weights only (top layers and head), fp16, with what they are in the file's metadata."""
    from safetensors.torch import save_file

    layers = len(model.bert.layers)
    keep = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()
            if k.startswith("head.") or any(k.startswith(f"bert.layers.{n}.") for n in range(frozen, layers))}
    meta = {"trained_layers": json.dumps(list(range(frozen, layers))), "max_tokens": str(max_tokens),
            "base_model": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)",
            "training_data": "SQuAD 2.0 dev (CC BY-SA 4.0), Rajpurkar, Jia and Liang 2018"
                             + ("; then this repo's dev questions and CLAPNQ's tune half"
                                if "dev questions" in info["data"] else ""),
            "training": json.dumps(info)}
    save_file(keep, str(out), metadata=meta)


def domain_pairs(clapnq: Path, negatives: int) -> list[Pair]:
    """(question, sentence) pairs from the dev questions the gate is measured on (the articles' dev split and its
    follow-ups, CLAPNQ's tune half), as the reader meets them: every sentence of the top `rerank_depth` passages
    `ask` ranks for the question as searched. Positives are the gold passages' answering sentences; negatives the
    `negatives` others most similar to the question (one more for a question the corpus does not answer). `article`
    is the corpus and `qid` the question's id, whose fold (qa_tools/fit_confidence.py `fold_of`) says which
    cross-fitted reader may train on it."""
    from qa.api import QA
    from qa.config import Settings
    from qa.index.encoder import MiniLMEncoder
    from qa_tools.fit_confidence import dev_cases

    qa = QA(Settings.load(), MiniLMEncoder())
    cases = dev_cases(qa, clapnq, qa.settings.index_dir / "clapnq-cache")
    return [pair for case in cases for pair in case_pairs(case, qa.settings.rerank_depth, negatives)]


def case_pairs(case, depth: int, negatives: int) -> list[Pair]:
    """One dev question's pairs (a qa_tools/fit_confidence.py Case): the answering sentences of its top `depth`
    passages, in rank and text order, then the `negatives` other sentences most similar to it (ties: rank and text
    order), or one more when none answers."""
    evidence, item = case.evidence, case.item
    found = []  # (label, -similarity, rank, sentence, passage)
    for n, i in enumerate(evidence.ranking.order[:depth].tolist()):
        gold = item.gold_sentences.get(i, frozenset())
        found += [(int(j in gold), -sim, n, j, i) for j, sim in enumerate(evidence.sentences(i).similarity.tolist())]
    positives = [f for f in found if f[0]]
    rest = sorted(f for f in found if not f[0])[:negatives + (0 if positives else 1)]
    passages = evidence.index.passages
    return [Pair(evidence.question.search, passages[i].text[slice(*passages[i].sentences[j])], label, item.corpus,
                 item.id) for label, _, _, j, i in positives + rest]


def fit(model, tokenizer, train: list[Pair], tune: list[Pair], args, tag: str) -> dict:
    """Train `model`'s layers from `args.frozen` up and its head on `train` (resuming from this run's checkpoint in
    `args.work` if there is one); its figures on `tune`."""
    import torch

    for p in model.bert.parameters():
        p.requires_grad = False
    for layer in model.bert.layers[args.frozen:]:
        for p in layer.parameters():
            p.requires_grad = True
    train_cache = Cache(model, tokenizer, train, args.frozen, args.work / f"train-{tag}.safetensors")
    tune_cache = Cache(model, tokenizer, tune, args.frozen, args.work / f"tune-{tag}.safetensors") if tune else None
    labels = torch.tensor([p.label for p in train], dtype=torch.float32)

    rng = random.Random(SEED)
    epochs = [length_batches(train_cache, len(train), args.batch, rng) for _ in range(args.epochs)]
    total = sum(len(e) for e in epochs)
    head_params = list(model.head.parameters())
    layer_params = [p for layer in model.bert.layers[args.frozen:] for p in layer.parameters()]
    optimizer = torch.optim.AdamW([{"params": layer_params, "lr": args.lr},
                                   {"params": head_params, "lr": args.lr * 10}], weight_decay=0.01)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    checkpoint = args.work / f"checkpoint-{tag}-e{args.epochs}-b{args.batch}-lr{args.lr:g}.safetensors"
    step, losses = 0, list[float]()
    if checkpoint.is_file():
        step, losses = resume(checkpoint, model, optimizer, schedule)
        print(f"resumed at step {step}/{total}", flush=True)
    before = {}
    if tune_cache is not None and step == 0:  # where training starts from, on the same tune pairs
        before = {f"{k}_before": v for k, v in tune_figures(tune, predict(model, tune_cache, len(tune), args.frozen)).items()}
        print(json.dumps(before), flush=True)
    model.train()
    started, done = time.time(), step
    flat = [b for e in epochs for b in e]
    while step < total:
        rows = flat[step]
        x, mask = train_cache.batch(rows)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model.top(x, mask, args.frozen), labels[rows])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(layer_params + head_params, 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        step += 1
        if step % 50 == 0 or step == total:
            rate = (step - done) * args.batch / (time.time() - started)
            print(f"step {step}/{total} loss {np.mean(losses[-50:]):.4f} {rate:.1f} pairs/s", flush=True)
        if step % 200 == 0 or step == total:
            save_checkpoint(checkpoint, model, optimizer, schedule, step, losses)
    info = {"pairs_train": len(train), "pairs_tune": len(tune), "steps": total, "epochs": args.epochs,
            "batch": args.batch, "lr": args.lr, "frozen_layers": args.frozen, "negatives": args.negatives,
            "seed": SEED, "loss_first_50": round(float(np.mean(losses[:50])), 4),
            "loss_last_50": round(float(np.mean(losses[-50:])), 4)} | before
    if tune_cache is not None:
        info |= tune_figures(tune, predict(model, tune_cache, len(tune), args.frozen))
    return info


def tune_figures(tune: list[Pair], scores: np.ndarray) -> dict[str, float]:
    """The AUC of the sentence pairs and the question AUC (best sentence against 'answerable'), and, where there are
    passage pairs, the same two over those."""
    figures: dict[str, float] = {}
    for unit in ("sentence", "passage"):
        rows = [n for n, p in enumerate(tune) if p.unit == unit]
        if rows:
            pairs, labels = [tune[n] for n in rows], np.array([tune[n].label for n in rows])
            figures |= {f"tune_{unit}_auc": round(auc(scores[rows], labels), 4),
                        f"tune_{unit}_question_auc": round(question_auc(pairs, scores[rows]), 4)}
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qa_tools.train_reader", description=__doc__.split("\n")[0])
    parser.add_argument("--squad", type=Path, default=Path("../shared/benchmarks/squad2-dev/squad2_dev.jsonl"))
    parser.add_argument("--work", type=Path, default=Path("build/reader"), help="cache and checkpoints")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--frozen", type=int, default=0, help="lower layers kept as the base model has them")
    parser.add_argument("--negatives", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N pairs only (a smoke run)")
    parser.add_argument("--domain", type=Path, default=None, metavar="CLAPNQ",
                        help="a second stage: go on from --init on the dev questions of both corpora (this CLAPNQ "
                             "folder's tune half) instead of SQuAD")
    parser.add_argument("--init", type=Path, default=None,
                        help="reader weights to start from (needed with --domain)")
    parser.add_argument("--passages", type=int, default=-1, metavar="N",
                        help="SQuAD stage: also train on (question, paragraph) pairs, each question's own paragraph "
                             "and N other paragraphs of its article per answerable question (-1: sentence pairs only)")
    parser.add_argument("--fold", type=int, default=-1,
                        help="with --domain, leave out the questions of this cross-validation fold (-1: none), so "
                             "that the gate can score each question with a reader that never saw it")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    random.seed(SEED)
    torch.manual_seed(SEED)
    args.work.mkdir(parents=True, exist_ok=True)
    path = model_path()
    model = cross_encoder(path)
    tokenizer = pair_tokenizer(path, args.max_tokens)
    if args.init is not None:
        from safetensors.torch import load_file

        model.load_state_dict({k: v.float() for k, v in load_file(str(args.init)).items()}, strict=False)
    if args.domain:
        from qa_tools.fit_confidence import fold_of

        if args.init is None:
            parser.error("--domain goes on from a trained reader: name it with --init")
        pairs = domain_pairs(args.domain, args.negatives)
        train = [p for p in pairs if fold_of(p.qid) != args.fold]
        tune = [p for p in pairs if fold_of(p.qid) == args.fold]
        tag = f"domain-fold{args.fold}-f{args.frozen}-n{args.negatives}-t{args.max_tokens}"
        data = "SQuAD 2.0 dev, then the dev questions of both corpora" + (f" but fold {args.fold}" if args.fold >= 0 else "")
    else:
        squad = args.squad / "squad2_dev.jsonl" if args.squad.is_dir() else args.squad
        pairs = squad_pairs(squad, args.negatives)
        if args.passages >= 0:
            pairs += squad_passage_pairs(squad, args.passages)
        train, tune = split(pairs)
        if args.limit:
            train, tune = train[:args.limit], tune[:args.limit // 4]
        tag = (f"f{args.frozen}-n{args.negatives}-t{args.max_tokens}-l{args.limit}"
               + (f"-p{args.passages}" if args.passages >= 0 else "") + ("-init" if args.init else ""))
        data = "SQuAD 2.0 dev" + (" (sentences and paragraphs)" if args.passages >= 0 else "")
    print(f"pairs: train {len(train)} ({sum(p.label for p in train)} positive), tune {len(tune)}", flush=True)
    info = fit(model, tokenizer, train, tune, args, tag) | {"data": data}
    if args.init is not None:
        info["init"] = json.loads(metadata(args.init).get("training", "{}"))
    print(json.dumps(info), flush=True)
    export(model, args.frozen, args.max_tokens, args.out, info)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)", flush=True)


if __name__ == "__main__":
    main()
