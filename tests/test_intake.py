"""Intake: identity, type sniffing and the checks that refuse bad files before any other step."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfWriter

from schemas.letter import MediaType, PageRange, SourceObject
from tasks.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    LimitExceededError,
    UnsupportedTypeError,
)
from tasks.intake import check_type, count_pages, is_temporary, letter_id_for, sniff

SOURCE = SourceObject(bucket="inbox", key="scan 1/Brief ä.pdf", version_id="v1")


def pdf_bytes(pages: int = 1, password: str | None = None) -> bytes:
    """Return a small blank PDF."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    """Return a small image in ``fmt``."""
    out = io.BytesIO()
    Image.new("L", size, 255).save(out, format=fmt)
    return out.getvalue()


def test_letter_id_is_deterministic_and_depends_on_version_and_range() -> None:
    assert letter_id_for(SOURCE) == letter_id_for(SOURCE.model_copy())
    assert len(letter_id_for(SOURCE)) == 24
    other_version = SOURCE.model_copy(update={"version_id": "v2"})
    part = PageRange(first_page=1, last_page=2)
    ids = {letter_id_for(SOURCE), letter_id_for(other_version), letter_id_for(SOURCE, part)}
    assert len(ids) == 3


@pytest.mark.parametrize(
    ("key", "temporary"),
    [
        ("a.pdf", False),
        ("a.pdf.part", True),
        ("dir/b.TMP", True),
        ("x/.hidden.pdf", True),
        ("scan.partial", True),
        ("tmp/letter.pdf", False),
    ],
)
def test_temporary_keys_are_left_for_the_next_sweep(key: str, temporary: bool) -> None:
    assert is_temporary(key) is temporary


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (pdf_bytes(), MediaType.PDF),
        (b"junk\n%PDF-1.7\n", MediaType.PDF),
        (image_bytes("TIFF"), MediaType.TIFF),
        (image_bytes("JPEG"), MediaType.JPEG),
        (image_bytes("PNG"), MediaType.PNG),
        (b"hello", None),
        (b"GIF89a....", None),
    ],
)
def test_sniff_reads_the_type_from_the_bytes(data: bytes, media_type: MediaType | None) -> None:
    assert sniff(data[:1024]) is media_type


def test_a_jpeg_named_pdf_is_taken_for_what_it_is() -> None:
    assert check_type("letter.pdf", image_bytes("JPEG")) is MediaType.JPEG


@pytest.mark.parametrize(
    ("name", "data", "error", "words"),
    [
        ("empty.pdf", b"", EmptyFileError, "empty"),
        (
            "notes.pdf",
            b"Einkaufsliste: Milch\n",
            UnsupportedTypeError,
            "named .pdf but its content is plain text",
        ),
        ("x.tif", b"\x00\x01\x02\xff" * 10, UnsupportedTypeError, "binary data"),
    ],
)
def test_unusable_content_is_refused_with_a_reason(
    name: str, data: bytes, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        check_type(name, data)


def test_pages_are_counted_and_limits_enforced() -> None:
    assert count_pages(MediaType.PDF, pdf_bytes(3), 10, 10**8) == 3
    with pytest.raises(LimitExceededError, match="3 pages, more than the limit of 2"):
        count_pages(MediaType.PDF, pdf_bytes(3), 2, 10**8)


def test_an_encrypted_pdf_is_refused() -> None:
    with pytest.raises(EncryptedFileError, match="encrypted"):
        count_pages(MediaType.PDF, pdf_bytes(password="geheim"), 10, 10**8)


def test_a_truncated_pdf_is_refused() -> None:
    data = pdf_bytes(2)
    with pytest.raises(CorruptFileError, match="truncated"):
        count_pages(MediaType.PDF, data[: len(data) // 2], 10, 10**8)


def test_a_pixel_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = image_bytes("PNG", size=(3000, 3000))
    with pytest.raises(LimitExceededError, match="3000 × 3000 pixels"):
        count_pages(MediaType.PNG, bomb, 10, 1_000_000)


def test_a_truncated_image_is_refused() -> None:
    data = image_bytes("PNG", size=(400, 400))
    with pytest.raises(CorruptFileError, match="cannot be decoded"):
        count_pages(MediaType.PNG, data[: len(data) // 2], 10, 10**8)
