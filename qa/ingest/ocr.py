"""Scanned pages and pictures, read with Tesseract (Debian's `tesseract-ocr`, with its English, Russian and Kazakh
data, installed by the Makefile) through pytesseract. The body is Tesseract's text, its blank lines the paragraph
breaks; the importer names Tesseract and "OCR", and the citation says "OCR" (qa/answer/model.py), as the words are
what the machine read, not the file's own characters."""
from __future__ import annotations

import io
from importlib.metadata import version

from qa.ingest.extracted import Extracted, ImportFailure

LANGUAGES = "eng+rus+kaz"
IMAGES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
NO_TESSERACT = ("Tesseract is not installed, so it cannot be read with OCR (on Debian: 'make install' installs it, or "
                "apt-get install tesseract-ocr tesseract-ocr-rus tesseract-ocr-kaz)")


def importer() -> str:
    import pytesseract
    return f"Tesseract {pytesseract.get_tesseract_version()} (OCR, {LANGUAGES}) via pytesseract {version('pytesseract')}"


def read(image) -> list[str]:
    """A picture's lines as Tesseract reads them, white space inside a line collapsed; '' marks a blank line."""
    import pytesseract
    try:
        text = pytesseract.image_to_string(image.convert("L") if image.mode not in ("L", "RGB") else image,
                                           lang=LANGUAGES)
    except pytesseract.TesseractNotFoundError:
        raise ImportFailure(NO_TESSERACT) from None
    except pytesseract.TesseractError as exc:
        raise ImportFailure(f"Tesseract could not read its picture ({exc.message.strip() or exc.status})") from None
    return [" ".join(line.split()) for line in text.split("\n")]


def pdf_pages(reader) -> list[list[str]]:
    """Each page's lines read from the pictures it shows, in the order the page names them."""
    pages = []
    for page in reader.pages:
        lines: list[str] = []
        for picture in page.images:
            lines += [*read(picture.image), ""]
        pages.append(lines)
    return pages


def extract_image(data: bytes) -> Extracted:
    """A picture file (PNG, JPEG, TIFF: each frame of a TIFF a page) read with OCR."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    from qa.ingest.pdf import body_and_pages
    try:
        picture = Image.open(io.BytesIO(data))
        pages = [read(frame.copy()) for frame in ImageSequence.Iterator(picture)]
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImportFailure(f"the picture cannot be read, it may be damaged ({exc})") from None
    body, starts = body_and_pages(pages)
    if not any(c.isalnum() for c in body):
        raise ImportFailure("OCR found no text in the picture")
    return Extracted(body=body, importer=importer(), pages=starts if len(pages) > 1 else None)
