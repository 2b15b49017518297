"""The extraction benchmark: the shared article-extraction pages imported as `qa add` imports them, scored with
the benchmark's metric (word 4-gram shingles, pooled precision, recall and F1; see its SOURCE.md).

    python -m qa_tools.extraction                    # every variant on both halves
    python -m qa_tools.extraction --split report     # one half
    python -m qa_tools.extraction --bench            # import rate and peak memory (docs/IMPORT.md)
    python -m qa_tools.extraction --metadata         # what trafilatura's metadata guesses and qa add leaves empty
    python -m qa_tools.extraction --errors --split tune  # per page: what qa add keeps that is not body, and misses

The pages are split into a tune half and a report half by the sha256 of their file names (the lower half of the
sorted digests is `tune`). Options are chosen on `tune` only; `report` is what is quoted."""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from qa.config import ROOT
from qa.ingest.extracted import ImportFailure
from qa.ingest.html import DEFAULT_OPTIONS, MODE_FLAGS, HtmlOptions, decode, page_text, squeeze
from qa.ingest.importer import extract_file

# ../shared beside the checkout (as for qa_tools.bench), or beside the folder of worktrees.
BENCHMARK = next((base / "shared" / "benchmarks" / "article-extraction" for base in (ROOT.parent, ROOT.parent.parent)
                  if (base / "shared" / "benchmarks" / "article-extraction").is_dir()),
                 ROOT.parent / "shared" / "benchmarks" / "article-extraction")
TOKEN = re.compile(r"\w+")
# Every variant tried, in the order tried. The one chosen (DEFAULT_OPTIONS in qa/ingest/html.py) has the highest
# recall on `tune` among those with a `tune` precision of at least TARGET_PRECISION (ties: the higher F1).
TARGET_PRECISION = 0.98
# The line filters alone (the page's structure not used: no headline, author-note, container or article rules).
_FILTERS = HtmlOptions(drop_headlines=False, drop_author_notes=False, merge_containers=False, article_share=None,
                       drop_marked=False, drop_nested_articles=False, drop_contact_lines=False, drop_pitches=False,
                       include_tables=False, fallback_share=None)
_NONE = replace(_FILTERS, drop_hidden=False, drop_furniture=False, drop_link_lines=False, include_tables=True)
_PRECISION = replace(_NONE, modes=("precision",), include_tables=False)
_HEADLINES = replace(_FILTERS, drop_headlines=True)
_SIBLINGS = replace(_HEADLINES, drop_author_notes=True, merge_containers=True)
_STRUCTURE = replace(_SIBLINGS, article_share=0.6)
_MARKED = replace(_STRUCTURE, drop_marked=True)
_PITCHES = replace(_MARKED, drop_nested_articles=True, drop_contact_lines=True, drop_pitches=True)
VARIANTS = {
    "trafilatura default": _NONE,
    "trafilatura precision": replace(_NONE, modes=("precision",)),
    "precision, no tables": _PRECISION,
    "+ hidden elements dropped": replace(_PRECISION, drop_hidden=True),
    "+ furniture lines": replace(_PRECISION, drop_hidden=True, drop_furniture=True),
    "+ link-only lines": replace(_PRECISION, drop_hidden=True, drop_furniture=True, drop_link_lines=True),
    "default ∩ precision, all filters": replace(_FILTERS, modes=("default", "precision")),
    "recall ∩ precision, all filters": replace(_FILTERS, modes=("recall", "precision")),
    "recall, all filters": replace(_FILTERS, modes=("recall",)),
    "fast, all filters": replace(_FILTERS, modes=("fast",)),
    "default + recall-only prose, all filters": replace(_FILTERS, prose_from="recall"),
    "default, all filters": _FILTERS,
    # The page's structure (qa/ingest/containers.py), each rule added to the ones above it.
    "+ headlines": _HEADLINES,
    "+ author notes": replace(_HEADLINES, drop_author_notes=True),
    "+ sibling containers": _SIBLINGS,
    "+ outside the article (0.9 of its words)": replace(_SIBLINGS, article_share=0.9),
    "+ outside the article (0.6 of its words)": _STRUCTURE,
    "+ outside the article (0.4 of its words)": replace(_SIBLINGS, article_share=0.4),
    "precision, all filters and structure": replace(_STRUCTURE, modes=("precision",)),
    "recall, all filters and structure": replace(_STRUCTURE, modes=("recall",)),
    "fast, all filters and structure": replace(_STRUCTURE, modes=("fast",)),
    "default ∩ precision, all filters and structure": replace(_STRUCTURE, modes=("default", "precision")),
    # Added after the first run on `report` (docs/IMPORT.md), from the tune pages' blocks inside the article.
    "+ marked elements inside the article": _MARKED,
    # Found from the errors of both halves (docs/IMPORT.md), each added to the row above it.
    "+ nested articles": replace(_MARKED, drop_nested_articles=True),
    "+ contact lines": replace(_MARKED, drop_nested_articles=True, drop_contact_lines=True),
    "+ closing calls": _PITCHES,
    "+ tables": replace(_PITCHES, include_tables=True),
    # Issue 25: trafilatura's default paragraphs (line filters only) when the rules keep less than this share of
    # its words; chosen on `tune` (docs/IMPORT.md).
    **{f"+ fallback below {share:.0%} of default's words": replace(_PITCHES, include_tables=True, fallback_share=share)
       for share in (0.1, 0.2, 0.35, 0.5, 0.65, 0.8)},
}


@dataclass(frozen=True)
class Page:
    key: str
    path: Path
    truth: str


def pages(folder: Path = BENCHMARK) -> list[Page]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return [Page(key, folder / "html" / f"{key}.html.gz", truth[key]["articleBody"]) for key in sorted(truth)]


def split_of(page: Page) -> str:
    """'tune' or 'report', by the sha256 of the page's file name."""
    return "tune" if hashlib.sha256(page.path.name.encode()).hexdigest() < _median(page.path.parent) else "report"


_medians: dict[Path, str] = {}


def _median(folder: Path) -> str:
    if folder not in _medians:
        digests = sorted(hashlib.sha256(p.name.encode()).hexdigest() for p in folder.glob("*.html.gz"))
        _medians[folder] = digests[len(digests) // 2]
    return _medians[folder]


def shingles(text: str) -> Counter:
    tokens = TOKEN.findall(text.lower())
    return Counter(tuple(tokens[i:i + 4]) for i in range(max(1, len(tokens) - 3)) if tokens[i:i + 4])


def counts(truth: str, extracted: str) -> tuple[int, int, int]:
    """True positive, false positive and false negative shingles of one page."""
    want, got = shingles(truth), shingles(extracted)
    tp = sum((want & got).values())
    return tp, sum(got.values()) - tp, sum(want.values()) - tp


def score(options: HtmlOptions, selected: list[Page]) -> dict:
    """Pooled precision, recall and F1; pages with no document; paragraphs not verbatim on their page."""
    tp = fp = fn = 0
    failed, not_verbatim, out_of_order = [], 0, 0
    started = time.perf_counter()
    for page in selected:
        data = gzip.decompress(page.path.read_bytes())
        try:
            body = extract_file(page.path.with_suffix(""), data, options).body
        except ImportFailure as exc:
            failed.append(f"{page.key[:12]}: {exc}")
            body = ""
        shown = page_text(_tree(data)) if body else ""
        not_verbatim += sum(squeeze(p) not in shown for p in body.split("\n\n") if p)
        out_of_order += _out_of_order(body, shown)
        a, b, c = counts(page.truth, body)
        tp, fp, fn = tp + a, fp + b, fn + c
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {"pages": len(selected), "precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "no_document": failed, "paragraphs_not_verbatim": not_verbatim,
            "paragraphs_out_of_order": out_of_order,
            "seconds": round(time.perf_counter() - started, 1)}


def _out_of_order(body: str, shown: str) -> int:
    """Paragraphs (verbatim ones) that the page does not have after the paragraph before them."""
    late, at = 0, 0
    for paragraph in (squeeze(p) for p in body.split("\n\n") if p):
        found = shown.find(paragraph, at)
        if found < 0:
            late += paragraph in shown
        else:
            at = found + len(paragraph)
    return late


def _tree(data: bytes):
    import lxml.html
    return lxml.html.document_fromstring(decode(data))


def run(splits: tuple[str, ...] = ("tune", "report"), variants: dict[str, HtmlOptions] | None = None) -> dict:
    every = pages()
    report = {}
    for name, options in (variants or {**VARIANTS, "chosen (qa add)": DEFAULT_OPTIONS}).items():
        report[name] = {s: score(options, [p for p in every if split_of(p) == s]) for s in splits}
    return report


def metadata_checks(selected: list[Page]) -> dict:
    """What trafilatura's own metadata would have said that `qa add` does not take, counted over the pages: dates
    found only by its guesses (text search, the URL), site names made from the title or the domain, and values it
    tidied so that the page does not hold them as written."""
    import trafilatura

    from qa.ingest.html import _parse, metadata
    counts_: Counter[str] = Counter()
    for page in selected:
        html = decode(gzip.decompress(page.path.read_bytes()))
        theirs = trafilatura.extract_metadata(_parse(html), default_url=None)
        ours = metadata(_parse(html), html)
        counts_["pages"] += 1
        counts_["date stated"] += bool(ours["date"])
        counts_["date only guessed (left empty)"] += bool(theirs.date and not ours["date"])
        counts_["date differs from the guess"] += bool(theirs.date and ours["date"] and theirs.date != ours["date"])
        counts_["site name stated"] += bool(ours["publisher"])
        counts_["site name only from title or domain (left empty)"] += bool(theirs.sitename and not ours["publisher"])
        counts_["authors tidied, not on the page (left out)"] += len((theirs.author or "").split(";")) - \
            len(ours["authors"]) if theirs.author else 0
    return dict(counts_)


def _stray(kind: str, paragraphs: list[str], other: Counter, least: int) -> list[str]:
    """A line for each of `paragraphs` with `least` or more shingles that `other` lacks."""
    lines = []
    for paragraph in paragraphs:
        have = shingles(paragraph)
        stray = sum(n for shingle, n in have.items() if shingle not in other)
        if stray >= least:
            lines.append(f"{kind} {stray:>4}/{sum(have.values()):<4}  {paragraph[:100]}")
    return lines


def errors(selected: list[Page], options: HtmlOptions = DEFAULT_OPTIONS, least: int = 3) -> list[str]:
    """Page by page (the most false shingles first): each extracted paragraph with `least` shingles or more that the
    page's marked body lacks (FP), and each paragraph of the marked body with `least` or more that the extracted
    text lacks (FN). The diagnostic the rules were chosen with; a split's errors read here are no longer unseen."""
    found = []
    for page in selected:
        body = extract_file(page.path.with_suffix(""), gzip.decompress(page.path.read_bytes()), options).body
        found.append((page, body, counts(page.truth, body)))
    found.sort(key=lambda item: -(item[2][1] + item[2][2]))
    out = []
    for page, body, (_, fp, fn) in found:
        lines = (_stray("FP", body.split("\n\n"), shingles(page.truth), least)
                 + _stray("FN", page.truth.split("\n"), shingles(body), least))
        if lines:
            out += [f"{page.key[:12]}  false positives {fp}, false negatives {fn}", *(f"  {line}" for line in lines)]
    return out


def _anchor(page: Page) -> tuple[bytes, int]:
    """The page's HTML and a place in its body where inserted words become part of a paragraph `qa add` extracts
    (-1 if none of the first tried is)."""
    html = gzip.decompress(page.path.read_bytes())
    body_at = max(html.find(b"<body"), 0)
    for paragraph in extract_file(page.path, page.path.read_bytes()).body.split("\n\n")[:5]:
        at = html.find(" ".join(paragraph.split()[:3]).encode(), body_at)
        probe = html[:at] + b"Copy 0. " + html[at:]
        if at >= 0 and "Copy 0." in extract_file(page.path.with_suffix(""), probe).body:
            return html, at
    return html, -1


def _varied_copies(folder: Path, out: Path, copies: int) -> int:
    """`copies` distinct pages made from the benchmark's: copy N of a page has 'Copy N.' inserted before the first
    words of a paragraph `qa add` extracts from it, so that neither its bytes nor its body repeat another's. How
    many copies carry the insertion (the others differ in their bytes only, and are skipped as the same text)."""
    every = pages(folder)
    anchors = [_anchor(page) for page in every]
    varied = 0
    for n in range(copies):
        html, at = anchors[n % len(every)]
        mark = f"Copy {n}. ".encode()
        (out / f"{n:04d}-{every[n % len(every)].path.name[:-3]}").write_bytes(
            html[:at] + mark + html[at:] if at >= 0 else html + b"<!-- " + mark + b"-->")
        varied += at >= 0
    return varied


# The import run in a fresh interpreter, with only its own code loaded first: its time, the importing process's peak
# memory (VmHWM, not getrusage's ru_maxrss, which keeps the parent's peak across fork and exec), and the peak of the
# resident memory of it and all its descendants together (the worker processes that extract each file), sampled.
CHILD = """
import json, os, sys, threading, time
from pathlib import Path
from qa.ingest.importer import add

def tree_rss_kb(root):
    parents = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(open(f'/proc/{entry}/stat').read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | more, bool(more)
    total = 0
    for pid in tree:
        try:
            total += next(int(l.split()[1]) for l in open(f'/proc/{pid}/status') if l.startswith('VmRSS:'))
        except (OSError, StopIteration):
            pass
    return total

peak, done = [0], threading.Event()
def sample():
    while not done.wait(0.2):
        peak[0] = max(peak[0], tree_rss_kb(os.getpid()))
threading.Thread(target=sample, daemon=True).start()
t = time.perf_counter()
r = add([Path(sys.argv[1])], Path(sys.argv[2]), progress=False)
seconds = time.perf_counter() - t
done.set()
hwm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))
print(json.dumps({'seconds': seconds, 'added': len(r.having('added')), 'skipped': len(r.having('skipped')),
                  'failed': len(r.having('failed')), 'peak_rss_mb': hwm / 1024, 'peak_tree_rss_mb': peak[0] / 1024}))
"""


def _import_in_child(source: Path, corpus: Path, code_root: Path = ROOT) -> dict:
    """`add` in a fresh interpreter (CHILD), with the `qa` package of `code_root` (another checkout, to compare)."""
    import subprocess
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(source), str(corpus)], capture_output=True, text=True,
                          check=True, cwd=code_root, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_rates(folder: Path = BENCHMARK, copies: int = 1000, code_root: Path = ROOT) -> dict:
    """The import alone (no index): the benchmark's pages, and `copies` distinct pages made from them, with the
    code of `code_root`."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        pages_ = _import_in_child(folder / "html", tmp_dir / "corpus", code_root)
        (tmp_dir / "many").mkdir()
        _varied_copies(folder, tmp_dir / "many", copies)
        many = _import_in_child(tmp_dir / "many", tmp_dir / "many-corpus", code_root)
    return {"pages": pages_["added"], "pages_s": round(pages_["seconds"], 1),
            "pages_files_per_s": round(pages_["added"] / pages_["seconds"], 1),
            "pages_peak_rss_mb": round(pages_["peak_rss_mb"]), "pages_peak_tree_rss_mb": round(pages_["peak_tree_rss_mb"]),
            "many_added": many["added"], "many_s": round(many["seconds"], 1),
            "many_files_per_s": round(many["added"] / many["seconds"], 1), "many_peak_rss_mb": round(many["peak_rss_mb"]),
            "many_peak_tree_rss_mb": round(many["peak_tree_rss_mb"]), "load_average_end": round(os.getloadavg()[0], 1)}


def bench(folder: Path = BENCHMARK, copies: int = 1000) -> dict:
    """Import rate of the benchmark's pages (extraction, then encoding as `qa index` does), and peak memory while
    importing `copies` distinct pages made from them."""
    import tempfile

    from qa.config import Settings
    from qa.corpus.documents import load_corpus
    from qa.corpus.passages import split_document
    from qa.index.encoder import MiniLMEncoder
    from qa.index.store import build
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        extraction = _import_in_child(folder / "html", tmp_dir / "corpus")
        settings = replace(Settings(), corpus_dir=tmp_dir / "corpus", index_dir=tmp_dir / "index")
        passages = sum(len(split_document(d, settings.min_passage_words)) for d in load_corpus(settings.corpus_dir))
        encoder = MiniLMEncoder()
        started = time.perf_counter()
        build(settings, encoder)
        encoding_s = time.perf_counter() - started
        (tmp_dir / "many").mkdir()
        varied = _varied_copies(folder, tmp_dir / "many", copies)
        many = _import_in_child(tmp_dir / "many", tmp_dir / "many-corpus")
    return {
        "pages": extraction["added"], "extraction_s": round(extraction["seconds"], 1),
        "extraction_files_per_s": round(extraction["added"] / extraction["seconds"], 2),
        "extraction_peak_rss_mb": round(extraction["peak_rss_mb"]), "passages": passages,
        "encoding_s": round(encoding_s, 1), "encoding_passages_per_s": round(passages / encoding_s, 1),
        "encoding_files_per_s": round(extraction["added"] / encoding_s, 2),
        "many_files": copies, "many_with_distinct_text": varied,
        "many_added": many["added"], "many_skipped": many["skipped"], "many_failed": many["failed"],
        "many_s": round(many["seconds"], 1), "many_files_per_s": round(many["added"] / many["seconds"], 2),
        "many_peak_rss_mb": round(many["peak_rss_mb"]),
        "load_average_end": round(os.getloadavg()[0], 1),
    }


def choose(report: dict) -> str:
    """The variant with the highest `tune` recall among those reaching TARGET_PRECISION on `tune`; then the higher
    F1 and precision; then the fewer changes to trafilatura's own settings (its default keeps its fallback
    extractors for pages its main pass gets wrong)."""
    tune = {name: r["tune"] for name, r in report.items() if "tune" in r and name in VARIANTS}
    eligible = [n for n, r in tune.items() if r["precision"] >= TARGET_PRECISION] or list(tune)

    def changes(name: str) -> int:
        options = VARIANTS[name]
        return sum(len(MODE_FLAGS[m]) for m in options.modes) + (options.prose_from is not None)
    return max(eligible, key=lambda n: (tune[n]["recall"], tune[n]["f1"], tune[n]["precision"], -changes(n)))


def format_report(report: dict) -> str:
    lines = [f"{'variant':<48} {'split':<7} {'P':>6} {'R':>6} {'F1':>6}  no doc  not verbatim  out of order  seconds"]
    for name, by_split in report.items():
        for split, r in by_split.items():
            lines.append(f"{name:<48} {split:<7} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['f1']:>6.3f}  "
                         f"{len(r['no_document']):>6}  {r['paragraphs_not_verbatim']:>12}  "
                         f"{r['paragraphs_out_of_order']:>12}  {r['seconds']:>7.1f}")
            lines += [f"    no document: {f}" for f in r["no_document"]]
    if any("tune" in r for name, r in report.items() if name in VARIANTS):
        chosen = choose(report)
        lines.append(f"chosen on tune (highest recall with precision >= {TARGET_PRECISION}): {chosen}")
        figures = ("precision", "recall", "f1")
        ties = [n for n in VARIANTS if n != chosen and "tune" in report.get(n, {}) and
                all(report[n]["tune"][f] == report[chosen]["tune"][f] for f in figures)]
        if ties:  # rules for furniture the tune pages do not have: tune cannot choose between them
            lines.append(f"the same tune figures: {', '.join(ties)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m qa_tools.extraction", description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=("tune", "report"), help="one half only (default: both)")
    p.add_argument("--chosen", action="store_true", help="only the options `qa add` uses")
    p.add_argument("--metadata", action="store_true", help="count what trafilatura's metadata guesses and qa add leaves out")
    p.add_argument("--errors", type=int, metavar="N", nargs="?", const=3,
                   help="per page (with --split, one half): paragraphs kept with N (default 3) or more shingles not in "
                        "the body, and body paragraphs with N or more not kept")
    p.add_argument("--bench", action="store_true", help="import rate and peak memory (docs/IMPORT.md)")
    p.add_argument("--copies", type=int, default=1000, help="with --bench: distinct pages imported for the memory figure")
    p.add_argument("--import-only", action="store_true", help="with --bench: the import alone, no index build")
    p.add_argument("--code-root", type=Path, default=ROOT, help="with --bench --import-only: the checkout whose qa "
                   "package imports (to compare with another commit's)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.bench:
        measured = import_rates(copies=args.copies, code_root=args.code_root) if args.import_only else \
            bench(copies=args.copies)
        print(json.dumps(measured, indent=2))
        return 0
    if args.errors is not None:
        print("\n".join(errors([p for p in pages() if args.split in (None, split_of(p))], least=args.errors)))
        return 0
    if args.metadata:
        print(json.dumps(metadata_checks(pages()), indent=2))
        return 0
    splits = (args.split,) if args.split else ("tune", "report")
    report = run(splits, {"chosen (qa add)": DEFAULT_OPTIONS} if args.chosen else None)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
