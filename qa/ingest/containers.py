"""Where an extracted article's paragraphs sit in the page, and what that says about the rest of the page.

trafilatura returns text, not elements; each paragraph is found again in the page's text blocks (in page order), so
that the article's element can be told from the page around it:

- `with_sibling_containers`: an article split into several containers (Wired puts every few paragraphs in its own
  `div.article__body`, around advertisements) loses all but one in trafilatura; the paragraphs of the other elements
  with the same tag and class as the one most paragraphs are in are put back, in page order.
- `within_article`: a paragraph outside the innermost element that holds most of the article's words (a standfirst
  in the page header, a company's boilerplate after the release, a box in a side column) is not the article's; nor
  is one inside it in an element the page marks as something else (`marked`: a caption, a promotion, a disclosure).
- `outside_nested_articles`: a paragraph in an `article` nested in another (comments, related articles) is not.
- `without_contact_lines`: nor is a short closing paragraph that links to an e-mail address or a handle it shows.

The choices were measured on the tune half of the shared extraction benchmark (docs/IMPORT.md)."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import lxml.html

# Elements trafilatura makes paragraphs of; a paragraph is found in the innermost one that holds it.
BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "dt", "tr", "td", "th", "pre",
          "figcaption")
MIN_IN_CONTAINER = 3  # the article's container holds this many of its paragraphs at least (else it is no pattern)
# Inside the article's element, what a page marks as not the article's text: pictures and their captions, boxes set
# aside, and elements whose class or id names them captions, related or trending links, calls to act, promotions,
# newsletters, bios or disclosures. (Measured on the tune pages' blocks inside the article: these hit none of the
# article's own; "share", "social", "tags", "widget", "card" and "embed" did.)
MARKED_TAGS = {"figure", "figcaption", "aside", "footer", "nav"}
MARKED_WORDS = {"caption", "captions", "credit", "credits", "related", "trending", "popular", "recommended", "rail",
                "cta", "promo", "promotion", "sponsored", "teaser", "teasers", "outbrain", "taboola", "newsletter",
                "subscribe", "subscription", "signup", "bio", "disclosure"}


def squeeze(text: str) -> str:
    """Text without any white space: what 'verbatim up to white space' compares."""
    return "".join(text.split())


@dataclass(frozen=True)
class Block:
    text: str  # squeezed
    element: lxml.html.HtmlElement


@dataclass(frozen=True)
class Placed:
    """The article's paragraphs so far, and for each the index of the block it is in (None when in none)."""

    lines: list[str]
    places: list[int | None]


def blocks_of(tree: lxml.html.HtmlElement) -> list[Block]:
    return [Block(squeeze(e.text_content()), e) for e in tree.iter(*BLOCKS)]


def locate(blocks: list[Block], lines: list[str]) -> Placed:
    """Each line in the innermost block that holds it, searched from the block of the line before (so that the
    places keep the lines' order), then from the page's start (trafilatura may put a line before the ones above
    it, as a print header is)."""
    places: list[int | None] = []
    start = 0
    for line in lines:
        key = squeeze(line)
        at = next((k for k in chain(range(start, len(blocks)), range(start)) if key in blocks[k].text), None)
        while at is not None and at + 1 < len(blocks) and key in blocks[at + 1].text and \
                blocks[at].element in blocks[at + 1].element.iterancestors():
            at += 1
        places.append(at)
        start = at if at is not None else start
    return Placed(list(lines), places)


def with_sibling_containers(blocks: list[Block], placed: Placed, accept: Callable[[str], str | None]) -> Placed:
    """`placed` with the `p` elements of the article's other containers: elements with the tag and class of the
    parent of most of its paragraphs that hold none of them. `accept` gives a paragraph as the article keeps it
    (verbatim, not furniture), or None."""
    parents = [blocks[k].element.getparent() for k in placed.places if k is not None]
    signatures = Counter((p.tag, p.get("class")) for p in parents if p is not None)
    if not signatures:
        return placed
    (tag, cls), count = signatures.most_common(1)[0]
    if not cls or count < MIN_IN_CONTAINER:
        return placed
    held = set(parents)
    extra: list[tuple[int, str]] = []
    for k, block in enumerate(blocks):
        parent = block.element.getparent()
        if block.element.tag == "p" and parent is not None and parent not in held and parent.tag == tag and \
                parent.get("class") == cls:
            line = accept(" ".join(block.element.text_content().split()))
            if line:
                extra.append((k, line))
    if not extra:
        return placed
    # A paragraph found in no block stays just after the one before it.
    ordered: list[tuple[int, int, str, int | None]] = []  # (where, 0 for trafilatura's or 1 for added, line, block)
    last = -1
    for line, place in zip(placed.lines, placed.places):
        last = place if place is not None else last
        ordered.append((last, 0, line, place))
    ordered += [(k, 1, line, k) for k, line in extra]
    ordered.sort(key=lambda item: (item[0], item[1]))
    return Placed([line for _, _, line, _ in ordered], [k for _, _, _, k in ordered])


def article_root(blocks: list[Block], placed: Placed, share: float) -> lxml.html.HtmlElement | None:
    """The innermost element that holds `share` of the words of the paragraphs in `placed` (None if none does)."""
    words: Counter[lxml.html.HtmlElement] = Counter()
    for line, k in zip(placed.lines, placed.places):
        if k is not None:
            for ancestor in blocks[k].element.iterancestors():
                words[ancestor] += len(line.split())
    total = sum(len(line.split()) for line in placed.lines)
    roots = [element for element, n in words.items() if n >= share * total]
    return max(roots, key=lambda element: sum(1 for _ in element.iterancestors())) if roots else None


def marked(element: lxml.html.HtmlElement) -> bool:
    """An element that says it is not the article's text: by its tag, or by a word of its class or id."""
    words = re.split(r"[^a-z]+", f"{element.get('class', '')} {element.get('id', '')}".lower())
    return element.tag in MARKED_TAGS or any(word in MARKED_WORDS for word in words)


def within_article(blocks: list[Block], placed: Placed, root: lxml.html.HtmlElement, drop_marked: bool) -> Placed:
    """`placed` without the paragraphs outside `root`, and (`drop_marked`) without those in a `marked` element inside
    it. Paragraphs found in no block are kept."""
    def inside(element: lxml.html.HtmlElement) -> bool:
        path = [element, *element.iterancestors()]
        return root in path and not (drop_marked and any(marked(e) for e in path[:path.index(root)]))
    return _where(blocks, placed, inside)


def outside_nested_articles(blocks: list[Block], placed: Placed) -> Placed:
    """`placed` without the paragraphs inside an `article` element nested in another `article`: the HTML standard's
    markup for the comments on an article and for the articles related to it (a list of teasers below it)."""
    return _where(blocks, placed, lambda element: len(element.xpath("ancestor-or-self::article")) < 2)


# Where a reader writes to or follows someone: an address to mail, a profile on a social network (not a post on it).
CONTACT_LINK = re.compile(r"^(?:mailto:|(?:https?:)?//(?:www\.)?(?:twitter|x|facebook|instagram|linkedin)\.com/"
                          r"(?:in/)?@?[\w.-]+/?(?:[?#].*)?$)", re.IGNORECASE)
ADDRESS = re.compile(r"\S*[@/]\S*")  # the link shows the address or the handle itself, not a name ("Facebook")
CONTACT_WORDS = 50  # a contact line is short; a longer paragraph with such a link is the article's own
CONTACT_TAIL = 3  # and among the article's last paragraphs: a list of people's profiles may fill an article


def without_contact_lines(blocks: list[Block], placed: Placed) -> Placed:
    """`placed` without the short paragraphs among its last that give an e-mail address or a social-network handle
    as a link to it (how to reach the writer or the newsroom, after the article), except in a quotation (an
    embedded post names its author's profile)."""
    def reaches(k: int | None) -> bool:
        if k is None:
            return False
        element = blocks[k].element
        return any(CONTACT_LINK.match(a.get("href", "").strip()) and ADDRESS.fullmatch(squeeze(a.text_content()))
                   for a in element.iter("a")) and \
            len(element.text_content().split()) <= CONTACT_WORDS and not element.xpath("ancestor-or-self::blockquote")
    tail = len(placed.lines) - CONTACT_TAIL
    kept = [(line, k) for n, (line, k) in enumerate(zip(placed.lines, placed.places)) if n < tail or not reaches(k)]
    return Placed([line for line, _ in kept], [k for _, k in kept])


def _where(blocks: list[Block], placed: Placed, keep: Callable[[lxml.html.HtmlElement], bool]) -> Placed:
    """`placed` with the paragraphs whose block `keep` accepts, and those found in no block."""
    kept = [(line, k) for line, k in zip(placed.lines, placed.places) if k is None or keep(blocks[k].element)]
    return Placed([line for line, _ in kept], [k for _, k in kept])
