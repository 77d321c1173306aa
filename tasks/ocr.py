"""The ocr step: every page through tesseract, in parallel, grafted onto the original page.

Pages are prepared (rendered or taken from the file as they are), read by tesseract under the
``ocr-pages`` global concurrency limit, and each page's invisible text layer (tesseract's
``textonly_pdf``) is laid over the ORIGINAL page, so the scan's own image bytes stay in the PDF.
A page that already carries a usable text layer is not read again.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import img2pdf
import pypdfium2 as pdfium
from PIL import Image
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pytesseract import TesseractError
from pytesseract.pytesseract import run_tesseract

from schemas.letter import Intake, MediaType, OcrResult, PageImage, PageText, State
from tasks.edges import Edges
from tasks.errors import CorruptFileError, io_task
from tasks.record import advance

# OpenMP threads inside one tesseract make it about twice as slow on two cores; pages run in
# parallel instead (DESIGN.md). Set before the first tesseract child starts.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

OCR_LIMIT = "ocr-pages"
DEFAULT_DPI = 300
RENDER_DPI = 300
# A page whose own text layer has fewer word characters than this is treated as a scan.
MIN_TEXT_LAYER_CHARS = 40


def usable_text_layer(text: str) -> bool:
    """Return whether a born-digital page's extracted text is worth keeping instead of OCR."""
    return len(re.findall(r"\w", text)) >= MIN_TEXT_LAYER_CHARS


def image_dpi(image: Image.Image) -> int:
    """Return an image's resolution from its metadata, or the scanner default."""
    dpi = image.info.get("dpi")
    if dpi and float(dpi[0]) >= 50:
        return round(float(dpi[0]))
    return DEFAULT_DPI


def pdf_pages(letter_id: str, source: Path, workdir: Path) -> list[PageImage]:
    """Render each PDF page without a usable text layer at 300 dpi; keep the others' text."""
    reader = PdfReader(source)
    document = pdfium.PdfDocument(source)
    pages = []
    try:
        for index, page in enumerate(reader.pages):
            number = index + 1
            text = page.extract_text() or ""
            if usable_text_layer(text):
                pages.append(
                    PageImage(
                        letter_id=letter_id, number=number, path="", dpi=RENDER_DPI, text_layer=text
                    )
                )
                continue
            bitmap = document[index].render(scale=RENDER_DPI / 72, grayscale=True)
            path = workdir / f"page-{number:04d}.png"
            bitmap.to_pil().save(path, dpi=(RENDER_DPI, RENDER_DPI))
            pages.append(
                PageImage(letter_id=letter_id, number=number, path=str(path), dpi=RENDER_DPI)
            )
    finally:
        document.close()
    return pages


def image_pages(letter_id: str, source: Path, workdir: Path) -> list[PageImage]:
    """Split an image file into one losslessly stored image per page."""
    pages = []
    with Image.open(source) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            number = index + 1
            path = workdir / f"page-{number:04d}.png"
            dpi = image_dpi(image)
            frame = image if image.mode in {"1", "L", "RGB"} else image.convert("RGB")
            frame.save(path, dpi=(dpi, dpi))
            pages.append(PageImage(letter_id=letter_id, number=number, path=str(path), dpi=dpi))
    return pages


def base_pdf(intake: Intake) -> bytes:
    """Return the original as a PDF: the file itself, or its images embedded without loss."""
    source = Path(intake.local_path)
    if intake.media_type is MediaType.PDF:
        return source.read_bytes()
    with Image.open(source) as image:
        dpi = image_dpi(image)
    layout = img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))
    converted: bytes = img2pdf.convert(
        str(source), layout_fun=layout, rotation=img2pdf.Rotation.ifvalid
    )
    return converted


def mean_confidence(tsv: str) -> float:
    """Return the mean word confidence (0-100) of tesseract's TSV output."""
    scores = []
    for line in tsv.splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) == 12 and cells[11].strip():
            score = float(cells[10])
            if score >= 0:
                scores.append(score)
    return round(sum(scores) / len(scores), 1) if scores else 0.0


def read_page(page: PageImage, languages: str, timeout: int) -> PageText:
    """Run tesseract once on a page image for its text, word confidences and text-only PDF."""
    base = str(Path(page.path).with_suffix(""))
    config = f"--dpi {page.dpi} -c textonly_pdf=1 -c tessedit_create_tsv=1"
    run_tesseract(page.path, base, "pdf txt alto", languages, config, timeout=timeout)
    return PageText(
        number=page.number,
        text=Path(f"{base}.txt").read_text(encoding="utf-8").strip(),
        confidence=mean_confidence(Path(f"{base}.tsv").read_text(encoding="utf-8")),
        source="ocr",
        layer_pdf=f"{base}.pdf",
    )


def graft(original: bytes, pages: list[PageText]) -> bytes:
    """Lay each page's invisible text layer over the original page, scaled to its media box."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    for text in pages:
        if text.layer_pdf is None:
            continue
        target: PageObject = writer.pages[text.number - 1]
        layer = PdfReader(text.layer_pdf).pages[0]
        box, layer_box = target.mediabox, layer.mediabox
        scale = (
            Transformation()
            .scale(
                float(box.width) / float(layer_box.width),
                float(box.height) / float(layer_box.height),
            )
            .translate(float(box.left), float(box.bottom))
        )
        target.merge_transformed_page(layer, scale, over=True)
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@task(cache_policy=NO_CACHE)
def prepare_pages(intake: Intake, workdir: str) -> list[PageImage]:
    """Prepare every page of the letter for OCR."""
    source, folder = Path(intake.local_path), Path(workdir)
    try:
        if intake.media_type is MediaType.PDF:
            return pdf_pages(intake.letter.letter_id, source, folder)
        return image_pages(intake.letter.letter_id, source, folder)
    except (OSError, ValueError, pdfium.PdfiumError) as exc:
        raise CorruptFileError(
            f"a page cannot be decoded ({exc})", step="ocr", letter_id=intake.letter.letter_id
        ) from exc


@task(cache_policy=NO_CACHE, task_run_name="ocr-page-{page.number}")
def ocr_page(page: PageImage, languages: str, timeout: int) -> PageText:
    """Read one page: keep its text layer, or run tesseract within the ocr-pages limit."""
    if page.text_layer is not None:
        return PageText(
            number=page.number, text=page.text_layer.strip(), confidence=100.0, source="text-layer"
        )
    with concurrency(OCR_LIMIT, occupy=1):
        try:
            return read_page(page, languages, timeout)
        except RuntimeError as exc:  # pytesseract's timeout: the page is unreadable, not the letter
            if "timeout" not in str(exc).lower():
                raise
            get_run_logger().warning(
                "letter %s page %d: OCR timed out after %d s", page.letter_id, page.number, timeout
            )
            return PageText(number=page.number, text="", confidence=0.0, source="ocr")
        except TesseractError as exc:
            raise CorruptFileError(
                f"tesseract could not read page {page.number}: {exc.message}",
                step="ocr",
                letter_id=page.letter_id,
            ) from exc


@io_task()
def assemble(edges: Edges, intake: Intake, pages: list[PageText], actor: str) -> OcrResult:
    """Build the searchable PDF and keep it, with the text, in the system bucket."""
    letter_id = intake.letter.letter_id
    ordered = tuple(sorted(pages, key=lambda p: p.number))
    searchable = graft(base_pdf(intake), list(ordered))
    prefix = f"work/{letter_id}"
    bucket = edges.settings.buckets.system
    result = OcrResult(
        letter_id=letter_id,
        pages=ordered,
        pdf_key=f"{prefix}/searchable.pdf",
        text_key=f"{prefix}/text.txt",
    )
    edges.s3.put_object(
        Bucket=bucket, Key=result.pdf_key, Body=searchable, ContentType="application/pdf"
    )
    edges.s3.put_object(
        Bucket=bucket,
        Key=result.text_key,
        Body=result.text.encode(),
        ContentType="text/plain; charset=utf-8",
    )
    advance(
        edges.engine,
        letter_id,
        State.RECOGNISED,
        step="ocr",
        actor=actor,
        detail={
            "pages": len(ordered),
            "confidence": round(result.mean_confidence, 1),
            "ocr_pages": sum(p.source == "ocr" for p in ordered),
        },
        pages=len(ordered),
        ocr_confidence=round(result.mean_confidence, 1),
    )
    return result
