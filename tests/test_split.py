"""Batch separation: real zxing-cpp and tesseract on generated batches with separator sheets.

Batches come from ``flows.batches`` (sample letters and sheets through the same scan noise),
written as a scanner writes them: PDF with JPEG pages, PDF with G4 pages, G4 or LZW TIFF.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from flows.batches import BatchFormat, BatchTruth, SeparatorKind, scanned_separator, write_batch
from flows.samples import DOC_TYPES, GroundTruth, compose, render_pages, write_letter
from schemas.letter import MediaType, PageRange, Separator, SeparatorRules
from tasks.pages import image_pages, pdf_pages
from tasks.split import (
    PageView,
    extract_part,
    find_separators,
    page_views,
    parts_of,
    separator_barcode,
    sheet_text_layer,
)

ALL_RULES = SeparatorRules(blank=True)


def media_type(path: Path) -> MediaType:
    """Return the media type of a generated file by its suffix."""
    return MediaType.TIFF if path.suffix == ".tif" else MediaType.PDF


def separators_in(path: Path, rules: SeparatorRules = ALL_RULES) -> list[Separator]:
    """Return the separator sheets found in a file."""
    return find_separators(page_views(path, media_type(path)), rules)


def ranges(truth: BatchTruth) -> list[PageRange]:
    """Return the page ranges of a batch's letters."""
    return [PageRange(first_page=p.first_page, last_page=p.last_page) for p in truth.parts]


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, BatchTruth]]:
    """Return one three-letter batch per scanner format, written once for the module."""
    out = tmp_path_factory.mktemp("batches")
    written = {}
    formats: tuple[tuple[str, BatchFormat, str | None], ...] = (
        ("pdf", "pdf", None),
        ("pdf-g4", "pdf-g4", None),
        ("tiff-g4", "tiff", "group4"),
        ("tiff-lzw", "tiff", "tiff_lzw"),
    )
    for key, fmt, compression in formats:
        truth = write_batch(out / key, 3, 21, fmt, "both", tiff_compression=compression)
        written[key] = (out / key / truth.name, truth)
    return written


@pytest.mark.parametrize(
    ("fmt", "sheet", "compression", "reason"),
    [
        ("pdf", "barcode", None, "barcode POSTROOM-TRENNBLATT"),
        ("pdf-g4", "barcode", None, "barcode POSTROOM-TRENNBLATT"),
        ("tiff", "barcode", "tiff_lzw", "barcode POSTROOM-TRENNBLATT"),
        ("pdf", "word", None, "word TRENNBLATT"),
        ("tiff", "word", "group4", "word TRENNBLATT"),
        ("pdf-g4", "blank", None, "blank page"),
        ("pdf", "blank", None, "blank page"),
    ],
)
def test_a_three_letter_batch_splits_into_its_letters(
    tmp_path: Path, fmt: BatchFormat, sheet: SeparatorKind, compression: str | None, reason: str
) -> None:
    truth = write_batch(tmp_path, 3, 11, fmt, sheet, tiff_compression=compression)
    rules = SeparatorRules(blank=sheet == "blank")
    found = separators_in(tmp_path / truth.name, rules)
    assert [s.number for s in found] == list(truth.separator_pages)
    assert {s.reason for s in found} == {reason}
    assert parts_of(truth.pages, found) == ranges(truth)
    assert len(truth.parts) == 3


@pytest.mark.parametrize("key", ["pdf", "pdf-g4", "tiff-g4", "tiff-lzw"])
def test_sheets_with_barcode_and_word_split_every_format_even_with_blank_detection_on(
    batches: dict[str, tuple[Path, BatchTruth]], key: str
) -> None:
    path, truth = batches[key]
    found = separators_in(path, ALL_RULES)
    assert found == [
        Separator(number=n, reason="barcode POSTROOM-TRENNBLATT") for n in truth.separator_pages
    ]
    assert parts_of(truth.pages, found) == ranges(truth)


def generated_letters(tmp_path: Path, per_type: int) -> Iterator[Path]:
    """Yield letters of every type, written in turn as JPEG PDF, G4 PDF, G4 and LZW TIFF."""
    formats = (("pdf", None), ("pdf-g4", None), ("tiff", "group4"), ("tiff", "tiff_lzw"))
    for index in range(per_type * len(DOC_TYPES)):
        doc_type = DOC_TYPES[index % len(DOC_TYPES)]
        fmt, compression = formats[index % len(formats)]
        seed = 9000 + index
        truth = compose(doc_type, seed)
        name = f"{index:03d}-{doc_type}{'.tif' if fmt == 'tiff' else '.pdf'}"
        truth = dataclasses.replace(truth, name=name, format=fmt)
        yield write_letter(
            truth, render_pages(truth, seed), tmp_path / name, tiff_compression=compression
        )


def test_no_page_of_any_letter_is_taken_for_a_separator(tmp_path: Path) -> None:
    pages = 0
    for path in generated_letters(tmp_path, per_type=3):
        views = list(page_views(path, media_type(path)))
        pages += len(views)
        assert find_separators(views, ALL_RULES) == [], path.name
    assert pages >= 35


def three_page_letter() -> tuple[GroundTruth, int]:
    """Return the first sample letter of three pages or more, and its seed."""
    for seed in range(1, 500):
        truth = compose(DOC_TYPES[seed % len(DOC_TYPES)], seed)
        if len(truth.pages) >= 3:
            return truth, seed
    raise AssertionError("no letter of three pages among 500 seeds")


def test_a_single_multi_page_letter_is_not_split(tmp_path: Path) -> None:
    truth, seed = three_page_letter()
    truth = dataclasses.replace(truth, name="letter.pdf", format="pdf")
    path = write_letter(truth, render_pages(truth, seed), tmp_path / "letter.pdf")
    assert parts_of(len(truth.pages), separators_in(path)) is None


@pytest.mark.parametrize(
    ("count", "sheets", "expected"),
    [
        (7, [], None),
        (7, [1, 7], [(2, 6)]),
        (7, [1, 2, 4, 5, 7], [(3, 3), (6, 6)]),
        (6, [3, 4], [(1, 2), (5, 6)]),
        (3, [1, 2, 3], []),
    ],
)
def test_sheets_at_the_ends_and_doubled_sheets_leave_no_empty_part(
    count: int, sheets: list[int], expected: list[tuple[int, int]] | None
) -> None:
    found = [Separator(number=n, reason="word TRENNBLATT") for n in sheets]
    parts = parts_of(count, found)
    if expected is None:
        assert parts is None
    else:
        assert parts == [PageRange(first_page=a, last_page=b) for a, b in expected]


def test_a_scanned_stack_with_sheets_at_the_ends_and_a_doubled_sheet(tmp_path: Path) -> None:
    first, second = (compose(doc_type, 3) for doc_type in ("rechnung", "antrag"))
    one, two = render_pages(first, 3), render_pages(second, 3)
    images = [
        scanned_separator("both", 1),
        *one,
        scanned_separator("barcode", 2),
        scanned_separator("word", 3),
        *two,
        scanned_separator("both", 4),
    ]
    truth = GroundTruth(
        name="stack.pdf", doc_type="batch", subject=None, format="pdf-g4", pages=("",) * len(images)
    )
    path = write_letter(truth, images, tmp_path / "stack.pdf")
    parts = parts_of(len(images), separators_in(path))
    start = len(one) + 4
    assert parts == [
        PageRange(first_page=2, last_page=1 + len(one)),
        PageRange(first_page=start, last_page=start + len(two) - 1),
    ]


def test_a_damaged_barcode_with_the_word_still_separates(tmp_path: Path) -> None:
    sheet = scanned_separator("both", 5, damaged=True)
    assert separator_barcode(sheet.reduce(2), "POSTROOM-TRENNBLATT") is None
    truth = GroundTruth(
        name="sheet.pdf", doc_type="batch", subject=None, format="pdf", pages=("TRENNBLATT",)
    )
    path = write_letter(truth, [sheet], tmp_path / "sheet.pdf")
    found = separators_in(path, SeparatorRules())
    assert found == [Separator(number=1, reason="word TRENNBLATT")]


def test_the_word_in_small_print_is_no_separator() -> None:
    # The barcode sheet says "Trennblatt" in 11 pt print below its code; without the code that
    # line must not make a separator (a letter may mention the word just as well).
    sheet = scanned_separator("barcode", 6)
    view = PageView(number=1, image=sheet.reduce(2), dpi=150)
    assert find_separators([view], SeparatorRules(barcode=False, blank=True)) == []
    assert find_separators([view], SeparatorRules()) == [
        Separator(number=1, reason="barcode POSTROOM-TRENNBLATT")
    ]


def test_a_barcode_with_another_prefix_is_no_separator(tmp_path: Path) -> None:
    truth = write_batch(tmp_path, 2, seed=2, format="pdf", separator="barcode")
    rules = SeparatorRules(barcode_prefix="ANDERE-STELLE", word=False)
    assert separators_in(tmp_path / truth.name, rules) == []


def born_digital_pdf(*pages: str) -> bytes:
    """Return a PDF with one page of real text (Helvetica, not embedded) per argument."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    shared = writer._add_object(font)
    for text in pages:
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): shared})}
        )
        contents = DecodedStreamObject()
        contents.set_data(b"BT /F1 11 Tf 72 760 Td (" + text.encode("cp1252") + b") Tj ET")
        page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_text_layer_that_is_a_sheet_separates(tmp_path: Path) -> None:
    assert sheet_text_layer("TRENNBLATT\nPostroom - bitte nicht entfernen", "TRENNBLATT")
    assert sheet_text_layer("TRENN BLATT", "TRENNBLATT")
    letter = (
        "Sehr geehrte Damen und Herren, bitte legen Sie zwischen die Schreiben ein Trennblatt, "
        "damit die Poststelle den Stapel beim Scannen teilen kann. Mit freundlichen Gruessen"
    )
    assert not sheet_text_layer(letter, "TRENNBLATT")
    path = tmp_path / "born-digital.pdf"
    path.write_bytes(born_digital_pdf(letter, "TRENNBLATT", letter, ""))
    found = separators_in(path)
    assert found == [
        Separator(number=2, reason="word TRENNBLATT"),
        Separator(number=4, reason="blank page"),
    ]


# -- cutting parts out without touching the page images --


def stored_images(pdf: bytes) -> list[bytes]:
    """Return the stored (still encoded) bytes of every image the pages draw, page by page."""
    images = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = cast(DictionaryObject, page["/Resources"])
        for ref in cast(DictionaryObject, resources["/XObject"]).values():
            stream = ref.get_object()
            assert isinstance(stream, StreamObject)
            images.append(stream._data)
    return images


def stored_strips(tiff: bytes) -> list[bytes]:
    """Return the stored strip bytes of every TIFF frame, joined per frame."""
    frames = []
    with Image.open(io.BytesIO(tiff)) as image:
        for index in range(int(getattr(image, "n_frames", 1))):
            image.seek(index)
            tags = image.tag_v2  # type: ignore[attr-defined]
            strips = zip(tags[273], tags[279], strict=True)
            frames.append(b"".join(tiff[o : o + c] for o, c in strips))
    return frames


@pytest.mark.parametrize("key", ["pdf", "pdf-g4"])
def test_pdf_parts_keep_the_stored_page_images(
    batches: dict[str, tuple[Path, BatchTruth]], key: str, tmp_path: Path
) -> None:
    path, truth = batches[key]
    original = stored_images(path.read_bytes())
    for part in truth.parts:
        data = extract_part(path, MediaType.PDF, part.first_page, part.last_page)
        assert stored_images(data) == original[part.first_page - 1 : part.last_page]
        assert (
            extract_part(path.read_bytes(), MediaType.PDF, part.first_page, part.last_page) == data
        )  # the same part, byte for byte, on every run
        # Nothing of the other pages comes along: the part is about its pages' size.
        assert len(data) < sum(len(i) for i in stored_images(data)) + 4096
        local = tmp_path / f"part-{part.first_page}.pdf"
        local.write_bytes(data)
        pages = pdf_pages("p" * 24, local, tmp_path)
        assert len(pages) == part.last_page - part.first_page + 1
        assert all(page.unreadable is None and page.path for page in pages)


@pytest.mark.parametrize("key", ["tiff-g4", "tiff-lzw"])
def test_tiff_parts_keep_the_stored_frames(
    batches: dict[str, tuple[Path, BatchTruth]], key: str, tmp_path: Path
) -> None:
    path, truth = batches[key]
    original = stored_strips(path.read_bytes())
    for part in truth.parts:
        data = extract_part(path, MediaType.TIFF, part.first_page, part.last_page)
        assert stored_strips(data) == original[part.first_page - 1 : part.last_page]
        assert extract_part(path, MediaType.TIFF, part.first_page, part.last_page) == data
        local = tmp_path / f"part-{part.first_page}.tif"
        local.write_bytes(data)
        pages = image_pages("p" * 24, local, tmp_path)
        assert len(pages) == part.last_page - part.first_page + 1
        with Image.open(local) as image:
            assert image.info["dpi"] == (300, 300)
            for index in range(int(getattr(image, "n_frames", 1))):
                image.seek(index)
                image.load()  # every frame decodes


def test_an_image_several_pages_share_is_copied_once() -> None:
    writer = PdfWriter()
    logo = DecodedStreamObject()
    logo.set_data(bytes(range(256)) * 64)
    logo.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(128),
            NameObject("/Height"): NumberObject(128),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(8),
        }
    )
    shared = writer._add_object(logo)
    for _ in range(4):
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): shared})}
        )
        contents = DecodedStreamObject()
        contents.set_data(b"q 100 0 0 100 0 0 cm /Im0 Do Q")
        page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    part = extract_part(out.getvalue(), MediaType.PDF, 2, 4)
    assert len(PdfReader(io.BytesIO(part)).pages) == 3
    assert part.count(b"/Subtype /Image") == 1
    assert len(part) < len(logo.get_data()) + 4096


def test_a_page_range_outside_the_file_is_refused(
    batches: dict[str, tuple[Path, BatchTruth]],
) -> None:
    path, truth = batches["pdf-g4"]
    with pytest.raises(ValueError, match="pages"):
        extract_part(path, MediaType.PDF, 2, truth.pages + 1)
    tiff, tiff_truth = batches["tiff-g4"]
    with pytest.raises(ValueError, match="pages"):
        extract_part(tiff, MediaType.TIFF, 1, tiff_truth.pages + 1)
    with pytest.raises(ValueError, match="range"):
        extract_part(path, MediaType.PDF, 3, 2)
