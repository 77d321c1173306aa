"""OCR: real tesseract on generated scans, the text layer grafted onto the original page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject

from flows.samples import compose, render_pages, write_letter
from schemas.letter import Intake, LetterRef, MediaType, PageText, SourceObject
from tasks.ocr import base_pdf, graft, image_pages, mean_confidence, pdf_pages, read_page

LETTER = LetterRef(letter_id="t" * 24, source=SourceObject(bucket="b", key="k", version_id="v"))


def intake_for(path: Path, media_type: MediaType) -> Intake:
    """Return an intake record of a local file."""
    data = path.read_bytes()
    return Intake(
        letter=LETTER,
        sha256="0" * 64,
        size=len(data),
        media_type=media_type,
        pages=1,
        local_path=str(path),
    )


@pytest.fixture(scope="module")
def jpeg_letter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Return a one-page JPEG scan of a generated invoice and its ground-truth text."""
    truth = compose("rechnung", seed=11)
    truth = type(truth)(
        **{**truth.__dict__, "format": "jpeg", "pages": truth.pages[:1], "name": "rechnung.jpg"}
    )
    path = tmp_path_factory.mktemp("ocr") / "rechnung.jpg"
    write_letter(truth, render_pages(truth, seed=11), path)
    return path, truth.pages[0]


@pytest.fixture(scope="module")
def read(
    jpeg_letter: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory, tesseract: str
) -> PageText:
    """Return tesseract's reading of the JPEG letter (once for the module)."""
    path, _ = jpeg_letter
    (page,) = image_pages(LETTER.letter_id, path, tmp_path_factory.mktemp("read"))
    assert page.dpi == 300
    return read_page(page, "deu+eng", timeout=120)


def embedded_images(reader: PdfReader) -> list[bytes]:
    """Return the raw (still encoded) bytes of every image on the first page."""
    resources = cast(DictionaryObject, reader.pages[0]["/Resources"])
    xobjects = cast(DictionaryObject, resources["/XObject"])
    streams = [cast(StreamObject, xobjects[name].get_object()) for name in xobjects]
    return [stream._data for stream in streams if str(stream["/Subtype"]) == "/Image"]


def words(text: str) -> set[str]:
    """Return the words of a text, lower case, without punctuation."""
    return {w.strip(".,:;()–-").lower() for w in text.split() if len(w.strip(".,:;()–-")) > 3}


def test_a_page_is_read_with_its_words_and_a_confidence(
    jpeg_letter: tuple[Path, str], read: PageText
) -> None:
    _, truth = jpeg_letter
    found = words(read.text) & words(truth)
    assert len(found) / len(words(truth)) > 0.95
    assert read.confidence > 80
    assert read.layer_pdf is not None and Path(read.layer_pdf).stat().st_size > 0


def test_the_searchable_pdf_keeps_the_original_jpeg_bytes(
    jpeg_letter: tuple[Path, str], read: PageText
) -> None:
    path, truth = jpeg_letter
    searchable = graft(base_pdf(intake_for(path, MediaType.JPEG)), [read])
    reader = PdfReader(io.BytesIO(searchable))
    assert embedded_images(reader) == [path.read_bytes()]
    text = reader.pages[0].extract_text()
    assert len(words(text) & words(truth)) / len(words(truth)) > 0.9
    assert len(searchable) < 1.2 * path.stat().st_size + 50_000


def test_a_page_with_a_text_layer_is_not_read_again(
    jpeg_letter: tuple[Path, str], read: PageText, tmp_path: Path
) -> None:
    path, _ = jpeg_letter
    searchable = tmp_path / "searchable.pdf"
    searchable.write_bytes(graft(base_pdf(intake_for(path, MediaType.JPEG)), [read]))
    (again,) = pdf_pages(LETTER.letter_id, searchable, tmp_path)
    assert again.text_layer is not None and again.path == ""


def test_a_scanned_pdf_page_is_rendered_for_ocr(
    jpeg_letter: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = jpeg_letter
    scanned = tmp_path / "scan.pdf"
    scanned.write_bytes(base_pdf(intake_for(path, MediaType.JPEG)))
    (page,) = pdf_pages(LETTER.letter_id, scanned, tmp_path)
    assert page.text_layer is None and Path(page.path).is_file()


def test_graft_leaves_pages_without_a_layer_alone(jpeg_letter: tuple[Path, str]) -> None:
    path, _ = jpeg_letter
    original = base_pdf(intake_for(path, MediaType.JPEG))
    empty = PageText(number=1, text="", confidence=0.0, source="ocr")
    out = PdfReader(io.BytesIO(graft(original, [empty])))
    assert embedded_images(out) == [path.read_bytes()]


@pytest.mark.parametrize(
    ("tsv", "expected"),
    [
        (
            "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
            "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tHallo\n5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t70\tWelt\n"
            "4\t1\t1\t1\t1\t0\t0\t0\t1\t1\t-1\t\n",
            80.0,
        ),
        ("level\tpage_num\n", 0.0),
    ],
)
def test_mean_confidence_counts_words_only(tsv: str, expected: float) -> None:
    assert mean_confidence(tsv) == expected
