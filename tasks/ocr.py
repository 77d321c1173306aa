"""The ocr step: every page through tesseract, in parallel, grafted onto the original page.

    prepare_pages  each page as an image tesseract reads (tasks/pages.py); a page with its own
                   usable text layer is kept as it is and not read
    ocr_page       per page, under the ``ocr-pages`` limit: read it; when the reading looks turned,
                   find the orientation and read a turned copy
    assemble       lay each page's invisible text layer over the ORIGINAL page (a turned page is
                   shown upright through /Rotate, its image never re-encoded), make the PDF
                   PDF/A-2b (tasks/pdfa.py), keep PDF, text and per-page ALTO in the system bucket

Orientation is checked only where the first reading looks wrong, because tesseract's orientation
detection (OSD) costs about as much as a third to a half of the reading itself. Measured on 24
generated 300 dpi pages, half of them turned (2 cores, ``OMP_THREAD_LIMIT=1``):

    OSD on                          right   tesseract time per page
    the full page                   24/24   0.91 s
    a half-size copy (150 dpi)      24/24   0.60 s   (+ decode, shrink, write)
    the central half of the page    24/24   0.48 s   (misses pages whose text sits at the edge)
    a third-size copy (100 dpi)     16/24   0.44 s
    a quarter-size copy (75 dpi)     6/24   0.35 s

A downscaled copy is too unreliable below half size and saves too little at half size to pay on
every page. The first reading, however, tells turned pages apart for free: a page upside down or
turned counter-clockwise reads at a mean word confidence of about 40 (upright: 94-96), and a
page turned clockwise is read by tesseract as vertical text, most words taller than wide. Only
such pages get a full-size OSD and a second reading; the better reading is kept. On 174 pages
of 140 generated letters of every format (``generate(..., rotated_share=0.25 / 0.5)``), all 62
turned pages were read upright and none of the 112 upright pages was sent to OSD; an upright page
costs one reading, a turned one two readings and an OSD (about three times as much).

Skew: tesseract measures the skew of each text line itself and reads along it, and its text
layer follows the lines of the image as scanned. Measured on a generated letter turned by a
further few degrees (its scan is already skewed by up to 1°), the character error rate is 0.1 %
upright, 0.3 % at 2°, 1.7 % at 3° and 8.5 % at 5°. Up to 2° the image is therefore left alone;
beyond it (the median baseline slope of the first reading's hOCR tells the angle, for free) a
straightened copy is read as well, and the better reading kept; its text layer is turned back by
the same angle when it is grafted, so it lies over the skewed original.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import gc
import io
import math
import os
import re
import statistics
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Literal, cast
from xml.sax.saxutils import escape

import pypdfium2 as pdfium
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError
from pypdf.generic import RectangleObject
from pytesseract import TesseractError
from pytesseract.pytesseract import run_tesseract

from schemas.letter import Box, Intake, MediaType, OcrResult, PageImage, PageText, State
from schemas.settings import Settings
from tasks.edges import Edges
from tasks.errors import CorruptFileError, io_task
from tasks.pages import base_pdf, image_pages, pdf_pages, rotated_copy, straightened_copy
from tasks.pdfa import PdfaResult, make_pdfa
from tasks.record import advance
from tasks.slots import cpu_slot, lower_priority

# OpenMP threads inside one tesseract make it about twice as slow on two cores; pages run in
# parallel instead (DESIGN.md). Set before the first tesseract child starts.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

OCR_LIMIT = "ocr-pages"
# A first reading below this mean word confidence may be of a page upside down or turned.
POOR_CONFIDENCE = 60.0
# Words of at least this many characters tell a horizontal line from a vertical one.
SHAPE_WORD_CHARS = 4
# OSD's orientation confidence below this is a guess (wrongly turned pages score under 1).
MIN_OSD_CONFIDENCE = 2.0
# Skew (degrees) tesseract reads through by itself; beyond it a straightened copy is read, up
# to MAX_DESKEW (more is not a skewed scan but a page laid at an angle on purpose).
MAX_SKEW, MAX_DESKEW = 2.0, 15.0

Rotation = Literal[0, 90, 180, 270]


class PageTimeoutError(TimeoutError):
    """tesseract did not finish a page within the page timeout."""


def mean_confidence(tsv: str) -> float:
    """Return the mean word confidence (0-100) of tesseract's TSV output."""
    scores = [float(cells[10]) for cells in _words(tsv)]
    scores = [score for score in scores if score >= 0]
    return round(sum(scores) / len(scores), 1) if scores else 0.0


def _words(tsv: str) -> list[list[str]]:
    """Return the TSV rows that hold a word."""
    rows = (line.split("\t") for line in tsv.splitlines()[1:])
    return [cells for cells in rows if len(cells) == 12 and cells[11].strip()]


def looks_sideways(tsv: str) -> bool:
    """Return whether most longer words were read as taller than wide (a page turned by 90°)."""
    shapes = [
        int(cells[9]) > int(cells[8])
        for cells in _words(tsv)
        if len(cells[11].strip()) >= SHAPE_WORD_CHARS
    ]
    return bool(shapes) and sum(shapes) > len(shapes) / 2


def looks_turned(tsv: str) -> bool:
    """Return whether a first reading suggests the page is not upright."""
    return mean_confidence(tsv) < POOR_CONFIDENCE or looks_sideways(tsv)


def _time_left(deadline: float) -> float:
    """Return the seconds left before ``deadline``; raise when none are left."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise PageTimeoutError("no time left")
    return left


def _run(image: str, base: Path, extensions: str, lang: str, config: str, deadline: float) -> None:
    """Run tesseract once, within the page's deadline, below the orchestration's priority."""
    lower_priority()
    try:
        run_tesseract(image, str(base), extensions, lang, config, timeout=_time_left(deadline))
    except RuntimeError as exc:  # pytesseract reports its timeout as a bare RuntimeError
        if "timeout" not in str(exc).lower():
            raise
        raise PageTimeoutError(str(exc)) from exc


@dataclass(frozen=True)
class Reading:
    """One tesseract run over a page image: what it read and the TSV and hOCR it wrote."""

    page: PageImage  # the image read: the page's own, or a turned or straightened copy
    text: PageText
    tsv: str
    hocr: str


def tesseract_read(
    page: PageImage, languages: str, deadline: float, rotation: Rotation = 0, skew: float = 0.0
) -> Reading:
    """Read a page image once: text, TSV, hOCR, ALTO and a text-only PDF in the work folder."""
    suffix = f"-r{rotation}" if rotation else ""
    suffix += f"-s{skew:+.2f}" if skew else ""
    base = Path(page.workdir) / f"ocr-{page.number:04d}{suffix}"
    config = f"--dpi {page.dpi} -c textonly_pdf=1 -c tessedit_create_tsv=1"
    _run(page.path, base, "pdf txt alto hocr", languages, config, deadline)
    tsv = Path(f"{base}.tsv").read_text(encoding="utf-8")
    text = PageText(
        number=page.number,
        text=Path(f"{base}.txt").read_text(encoding="utf-8").strip(),
        confidence=mean_confidence(tsv),
        source="ocr",
        layer_pdf=f"{base}.pdf",
        alto=f"{base}.xml",
        rotation=rotation,
        skew=skew,
        box=page.box,
    )
    return Reading(page, text, tsv, Path(f"{base}.hocr").read_text(encoding="utf-8"))


def detect_rotation(page: PageImage, deadline: float) -> Rotation:
    """Return the clockwise turn OSD finds the page needs; 0 when it is unsure or finds no text."""
    base = Path(page.workdir) / f"osd-{page.number:04d}"
    try:
        _run(page.path, base, "osd", "osd", f"--psm 0 --dpi {page.dpi}", deadline)
    except TesseractError:  # "Too few characters": nothing to orient by
        return 0
    report = Path(f"{base}.osd").read_text(encoding="utf-8")
    rotate = re.search(r"^Rotate: (\d+)", report, re.MULTILINE)
    confidence = re.search(r"^Orientation confidence: ([\d.]+)", report, re.MULTILINE)
    if not rotate or not confidence or float(confidence[1]) < MIN_OSD_CONFIDENCE:
        return 0
    turn = int(rotate[1]) % 360
    return cast(Rotation, turn) if turn in (0, 90, 180, 270) else 0


def line_skew(hocr: str) -> float:
    """Return the median angle of the read lines' baselines, in degrees counter-clockwise.

    hOCR gives each line's baseline slope in image coordinates (y down): a line rising to the
    right has a negative slope, and turning the image by the returned angle straightens it.
    """
    slopes = [float(slope) for slope in re.findall(r"baseline (-?[\d.]+) ", hocr)]
    return math.degrees(math.atan(statistics.median(slopes))) if slopes else 0.0


def upright(page: PageImage, first: Reading, languages: str, deadline: float) -> Reading:
    """Return the reading of the page turned upright when the first one looks turned."""
    if not looks_turned(first.tsv):
        return first
    rotation = detect_rotation(page, deadline)
    if rotation == 0:
        return first
    second = tesseract_read(rotated_copy(page, rotation), languages, deadline, rotation)
    # A sideways first reading can score well on vertical "lines"; OSD is trusted over it.
    if looks_sideways(first.tsv) or second.text.confidence >= first.text.confidence:
        return second
    return first


def straight(reading: Reading, languages: str, deadline: float) -> Reading:
    """Return a straightened copy's reading when the page is skewed more than tesseract likes."""
    skew = round(line_skew(reading.hocr), 2)
    if not MAX_SKEW < abs(skew) <= MAX_DESKEW:
        return reading
    copy = straightened_copy(reading.page, skew)
    second = tesseract_read(copy, languages, deadline, reading.text.rotation, skew)
    return second if second.text.confidence > reading.text.confidence else reading


def read_page(page: PageImage, languages: str, timeout: float) -> PageText:
    """Read a page; read it again turned upright, or straightened, where the reading says so.

    Raises PageTimeoutError when the page takes longer than ``timeout`` seconds in all.
    """
    deadline = time.monotonic() + timeout
    reading = upright(page, tesseract_read(page, languages, deadline), languages, deadline)
    return straight(reading, languages, deadline).text


def unreadable_page(page: PageImage, reason: str) -> PageText:
    """Return an empty reading of a page, marked unreadable with the reason."""
    return PageText(number=page.number, text="", confidence=0.0, source="ocr", unreadable=reason)


def read_or_mark(page: PageImage, languages: str, timeout: float) -> PageText:
    """Read a page; a page tesseract cannot read or finish in time is marked, not fatal."""
    if page.text_layer is not None:
        return PageText(
            number=page.number, text=page.text_layer.strip(), confidence=100.0, source="text-layer"
        )
    if page.unreadable is not None:
        return unreadable_page(page, page.unreadable)
    try:
        return read_page(page, languages, timeout)
    except PageTimeoutError:
        return unreadable_page(page, f"OCR of page {page.number} took longer than {timeout:g} s")
    except TesseractError as exc:
        return unreadable_page(page, f"tesseract could not read page {page.number}: {exc.message}")


# -- the searchable PDF --


def layer_matrix(
    box: Box, layer: tuple[float, float], rotation: int
) -> tuple[float, float, float, float, float, float]:
    """Return the matrix laying a text layer read from a turned copy back over the original image.

    ``layer`` is the width and height of tesseract's page (the copy turned clockwise by
    ``rotation``); ``box`` is the rectangle the unturned image fills on the PDF page. With the
    page's /Rotate set to ``rotation`` the page and its layer then both show upright.
    """
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    lw, lh = layer
    return {
        0: (width / lw, 0.0, 0.0, height / lh, x0, y0),
        90: (0.0, height / lw, -width / lh, 0.0, x1, y0),
        180: (-width / lw, 0.0, 0.0, -height / lh, x1, y1),
        270: (0.0, -height / lw, width / lh, 0.0, x0, y1),
    }[rotation]


def placement(text: PageText, layer: RectangleObject, box: Box) -> Transformation:
    """Return where a page's text layer goes: straightened back, turned back, over ``box``."""
    width, height = float(layer.width), float(layer.height)
    return (
        Transformation()
        .translate(-float(layer.left) - width / 2, -float(layer.bottom) - height / 2)
        .rotate(-text.skew)  # the copy read was turned by +skew about its centre
        .translate(width / 2, height / 2)
        .transform(Transformation(layer_matrix(box, (width, height), text.rotation)))
    )


def graft(original: bytes, pages: list[PageText]) -> bytes:
    """Lay each page's invisible text layer over its original page image, shown upright."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    for text in pages:
        if text.layer_pdf is None:
            continue
        target: PageObject = writer.pages[text.number - 1]
        layer = PdfReader(text.layer_pdf).pages[0]
        box = text.box or cast(Box, tuple(float(v) for v in target.mediabox))
        target.merge_transformed_page(layer, placement(text, layer.mediabox, box), over=True)
        target.rotation = text.rotation
    writer.compress_identical_objects()
    return _written(writer)


def searchable_pdf(original: bytes, pages: list[PageText], title: str) -> PdfaResult:
    """Return the original with its pages' text layers grafted on, made PDF/A-2b."""
    grafted = graft(original, pages)
    # graft's reader and writer live in reference cycles; collected now, their room serves
    # the PDF/A pass (a 100-page, 32 MB scan: peak 403 MB → 340 MB).
    gc.collect()
    return make_pdfa(grafted, title=title, created=dt.datetime.now(dt.UTC))


def _written(writer: PdfWriter) -> bytes:
    """Return what a PDF writer writes."""
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@cache
def _libc() -> ctypes.CDLL | None:
    """Return the C library, or None where it cannot be loaded."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def return_freed_memory() -> None:
    """Collect the reference cycles a file's parsing left, and give freed heap back to the system.

    pypdf's objects point at their reader and back, so a parsed PDF outlives its last use until
    the collector runs, and glibc keeps what was freed for reuse. Measured on a 100-page scanned
    PDF (32 MB): preparing its pages left the process 64 MB larger, half in garbage cycles and
    half in freed heap; the room is wanted at once, by the tesseract processes that read the
    pages. The collection is quick: the worker's imports are frozen out of it (flows/worker.py).
    """
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):  # glibc only
        libc.malloc_trim(0)


# -- tasks --


@task(cache_policy=NO_CACHE)
def prepare_pages(intake: Intake, workdir: str) -> list[PageImage]:
    """Prepare every page of the letter for OCR; refuse the letter when no page can be decoded."""
    source, folder = Path(intake.local_path), Path(workdir)
    letter_id = intake.letter.letter_id
    try:
        if intake.media_type is MediaType.PDF:
            pages = pdf_pages(letter_id, source, folder)
        else:
            pages = image_pages(letter_id, source, folder)
    except (OSError, ValueError, PyPdfError, pdfium.PdfiumError) as exc:
        raise CorruptFileError(
            f"the file cannot be decoded ({exc})", step="ocr", letter_id=letter_id
        ) from exc
    if pages and all(page.unreadable for page in pages):
        raise CorruptFileError(
            f"no page can be decoded: {pages[0].unreadable}", step="ocr", letter_id=letter_id
        )
    return_freed_memory()
    return pages


@cache
def machine_slots() -> int | None:
    """Return how many pages this machine reads at once (``stack.ocr_slots``; None: its cores)."""
    return Settings().stack.ocr_slots


@task(cache_policy=NO_CACHE, task_run_name="ocr-page-{page.number}")
def ocr_page(page: PageImage, languages: str, timeout: int) -> PageText:
    """Read one page within the ocr-pages limit; keep a text layer as it is."""
    if page.text_layer is not None or page.unreadable is not None:
        return read_or_mark(page, languages, timeout)
    # Admitted by the cluster-wide limit first (an API call, holding no core), then one of this
    # machine's cores: the limit admits two pages per core, so the next page is in hand when a
    # core frees (flows/stack.py: PAGES_IN_HAND).
    with concurrency(OCR_LIMIT, occupy=1), cpu_slot(machine_slots()):
        text = read_or_mark(page, languages, timeout)
    if text.unreadable:
        get_run_logger().warning("letter %s: %s", page.letter_id, text.unreadable)
    return text


def alto_document(path: str, source_name: str) -> bytes:
    """Return a page's ALTO XML naming the original file instead of a temporary image."""
    xml = Path(path).read_text(encoding="utf-8")
    named = re.sub(
        r"<fileName>.*?</fileName>",
        lambda _: f"<fileName>{escape(source_name)}</fileName>",
        xml,
        count=1,
    )
    return named.encode()


def result_key(letter_id: str) -> str:
    """Return where a letter's OCR result is kept in the system bucket."""
    return f"work/{letter_id}/ocr.json"


@io_task()
def recall_ocr(edges: Edges, intake: Intake) -> OcrResult | None:
    """Return the OCR result an earlier run of this letter kept, if it kept one."""
    try:
        body = edges.s3.get_object(
            Bucket=edges.settings.buckets.system, Key=result_key(intake.letter.letter_id)
        )["Body"].read()
    except edges.s3.exceptions.NoSuchKey:
        return None
    return OcrResult.model_validate_json(body)


@io_task()
def assemble(edges: Edges, intake: Intake, pages: list[PageText], actor: str) -> OcrResult:
    """Build the searchable PDF/A and keep it, with the text and ALTO, in the system bucket."""
    letter_id = intake.letter.letter_id
    source_name = PurePosixPath(intake.letter.source.key).name
    prefix = f"work/{letter_id}"
    bucket = edges.settings.buckets.system
    ordered = sorted(pages, key=lambda p: p.number)
    made = searchable_pdf(base_pdf(intake), ordered, source_name)
    kept = []
    for page in ordered:
        if page.alto is not None and Path(page.alto).is_file():
            key = f"{prefix}/pages/page-{page.number:04d}.alto.xml"
            edges.s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=alto_document(page.alto, source_name),
                ContentType="application/xml",
            )
            page = page.model_copy(update={"alto_key": key})
        kept.append(page)
    result = OcrResult(
        letter_id=letter_id,
        pages=tuple(kept),
        pdf_key=f"{prefix}/searchable.pdf",
        text_key=f"{prefix}/text.txt",
        pdfa_problems=made.problems,
    )
    edges.s3.put_object(
        Bucket=bucket, Key=result.pdf_key, Body=made.pdf, ContentType="application/pdf"
    )
    edges.s3.put_object(
        Bucket=bucket,
        Key=result.text_key,
        Body=result.text.encode(),
        ContentType="text/plain; charset=utf-8",
    )
    # Kept last: a re-run (after a crash, or resumed after review) takes the OCR from here.
    edges.s3.put_object(
        Bucket=bucket,
        Key=result_key(letter_id),
        Body=result.model_dump_json().encode(),
        ContentType="application/json",
    )
    advance(
        edges.engine,
        letter_id,
        State.RECOGNISED,
        step="ocr",
        actor=actor,
        detail={
            "pages": len(kept),
            "confidence": round(result.mean_confidence, 1),
            "ocr_pages": sum(p.source == "ocr" for p in kept),
            "rotated_pages": [p.number for p in kept if p.rotation],
            "straightened_pages": [p.number for p in kept if p.skew],
            "unreadable_pages": [
                {"page": p.number, "reason": p.unreadable} for p in kept if p.unreadable
            ],
            "pdfa": "PDF/A-2b" if not made.problems else list(made.problems),
            "pdfa_changes": list(made.changes),
        },
        pages=len(kept),
        ocr_confidence=round(result.mean_confidence, 1),
    )
    del made
    return_freed_memory()  # the PDF's readers and writers, before the next letter's pages
    return result
