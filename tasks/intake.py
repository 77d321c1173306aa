"""The intake step: claim the letter id, fetch the object, fingerprint it, sniff and inspect it.

Nothing is trusted from the file name: the type is read from the bytes, and the file is opened once
here so that a corrupt, encrypted, empty or oversized file is refused before any other step runs.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path, PurePosixPath

from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadError

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
from tasks.record import advance, claim_letter, first_with_sha256

# Keys a scanner or uploader uses while a file is still being written.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".uploading")


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
        return _count_pdf_pages(data, max_pages)
    return _count_image_pages(data, max_pages, max_pixels)


def _count_pdf_pages(data: bytes, max_pages: int) -> int:
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
    return pages


def _count_image_pages(data: bytes, max_pages: int, max_pixels: int) -> int:
    """Return an image file's frame count; refuse decompression bombs and truncated files."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > max_pages:
                raise LimitExceededError(
                    f"the image has {frames} pages, more than the limit of {max_pages}"
                )
            for index in range(frames):
                image.seek(index)
                width, height = image.size
                if width * height > max_pixels:
                    raise LimitExceededError(
                        f"page {index + 1} is {width} × {height} pixels, more than the limit of "
                        f"{max_pixels:,} pixels"
                    )
                image.load()
    except LimitExceededError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise CorruptFileError(
            f"the image cannot be decoded ({exc}); it is probably truncated: scan it again"
        ) from exc
    return int(frames)


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
        duplicate_of=first_with_sha256(edges.engine, letter.letter_id, sha256),
    )
