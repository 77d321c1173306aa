"""Intake: identity, type sniffing and the checks that refuse bad files before any other step."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pytest
from PIL import Image, ImageFile
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject

from schemas.letter import Limits, MediaType, PageRange, SourceObject
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


# -- limits read from the header, before anything is decoded ---------------------------------------

BOMB = 20_000  # pixels a side: 400 million pixels, twice the default limit


def blank_g4_tiff(*sizes: tuple[int, int]) -> bytes:
    """Return a TIFF of blank bilevel frames, coded by hand in CCITT G4 to a few kilobytes.

    A blank row coded against a blank reference row is one bit (vertical mode, offset 0), so a
    20,000 × 20,000 frame takes 2.5 KB, and is built without ever holding its pixels.
    """
    out = bytearray(b"II*\x00\x08\x00\x00\x00")
    for index, (width, height) in enumerate(sizes):
        rows = b"\xff" * (height // 8) + (
            bytes([0xFF << (8 - height % 8) & 0xFF]) if height % 8 else b""
        )
        data = rows + b"\x00\x10\x01"  # end of facsimile block
        entries = [
            (256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 4), (262, 3, 0),
            (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, len(data)),
        ]  # fmt: skip
        ifd_at = len(out)
        data_at = ifd_at + 2 + 12 * len(entries) + 4
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            value = data_at if tag == 273 else value
            packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        last = index == len(sizes) - 1
        out += struct.pack("<I", 0 if last else data_at + len(data))
        out += data
    return bytes(out)


def blank_bilevel_png(width: int, height: int) -> bytes:
    """Return a blank 1-bit PNG, compressed row by row (about 75 KB for 20,000 × 20,000)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer, row = zlib.compressobj(9), b"\x00" + b"\xff" * ((width + 7) // 8)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to decode an image's pixels fail the test."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_the_hand_made_g4_tiff_is_a_valid_blank_image() -> None:
    with Image.open(io.BytesIO(blank_g4_tiff((100, 37), (64, 64)))) as image:
        assert getattr(image, "n_frames", 1) == 2
        image.load()
        assert image.size == (100, 37) and image.getextrema() == (255, 255)
        image.seek(1)
        image.load()
        assert image.size == (64, 64) and image.getextrema() == (255, 255)


@pytest.mark.parametrize(
    ("media_type", "bomb"),
    [
        (MediaType.TIFF, lambda: blank_g4_tiff((BOMB, BOMB))),
        (MediaType.PNG, lambda: blank_bilevel_png(BOMB, BOMB)),
        (MediaType.TIFF, lambda: blank_g4_tiff((800, 600), (BOMB, BOMB))),  # a bomb on page 2
    ],
)
def test_a_20000_pixel_square_bomb_is_refused_from_its_header(
    media_type: MediaType, bomb: Callable[[], bytes], no_decoding: None
) -> None:
    data = bomb()
    assert len(data) < 100_000
    limits = Limits()
    with pytest.raises(LimitExceededError, match="20000 × 20000 pixels, more than the limit of"):
        count_pages(media_type, data, limits.max_pages, limits.max_pixels)


def test_an_image_within_the_limits_is_decoded_and_counted() -> None:
    assert count_pages(MediaType.TIFF, blank_g4_tiff((800, 600), (800, 600)), 10, 10**6) == 2


def test_too_many_frames_are_refused() -> None:
    with pytest.raises(LimitExceededError, match="3 pages, more than the limit of 2"):
        count_pages(MediaType.TIFF, blank_g4_tiff(*[(80, 60)] * 3), 2, 10**6)


def pdf_with_image(width: int, height: int) -> bytes:
    """Return a one-page PDF whose image claims ``width`` × ``height`` pixels (its data is junk)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    image = DecodedStreamObject()
    image.set_data(b"\x00" * 16)
    for key, value in (
        ("/Type", NameObject("/XObject")),
        ("/Subtype", NameObject("/Image")),
        ("/Width", NumberObject(width)),
        ("/Height", NumberObject(height)),
        ("/ColorSpace", NameObject("/DeviceGray")),
        ("/BitsPerComponent", NumberObject(8)),
    ):
        image[NameObject(key)] = value
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_image_over_the_pixel_limit_is_refused_from_its_dictionary() -> None:
    with pytest.raises(LimitExceededError, match="holds an image of 20,000 × 20,000 pixels"):
        count_pages(MediaType.PDF, pdf_with_image(BOMB, BOMB), 10, Limits().max_pixels)
    assert count_pages(MediaType.PDF, pdf_with_image(2480, 3508), 10, Limits().max_pixels) == 1


def test_a_pdf_page_too_large_to_render_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=14_400, height=14_400)  # 200 inches a side: 60,000 px at 300 dpi
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(LimitExceededError, match="page 1 is 60,000 × 60,000 pixels at 300 dpi"):
        count_pages(MediaType.PDF, out.getvalue(), 10, Limits().max_pixels)


def two_page_tiff() -> tuple[bytes, list[tuple[int, int]]]:
    """Return a two-page LZW TIFF and each page's (strip offset, strip length)."""
    pages = [Image.new("L", (300, 200), shade) for shade in (90, 180)]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    data = out.getvalue()
    strips = []
    with Image.open(io.BytesIO(data)) as image:
        for index in range(2):
            image.seek(index)
            tags = image.tag_v2  # type: ignore[attr-defined]
            strips.append((tags[273][0], sum(tags[279])))
    return data, strips


def test_a_truncated_multi_page_tiff_is_refused() -> None:
    """Pillow writes each page's directory after its pixels: a cut file loses its directories."""
    data, _ = two_page_tiff()
    with pytest.raises(CorruptFileError, match="cannot be decoded"):
        count_pages(MediaType.TIFF, data[: len(data) * 2 // 3], 10, 10**8)


def test_a_tiff_with_one_undecodable_page_goes_on_to_ocr() -> None:
    """The good page is worth reading; the OCR step marks the other one unreadable."""
    data, strips = two_page_tiff()
    offset, length = strips[1]
    broken = data[:offset] + b"\xff" * length + data[offset + length :]
    assert count_pages(MediaType.TIFF, broken, 10, 10**8) == 2
    offset, length = strips[0]
    both = broken[:offset] + b"\xff" * length + broken[offset + length :]
    with pytest.raises(CorruptFileError, match="cannot be decoded"):
        count_pages(MediaType.TIFF, both, 10, 10**8)
