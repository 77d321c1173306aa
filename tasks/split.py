"""Batch separation: find the separator sheets in a scanned stack and cut it into letters.

A mailroom scans a stack of letters as one file, a separator sheet between each two letters.
A sheet is recognised by any of

    barcode   any barcode whose text starts with ``SeparatorRules.barcode_prefix`` (default
              ``POSTROOM-TRENNBLATT``; print it as Code 128 or QR), read in any orientation
    word      the word TRENNBLATT in large print (bold from 36 pt, regular from 48 pt; 72 pt bold
              recommended), upright; or, on a page with its own text layer, a layer that says
              little more than that word
    blank     a page with (nearly) no ink; opt-in, because a batch without separator sheets
              may hold blank backs of duplex scans

The recommended sheet carries both the barcode and the word: the barcode survives a sheet fed
upside down, the word a barcode that is torn, folded or printed too faintly.

Detection runs before OCR on every file of three pages or more, so it must cost little next to
the ~1.7 CPU-s OCR of a page. Each page is looked at once, as a grayscale view at about 150 dpi
(a PDF's stored JPEG decoded at half size, a G4 page or TIFF frame decoded and halved, anything
else rendered by pdfium at 150 dpi):

    barcode   zxing-cpp on the 150 dpi view (a 0.5 mm module is 3 px there; it still reads at
              1.5 px)
    blank     ink coverage of the view halved again (75 dpi), page edges left out
    word      only where the 75 dpi view holds strokes at least ~1 mm wide (large print; ordinary
              text and thin barcode bars do not survive a 3 × 3 erosion there) is that region
              read by tesseract; pages without large print cost no tesseract run at all

CPU time per page, measured on generated A4 pages at 300 dpi (``flows.batches``, 4-letter
batches, 48 letter pages and 36 sheets; view = decoding, detection = all three tests):

    file                 letter page        sheet with barcode   blank sheet   word-only sheet
    PDF, JPEG pages       8 + 22 ms          7 + 10 ms            15 ms         5 + 177 ms
    PDF, G4 pages        29 + 21 ms         27 +  9 ms            36 ms        26 + 163 ms
    TIFF, G4 or LZW      12 + 21 ms          8 +  9 ms            18 ms         8 + 175 ms

A letter page thus costs 30-50 ms, 2-3 % of its OCR; only a page with large print pays for a
tesseract run (~170 ms, most of it loading the model). Reading every barcode format instead of
Code 128 and QR costs ~30 ms more per page (the matrix codes most).

The parts are cut from the file without re-encoding a page image: PDF pages are copied by pypdf
(streams keep their stored bytes; objects shared by several pages are written once); TIFF frames
are copied as they are stored into a new TIFF (strips or tiles byte for byte, whatever their
compression), see `tiff_frames`.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageFilter
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject, StreamObject
from pytesseract import TesseractError
from pytesseract.pytesseract import run_tesseract

from schemas.letter import (
    MediaType,
    PageRange,
    Separator,
    SeparatorRules,
)
from tasks.errors import CorruptFileError
from tasks.pages import PAGE_ERRORS, image_dpi, placed_image, usable_text_layer

# One tesseract thread per process; pages run in parallel instead (DESIGN.md).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# A file of fewer pages cannot be two letters with a sheet between them.
MIN_BATCH_PAGES = 3
# The views detection looks at: barcodes at VIEW_DPI, ink and large print at half of it.
VIEW_DPI = 150
# Left out around the page when measuring ink: scanner lid shadows and skewed paper edges.
EDGE_MM = 8.0
# Strokes narrower than this many pixels of the half view (1 px = 1/75 in) are ordinary print.
LARGE_STROKE_PX = 3
# Fewer pixels than this left after the erosion are a bold heading or a thick rule, not worth a
# tesseract run: TRENNBLATT leaves ~900 in 36 pt bold, ~6,700 in 72 pt bold; the most any of 48
# generated letter pages left was ~400 (an advertisement's headline).
LARGE_PRINT_PIXELS = 500
# Words shorter than this (mm, their box in tesseract's reading) are not "large print".
LARGE_PRINT_MM = 7.0
# A page with less ink than this share of its area (edges left out) is blank. Measured at 75 dpi:
# a scanned blank sheet 0-0.0015 % (G4: dust turned black), a page holding only "- 2 -"
# 0.002-0.005 % (counts as blank), one line "Seite 2 von 2" 0.013-0.034 %, a closing with a
# name 0.06-0.11 %, the sparsest of 48 generated letter pages 0.19 %.
BLANK_INK_SHARE = 0.0001
# A page's own text layer saying the word and at most this many words is a separator sheet.
MAX_SHEET_WORDS = 12
WORD_LANGUAGE = "deu"
WORD_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class PageView:
    """What detection looks at on one page: a small grayscale image, and its text layer."""

    number: int
    image: Image.Image | None  # mode L at about VIEW_DPI; None when the page cannot be decoded
    dpi: float
    text_layer: str = ""


# -- looking at the pages --


def page_views(source: Path, media_type: MediaType) -> Iterator[PageView]:
    """Yield a cheap view of every page of a file, in page order."""
    if media_type is MediaType.PDF:
        yield from _pdf_views(source)
    else:
        yield from _image_views(source)


def _pdf_views(source: Path) -> Iterator[PageView]:
    """Yield PDF pages: the stored scan decoded small where possible, else rendered at 150 dpi."""
    reader = PdfReader(source)
    document = pdfium.PdfDocument(source)
    try:
        for index, page in enumerate(reader.pages):
            try:
                view = _stored_view_or_none(page) or _rendered_view(document, index)
                text = page.extract_text() or ""
            except PAGE_ERRORS:
                yield PageView(index + 1, None, VIEW_DPI)
                continue
            yield PageView(index + 1, view[0], view[1], text)
    finally:
        document.close()


def _stored_view(page: PageObject) -> tuple[Image.Image, float] | None:
    """Return a scanned page's stored JPEG or G4 image, decoded small; None to render it."""
    placed = placed_image(page)
    if placed is None or "/Decode" in placed.stream or "/SMask" in placed.stream:
        return None
    codec = placed.stream.get("/Filter")
    plain_jpeg = codec == "/DCTDecode" and _color_space(placed.stream) in {
        "/DeviceGray",
        "/DeviceRGB",
    }
    if not plain_jpeg and codec != "/CCITTFaxDecode":
        return None
    left, _, right, _ = placed.box
    dpi = int(cast(NumberObject, placed.stream["/Width"])) / ((right - left) / 72)
    # pypdf hands JPEG data back as stored, and G4 data wrapped in a TIFF header.
    return _small(Image.open(io.BytesIO(placed.stream.get_data())), dpi)


def _stored_view_or_none(page: PageObject) -> tuple[Image.Image, float] | None:
    """Return the stored image decoded small; None (render the page) when it cannot be."""
    try:
        return _stored_view(page)
    except PAGE_ERRORS:
        return None


def _color_space(stream: StreamObject) -> str:
    """Return an image's colour space name, '' for an array (ICC, indexed …)."""
    space = stream.get("/ColorSpace")
    return str(space) if isinstance(space, NameObject) else ""


def _rendered_view(document: pdfium.PdfDocument, index: int) -> tuple[Image.Image, float]:
    """Render a page at VIEW_DPI, grey."""
    bitmap = document[index].render(scale=VIEW_DPI / 72, grayscale=True)
    return bitmap.to_pil().convert("L"), float(VIEW_DPI)


def _small(image: Image.Image, dpi: float) -> tuple[Image.Image, float]:
    """Return an image as grayscale at about VIEW_DPI (box-averaged, so thin strokes stay grey).

    A JPEG is decoded at 1/2, 1/4 or 1/8 of its size straight from its DCT coefficients
    (Pillow's draft mode), which costs a fraction of a full decode.
    """
    width = image.width
    if image.format == "JPEG":
        scale = max(1, round(dpi / VIEW_DPI))
        image.draft("L", (image.width // scale, image.height // scale))
    grey = image.convert("L")
    dpi *= grey.width / width
    factor = max(1, round(dpi / VIEW_DPI))
    return (grey.reduce(factor) if factor > 1 else grey), dpi / factor


def _image_views(source: Path) -> Iterator[PageView]:
    """Yield every frame of an image file, decoded and shrunk to about VIEW_DPI."""
    with Image.open(source) as image:
        for index in range(int(getattr(image, "n_frames", 1))):
            try:
                image.seek(index)
                view, view_dpi = _small(image, float(image_dpi(image)))
            except PAGE_ERRORS:
                yield PageView(index + 1, None, VIEW_DPI)
                continue
            yield PageView(index + 1, view, view_dpi)


# -- deciding --


def find_separators(
    pages: Iterable[PageView], rules: SeparatorRules | None = None
) -> list[Separator]:
    """Return the pages that are separator sheets, each with the reason it was taken for one."""
    rules = rules or SeparatorRules()
    found = []
    with tempfile.TemporaryDirectory(prefix="postroom-split-") as workdir:
        for page in pages:
            reason = separator_reason(page, rules, Path(workdir))
            if reason is not None:
                found.append(Separator(number=page.number, reason=reason))
    return found


def separator_reason(page: PageView, rules: SeparatorRules, workdir: Path) -> str | None:
    """Return why a page is a separator sheet, or None; the cheapest test is tried first.

    A page that cannot be decoded is never a separator: it stays in its letter, where OCR marks
    it unreadable for a person to look at.
    """
    if page.image is None:
        return None
    word = rules.separator_word
    if rules.barcode:
        code = separator_barcode(page.image, rules.barcode_prefix, rules.barcode_formats)
        if code is not None:
            return f"barcode {code}"
    if rules.word and sheet_text_layer(page.text_layer, word):
        return f"word {word}"
    if usable_text_layer(page.text_layer):
        return None  # a page of real text, a letter's
    half, dpi = page.image.reduce(2), page.dpi / 2
    if rules.blank and is_blank(half, dpi):
        return "blank page"
    if rules.word and says_word(half, dpi, word, workdir / f"page-{page.number:04d}.png"):
        return f"word {word}"
    return None


def separator_barcode(image: Image.Image, prefix: str, formats: str = "") -> str | None:
    """Return the text of a barcode on the page that starts with ``prefix``, or None.

    ``formats`` names the symbologies to look for (zxing-cpp's names, comma-separated; "" for
    all of them): each one more costs time on every page, the matrix codes most.
    """
    wanted = zxingcpp.barcode_formats_from_str(formats)
    for code in zxingcpp.read_barcodes(image, formats=wanted):
        if code.text.startswith(prefix):
            return code.text
    return None


def sheet_text_layer(text: str, word: str) -> bool:
    """Return whether a page's own text layer is that of a separator sheet.

    The word alone is not enough: a letter may mention it. A sheet says little else.
    """
    words = re.findall(r"\w+", text)
    return len(words) <= MAX_SHEET_WORDS and any(_near(w, word) for w in _candidates(words))


def _edges_cut(image: Image.Image, dpi: float) -> Image.Image:
    """Return the page without its outer EDGE_MM, where shadows and paper edges lie."""
    edge = round(EDGE_MM / 25.4 * dpi)
    if image.width <= 2 * edge or image.height <= 2 * edge:
        return image
    return image.crop((edge, edge, image.width - edge, image.height - edge))


def _ink_mask(image: Image.Image) -> Image.Image:
    """Return a mask (255 = ink) of the pixels clearly darker than the paper around them."""
    histogram = image.histogram()
    half, seen, paper = image.width * image.height / 2, 0, 255
    for level, count in enumerate(histogram):  # the median: paper covers most of any page
        seen += count
        if seen >= half:
            paper = level
            break
    threshold = paper // 2
    return image.point([255 if v < threshold else 0 for v in range(256)])


def ink_share(image: Image.Image, dpi: float) -> float:
    """Return the share of a page (edges left out) that is ink."""
    mask = _ink_mask(_edges_cut(image, dpi))
    return mask.histogram()[255] / (mask.width * mask.height)


def is_blank(image: Image.Image, dpi: float) -> bool:
    """Return whether a page holds (nearly) no ink: dust, yes; a line of text, no."""
    return ink_share(image, dpi) < BLANK_INK_SHARE


def large_print(image: Image.Image, dpi: float) -> tuple[int, int, int, int] | None:
    """Return the box (in ``image``) around strokes too wide for ordinary print, or None.

    At 75 dpi the strokes of 10-12 pt text are one or two pixels wide and vanish under a 3 × 3
    erosion of the ink; those of large bold print (a 36 pt stroke is ~1.3 mm) remain.
    """
    edge = round(EDGE_MM / 25.4 * dpi)
    core = _ink_mask(_edges_cut(image, dpi)).filter(ImageFilter.MinFilter(LARGE_STROKE_PX))
    box = core.getbbox()
    if box is None or core.histogram()[255] < LARGE_PRINT_PIXELS:
        return None
    pad = round(5 / 25.4 * dpi)  # 5 mm: the erosion ate the glyphs' thin parts and serifs
    left, top, right, bottom = box
    return (
        max(0, left + edge - pad),
        max(0, top + edge - pad),
        min(image.width, right + edge + pad),
        min(image.height, bottom + edge + pad),
    )


def says_word(image: Image.Image, dpi: float, word: str, scratch: Path) -> bool:
    """Return whether the page's large print reads as ``word`` (tesseract on that region only)."""
    box = large_print(image, dpi)
    if box is None:
        return False
    image.crop(box).save(scratch, dpi=(round(dpi), round(dpi)), compress_level=1)
    base = scratch.with_suffix("")
    config = f"--psm 11 --dpi {round(dpi)} -c tessedit_create_tsv=1"
    try:
        run_tesseract(
            str(scratch), str(base), "tsv", WORD_LANGUAGE, config, timeout=WORD_TIMEOUT_SECONDS
        )
    except (TesseractError, RuntimeError):  # RuntimeError: pytesseract's timeout
        return False
    tsv = Path(f"{base}.tsv").read_text(encoding="utf-8")
    return large_word_read(tsv, word, min_height=LARGE_PRINT_MM / 25.4 * dpi)


def large_word_read(tsv: str, word: str, min_height: float) -> bool:
    """Return whether tesseract's TSV holds ``word`` (or a near miss) at least this tall.

    Two adjacent words are tried joined too ("TRENN BLATT").
    """
    rows = [line.split("\t") for line in tsv.splitlines()[1:]]
    large = [
        cells[11]
        for cells in rows
        if len(cells) == 12 and cells[11].strip() and int(cells[9]) >= min_height
    ]
    return any(_near(candidate, word) for candidate in _candidates(large))


def _candidates(words: Sequence[str]) -> Iterator[str]:
    """Yield each word and each two adjacent words joined."""
    yield from words
    yield from (a + b for a, b in itertools.pairwise(words))


def _near(read: str, word: str) -> bool:
    """Return whether a word as read is ``word`` with at most one error in five letters."""
    letters = re.sub(r"[^A-ZÄÖÜ]", "", read.upper())
    return edit_distance(letters, word.upper()) <= max(1, len(word) // 5)


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance of two strings (quadratic: meant for short ones)."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


# -- cutting --


def parts_of(page_count: int, separators: Iterable[Separator]) -> list[PageRange] | None:
    """Return the letters between the separator sheets, as 1-based inclusive page ranges.

    None means "no separator: the whole file is one letter". Sheets at the start or end, or
    several in a row, leave no empty part; a file of nothing but sheets has no part at all.
    """
    sheets = {s.number for s in separators}
    if not sheets:
        return None
    parts, first = [], 1
    for number in range(1, page_count + 2):
        if number in sheets or number == page_count + 1:
            if number > first:
                parts.append(PageRange(first_page=first, last_page=number - 1))
            first = number + 1
    return parts


def extract_part(
    source: Path | bytes, media_type: MediaType, first_page: int, last_page: int
) -> bytes:
    """Return pages ``first_page``-``last_page`` (1-based, inclusive) as a file of the same type.

    No page image is decoded or re-encoded (PDF: pypdf copies the pages' objects as stored;
    TIFF: the frames' strips are copied byte for byte), so the part is as original as the batch.
    The same input gives the same bytes, so a re-run archives the identical part.
    """
    data = source if isinstance(source, bytes) else source.read_bytes()
    if first_page < 1 or last_page < first_page:
        raise ValueError(f"no such page range: {first_page}-{last_page}")
    if media_type is MediaType.PDF:
        return pdf_pages(data, first_page, last_page)
    if media_type is MediaType.TIFF:
        return tiff_frames(data, first_page, last_page)
    if (first_page, last_page) == (1, 1):
        return data  # a JPEG or PNG is one page
    raise ValueError(f"a {media_type.value} file has one page, not {first_page}-{last_page}")


def pdf_pages(data: bytes, first_page: int, last_page: int) -> bytes:
    """Return some pages of a PDF as a new PDF, every object copied as stored.

    pypdf copies each page with the objects it refers to, once per writer: a font or an image
    that several pages share is written once. Stream data (the scans) keeps its stored bytes.
    """
    try:
        reader = PdfReader(io.BytesIO(data))
        count = len(reader.pages)
    except PAGE_ERRORS as exc:
        raise CorruptFileError(f"the PDF cannot be read ({exc})") from exc
    if last_page > count:
        raise ValueError(f"the PDF has {count} pages, not {last_page}")
    writer = PdfWriter()
    out = io.BytesIO()
    try:
        for index in range(first_page - 1, last_page):
            writer.add_page(reader.pages[index])
        if reader.metadata is not None:
            writer.add_metadata(dict(reader.metadata))
        writer.write(out)
    except PAGE_ERRORS as exc:
        raise CorruptFileError(f"pages {first_page}-{last_page} cannot be copied ({exc})") from exc
    return out.getvalue()


# -- TIFF frames copied as stored --

# Field types and their sizes (TIFF 6.0 and its extensions); 13 is an IFD offset.
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
# (offsets tag, byte counts tag) of the data a frame points to: strips, tiles, old-style JPEG.
_DATA_TAGS = ((273, 279), (324, 325), (513, 514))
# Pointers into the old file the copy cannot follow: sub-IFDs, Exif, GPS, interop, free space.
_DROPPED_TAGS = frozenset({288, 289, 330, 34665, 34853, 40965})


@dataclass(frozen=True)
class _Entry:
    """One IFD entry: its tag, field type and value bytes (in the file's byte order)."""

    tag: int
    kind: int
    count: int
    value: bytes


def tiff_frames(data: bytes, first: int, last: int) -> bytes:
    """Return frames ``first``-``last`` of a classic TIFF as a new TIFF, without decoding them.

    Each frame's tags are copied, and its strips (or tiles) byte for byte; only the offsets that
    point to them are written anew. Sub-IFDs, Exif and GPS blocks (pointers the copy cannot
    follow) are left out: they describe the camera, not the page. A BigTIFF, or a file whose
    structure does not add up, is refused as corrupt rather than copied wrongly.
    """
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack(order + "H", data[2:4])[0] != 42:
        raise CorruptFileError("the TIFF is not a classic TIFF (BigTIFF parts are not supported)")
    try:
        frames = _read_ifds(data, order)
    except (struct.error, IndexError) as exc:
        raise CorruptFileError(f"the TIFF's pages cannot be read ({exc})") from exc
    if last > len(frames):
        raise ValueError(f"the TIFF has {len(frames)} pages, not {last}")
    try:
        return _write_tiff(data, order, frames[first - 1 : last])
    except (struct.error, IndexError, KeyError) as exc:
        raise CorruptFileError(
            f"pages {first}-{last} of the TIFF cannot be copied ({exc})"
        ) from exc


def _read_ifds(data: bytes, order: str) -> list[list[_Entry]]:
    """Return every IFD of the file's main chain, as its entries."""
    frames = []
    (offset,) = struct.unpack(order + "I", data[4:8])
    seen = set()
    while offset and offset not in seen:
        seen.add(offset)
        (count,) = struct.unpack(order + "H", data[offset : offset + 2])
        entries = []
        for i in range(count):
            at = offset + 2 + 12 * i
            tag, kind, n = struct.unpack(order + "HHI", data[at : at + 8])
            size = _TYPE_SIZES.get(kind, 0) * n
            if size <= 4:
                value = data[at + 8 : at + 8 + size]
            else:
                (pointer,) = struct.unpack(order + "I", data[at + 8 : at + 12])
                value = data[pointer : pointer + size]
                if len(value) != size:
                    raise IndexError(f"tag {tag} points past the end of the file")
            if kind in _TYPE_SIZES and tag not in _DROPPED_TAGS and kind != 13:
                entries.append(_Entry(tag, kind, n, value))
        frames.append(entries)
        (offset,) = struct.unpack(
            order + "I", data[offset + 2 + 12 * count : offset + 6 + 12 * count]
        )
    return frames


def _numbers(entry: _Entry, order: str) -> list[int]:
    """Return a SHORT or LONG entry's values."""
    code = {3: "H", 4: "I", 13: "I"}[entry.kind]
    return list(struct.unpack(f"{order}{entry.count}{code}", entry.value))


def _write_tiff(data: bytes, order: str, frames: list[list[_Entry]]) -> bytes:
    """Write a TIFF of these frames: per frame its data blocks, its long values, then its IFD."""
    out = bytearray(data[:4] + b"\0\0\0\0")
    link = 4  # where the offset of the next IFD goes
    for entries in frames:
        by_tag = {e.tag: e for e in entries}
        moved: dict[int, _Entry] = {}
        for offsets_tag, counts_tag in _DATA_TAGS:
            if offsets_tag not in by_tag:
                continue
            offsets = _numbers(by_tag[offsets_tag], order)
            counts = _numbers(by_tag[counts_tag], order) if counts_tag in by_tag else []
            if len(counts) != len(offsets):
                raise KeyError(f"tag {offsets_tag} has no matching byte counts")
            new = []
            for offset, count in zip(offsets, counts, strict=True):
                block = data[offset : offset + count]
                if len(block) != count:
                    raise IndexError("a strip lies past the end of the file")
                new.append(len(out))
                out += block + b"\0" * (len(block) % 2)  # offsets stay on word boundaries
            value = struct.pack(f"{order}{len(new)}I", *new)
            moved[offsets_tag] = _Entry(offsets_tag, 4, len(new), value)
        ifd = [moved.get(e.tag, e) for e in sorted(entries, key=lambda e: e.tag)]
        fields = []
        for entry in ifd:
            if len(entry.value) > 4:
                fields.append(struct.pack(order + "I", len(out)))
                out += entry.value + b"\0" * (len(entry.value) % 2)
            else:
                fields.append(entry.value.ljust(4, b"\0"))
        struct.pack_into(order + "I", out, link, len(out))
        out += struct.pack(order + "H", len(ifd))
        for entry, field in zip(ifd, fields, strict=True):
            out += struct.pack(order + "HHI", entry.tag, entry.kind, entry.count) + field
        link = len(out)
        out += b"\0\0\0\0"
    return bytes(out)
