"""OCR: real tesseract on generated scans of every input format, grafted onto the original page.

One letter is rendered once; its upper and lower parts (a third of a page each, so that each
reading is short) are written in every format a scanner produces, and each file goes through the
OCR step's own functions (prepare, read, graft, PDF/A) once per module, two files at a time. A
full page read upright, and a full page turned by 90°, come from the same letter.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import gc
import io
import itertools
import os
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast
from xml.etree import ElementTree as ET

import img2pdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from flows.samples import compose, render_pages
from schemas.letter import (
    Intake,
    LetterRef,
    MediaType,
    OcrResult,
    PageImage,
    PageText,
    SourceObject,
)
from tasks.errors import CorruptFileError
from tasks.ocr import (
    alto_document,
    graft,
    layer_matrix,
    looks_sideways,
    mean_confidence,
    prepare_pages,
    read_or_mark,
    searchable_pdf,
)
from tasks.pages import base_pdf, image_pages, pdf_pages
from tasks.split import edit_distance

LETTER = LetterRef(letter_id="t" * 24, source=SourceObject(bucket="b", key="k", version_id="v"))
LANGUAGES = "deu+eng"
DPI = 300
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
BORN_DIGITAL = (
    "Landratsamt Eichenbach, Bahnhofstraße 12, 56457 Eichenbach",
    "Sehr geehrte Damen und Herren,",
    "wir bestätigen den Eingang Ihres Antrags auf Wohngeld vom 12.03.2026.",
    "Die Unterlagen werden geprüft; Sie hören in vier Wochen von uns.",
    "Mit freundlichen Grüßen",
)


@dataclasses.dataclass(frozen=True)
class Processed:
    """A file after the OCR step's functions: prepared pages, their readings and the output."""

    source: Path
    pages: list[PageImage]
    texts: list[PageText]
    output: bytes

    @property
    def reader(self) -> PdfReader:
        """Return the searchable PDF, parsed."""
        return PdfReader(io.BytesIO(self.output))


# -- generated inputs --


def intake_for(path: Path, media_type: MediaType, pages: int = 1) -> Intake:
    """Return an intake record of a local file."""
    data = path.read_bytes()
    return Intake(
        letter=LETTER,
        sha256="0" * 64,
        size=len(data),
        media_type=media_type,
        pages=pages,
        local_path=str(path),
    )


def bilevel(image: Image.Image) -> Image.Image:
    """Return a scan thresholded to black and white, as a G4 scanner stores it."""
    return image.point([255 if v > 160 else 0 for v in range(256)], mode="1")


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    """Return an image saved in ``fmt`` at 300 dpi."""
    out = io.BytesIO()
    image.save(out, fmt, dpi=(DPI, DPI), **params)
    return out.getvalue()


def single_strip_g4(image: Image.Image) -> bytes:
    """Return a bilevel image as a one-strip G4 TIFF (what img2pdf passes through as it is)."""
    return encoded(bilevel(image), "TIFF", compression="group4", strip_size=10**8)


def pdf_of(*images: bytes) -> bytes:
    """Return image files embedded in a PDF without re-encoding, one page each, at 300 dpi."""
    return bytes(
        img2pdf.convert(list(images), layout_fun=img2pdf.get_fixed_dpi_layout_fun((DPI, DPI)))
    )


def jbig2_pdf(image: Image.Image) -> bytes:
    """Return a one-page PDF holding a bilevel image as JBIG2 (a generic region coded with MMR).

    jbig2enc is not packaged for Debian 12, but a JBIG2 generic region may be coded with MMR,
    which is CCITT G4: Pillow's G4 bytes (of the inverted image, since JBIG2 counts 1 as black)
    wrapped in a page-information and an immediate-generic-region segment.
    """
    black_is_one = ImageChops.invert(bilevel(image).convert("L")).convert("1")
    tiff = encoded(black_is_one, "TIFF", compression="group4", strip_size=10**8)
    with Image.open(io.BytesIO(tiff)) as parsed:
        offset, count = parsed.tag_v2[273][0], parsed.tag_v2[279][0]  # type: ignore[attr-defined]
    mmr = tiff[offset : offset + count]
    width, height = image.size

    def segment(number: int, kind: int, data: bytes) -> bytes:
        return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data

    page_info = struct.pack(">IIIIBH", width, height, 11811, 11811, 0, 0)
    region = struct.pack(">IIIIB", width, height, 0, 0, 0) + b"\x01" + mmr
    data = segment(0, 48, page_info) + segment(1, 38, region) + segment(2, 49, b"")
    return image_pdf(data, "/JBIG2Decode", image.size)


def image_pdf(data: bytes, codec: str, size: tuple[int, int]) -> bytes:
    """Return a one-page PDF drawing one stored bilevel image over the whole page."""
    width, height = size[0] * 72 / DPI, size[1] * 72 / DPI
    writer = PdfWriter()
    page = writer.add_blank_page(width=width, height=height)
    image = DecodedStreamObject()
    image.set_data(data)
    for key, value in (
        ("/Type", NameObject("/XObject")),
        ("/Subtype", NameObject("/Image")),
        ("/Width", NumberObject(size[0])),
        ("/Height", NumberObject(size[1])),
        ("/ColorSpace", NameObject("/DeviceGray")),
        ("/BitsPerComponent", NumberObject(1)),
        ("/Filter", NameObject(codec)),
    ):
        image[NameObject(key)] = value
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    contents = DecodedStreamObject()
    contents.set_data(f"q {width} 0 0 {height} 0 0 cm /Im0 Do Q".encode())
    page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def born_digital_pdf(lines: tuple[str, ...]) -> bytes:
    """Return a one-page PDF with real text in Helvetica (WinAnsi, not embedded)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    shown = b" T* ".join(
        b"(" + line.encode("cp1252").replace(b"(", b"\\(").replace(b")", b"\\)") + b") Tj"
        for line in lines
    )
    contents = DecodedStreamObject()
    contents.set_data(b"BT /F1 11 Tf 16 TL 72 760 Td " + shown + b" ET")
    page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def joined_pdf(*documents: bytes) -> bytes:
    """Return the pages of several PDFs in one."""
    writer = PdfWriter()
    for document in documents:
        writer.append(PdfReader(io.BytesIO(document)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def letter() -> tuple[Image.Image, str]:
    """Return the first page of a generated invoice as a 300 dpi scan, and its ground truth."""
    truth = compose("rechnung", seed=11)
    return render_pages(truth, seed=11)[0], truth.pages[0]


@pytest.fixture(scope="module")
def parts(letter: tuple[Image.Image, str]) -> tuple[Image.Image, Image.Image]:
    """Return the letter's upper and lower third (short readings for the format tests)."""
    page, _ = letter
    first, second = blank_row(page, 1300), blank_row(page, 2600)
    return page.crop((0, 0, page.width, first)), page.crop((0, first, page.width, second))


def blank_row(page: Image.Image, near: int) -> int:
    """Return the lightest pixel row within 100 rows of ``near`` (between two lines of text)."""
    rows = range(near - 100, near + 100)
    return max(rows, key=lambda y: ImageStat.Stat(page.crop((0, y, page.width, y + 1))).mean[0])


def inputs(page: Image.Image, top: Image.Image, low: Image.Image) -> dict[str, tuple[str, bytes]]:
    """Return every input of the module: name → (file name, bytes)."""
    jpeg = encoded(top, "JPEG", quality=85)
    turned = encoded(page.transpose(Image.Transpose.ROTATE_270), "JPEG", quality=85)
    return {
        "jpeg": ("scan.jpg", jpeg),
        "png": ("scan.png", encoded(top, "PNG")),
        "tiff-g4": (
            "scan.tif",
            encoded(
                bilevel(top),
                "TIFF",
                save_all=True,
                append_images=[bilevel(low)],
                compression="group4",
                strip_size=10**8,
            ),
        ),
        "tiff-lzw": ("scan.tif", encoded(top, "TIFF", compression="tiff_lzw")),
        "tiff-jpeg": ("scan.tif", encoded(top, "TIFF", compression="jpeg", quality=85)),
        "pdf-jpeg": ("scan.pdf", pdf_of(jpeg)),
        "pdf-g4": ("scan.pdf", pdf_of(single_strip_g4(top))),
        "pdf-flate": ("scan.pdf", pdf_of(encoded(top, "PNG"))),
        "pdf-jbig2": ("scan.pdf", jbig2_pdf(top)),
        "pdf-mixed": ("scan.pdf", joined_pdf(born_digital_pdf(BORN_DIGITAL), pdf_of(jpeg))),
        "full-jpeg": ("letter.jpg", encoded(page, "JPEG", quality=85)),
        "turned-pdf": ("turned.pdf", pdf_of(turned)),
        "skewed-png": (
            "skewed.png",
            encoded(page.rotate(5, Image.Resampling.BICUBIC, fillcolor=240), "PNG"),
        ),
    }


def process(source: Path, workdir: Path) -> Processed:
    """Run a file through the OCR step's functions: prepare, read, graft, PDF/A."""
    media_type = MediaType.PDF if source.suffix == ".pdf" else MediaType.TIFF
    media_type = {".jpg": MediaType.JPEG, ".png": MediaType.PNG}.get(source.suffix, media_type)
    workdir.mkdir()
    if media_type is MediaType.PDF:
        pages = pdf_pages(LETTER.letter_id, source, workdir)
    else:
        pages = image_pages(LETTER.letter_id, source, workdir)
    texts = [read_or_mark(page, LANGUAGES, 120) for page in pages]
    made = searchable_pdf(base_pdf(intake_for(source, media_type, len(pages))), texts, source.name)
    return Processed(source, pages, texts, made.pdf)


@pytest.fixture(scope="module")
def processed(
    letter: tuple[Image.Image, str],
    parts: tuple[Image.Image, Image.Image],
    tmp_path_factory: pytest.TempPathFactory,
    tesseract: str,
) -> dict[str, Processed]:
    """Return every input after the OCR step, read two at a time (once for the module)."""
    folder = tmp_path_factory.mktemp("formats")
    jobs: dict[str, Callable[[], Processed]] = {}
    for name, (file_name, data) in inputs(letter[0], *parts).items():
        source = folder / name / file_name
        source.parent.mkdir()
        source.write_bytes(data)
        jobs[name] = functools.partial(process, source, source.parent / "work")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


# -- helpers of the checks --


def words(text: str) -> set[str]:
    """Return the words of a text, lower case, without punctuation."""
    return {w.strip(".,:;()–-").lower() for w in text.split() if len(w.strip(".,:;()–-")) > 3}


def images_on(reader: PdfReader, index: int = 0) -> list[StreamObject]:
    """Return the image XObjects of one page."""
    resources = cast(DictionaryObject, reader.pages[index]["/Resources"])
    xobjects = cast(DictionaryObject, resources["/XObject"])
    streams = [cast(StreamObject, xobjects[name].get_object()) for name in xobjects]
    return [stream for stream in streams if str(stream["/Subtype"]) == "/Image"]


def stored_bytes(stream: StreamObject) -> bytes:
    """Return an image stream's bytes as stored in the file (still encoded)."""
    return stream._data


def layer_on_ink(pdf: bytes, index: int = 0) -> tuple[float, float]:
    """Return the share of text-layer characters lying on ink, and their mean left-to-right step.

    The page is rendered as displayed (with its /Rotate); each sampled character's centre is
    mapped to the rendering with pdfium's own page-to-device transform. Characters of a layer
    that lines up with the scan lie on dark pixels; on an upright page they advance to the right.
    """
    document = pdfium.PdfDocument(pdf)
    page = document[index]
    image = page.render(scale=50 / 72, grayscale=True).to_pil()
    width, height = image.size
    text = page.get_textpage()
    centres = []
    for char in range(text.count_chars()):
        left, bottom, right, top = text.get_charbox(char)
        x, y = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(
            page, 0, 0, width, height, 0, (left + right) / 2, (bottom + top) / 2, x, y
        )
        centres.append((x.value, y.value, text.get_text_range(char, 1)))
    document.close()
    sample = [(x, y) for x, y, c in centres[::5] if c.isalnum()]
    dark = sum(
        min(image.crop((max(x - 2, 0), max(y - 2, 0), x + 3, y + 3)).getextrema()) < 128
        for x, y in sample
    )
    steps = [
        b[0] - a[0]
        for a, b in itertools.pairwise(centres)
        if a[2].isalpha() and b[2].isalpha() and abs(b[1] - a[1]) < 3
    ]
    return dark / len(sample), sum(steps) / max(len(steps), 1)


# -- every input format --

SCANS = (
    "jpeg",
    "png",
    "tiff-g4",
    "tiff-lzw",
    "tiff-jpeg",
    "pdf-jpeg",
    "pdf-g4",
    "pdf-flate",
    "pdf-jbig2",
)


@pytest.mark.parametrize("name", SCANS)
def test_every_scanner_format_is_read_and_searchable(
    name: str, processed: dict[str, Processed], letter: tuple[Image.Image, str]
) -> None:
    result, truth = processed[name], words(letter[1])
    assert len(result.reader.pages) == len(result.pages)
    for page, text in zip(result.pages, result.texts, strict=True):
        read = words(text.text)
        assert text.unreadable is None and text.source == "ocr" and text.rotation == 0
        assert len(read) > 15 and len(read & truth) / len(read) > 0.9, sorted(read - truth)
        found = words(result.reader.pages[page.number - 1].extract_text())
        assert len(found & read) / len(read) > 0.9


@pytest.mark.parametrize(
    ("name", "taken_as"),
    [
        ("jpeg", "the file"),
        ("png", "the file"),
        ("tiff-lzw", "the file"),
        ("tiff-jpeg", "the file"),
        ("tiff-g4", ".tif"),  # each frame of a multi-page TIFF, losslessly
        ("pdf-jpeg", ".jpg"),  # the stored JPEG bytes
        ("pdf-g4", ".tif"),  # the stored G4 bytes in a TIFF wrapper
        ("pdf-flate", ".png"),
        ("pdf-jbig2", "rendered"),  # neither tesseract nor Pillow reads JBIG2
    ],
)
def test_each_page_image_is_taken_without_needless_re_encoding(
    name: str, taken_as: str, processed: dict[str, Processed]
) -> None:
    result = processed[name]
    for page in result.pages:
        path = Path(page.path)
        if taken_as == "the file":
            assert path == result.source
        elif taken_as == "rendered":
            assert path.suffix == ".png" and page.dpi == 300
            assert page.box == tuple(float(v) for v in result.reader.pages[0].cropbox)
        else:
            assert path.suffix == taken_as and path.parent.name == "work"
    if name == "pdf-jpeg":
        (stream,) = images_on(PdfReader(result.source))
        assert Path(result.pages[0].path).read_bytes() == stored_bytes(stream)


@pytest.mark.parametrize("name", ["pdf-g4", "pdf-flate", "tiff-g4"])
def test_a_stored_page_image_is_taken_pixel_for_pixel(
    name: str, processed: dict[str, Processed], parts: tuple[Image.Image, Image.Image]
) -> None:
    result = processed[name]
    for page, original in zip(result.pages, parts, strict=False):
        expected = original if name == "pdf-flate" else bilevel(original)
        with Image.open(page.path) as taken:
            assert taken.size == expected.size
            assert (
                ImageChops.difference(taken.convert("L"), expected.convert("L")).getbbox() is None
            )


@pytest.mark.parametrize(
    "name", ["jpeg", "full-jpeg", "pdf-jpeg", "pdf-g4", "tiff-g4", "pdf-jbig2"]
)
def test_the_original_image_bytes_are_kept_in_the_searchable_pdf(
    name: str, processed: dict[str, Processed]
) -> None:
    result = processed[name]
    if result.source.suffix == ".pdf":
        original = [
            stored_bytes(s)
            for i in range(len(result.pages))
            for s in images_on(PdfReader(result.source), i)
        ]
    elif result.source.suffix == ".tif":
        data = result.source.read_bytes()
        original = []
        with Image.open(result.source) as tiff:
            for index in range(len(result.pages)):
                tiff.seek(index)
                offset, count = tiff.tag_v2[273][0], tiff.tag_v2[279][0]  # type: ignore[attr-defined]
                original.append(data[offset : offset + count])
    else:
        original = [result.source.read_bytes()]
    kept = [stored_bytes(s) for i in range(len(result.pages)) for s in images_on(result.reader, i)]
    assert kept == original


def shown_image(pdf: bytes) -> Image.Image:
    """Return the one image a PDF's first page draws, as pdfium decodes it."""
    document = pdfium.PdfDocument(pdf)
    (image,) = (o for o in document[0].get_objects() if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE)
    decoded = image.get_bitmap(render=False).to_pil().convert("L")
    document.close()
    return cast(Image.Image, decoded)


@pytest.mark.parametrize("name", ["tiff-lzw", "tiff-jpeg", "png"])
def test_re_encoded_originals_keep_their_pixels(name: str, processed: dict[str, Processed]) -> None:
    """LZW and PNG are stored as Flate, a JPEG TIFF's strips joined into one JPEG: same pixels."""
    result = processed[name]
    with Image.open(result.source) as original:
        expected = original.convert("L")
    assert ImageChops.difference(shown_image(result.output), expected).getbbox() is None
    (stream,) = images_on(result.reader)
    assert str(stream["/Filter"]) == ("/DCTDecode" if name == "tiff-jpeg" else "/FlateDecode")


@pytest.mark.parametrize("name", [*SCANS, "full-jpeg", "turned-pdf"])
def test_the_searchable_pdf_is_at_most_a_fifth_larger_plus_50_kb_a_page(
    name: str, processed: dict[str, Processed]
) -> None:
    result = processed[name]
    limit = 1.2 * result.source.stat().st_size + 50_000 * len(result.pages)
    assert len(result.output) <= limit, (len(result.output), result.source.stat().st_size)


def test_a_born_digital_page_keeps_its_text_beside_a_scanned_one(
    processed: dict[str, Processed],
) -> None:
    result = processed["pdf-mixed"]
    digital, scanned = result.texts
    assert digital.source == "text-layer" and digital.layer_pdf is None
    assert "Grüßen" in digital.text and "bestätigen" in digital.text
    assert result.pages[0].path == "" and Path(result.pages[1].path).suffix == ".jpg"
    assert scanned.source == "ocr" and words(scanned.text)
    assert "Grüßen" in result.reader.pages[0].extract_text()
    assert "Wohngeld" not in result.reader.pages[1].extract_text()


# -- orientation, skew, reading quality --


def test_a_page_turned_by_90_degrees_is_read_upright_and_shown_upright(
    processed: dict[str, Processed], letter: tuple[Image.Image, str]
) -> None:
    result, truth = processed["turned-pdf"], words(letter[1])
    (text,) = result.texts
    assert text.rotation == 270  # turned 90° clockwise by the scanner: 270° more shows it upright
    assert len(words(text.text) & truth) / len(truth) > 0.9
    page = result.reader.pages[0]
    assert page.rotation == 270
    assert len(words(page.extract_text()) & truth) / len(truth) > 0.9
    (stream,) = images_on(result.reader)
    (stored,) = images_on(PdfReader(result.source))
    assert stored_bytes(stream) == stored_bytes(stored)  # shown upright, not re-encoded
    on_ink, step = layer_on_ink(result.output)
    assert on_ink > 0.9, "the text layer does not lie over the scanned words"
    assert step > 0, "the page does not read left to right as shown"


def test_an_upright_page_has_its_layer_over_its_words(processed: dict[str, Processed]) -> None:
    on_ink, step = layer_on_ink(processed["full-jpeg"].output)
    assert on_ink > 0.9 and step > 0


def test_a_generated_letter_is_read_with_a_character_error_rate_under_3_percent(
    processed: dict[str, Processed], letter: tuple[Image.Image, str]
) -> None:
    """The scan is skewed by up to 1°; tesseract reads along the skewed lines itself."""
    (text,) = processed["full-jpeg"].texts
    truth, read = " ".join(letter[1].split()), " ".join(text.text.split())
    assert edit_distance(truth, read) / len(truth) < 0.03
    assert text.confidence > 80


def test_a_page_skewed_by_5_degrees_is_read_straightened_and_its_layer_turned_back(
    processed: dict[str, Processed], letter: tuple[Image.Image, str]
) -> None:
    """At 5° tesseract alone misreads 8.5 % of the characters; the straightened copy reads well."""
    result = processed["skewed-png"]
    (text,) = result.texts
    assert -6.5 < text.skew < -4.5 and text.rotation == 0  # turned back clockwise for reading
    truth, read = " ".join(letter[1].split()), " ".join(text.text.split())
    assert edit_distance(truth, read) / len(truth) < 0.03
    on_ink, step = layer_on_ink(result.output)
    assert on_ink > 0.9 and step > 0
    (stream,) = images_on(result.reader)
    with Image.open(result.source) as original:
        assert (
            ImageChops.difference(shown_image(result.output), original.convert("L")).getbbox()
            is None
        )
    assert str(stream["/Filter"]) == "/FlateDecode"


@pytest.mark.parametrize(
    ("rotation", "corner"),
    [(0, (0.0, 0.0)), (90, (200.0, 0.0)), (180, (200.0, 300.0)), (270, (0.0, 300.0))],
)
def test_the_layer_of_a_turned_copy_is_laid_back_over_the_original_image(
    rotation: int, corner: tuple[float, float]
) -> None:
    """The upright copy's corners land on the original's corners they were turned from.

    The original image fills (0, 0, 200, 300); turning it clockwise by ``rotation`` made the
    upright copy the layer was read from. ``corner`` is where the copy's bottom-left came from.
    """
    box = (0.0, 0.0, 200.0, 300.0)
    upright = (300.0, 200.0) if rotation in (90, 270) else (200.0, 300.0)
    _, _, c, d, e, f = layer_matrix(box, upright, rotation)
    top_left = {0: (0.0, 300.0), 90: (0.0, 0.0), 180: (200.0, 0.0), 270: (200.0, 300.0)}
    assert (c * upright[1] + e, d * upright[1] + f) == top_left[rotation]
    assert (e, f) == corner


def test_alto_is_kept_per_page_and_names_the_original(processed: dict[str, Processed]) -> None:
    (text,) = processed["full-jpeg"].texts
    assert text.alto is not None
    document = ET.fromstring(alto_document(text.alto, "Brief & Co.jpg"))  # noqa: S314 - ours
    alto = "{http://www.loc.gov/standards/alto/ns-v3#}"
    assert document.findtext(f".//{alto}fileName") == "Brief & Co.jpg"
    strings = {s.get("CONTENT", "").lower() for s in document.iter(f"{alto}String")}
    assert len(words(text.text) & strings) / len(words(text.text)) > 0.8


TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t" + (
    "left\ttop\twidth\theight\tconf\ttext\n"
)


def test_a_sideways_reading_is_told_by_the_shape_of_its_words() -> None:
    header = TSV_HEADER
    tall = header + "".join(f"5\t1\t1\t1\t1\t{i}\t0\t0\t40\t300\t95\tWorte{i}\n" for i in range(5))
    wide = header + "".join(f"5\t1\t1\t1\t1\t{i}\t0\t0\t300\t40\t95\tWorte{i}\n" for i in range(5))
    assert looks_sideways(tall) and not looks_sideways(wide)


@pytest.mark.parametrize(
    ("tsv", "expected"),
    [
        (
            TSV_HEADER
            + "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tHallo\n5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t70\tWelt\n"
            "4\t1\t1\t1\t1\t0\t0\t0\t1\t1\t-1\t\n",
            80.0,
        ),
        ("level\tpage_num\n", 0.0),
    ],
)
def test_mean_confidence_counts_words_only(tsv: str, expected: float) -> None:
    assert mean_confidence(tsv) == expected


# -- pages that cannot be read --


def test_a_page_over_its_time_is_marked_unreadable_and_the_letter_flagged(
    processed: dict[str, Processed],
) -> None:
    (page,) = processed["full-jpeg"].pages
    marked = read_or_mark(page, LANGUAGES, timeout=0.05)
    assert marked.unreadable == "OCR of page 1 took longer than 0.05 s"
    assert marked.text == "" and marked.layer_pdf is None
    result = OcrResult(letter_id=LETTER.letter_id, pages=(marked,), pdf_key="p", text_key="t")
    assert result.unreadable_pages == (1,) and result.needs_review


def corrupted(pdf: bytes, page_index: int) -> bytes:
    """Return a PDF whose page's image stream holds garbage instead of a JPEG."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    resources = cast(DictionaryObject, writer.pages[page_index]["/Resources"])
    for reference in cast(DictionaryObject, resources["/XObject"]).values():
        cast(StreamObject, reference.get_object())._data = b"this is not a JPEG"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_page_whose_image_cannot_be_decoded_is_marked_and_the_others_kept(
    parts: tuple[Image.Image, Image.Image], tmp_path: Path
) -> None:
    good, bad = (encoded(part, "JPEG", quality=80) for part in parts)
    source = tmp_path / "two.pdf"
    source.write_bytes(corrupted(pdf_of(good, bad), 1))
    first, second = pdf_pages(LETTER.letter_id, source, tmp_path)
    assert first.unreadable is None and Path(first.path).is_file()
    assert second.unreadable is not None and "page 2 cannot be decoded" in second.unreadable
    assert read_or_mark(second, LANGUAGES, 10).unreadable == second.unreadable


def test_a_tiff_page_that_cannot_be_decoded_is_marked_and_the_others_kept(
    tmp_path: Path,
) -> None:
    pages = [Image.new("L", (300, 200), shade) for shade in (90, 180)]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as image:
        image.seek(1)
        offset, length = image.tag_v2[273][0], sum(image.tag_v2[279])  # type: ignore[attr-defined]
    source = tmp_path / "two.tif"
    source.write_bytes(data[:offset] + b"\xff" * length + data[offset + length :])
    first, second = image_pages(LETTER.letter_id, source, tmp_path)
    assert first.unreadable is None and Path(first.path).is_file()
    assert second.unreadable is not None and second.unreadable.startswith(
        "page 2 cannot be decoded"
    )
    kept = base_pdf(intake_for(source, MediaType.TIFF, 2))
    assert len(PdfReader(io.BytesIO(kept)).pages) == 2  # the bad page stays, blank
    assert shown_image(kept).getextrema() == (90, 90)  # the good one as it was


def test_a_file_of_which_no_page_decodes_is_refused(
    parts: tuple[Image.Image, Image.Image], tmp_path: Path
) -> None:
    source = tmp_path / "bad.pdf"
    source.write_bytes(corrupted(pdf_of(encoded(parts[0], "JPEG")), 0))
    with pytest.raises(CorruptFileError, match="no page can be decoded"):
        prepare_pages.fn(intake_for(source, MediaType.PDF), str(tmp_path))


def test_graft_leaves_pages_without_a_layer_alone(processed: dict[str, Processed]) -> None:
    result = processed["jpeg"]
    original = base_pdf(intake_for(result.source, MediaType.JPEG))
    empty = PageText(number=1, text="", confidence=0.0, source="ocr", unreadable="timed out")
    out = PdfReader(io.BytesIO(graft(original, [empty])))
    assert [stored_bytes(s) for s in images_on(out)] == [result.source.read_bytes()]
    assert out.pages[0].extract_text() == ""


def resident_bytes() -> int:
    """Return this process's resident set size."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_SIZE


def peak_resident_bytes() -> int:
    """Return this process's peak resident set size since the last reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def test_preparing_a_long_pdf_leaves_no_parsed_document_behind(
    letter: tuple[Image.Image, str], tmp_path: Path
) -> None:
    page, _ = letter
    source = tmp_path / "long.pdf"
    source.write_bytes(pdf_of(*[encoded(page.convert("L"), "JPEG", quality=80)] * 40))
    work = tmp_path / "work"
    work.mkdir()
    gc.collect()
    before = resident_bytes()
    pages = prepare_pages.fn(intake_for(source, MediaType.PDF, pages=40), str(work))
    grown = resident_bytes() - before
    assert len(pages) == 40
    # The file is ~19 MB; its parsed objects (in reference cycles) and the heap they freed
    # once kept the process ~2 × the file's size larger, while tesseract needs the room.
    assert grown < 0.5 * source.stat().st_size, f"{grown / 1e6:.1f} MB kept after preparing"


def test_the_searchable_pdf_of_a_long_scan_is_made_without_the_graft_lingering() -> None:
    scans = []
    for seed in range(30):  # noise: JPEG cannot shrink it, so the PDF is large
        out = io.BytesIO()
        Image.effect_noise((1000, 1400), 40 + seed).convert("L").save(out, "JPEG")
        scans.append(out.getvalue())
    original = bytes(img2pdf.convert(scans))
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak is measured from here
    before = peak_resident_bytes()
    made = searchable_pdf(original, [], "long")
    grown = peak_resident_bytes() - before
    assert made.problems == ()
    # graft's parsed reader and writer (reference cycles) once lived on through the PDF/A pass:
    # 8 × the scan's size at the peak; 6 × since they are collected before it.
    size = len(original)
    assert grown < 7 * size, f"peak +{grown / 1e6:.0f} MB for a {size / 1e6:.0f} MB PDF"
