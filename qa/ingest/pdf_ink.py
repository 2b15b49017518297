"""What a PDF page shows: its content stream's operations without the text a reader cannot see, so that only the
page's visible words become the document's.

Text is left out when it is drawn
- in render mode 3 or 7 (neither filled nor stroked) on a page that paints no picture: hidden words. On a page that
  paints a picture (a scan), such text is the page's OCR layer, laid over the picture so that its words can be
  found and copied: it is kept, and the page is counted as read from an OCR layer;
- filled in white before anything but white was painted on the page (white on white; white text over a dark box or
  a picture stays, as it may well be seen);
- starting outside the page's crop box (off the page).

Only the page's own content stream is read: text inside form XObjects is kept as it is."""
from __future__ import annotations

from dataclasses import dataclass

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
SHOW = frozenset((b"Tj", b"TJ", b"'", b'"'))
FILL = frozenset((b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"))
INVISIBLE_MODES = frozenset((3, 7))
FILLED_MODES = frozenset((0, 2, 4, 6))
EDGE = 1.0  # points: text starting this close outside the box is the page's (a rounding of its position)


def multiply(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _numbers(operands: list) -> list[float] | None:
    try:
        return [float(x) for x in operands]
    except (TypeError, ValueError):
        return None


def _white(operands: list) -> bool:
    """A fill colour given as gray (1), RGB (1 1 1) or CMYK (0 0 0 0): white."""
    values = _numbers(operands)
    if values is None:
        return False
    return (len(values) in (1, 3) and all(v >= 1 for v in values)) or (len(values) == 4 and all(v <= 0 for v in values))


@dataclass
class _State:
    ctm: Matrix = IDENTITY
    white: bool = False
    mode: int = 0
    leading: float = 0.0


@dataclass(frozen=True)
class Ink:
    """A page's operations without its unseen text (None when nothing was left out), how many strings were left
    out, and whether invisible text over a picture was kept as the page's OCR layer."""

    operations: list | None
    hidden: int
    ocr_layer: bool


def visible(operations: list, box: tuple[float, float, float, float], paints_picture: bool) -> Ink:
    """`operations` (pypdf's (operands, operator) pairs) without the text shows a reader cannot see. `box`: the
    crop box (x0, y0, x1, y1); `paints_picture`: the page draws an image (a scan under an OCR layer)."""
    state, saved = _State(), []
    text = line = IDENTITY
    painted = False  # something other than white was painted: white text may be seen over it
    kept: list = []
    hidden = 0
    ocr = False
    x0, y0, x1, y1 = box
    for operands, operator in operations:
        if operator == b"q":
            saved.append(_State(state.ctm, state.white, state.mode, state.leading))
        elif operator == b"Q" and saved:
            state = saved.pop()
        elif operator == b"cm" and (values := _numbers(operands)) and len(values) == 6:
            state.ctm = multiply(tuple(values), state.ctm)  # type: ignore[arg-type]
        elif operator in (b"g", b"rg", b"k", b"sc", b"scn"):
            state.white = _white(operands)
        elif operator == b"cs":
            state.white = False  # a new colour space starts from black
        elif operator in FILL or operator in (b"sh", b"Do", b"INLINE IMAGE"):
            painted = painted or operator in (b"sh", b"Do", b"INLINE IMAGE") or not state.white
        elif operator == b"Tr" and (values := _numbers(operands)):
            state.mode = int(values[0])
        elif operator == b"TL" and (values := _numbers(operands)):
            state.leading = values[0]
        elif operator == b"BT":
            text = line = IDENTITY
        elif operator in (b"Td", b"TD") and (values := _numbers(operands)) and len(values) == 2:
            line = text = multiply((1, 0, 0, 1, values[0], values[1]), line)
            if operator == b"TD":
                state.leading = -values[1]
        elif operator == b"Tm" and (values := _numbers(operands)) and len(values) == 6:
            line = text = tuple(values)  # type: ignore[assignment]
        if operator in (b"T*", b"'", b'"'):
            line = text = multiply((1, 0, 0, 1, 0, -state.leading), line)
        if operator not in SHOW:
            kept.append((operands, operator))
            continue
        x, y = multiply(text, state.ctm)[4:]
        off_page = not (x0 - EDGE <= x <= x1 + EDGE and y0 - EDGE <= y <= y1 + EDGE)
        unseen = state.mode in INVISIBLE_MODES and not paints_picture
        white = state.white and state.mode in FILLED_MODES and not painted
        ocr = ocr or (state.mode in INVISIBLE_MODES and paints_picture)
        if off_page or unseen or white:
            hidden += 1
            if operator == b'"' and len(operands) == 3:  # it also set the word and character spacing
                kept += [([operands[0]], b"Tw"), ([operands[1]], b"Tc")]
            if operator in (b"'", b'"'):
                kept.append(([], b"T*"))  # and moved to the next line
        else:
            kept.append((operands, operator))
    return Ink(kept if hidden else None, hidden, ocr)
