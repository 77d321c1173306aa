"""Render a mailroom batch: several sample letters scanned as one file, separator sheets between.

A batch is what a mailroom scanner makes of a stack: the letters of ``flows.samples``, each
followed by a separator sheet, all in one PDF (JPEG or G4 pages) or multi-page TIFF. The sheets
are drawn like a printed form and then go through the same scan (paper tone, dust, skew, blur)
as the letters, so that detection is tested on what a scanner delivers::

    python -m flows.batches OUT_DIR --letters 3 --seed 1 [--format pdf] [--separator both]

Sheet kinds (``separator``):

    barcode   a Code 128 barcode reading ``POSTROOM-TRENNBLATT`` and a line of small print
    word      TRENNBLATT in large bold print and a line of small print
    both      the word above the barcode (what a mailroom should print)
    blank     an empty sheet

The ground truth gives each part's page range in the batch and the letter's own truth.
Everything is deterministic: the same arguments give byte-identical files.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import zxingcpp
from PIL import Image, ImageDraw

from flows.samples import (
    DOC_TYPES,
    DPI,
    PAGE_SIZE,
    FontNotFoundError,
    GroundTruth,
    _font,
    _scan,
    compose,
    render_pages,
    write_letter,
)
from schemas.letter import SEPARATOR_PREFIX, SEPARATOR_WORD

SeparatorKind = Literal["barcode", "word", "both", "blank"]
BatchFormat = Literal["pdf", "pdf-g4", "tiff"]
SEPARATORS: tuple[SeparatorKind, ...] = ("barcode", "word", "both", "blank")
BATCH_FORMATS: tuple[BatchFormat, ...] = ("pdf", "pdf-g4", "tiff")
BATCH_TRUTH_FILE = "batches.jsonl"
# Code 128 modules of 6 px at 300 dpi (0.5 mm) and bars 20 mm high: a sheet printed on any
# office printer, read by any scanner.
MODULE_PX = 6
BAR_HEIGHT_PX = 236
WORD_SIZE_PX = 300  # 72 pt at 300 dpi: capitals ~18 mm tall
SMALL_PRINT = "Postroom · Trennblatt zwischen zwei Schreiben · bitte nicht entfernen"


@dataclass(frozen=True)
class BatchPart:
    """One letter of a batch: where it lies in the file (1-based, inclusive) and what it says."""

    first_page: int
    last_page: int
    truth: GroundTruth

    def to_json(self) -> dict[str, object]:
        """Return the part as a JSON-ready dict."""
        return {"first_page": self.first_page, "last_page": self.last_page, **self.truth.to_json()}


@dataclass(frozen=True)
class BatchTruth:
    """What a batch file holds: its letters and where the separator sheets are."""

    name: str
    format: str
    separator: str
    pages: int
    separator_pages: tuple[int, ...]
    parts: tuple[BatchPart, ...]

    def to_json(self) -> dict[str, object]:
        """Return the batch's truth as a JSON-ready dict."""
        return {
            "name": self.name,
            "format": self.format,
            "separator": self.separator,
            "pages": self.pages,
            "separator_pages": list(self.separator_pages),
            "parts": [part.to_json() for part in self.parts],
        }


def barcode_image(text: str = SEPARATOR_PREFIX) -> Image.Image:
    """Return a Code 128 barcode of ``text`` at 300 dpi (0.5 mm modules, quiet zones included)."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    bars = Image.fromarray(code.to_image(scale=MODULE_PX))  # zxing-cpp's Image is an array
    return bars.convert("L").resize((bars.width, BAR_HEIGHT_PX), Image.Resampling.NEAREST)


def separator_sheet(kind: SeparatorKind, *, damaged: bool = False) -> Image.Image:
    """Draw a clean separator sheet of this kind at 300 dpi (before scanning).

    ``damaged`` blots out a band across the barcode, as a fold or a marker stroke would: no
    scan line crosses the whole code any more, so it cannot be read.
    """
    if kind not in SEPARATORS:
        raise ValueError(f"unknown separator {kind!r}; expected one of {', '.join(SEPARATORS)}")
    sheet = Image.new("L", PAGE_SIZE, 255)
    if kind == "blank":
        return sheet
    draw = ImageDraw.Draw(sheet)
    middle = PAGE_SIZE[0] // 2
    if kind in ("word", "both"):
        big = _font("DejaVu Sans", True, WORD_SIZE_PX)
        draw.text((middle, 900), SEPARATOR_WORD, font=big, fill=0, anchor="mm")
    if kind in ("barcode", "both"):
        bars = barcode_image()
        top = 1500
        sheet.paste(bars, (middle - bars.width // 2, top))
        caption = _font("DejaVu Sans", False, 50)
        draw.text(
            (middle, top + BAR_HEIGHT_PX + 50), SEPARATOR_PREFIX, font=caption, fill=0, anchor="mm"
        )
        if damaged:
            width = bars.width // 4
            draw.rectangle(
                (middle - width // 2, top - 20, middle + width // 2, top + BAR_HEIGHT_PX + 20),
                fill=255,
            )
    small = _font("DejaVu Sans", False, 46)  # 11 pt
    draw.text((middle, 2300), SMALL_PRINT, font=small, fill=0, anchor="mm")
    return sheet


def scanned_separator(kind: SeparatorKind, seed: int, *, damaged: bool = False) -> Image.Image:
    """Return a separator sheet as the scanner sees it (same noise as the letters' pages)."""
    rng = random.Random(f"postroom-separator:{kind}:{seed}")
    image = _scan(separator_sheet(kind, damaged=damaged), rng)
    image.info["dpi"] = (DPI, DPI)
    return image


def batch_letters(letters: int, seed: int) -> list[tuple[GroundTruth, int]]:
    """Return the letters of a batch (truth and the seed that renders it), types taking turns."""
    chosen = []
    for index in range(letters):
        doc_type = DOC_TYPES[(seed + index) % len(DOC_TYPES)]
        letter_seed = seed * 1_000_003 + index
        chosen.append((compose(doc_type, letter_seed), letter_seed))
    return chosen


def write_batch(
    out_dir: Path,
    letters: int,
    seed: int = 1,
    format: BatchFormat = "pdf",
    separator: SeparatorKind = "both",
    *,
    tiff_compression: str | None = None,
) -> BatchTruth:
    """Write one batch of ``letters`` sample letters with separator sheets between them.

    The file is written as ``flows.samples.write_letter`` writes a letter (so a TIFF batch is G4
    or LZW as that chooses, unless ``tiff_compression`` says which); its truth is returned.
    """
    if letters < 1:
        raise ValueError(f"a batch needs at least one letter, not {letters}")
    if format not in BATCH_FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(BATCH_FORMATS)}")
    name = f"batch-{seed}-{format}-{separator}{'.tif' if format == 'tiff' else '.pdf'}"
    images: list[Image.Image] = []
    texts: list[str] = []
    parts: list[BatchPart] = []
    sheets: list[int] = []
    for index, (truth, letter_seed) in enumerate(batch_letters(letters, seed)):
        if index:
            images.append(scanned_separator(separator, seed * 1000 + index))
            texts.append("" if separator == "blank" else SEPARATOR_WORD)
            sheets.append(len(images))
        first = len(images) + 1
        images.extend(render_pages(truth, letter_seed))
        texts.extend(truth.pages)
        part_truth = dataclasses.replace(truth, name=f"{name}#{first}-{len(images)}", format=format)
        parts.append(BatchPart(first, len(images), part_truth))
    whole = GroundTruth(
        name=name,
        doc_type="batch",
        subject=None,
        format=format,
        pages=tuple(texts),
        date=parts[0].truth.date,
    )
    write_letter(whole, images, out_dir / name, tiff_compression=tiff_compression)
    return BatchTruth(name, format, separator, len(images), tuple(sheets), tuple(parts))


def main(argv: list[str] | None = None) -> int:
    """Write sample batches from the command line, with ``batches.jsonl`` beside them."""
    parser = argparse.ArgumentParser(
        prog="python -m flows.batches",
        description="Render batches of German sample letters with separator sheets between them.",
    )
    parser.add_argument("out_dir", type=Path, help="directory for the batches")
    parser.add_argument("--letters", type=int, default=3, help="letters per batch (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same files")
    parser.add_argument("--format", choices=BATCH_FORMATS, default="pdf")
    parser.add_argument("--separator", choices=SEPARATORS, default="both")
    args = parser.parse_args(argv)
    try:
        truth = write_batch(args.out_dir, args.letters, args.seed, args.format, args.separator)
    except (FontNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with (args.out_dir / BATCH_TRUTH_FILE).open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(truth.to_json(), ensure_ascii=False) + "\n")
    for part in truth.parts:
        print(
            f"{args.out_dir / truth.name}\tpages {part.first_page}-{part.last_page}\t"
            f"{part.truth.doc_type}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
