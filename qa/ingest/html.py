"""Web pages: the article's paragraphs (and tables, a row as its cells) with trafilatura, kept only when they are
verbatim on the page, not page furniture and inside the article's element, with the article's other containers
added (qa/ingest/containers.py); metadata only as the page's markup states it.

The options were chosen on the tune half of the shared extraction benchmark (`python -m qa_tools.extraction`,
docs/IMPORT.md); the nested-article, contact-line, pitch and table rules from the errors of its report half."""
from __future__ import annotations

import codecs
import datetime as dt
import json
import logging
import re
import unicodedata
from copy import deepcopy
from dataclasses import dataclass, replace
from html import unescape
from importlib.metadata import version

import lxml.html
import trafilatura
from htmldate.core import examine_header
from htmldate.extractors import json_search
from htmldate.utils import Extractor
from htmldate.validators import get_max_date, get_min_date
from lxml.etree import ParserError
from trafilatura.metadata import examine_meta, extract_meta_json

from qa.ingest.containers import (
    article_root,
    blocks_of,
    locate,
    outside_nested_articles,
    squeeze,
    with_sibling_containers,
    within_article,
    without_contact_lines,
)
from qa.ingest.extracted import Extracted, ImportFailure
from qa.ingest.text import bom_encoding

CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
LIST_MARKER = re.compile(r"^(?:[-*•]|\d+\.)(?: |$)")  # what trafilatura's text output puts before a list item
TABLE_ROW = re.compile(r"^\|(.*)\|$")  # and around a table's cells: "| 1 | Kyle Busch | 5040 |"
SEPARATOR_ROW = re.compile(r"^\|(?:\s*:?-+:?\s*\|)+$")  # and below a table's header: its own markup, on no page
HIDDEN = ('//*[@hidden or @aria-hidden="true" or contains(translate(@style, " ", ""), "display:none") '
          'or contains(translate(@style, " ", ""), "visibility:hidden")]')
# Classes of elements a page shows only on hover or to screen readers (pop-up cards inside a paragraph's links).
# Each class name is tested alone, and only up to CLASS_NAME characters: one pattern over the whole attribute
# (`[\w-]*tooltip[\w-]*` between spaces) backtracked for minutes on a page with a class of 100,000 letters.
HIDDEN_CLASS_WORD = re.compile(r"tooltip|popover|popup|hover-?card|(?:rollover|hover)[\w-]*?(?:block|card|box)",
                               re.IGNORECASE)
HIDDEN_CLASS_NAMES = {"sr-only", "visually-hidden", "screen-reader-text", "element-hidden"}
CLASS_NAME = 200
UNSHOWN = "//script|//style|//noscript|//template"
# Lines that are a page's furniture rather than its article, whatever the page: labels standing alone or before a
# colon, time stamps of updates, calls to read more, share, follow, listen or subscribe, credits of the reporting
# and of pictures, and headlines tagged like "[VIDEO]". A sentence that merely starts with such a word is kept.
CALL = r"(?:share|follow|watch|listen|sign up|subscribe|click here|if you enjoyed|read more|see more|see also)\b"
FURNITURE = re.compile(
    r"^(?:(?:photo|image|picture|video|graphic|credit|caption|source|file photo|advertisement|related|more|"
    r"most read|most popular|comments?|editor'?s note|tempo de leitura)\b[^.!?]{0,60}(?::.*|\|.*)?$"
    r"|(?:updated|last updated|published|posted)\b(?: at| on)?:?\s*\d.{0,40}$"
    rf"|{CALL}.*"
    r"|\(?(?:reporting by|additional reporting|editing by|contributing:).*"
    r"|.{0,80}\bcontributed(?: reporting)? to this (?:report|story|article)\.?"
    r"|.{0,60}\b(?:getty images|reuters|associated press|afp|ap photo|shutterstock)\)?\.?$"
    r"|\(?(?:photo|image|credit)s?:.*"
    r"|.*\[[A-Z]{3,}\]\|?$)", re.IGNORECASE)
# Publication and update stamps in any place of a short line ("New Delhi, Bureau | Updated : 19 November 2019, 09:01
# AM"), or starting one ("First Published: Tuesday, November 19, 2019").
STAMP = re.compile(r"^(?=(?:\S+\s+){0,14}\S+$).*\b(?:updated|published|posted|modified)\b(?:\s+(?:at|on))?\s*:.*\d"
                   r"|^(?:first |last )?(?:updated|published|posted|modified)\b(?:\s+(?:at|on))?:?\s*"
                   r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?(?:\w{3,9}\.?\s+)?\d.{0,40}$"
                   # and a date with its time standing alone, in any language ("sexta-feira, 22 de outubro de 2010
                   # às 20:13"): ten words at most, a year and a clock time, no sentence's end
                   r"|^(?=.*\b(?:19|20)\d\d\b)(?=.*\b\d{1,2}[:h]\d\d\b)(?:\S+\s+){0,9}\S+(?<![.!?])$", re.IGNORECASE)
# A short paragraph that ends with such a call is a pitch ("Get the latest updates in your inbox. Subscribe to our
# newsletters."), not the article's.
CLOSING_CALL = re.compile(rf"(?:^|[.!?]\s+){CALL}(?:[^.!?]|[.!?](?!\s))*$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
PITCH_WORDS, PITCH_SENTENCES = 40, 3
LINK_WORDS = 5  # shorter link-only lines (product names, short URLs in a list) are an article's own more often
BYLINE = re.compile(r"^by\s+[A-Z][^.!?]{0,60}$", re.IGNORECASE)


@dataclass(frozen=True)
class HtmlOptions:
    """How the article's paragraphs are chosen (measured in qa_tools/extraction.py)."""

    # A paragraph is kept only when trafilatura extracts it in every one of these modes (MODE_FLAGS): a paragraph
    # that only one mode keeps is the one most likely to be furniture.
    modes: tuple[str, ...] = ("default",)
    drop_hidden: bool = True  # elements the page hides (hidden, aria-hidden, display:none): tooltips, pop-ups
    drop_furniture: bool = True  # the FURNITURE and BYLINE lines above, and datelines in capitals standing alone
    drop_pitches: bool = True  # a short paragraph that ends with such a call (is_pitch)
    drop_link_lines: bool = True  # a paragraph of LINK_WORDS or more that is all one link's text: a related headline
    include_tables: bool = True  # a table row is kept as its cells (_verbatim)
    # Paragraphs that only this mode (e.g. "recall") extracts are kept too when they read as prose: PROSE_WORDS words
    # or more, ending like a sentence. trafilatura's default misses the rest of an article split by advertisements.
    prose_from: str | None = None
    # The page's structure (qa/ingest/containers.py):
    drop_headlines: bool = True  # a paragraph that is the page's headline: an h1's text, or its og:/twitter:title
    drop_author_notes: bool = True  # a paragraph that starts like a note on its author: a bio, a book promo
    merge_containers: bool = True  # the article's other containers: an article split around advertisements
    # Paragraphs outside the innermost element holding this share of the article's words are dropped (None: kept).
    article_share: float | None = 0.6
    drop_marked: bool = True  # and the paragraphs inside it in an element marked as not the article's (a caption)
    drop_nested_articles: bool = True  # paragraphs in an `article` inside another: comments, related articles
    drop_contact_lines: bool = True  # short paragraphs linking to an e-mail address or a social-network profile
    # When the rules keep less than this share of the words trafilatura's default extracts (verbatim, not hidden),
    # the page's body is that default's paragraphs instead, with the line filters alone (FALLBACK): the rules never
    # lose a whole article. None: no fallback.
    fallback_share: float | None = 0.1


PROSE_WORDS = 15
PROSE_END = re.compile(r"[.!?…][\"”’)]*$")
DEFAULT_OPTIONS = HtmlOptions()
# What a page falls back to: trafilatura's default paragraphs, verbatim and not hidden, without furniture lines,
# pitches and related headlines; none of the page-structure rules (those are what lost the article).
FALLBACK = HtmlOptions(drop_headlines=False, drop_author_notes=False, merge_containers=False, article_share=None,
                       drop_marked=False, drop_nested_articles=False, drop_contact_lines=False, fallback_share=None)
# trafilatura logs its own fallbacks (e.g. "readability_lxml failed") as warnings; they are not the user's concern.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
MODE_FLAGS = {"default": {}, "precision": {"favor_precision": True}, "recall": {"favor_recall": True},
              "fast": {"fast": True}}  # "fast": the default without trafilatura's fallback extractors


XML_DECLARATION = re.compile(r"""^\s*<\?xml[^>]*\?>""")
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
# Characters an XML tree cannot hold (C0 controls but tab, line feed and carriage return; U+FFFE, U+FFFF): lxml
# refuses text with them inside trafilatura, which then finds no article at all. A browser shows none of them;
# a form feed is white space to it.
NOT_XML = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffe\uffff]")
# The HTML standard reads a page labelled Latin-1 or ASCII as windows-1252, as pages so labelled were written on
# Windows: 0x93 and 0x94 are curly quotes, not the C1 controls Python's latin-1 makes of them. The five bytes
# windows-1252 leaves undefined stay those controls, as the standard says.
LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "cp819", "ibm819", "us-ascii",
                 "ascii", "windows-1252", "cp1252", "x-cp1252"}
WINDOWS_1252 = {b: bytes([b]).decode("cp1252") for b in range(0x80, 0xa0) if b not in (0x81, 0x8d, 0x8f, 0x90, 0x9d)}
# The encodings browsers decode (the WHATWG Encoding Standard), as Python's codecs name them, and its labels Python
# spells otherwise. A page labelled with any other (UTF-7, UTF-32, EBCDIC ...) would be shown by no browser as the
# characters Python would make of it.
BROWSER_CODECS = frozenset((
    "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp866", "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic",
    "cp874", *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)), *(f"cp{n}" for n in range(1250, 1259)),
    "gbk", "gb2312", "gb18030", "big5", "euc_jp", "iso2022_jp", "shift_jis", "euc_kr"))
WHATWG_ALIASES = {"windows-874": "cp874", "x-mac-cyrillic": "mac-cyrillic"}
MAX_DEPTH = 2048  # libxml2's limit on nested elements with huge_tree (256 without it)


def decode(data: bytes) -> str:
    """The page's text in the encoding its byte order mark states, else the one it declares (`<meta charset>`, else
    an XML declaration's), else UTF-8."""
    bom = bom_encoding(data)
    declared = CHARSET.search(data[:4096]) or XML_ENCODING.match(data[:1024])
    encoding = bom or (declared.group(1).decode("ascii").lower() if declared else "utf-8")
    if bom is None and encoding.replace("-", "").replace("_", "") in ("utf16", "utf16le", "utf16be"):
        encoding = "utf-8"  # a page read as bytes without a BOM is not UTF-16, whatever its meta says (HTML standard)
    if encoding in LATIN1_LABELS:
        return data.decode("latin-1").translate(WINDOWS_1252)
    try:
        codec = codecs.lookup(WHATWG_ALIASES.get(encoding, encoding)).name
    except LookupError:
        raise ImportFailure(f"the page declares an unknown character set {encoding!r}") from None
    if codec not in BROWSER_CODECS:
        raise ImportFailure(f"the page declares the character set {encoding!r}, which browsers do not decode, so "
                            "no reader sees the text it would give; save the page again as UTF-8")
    try:
        return data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        where = f"(byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        if not (bom or declared):
            raise ImportFailure(f"not UTF-8, and the page declares no other character set {where}; if it is a web "
                                "page, save it again as UTF-8") from None
        raise ImportFailure(f"the page is not valid {encoding} {where}; save it again in the encoding it "
                            "declares") from None


def _parse(html: str) -> lxml.html.HtmlElement:
    # lxml refuses a str that starts with an XML declaration naming an encoding (XHTML): it is decoded already.
    html = NOT_XML.sub("", XML_DECLARATION.sub("", html, count=1).replace("\x0c", " "))
    parser = lxml.html.HTMLParser(huge_tree=True)  # else libxml2 reads nothing of a page nested 256 deep
    try:
        tree = lxml.html.document_fromstring(html, parser=parser)
    except (ParserError, ValueError):
        raise ImportFailure("the file holds no HTML that can be read") from None
    if any("Excessive depth" in error.message for error in parser.error_log):  # libxml2 stopped reading there
        raise ImportFailure(f"the page nests its elements more than {MAX_DEPTH:,} deep, which the HTML parser does "
                            "not read; it cannot be imported whole")
    return tree


def shown_text(tree: lxml.html.HtmlElement) -> str:
    """Everything the page shows as text (scripts and styles aside), as the page has it."""
    shown = deepcopy(tree)
    for element in shown.xpath(UNSHOWN):
        element.drop_tree()
    return shown.text_content()


def page_text(tree: lxml.html.HtmlElement) -> str:
    """Everything the page shows as text, squeezed: each extracted paragraph must be a part of it."""
    return squeeze(shown_text(tree))


def folded(text: str) -> tuple[str, list[int], list[int]]:
    """`text` as trafilatura gives it back, without white space: its characters that are not printable (soft
    hyphens, zero-width joiners, direction marks: Unicode's format characters) left out, and NFC-normalised
    (decomposed accents composed). With, for each folded character, the start and end offsets in `text` of the
    characters it comes from (a base character and its combining marks go together)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cluster: list[str] = []
    begin = end = 0

    def flush() -> None:
        for char in unicodedata.normalize("NFC", "".join(cluster)):
            out.append(char)
            starts.append(begin)
            ends.append(end)
    for at, char in enumerate(text):
        if char.isspace() or not char.isprintable():
            continue
        if not (cluster and unicodedata.combining(char)):
            flush()
            cluster, begin = [], at
        cluster.append(char)
        end = at + 1
    flush()
    return "".join(out), starts, ends


def _mode_lines(tree: lxml.html.HtmlElement, mode: str, options: HtmlOptions) -> list[str]:
    text = trafilatura.extract(deepcopy(tree), output_format="txt", include_comments=False, include_images=False,
                               include_tables=options.include_tables, include_formatting=False,
                               favor_precision=MODE_FLAGS[mode].get("favor_precision", False),
                               favor_recall=MODE_FLAGS[mode].get("favor_recall", False),
                               fast=MODE_FLAGS[mode].get("fast", False))
    return [" ".join(line.split()) for line in (text or "").split("\n") if line.strip()]


class _Shown:
    """The page's shown text, searched first from where the paragraph before was found, then from its start. The
    paragraphs come in page order, so each search is short: one from the start for each of 20,000 short paragraphs
    took 3 s on a 1.5 MB page (quadratic: a 50 MB page would take hours)."""

    def __init__(self, raw: str):
        self.raw, self.text, self.at = raw, squeeze(raw), 0
        self._folded: tuple[str, list[int], list[int]] | None = None
        self.folded_at = 0

    def __contains__(self, key: str) -> bool:
        found = self.text.find(key, self.at)
        if found < 0:
            found = self.text.find(key)
        if found >= 0:
            self.at = found
        return found >= 0

    def own(self, line: str) -> str | None:
        """The page's own characters for a line whose text trafilatura changed (`folded`: invisible characters
        left out, accents composed), white space collapsed; None if the line is not on the page even so."""
        if self._folded is None:  # only pages with such characters pay for it
            self._folded = folded(self.raw)
        text, starts, ends = self._folded
        key = folded(line)[0]
        found = text.find(key, self.folded_at)
        if found < 0:
            found = text.find(key)
        if found < 0 or not key:
            return None
        self.folded_at = found
        start, end = starts[found], ends[found + len(key) - 1]
        while start and _invisible(self.raw[start - 1]):  # a direction mark before the first letter is the line's too
            start -= 1
        while end < len(self.raw) and _invisible(self.raw[end]):
            end += 1
        return " ".join(self.raw[start:end].split())


def _invisible(char: str) -> bool:
    return not (char.isprintable() or char.isspace())


def _verbatim(line: str, shown: _Shown) -> str | None:
    """The line as the page has it: without the list marker or the cell separators trafilatura adds (a table's row
    becomes its cells' text, a space between each); None if it is not on the page, or is a marker alone."""
    if LIST_MARKER.sub("", line) == "":
        return None  # an empty list item: its marker alone would be found anywhere on the page
    if squeeze(line) in shown:
        return line
    row = TABLE_ROW.match(line)
    unmarked = " ".join(row.group(1).replace(" | ", " ").split()) if row else LIST_MARKER.sub("", line)
    if unmarked and unmarked != line and squeeze(unmarked) in shown:
        return unmarked
    return shown.own(line) or (shown.own(unmarked) if unmarked and unmarked != line else None)


def is_furniture(line: str, title: str) -> bool:
    """A caption, credit, call to share or subscribe, update stamp, byline, repeated title, or a dateline."""
    words = line.split()
    if FURNITURE.match(line) or STAMP.search(line) or (BYLINE.match(line) and len(words) <= 8) or line == title:
        return True
    return len(words) <= 4 and line.upper() == line and any(c.isalpha() for c in line) and not line.endswith((".", "!", "?"))


def is_pitch(line: str) -> bool:
    """A short paragraph ending with a call to sign up, subscribe, follow or click: a newsletter's or magazine's pitch."""
    return len(line.split()) <= PITCH_WORDS and len(SENTENCE_END.findall(line)) <= PITCH_SENTENCES and \
        CLOSING_CALL.search(line) is not None


def hidden_class(attribute: str) -> bool:
    """A class attribute naming an element shown only on hover or to screen readers."""
    return any(name.lower() in HIDDEN_CLASS_NAMES or HIDDEN_CLASS_WORD.search(name)
               for name in attribute.split() if len(name) <= CLASS_NAME and re.fullmatch(r"[\w-]+", name))


def _without_hidden(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    tree = deepcopy(tree)
    hidden = tree.xpath(HIDDEN) + [e for e in tree.xpath("//*[@class]") if hidden_class(e.get("class", ""))]
    for element in hidden:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the element's tail: the text after it belongs to its parent
    return tree


def link_texts(tree: lxml.html.HtmlElement) -> set[str]:
    """The squeezed text of every link on the page."""
    return {squeeze(a.text_content()) for a in tree.iter("a")} - {""}


# After an author's name, the start of a note about the writer ("… is a reporter", "…'s book"), not of a sentence
# of the article that reports what she did.
AUTHOR_NOTE = r"(?:['’]s\b|\s+(?:is|was|writes|covers|reports)\b)"
HEADLINE_META = '//meta[@property="og:title" or @name="twitter:title" or @property="twitter:title"]/@content'


def paragraphs(tree: lxml.html.HtmlElement, options: HtmlOptions = DEFAULT_OPTIONS, title: str = "",
               authors: tuple[str, ...] = (), memo: dict | None = None, unmatched: list[str] | None = None) -> list[str]:
    """The article's paragraphs, in page order, each verbatim from the page up to white space. `memo` keeps
    trafilatura's lines between calls on the same page (the fallback reads the same ones); `unmatched` gets the
    lines trafilatura extracted that are not on the page, even with its changes undone (they are left out)."""
    shown, links = _Shown(shown_text(tree)), link_texts(tree)
    memo = {} if memo is None else memo
    if options.drop_hidden:
        if "without hidden" not in memo:
            memo["without hidden"] = _without_hidden(tree)
        tree = memo["without hidden"]

    def lines(mode: str) -> list[str]:
        key = (mode, options.include_tables, options.drop_hidden)
        if key not in memo:
            memo[key] = _mode_lines(tree, mode, options)
        return memo[key]
    first, *others = [lines(mode) for mode in options.modes]
    agreed = set(first).intersection(*others)
    sequence = first
    if options.prose_from:
        wider = lines(options.prose_from)
        if agreed <= set(wider):  # its order then holds every agreed paragraph
            sequence = wider
            agreed |= {line for line in wider if len(line.split()) >= PROSE_WORDS and PROSE_END.search(line)}
    headlines = {squeeze(t) for t in [h.text_content() for h in tree.iter("h1")] + tree.xpath(HEADLINE_META)} - {""}
    named = [a for a in authors if " " in a]  # a full name, not a handle or a single word

    def keep(line: str) -> bool:
        return not ((options.drop_furniture and is_furniture(line, title)) or
                    (options.drop_pitches and is_pitch(line)) or
                    (options.drop_link_lines and len(line.split()) >= LINK_WORDS and squeeze(line) in links) or
                    (options.drop_headlines and squeeze(line) in headlines) or
                    (options.drop_author_notes and any(re.match(re.escape(a) + AUTHOR_NOTE, line) for a in named)))

    def accept(line: str) -> str | None:
        verbatim = _verbatim(line, shown)
        return verbatim if verbatim is not None and keep(verbatim) else None
    kept: list[str] = []
    for line in (line for line in sequence if line in agreed):
        verbatim = _verbatim(line, shown)
        if verbatim is None and unmatched is not None and LIST_MARKER.sub("", line) and not SEPARATOR_ROW.match(line):
            unmatched.append(line)
        if verbatim is not None and keep(verbatim) and verbatim != (kept[-1] if kept else None):  # a table's header
            kept.append(verbatim)                                                                # given twice
    if not (options.merge_containers or options.article_share or options.drop_nested_articles or
            options.drop_contact_lines):
        return kept
    blocks = blocks_of(tree)
    placed = locate(blocks, kept)
    if options.drop_nested_articles:  # before the article's element is found: a list of teasers may hold most words
        placed = outside_nested_articles(blocks, placed)
    root = article_root(blocks, placed, options.article_share) if options.article_share else None
    if root is not None:
        placed = within_article(blocks, placed, root, options.drop_marked)
    if options.merge_containers:  # after: the other containers may well be outside the one that holds most words
        placed = with_sibling_containers(blocks, placed, accept)
    if options.drop_contact_lines:  # last: they are found at the article's end
        placed = without_contact_lines(blocks, placed)
    return placed.lines


def _stated(value: str | None, source: str) -> str:
    """`value` with its white space collapsed if the page's source holds it as written (trafilatura tidies some
    values, e.g. drops the dots of initials), else ''."""
    value = " ".join((value or "").split())
    return value if value and squeeze(value) in source else ""


JSON_LD = '//script[@type="application/ld+json"]'


def _unreadable(script: lxml.html.HtmlElement) -> bool:
    try:
        json.loads(script.text or "null")
    except RecursionError:
        return True
    except ValueError:
        pass  # invalid JSON: trafilatura skips it itself
    return False


def _without_unreadable_json_ld(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """`tree` without the JSON-LD blocks nested too deeply for Python's json (trafilatura's metadata would raise
    RecursionError on them): such a block states nothing that can be read."""
    if not any(_unreadable(script) for script in tree.xpath(JSON_LD)):
        return tree
    tree = deepcopy(tree)
    for script in tree.xpath(JSON_LD):
        if _unreadable(script):
            script.drop_tree()
    return tree


CANONICAL = '//link[@rel="canonical"]/@href|//meta[@property="og:url"]/@content'


TIME_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[T\s]|$)")  # a valid date string of the HTML standard, or a time's


def stated_date(tree: lxml.html.HtmlElement) -> str | None:
    """The publication date the page states about itself: its meta tags, else its JSON-LD (htmldate's readers of
    these two), else the `datetime` of its `<time>` elements outside figures and asides (the one marked as the
    publication's first). Not htmldate's other searches (the URL, the text, image names, phrases like "Published
    on"): they read what the page says about other things ("This March 28, 2017, file photo"), and guess."""
    options = Extractor(False, get_max_date(None), get_min_date(None), True, "%Y-%m-%d")
    found = examine_header(tree, options) or json_search(tree, options)
    if found:
        return found
    times = [t for t in tree.iter("time") if not any(a.tag in ("figure", "figcaption", "aside") for a in t.iterancestors())]
    times.sort(key=lambda t: not (t.get("pubdate") is not None or t.get("itemprop") == "datePublished"))
    for time in times:
        day = TIME_DAY.match(time.get("datetime", ""))
        try:
            if day:
                return dt.date.fromisoformat(day.group(1)).isoformat()
        except ValueError:  # 2019-02-31
            continue
    return None


def canonical_url(tree: lxml.html.HtmlElement) -> str | None:
    """The page's own address as its canonical link (else its og:url) states it: an absolute http(s) URL."""
    return next((url.strip() for url in tree.xpath(CANONICAL) if re.match(r"https?://\S+$", url.strip())), None)


def metadata(tree: lxml.html.HtmlElement, html: str) -> dict:
    """Title, authors, date, site name and canonical URL as the page's markup states them.

    The site name comes only from the page's meta tags or JSON-LD (trafilatura would otherwise take a part of the
    title or the URL's domain); the date only from the page's meta tags, JSON-LD and `<time>` (`stated_date`),
    either of which guesses). Title, authors, site name and URL are kept only as the page's source has them."""
    source = squeeze(unescape(html))
    tree = _without_unreadable_json_ld(tree)
    meta = trafilatura.extract_metadata(deepcopy(tree), date_config={"extensive_search": False, "original_date": True})
    sitename = _stated(extract_meta_json(tree, examine_meta(tree)).sitename, source)
    authors = tuple(a for a in (_stated(a, source) for a in (meta.author or "").split(";")) if a)
    return {"title": _stated(meta.title, source), "publisher": "" if sitename.startswith(("@", "http")) else sitename,
            "date": stated_date(tree), "authors": authors, "url": canonical_url(tree)}


def _words(lines: list[str]) -> int:
    return sum(len(line.split()) for line in lines)


def article(tree: lxml.html.HtmlElement, options: HtmlOptions, title: str,
            authors: tuple[str, ...]) -> tuple[list[str], str, tuple[str, ...]]:
    """The article's paragraphs, the path taken ('' for the rules, else why trafilatura's default was taken), and
    a note for each paragraph left out because it is not on the page as extracted."""
    memo: dict = {}
    unmatched: list[str] = []
    body = paragraphs(tree, options, title, authors, memo, unmatched)
    path = ""
    # trafilatura's default lines bound the fallback's words from above: past the share of them, no second pass
    default_words = _words(memo.get(("default", options.include_tables, options.drop_hidden), [])) or None
    kept = _words(body)
    if options.fallback_share is not None and (default_words is None or kept < options.fallback_share * default_words):
        unmatched_fallback: list[str] = []
        fallback = paragraphs(tree, replace(FALLBACK, include_tables=options.include_tables), title, authors, memo,
                              unmatched_fallback)
        extracted = _words(fallback)
        if extracted and kept < options.fallback_share * extracted:
            body, unmatched = fallback, unmatched_fallback
            path = f"trafilatura's default paragraphs: the page-structure rules kept {kept:,} of its {extracted:,} words"
    notes = tuple(f"a paragraph left out, as its text is not on the page even with trafilatura's changes undone "
                  f"(“{line[:60]}{'…' if len(line) > 60 else ''}”)" for line in unmatched)
    return body, path, notes


def extract(data: bytes, options: HtmlOptions = DEFAULT_OPTIONS) -> Extracted:
    html = decode(data)
    tree = _parse(html)
    info = metadata(tree, html)
    body, path, notes = article(tree, options, info["title"], info["authors"])
    links = link_texts(tree)
    frames = tree.xpath("//frameset//frame/@src")
    if not body and frames:  # the page only lays out other files, whose text it does not hold
        raise ImportFailure(f"the page is a frameset: its text is in the files of its frames ({', '.join(frames)}); "
                            "import those")
    if all(squeeze(p) in links for p in body):  # nothing, or nothing but links (a menu, a list of headlines)
        raise ImportFailure("no article text found on the page (only menus, links or other page furniture)")
    return Extracted(body="\n\n".join(body), importer=f"trafilatura {version('trafilatura')}", path=path, notes=notes,
                     **info)
