"""OCR's character error rate on scanned PDFs made from known text: each text is drawn (DejaVu Sans) on a white page
at 300 dpi, the picture put in a PDF with no text layer, the PDF imported as `qa add` imports it, and the body
compared with the text: the edit distance (insertions, deletions, substitutions of characters, white space
collapsed) over the text's length.

    python -m qa_tools.ocr_cer            # English and Russian, docs/IMPORT.md
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian's fonts-dejavu-core
DPI = 300
TEXTS = {
    "English": [
        "On 16 December 2011 police opened fire on striking oil workers and residents in the town of Zhanaozen, in "
        "western Kazakhstan. The authorities said that fourteen people were killed and dozens were injured.",
        "Human rights groups asked for an independent investigation. Witnesses described officers shooting at people "
        "who were running away, and detainees later said that they had been beaten in custody.",
        "The strike had begun in May, when workers of the state oil company demanded higher pay and better "
        "conditions. Many of them were dismissed over the following months.",
    ],
    "Russian": [
        "Шестнадцатого декабря 2011 года полиция открыла огонь по бастующим нефтяникам и жителям города Жанаозен на "
        "западе Казахстана. Власти сообщили, что погибли четырнадцать человек и десятки были ранены.",
        "Правозащитники потребовали независимого расследования. Свидетели рассказали, что сотрудники полиции стреляли "
        "в убегавших людей, а задержанные позже говорили, что их избивали под стражей.",
        "Забастовка началась в мае, когда рабочие государственной нефтяной компании потребовали повышения зарплаты "
        "и лучших условий труда. Многие из них были уволены в следующие месяцы.",
    ],
}


def scanned_pdf(paragraphs: list[str], size_pt: float = 11) -> bytes:
    """An A4 PDF whose one page is a picture of the paragraphs (wrapped to the page's width), with no text."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont
    width, height = int(8.27 * DPI), int(11.69 * DPI)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), int(size_pt * DPI / 72))
    margin, y = DPI, DPI
    line_height = int(size_pt * 1.5 * DPI / 72)
    for paragraph in paragraphs:
        line = ""
        for word in paragraph.split():
            if line and draw.textlength(f"{line} {word}", font=font) > width - 2 * margin:
                draw.text((margin, y), line, font=font, fill=0)
                y, line = y + line_height, word
            else:
                line = f"{line} {word}".strip()
        draw.text((margin, y), line, font=font, fill=0)
        y += 2 * line_height
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(page, x=0, y=0, w=pdf.w, h=pdf.h)
    return bytes(pdf.output())


def distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (linear memory)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(reference: str, read: str) -> float:
    """Character error rate of `read` against `reference`, white space collapsed in both."""
    reference, read = " ".join(reference.split()), " ".join(read.split())
    return distance(reference, read) / max(len(reference), 1)


def measure() -> dict:
    from qa.ingest.pdf import extract
    out = {}
    for language, paragraphs in TEXTS.items():
        started = time.perf_counter()
        extracted = extract(scanned_pdf(paragraphs))
        seconds = time.perf_counter() - started
        reference = " ".join(paragraphs)
        out[language] = {"characters": len(" ".join(reference.split())), "cer": round(cer(reference, extracted.body), 4),
                         "edits": distance(" ".join(reference.split()), " ".join(extracted.body.split())),
                         "paragraphs": f"{len(extracted.body.split(chr(10) * 2))} of {len(paragraphs)}",
                         "seconds": round(seconds, 1), "importer": extracted.importer}
    return out


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m qa_tools.ocr_cer", description=__doc__.split("\n")[0]).parse_args(argv)
    print(json.dumps(measure(), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

