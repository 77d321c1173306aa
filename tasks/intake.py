"""The intake step: claim the letter id, fetch the object, fingerprint it, sniff and inspect it.

Nothing is trusted from the file name: the type is read from the bytes, and the file is opened once
here so that a corrupt, encrypted, empty or oversized file is refused before any other step runs.

Sizes are checked from the headers before anything is decoded, against ``Limits.max_pixels`` (not
Pillow's own fixed guard, which tasks/pages.py switches off): an image file's every frame, every
image a PDF page draws, and every PDF page as it would be rendered for OCR. A multi-page image file
of which some but not all frames decode goes on; the OCR step marks the bad pages unreadable.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from PIL import Image
from pypdf import PageObject, PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import DictionaryObject, PdfObject

from schemas.letter import Intake, LetterRef, Limits, MediaType, PageRange, SourceObject, State
from tasks.edges import Edges
from tasks.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    LimitExceededError,
    PermanentError,
    UnsupportedTypeError,
    io_task,
)
from tasks.pages import RENDER_DPI
from tasks.record import advance, claim_letter, first_with_sha256
from tasks.split import extract_part

# Keys a scanner or uploader uses while a file is still being written.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".uploading")
# Form XObjects nest; images deeper than this are not looked for (nor drawn by scanners).
MAX_FORM_DEPTH = 8


def letter_id_for(source: SourceObject, batch: PageRange | None = None) -> str:
    """Return the deterministic letter id of a source object (and page range)."""
    pages = f"{batch.first_page}-{batch.last_page}" if batch else "all"
    identity = "\0".join((source.bucket, source.key, source.version_id, pages))
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


def is_temporary(key: str) -> bool:
    """Return whether a key names a file that is still being uploaded."""
    name = PurePosixPath(key).name.lower()
    return name.startswith(".") or name.endswith(TEMPORARY_SUFFIXES)


def sniff(head: bytes) -> MediaType | None:
    """Return the media type the leading bytes show, or None."""
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return MediaType.TIFF
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    # A PDF header may follow up to 1 KiB of junk (ISO 32000-1, annex H).
    if b"%PDF-" in head[:1024]:
        return MediaType.PDF
    return None


def describe_unknown(head: bytes) -> str:
    """Return a short, operator-readable description of unrecognised content."""
    sample = head[:512]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary data starting with {sample[:8].hex(' ')}"
    return "plain text"


def check_type(name: str, data: bytes) -> MediaType:
    """Return the sniffed type of ``data``; raise a permanent error for empty or unknown content."""
    if not data:
        raise EmptyFileError(
            "the file is empty (0 bytes); ask the scanner station to send it again"
        )
    media_type = sniff(data[:1024])
    if media_type is None:
        suffix = PurePosixPath(name).suffix or "(no suffix)"
        raise UnsupportedTypeError(
            f"the file is named {suffix} but its content is {describe_unknown(data)}, "
            "not PDF, TIFF, JPEG or PNG; check what the scanner station sent"
        )
    return media_type


def count_pages(media_type: MediaType, data: bytes, max_pages: int, max_pixels: int) -> int:
    """Open the file, check it against the limits and return its page count."""
    if media_type is MediaType.PDF:
        return _count_pdf_pages(data, max_pages, max_pixels)
    return _count_image_pages(data, max_pages, max_pixels)


def _count_pdf_pages(data: bytes, max_pages: int, max_pixels: int) -> int:
    """Return a PDF's page count; refuse encrypted, truncated and oversized files."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise EncryptedFileError(
                "the PDF is encrypted (password-protected); ask the sender for an unprotected copy"
            )
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise CorruptFileError(
            f"the PDF cannot be read ({exc}); it is probably truncated: scan or upload it again"
        ) from exc
    if pages == 0:
        raise CorruptFileError("the PDF has no pages")
    if b"%%EOF" not in data[-2048:]:
        raise CorruptFileError("the PDF is truncated (no end-of-file marker): upload it again")
    if pages > max_pages:
        raise LimitExceededError(f"the PDF has {pages} pages, more than the limit of {max_pages}")
    try:
        for number, page in enumerate(reader.pages, 1):
            _check_pdf_page_pixels(number, page, max_pixels)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise CorruptFileError(f"the PDF's pages cannot be read ({exc})") from exc
    return pages


def _check_pdf_page_pixels(number: int, page: PageObject, max_pixels: int) -> None:
    """Refuse a page whose rendering at 300 dpi, or any image on it, exceeds the pixel limit."""
    width = float(page.cropbox.width) * RENDER_DPI / 72
    height = float(page.cropbox.height) * RENDER_DPI / 72
    if width * height > max_pixels:
        raise LimitExceededError(
            f"page {number} is {width:,.0f} × {height:,.0f} pixels at {RENDER_DPI} dpi, more "
            f"than the limit of {max_pixels:,} pixels"
        )
    for image_width, image_height in _image_sizes(page.get("/Resources")):
        if image_width * image_height > max_pixels:
            raise LimitExceededError(
                f"page {number} holds an image of {image_width:,} × {image_height:,} pixels, "
                f"more than the limit of {max_pixels:,} pixels"
            )


def _image_sizes(resources: object, depth: int = 0) -> Iterator[tuple[int, int]]:
    """Yield the declared size of every image a page's resources (and their forms) draw."""
    resources = resources.get_object() if isinstance(resources, PdfObject) else resources
    xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject) or depth > MAX_FORM_DEPTH:
        return
    for value in xobjects.values():
        xobject = value.get_object()
        if not isinstance(xobject, DictionaryObject):
            continue
        if xobject.get("/Subtype") == "/Image":
            yield int(xobject.get("/Width", 0)), int(xobject.get("/Height", 0))
        elif xobject.get("/Subtype") == "/Form":
            yield from _image_sizes(xobject.get("/Resources"), depth + 1)


def _count_image_pages(data: bytes, max_pages: int, max_pixels: int) -> int:
    """Return an image file's frame count; refuse bombs from the header, then undecodable files.

    Every frame's size is read from its header and checked before any frame is decoded. A file
    is refused when no frame decodes; a multi-page file with some bad frames goes on, and the OCR
    step marks those pages unreadable. Pillow raises a zoo of exception types on a damaged file
    (OSError, SyntaxError, TypeError, struct.error, …), so any error while parsing it counts.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            sizes = _frame_sizes(image, max_pages)
            for index, (width, height) in enumerate(sizes):
                if width * height > max_pixels:
                    raise LimitExceededError(
                        f"page {index + 1} is {width} × {height} pixels, more than the limit of "
                        f"{max_pixels:,} pixels"
                    )
            problems = _undecodable_frames(image, len(sizes))
    except PermanentError:
        raise
    except Exception as exc:  # see the docstring: a damaged image file
        raise CorruptFileError(
            f"the image cannot be decoded ({type(exc).__name__}: {exc}); it is probably "
            "truncated: scan it again"
        ) from exc
    if len(problems) == len(sizes):
        raise CorruptFileError(
            f"the image cannot be decoded ({problems[0]}); it is probably truncated: scan it again"
        )
    return len(sizes)


def _frame_sizes(image: Image.Image, max_pages: int) -> list[tuple[int, int]]:
    """Return every frame's size from the headers, without decoding; refuse too many frames."""
    frames = int(getattr(image, "n_frames", 1))
    if frames > max_pages:
        raise LimitExceededError(
            f"the image has {frames} pages, more than the limit of {max_pages}"
        )
    sizes = []
    for index in range(frames):
        image.seek(index)
        sizes.append(image.size)
    return sizes


def _undecodable_frames(image: Image.Image, frames: int) -> list[str]:
    """Decode every frame; return why each frame that cannot be decoded fails."""
    problems = []
    for index in range(frames):
        try:
            image.seek(index)
            image.load()
        except Exception as exc:  # a damaged frame, whatever Pillow calls it
            problems.append(f"page {index + 1}: {type(exc).__name__}: {exc}")
    return problems


@io_task()
def claim(edges: Edges, source: SourceObject, batch: PageRange | None, actor: str) -> LetterRef:
    """Claim the letter's deterministic id before any side effect."""
    return claim_letter(edges.engine, letter_id_for(source, batch), source, batch, actor)


@io_task()
def intake(edges: Edges, letter: LetterRef, workdir: str, limits: Limits, actor: str) -> Intake:
    """Fetch the object, fingerprint and inspect it, and check for an earlier identical letter."""
    source = letter.source
    body = edges.s3.get_object(Bucket=source.bucket, Key=source.key, VersionId=source.version_id)
    data = body["Body"].read()
    sha256 = hashlib.sha256(data).hexdigest()
    advance(
        edges.engine,
        letter.letter_id,
        State.RECEIVED,
        step="intake",
        actor=actor,
        detail={"sha256": sha256, "size": len(data)},
        sha256=sha256,
        size=len(data),
    )
    try:
        media_type = check_type(source.key, data)
        if len(data) > limits.max_bytes:
            raise LimitExceededError(
                f"the file has {len(data):,} bytes, more than the limit of {limits.max_bytes:,}"
            )
        pages = count_pages(media_type, data, limits.max_pages, limits.max_pixels)
    except PermanentError as error:
        error.step, error.letter_id = "intake", letter.letter_id
        raise
    duplicate_of = None
    if letter.batch is not None:
        # A part of a batch: its own pages, cut without re-encoding; the batch was checked for
        # duplicates as a whole. Its sha256 stays the source object's (the export's contract).
        data, pages = part_of_batch(data, media_type, pages, letter.batch)
    else:
        duplicate_of = first_with_sha256(edges.engine, letter.letter_id, sha256)
    local = Path(workdir) / f"original{media_type.suffix}"
    local.write_bytes(data)
    advance(
        edges.engine,
        letter.letter_id,
        State.RECEIVED,
        step="intake",
        actor=actor,
        detail={"media_type": media_type.value, "pages": pages},
        media_type=media_type.value,
        pages=pages,
    )
    return Intake(
        letter=letter,
        sha256=sha256,
        size=len(data),
        media_type=media_type,
        pages=pages,
        local_path=str(local),
        duplicate_of=duplicate_of,
    )


def part_of_batch(
    data: bytes, media_type: MediaType, pages: int, part: PageRange
) -> tuple[bytes, int]:
    """Return a batch part's pages as a file of their own, and how many pages it has."""
    if part.last_page > pages:
        raise CorruptFileError(
            f"pages {part.first_page}-{part.last_page} were asked for, the file has {pages}"
        )
    return extract_part(data, media_type, part.first_page, part.last_page), (
        part.last_page - part.first_page + 1
    )
