"""The pages of a letter as images for tesseract, and the original pages as a PDF.

Each page becomes one image file tesseract can read, re-encoded only where that cannot be avoided
(the ORIGINAL page is never touched: the text layer is grafted onto it later)::

    input                       image handed to tesseract
    JPEG, PNG, 1-frame TIFF     the file itself
    multi-frame TIFF            each frame, losslessly (G4 TIFF when bilevel, else PNG)
    PDF page with a usable      none: its own text is kept and the page is not read
      text layer
    PDF page drawing one        the stored image: JPEG bytes as they are, CCITT G4 bytes in a
      upright image               TIFF wrapper, Flate (gray/RGB, 1 or 8 bits) as PNG
    any other PDF page          rendered at 300 dpi by pdfium (JBIG2, JPEG 2000, CMYK, masks,
                                  vector content, rotated or mirrored placements)

A PDF page image knows the rectangle it covers on its page (``PageImage.box``), so that the text
layer read from it can be laid exactly over it. A page that cannot be decoded is marked
unreadable with the reason; the letter fails only when no page can be decoded at all.

Pillow's own decompression-bomb guard is switched off: intake refuses every page larger than the
configured ``Limits.max_pixels`` from the image header, before any decoding, and that limit (not
Pillow's fixed one) is what an administrator sets.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import img2pdf
import pypdfium2 as pdfium
from PIL import Image
from pypdf import PageObject, PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, NumberObject, StreamObject

from schemas.letter import Box, Intake, MediaType, PageImage

Image.MAX_IMAGE_PIXELS = None  # see the module docstring: intake applies Limits.max_pixels

RENDER_DPI = 300
DEFAULT_DPI = 300
# A page whose own text layer has fewer word characters than this is treated as a scan.
MIN_TEXT_LAYER_CHARS = 40
# Stored images outside this resolution read better when pdfium renders them at 300 dpi.
EXTRACT_DPI_RANGE = (150, 1200)
# A scanned page's content stream is a few dozen bytes; anything longer is drawn, not scanned.
MAX_SCAN_CONTENT_BYTES = 4096
# Operators a scanned page may use besides the one image it draws.
HARMLESS_OPERATORS = frozenset({b"q", b"Q", b"cm", b"gs", b"re", b"W", b"W*", b"n", b"Do"})
PAGE_ERRORS = (OSError, ValueError, KeyError, TypeError, PyPdfError, pdfium.PdfiumError)


def usable_text_layer(text: str) -> bool:
    """Return whether a born-digital page's extracted text is worth keeping instead of OCR."""
    return len(re.findall(r"\w", text)) >= MIN_TEXT_LAYER_CHARS


def image_dpi(image: Image.Image) -> int:
    """Return an image's resolution from its metadata, or the scanner default."""
    dpi = image.info.get("dpi")
    if dpi and float(dpi[0]) >= 50:
        return round(float(dpi[0]))
    return DEFAULT_DPI


# -- PDF pages --


@dataclass(frozen=True)
class PlacedImage:
    """The one image a scanned PDF page draws, and the rectangle it fills (PDF user space)."""

    stream: StreamObject
    box: Box


def placed_image(page: PageObject) -> PlacedImage | None:
    """Return the single upright image a page draws and nothing else, or None."""
    contents = page.get_contents()
    if contents is None or len(contents.get_data()) > MAX_SCAN_CONTENT_BYTES:
        return None
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources else None
    ctm, stack = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), []
    found: PlacedImage | None = None
    for operands, operator in contents.operations:
        if operator not in HARMLESS_OPERATORS:
            return None  # text, paths or an inline image: not a plain scan
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q" and stack:
            ctm = stack.pop()
        elif operator == b"cm":
            ctm = _concat(tuple(float(v) for v in operands), ctm)
        elif operator == b"Do":
            stream = xobjects.get_object().get(operands[0]) if xobjects else None
            stream = stream.get_object() if stream is not None else None
            if found or not isinstance(stream, StreamObject) or stream.get("/Subtype") != "/Image":
                return None
            a, b, c, d, e, f = ctm
            if b or c or a <= 0 or d <= 0:
                return None  # rotated or mirrored placement: rendering gets it right
            found = PlacedImage(stream, (e, f, e + a, f + d))
    return found


def _concat(
    m: tuple[float, ...], n: tuple[float, ...]
) -> tuple[float, float, float, float, float, float]:
    """Return the matrix product m × n of two PDF matrices (m applied first)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _filters(stream: StreamObject) -> list[str]:
    """Return a stream's filter names, in decoding order."""
    value = stream.get("/Filter")
    if value is None:
        return []
    value = value.get_object()
    return [str(v) for v in value] if isinstance(value, ArrayObject) else [str(value)]


def _parameter(stream: StreamObject, key: str) -> object:
    """Return one decode parameter of a stream's last filter, or None."""
    parms = stream.get("/DecodeParms")
    parms = parms.get_object() if parms is not None else None
    if isinstance(parms, ArrayObject):
        parms = parms[-1].get_object() if parms else None
    return parms.get(key) if isinstance(parms, DictionaryObject) else None


def _color_space(stream: StreamObject) -> str:
    """Return an image's colour space name ('' for an array such as /ICCBased or /Indexed)."""
    space = stream.get("/ColorSpace")
    space = space.get_object() if space is not None else None
    return str(space) if space is not None and not isinstance(space, ArrayObject) else ""


def extract_image(stream: StreamObject, base: Path) -> Path | None:
    """Write a stored page image tesseract can read as it is; None when it must be rendered.

    JPEG and CCITT G4 are written with their stored bytes; Flate is decoded (pixel-exact) to PNG.
    """
    if stream.get("/ImageMask") or "/SMask" in stream or "/Mask" in stream:
        return None
    if "/Decode" in stream:
        return None
    filters, space = _filters(stream), _color_space(stream)
    if filters == ["/DCTDecode"] and space in {"/DeviceGray", "/DeviceRGB"}:
        if _parameter(stream, "/ColorTransform") is not None:
            return None
        path = base.with_suffix(".jpg")
        path.write_bytes(stream.get_data())  # pypdf hands DCT data back unchanged
        return decodable(path)
    if filters == ["/CCITTFaxDecode"]:
        k = _parameter(stream, "/K")
        aligned = _parameter(stream, "/EncodedByteAlign")
        if not isinstance(k, int) or k >= 0 or aligned:
            return None  # only plain G4 has a TIFF equivalent tesseract reads
        path = base.with_suffix(".tif")
        path.write_bytes(stream.get_data())  # pypdf wraps the stored G4 bytes in a TIFF header
        return decodable(path)
    if filters in (["/FlateDecode"], []) and space in {"/DeviceGray", "/DeviceRGB"}:
        image = stream.decode_as_image()
        if not isinstance(image, Image.Image) or image.mode not in {"1", "L", "RGB"}:
            return None
        path = base.with_suffix(".png")
        image.save(path, compress_level=1)
        return path
    return None


def decodable(path: Path) -> Path:
    """Return ``path`` once Pillow has decoded it (a JPEG at 1/8 size), or raise why it cannot."""
    with Image.open(path) as image:
        image.draft("L", (image.width // 8, image.height // 8))
        image.load()
    return path


def render_page(document: pdfium.PdfDocument, index: int, base: Path) -> Path:
    """Render a page's crop box unrotated at 300 dpi, grey, to a PNG."""
    page = document[index]
    page.set_rotation(0)  # in memory only: the layer must match the page's own coordinates
    bitmap = page.render(scale=RENDER_DPI / 72, grayscale=True)
    path = base.with_suffix(".png")
    bitmap.to_pil().save(path, dpi=(RENDER_DPI, RENDER_DPI), compress_level=1)
    return path


def _box(rectangle: object) -> Box:
    """Return a pypdf rectangle as a plain (left, bottom, right, top) tuple."""
    left, bottom, right, top = (float(v) for v in rectangle)  # type: ignore[attr-defined]
    return (left, bottom, right, top)


def pdf_page(
    letter_id: str,
    page: PageObject,
    number: int,
    document: pdfium.PdfDocument,
    workdir: Path,
) -> PageImage:
    """Prepare one PDF page: its own text, its stored image, or a rendering.

    Raises when the page's image cannot be decoded (the page is then marked unreadable).
    """
    common = {"letter_id": letter_id, "number": number, "workdir": str(workdir)}
    text = _own_text(page)
    if usable_text_layer(text):
        return PageImage(**common, path="", dpi=RENDER_DPI, text_layer=text)
    base = workdir / f"page-{number:04d}"
    placed = _scan_image(page)
    if placed is not None:
        width = int(cast(NumberObject, placed.stream["/Width"]))
        left, _, right, _ = placed.box
        dpi = round(width / ((right - left) / 72))
        if EXTRACT_DPI_RANGE[0] <= dpi <= EXTRACT_DPI_RANGE[1]:
            path = extract_image(placed.stream, base)
            if path is not None:
                return PageImage(**common, path=str(path), dpi=dpi, box=placed.box)
    path = render_page(document, number - 1, base)
    return PageImage(**common, path=str(path), dpi=RENDER_DPI, box=_box(page.cropbox))


def _own_text(page: PageObject) -> str:
    """Return a page's own text; none when pypdf cannot extract it (then OCR reads the page)."""
    try:
        return page.extract_text() or ""
    except PAGE_ERRORS:
        return ""


def _scan_image(page: PageObject) -> PlacedImage | None:
    """Return the page's one placed image; None (render it) when its content cannot be parsed."""
    try:
        return placed_image(page)
    except PAGE_ERRORS:
        return None


def pdf_pages(letter_id: str, source: Path, workdir: Path) -> list[PageImage]:
    """Prepare every PDF page; a page that cannot be decoded is marked unreadable."""
    reader = PdfReader(source)
    document = pdfium.PdfDocument(source)
    pages = []
    try:
        for index, page in enumerate(reader.pages):
            try:
                pages.append(pdf_page(letter_id, page, index + 1, document, workdir))
            except PAGE_ERRORS as exc:
                pages.append(unreadable(letter_id, index + 1, workdir, exc))
    finally:
        document.close()
    return pages


def unreadable(letter_id: str, number: int, workdir: Path, exc: Exception) -> PageImage:
    """Return a page that could not be decoded, with the reason an operator reads."""
    return PageImage(
        letter_id=letter_id,
        number=number,
        path="",
        dpi=DEFAULT_DPI,
        workdir=str(workdir),
        unreadable=f"page {number} cannot be decoded ({type(exc).__name__}: {exc})",
    )


# -- image files --


def image_pages(letter_id: str, source: Path, workdir: Path) -> list[PageImage]:
    """Return one page per frame: the file itself when it has one readable frame."""
    pages = []
    with Image.open(source) as image:
        frames = int(getattr(image, "n_frames", 1))
        for index in range(frames):
            number = index + 1
            try:
                image.seek(index)
                path = _frame_file(image, source, frames, workdir / f"page-{number:04d}")
                dpi = image_dpi(image)
            except PAGE_ERRORS as exc:
                pages.append(unreadable(letter_id, number, workdir, exc))
                continue
            pages.append(
                PageImage(
                    letter_id=letter_id,
                    number=number,
                    path=str(path),
                    dpi=dpi,
                    workdir=str(workdir),
                )
            )
    return pages


def _frame_file(image: Image.Image, source: Path, frames: int, base: Path) -> Path:
    """Return a file holding the current frame: the source itself, or a lossless copy."""
    if frames == 1 and image.mode in {"1", "L", "RGB"}:
        return source
    image.load()
    frame = image if image.mode in {"1", "L", "RGB"} else image.convert("RGB")
    dpi = image_dpi(image)
    if frame.mode == "1":
        path = base.with_suffix(".tif")
        frame.save(path, compression="group4", dpi=(dpi, dpi))
    else:
        path = base.with_suffix(".png")
        frame.save(path, dpi=(dpi, dpi), compress_level=1)
    return path


def rotated_copy(page: PageImage, rotation: int) -> PageImage:
    """Return a lossless copy of a page image turned clockwise by 90, 180 or 270 degrees."""
    turn = {
        90: Image.Transpose.ROTATE_270,  # PIL turns counter-clockwise
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }[rotation]
    with Image.open(page.path) as image:
        turned = image.transpose(turn)
    path = Path(page.workdir) / f"page-{page.number:04d}-r{rotation}.png"
    turned.save(path, dpi=(page.dpi, page.dpi), compress_level=1)
    return page.model_copy(update={"path": str(path)})


def straightened_copy(page: PageImage, skew: float) -> PageImage:
    """Return a lossless copy of a page image turned counter-clockwise by ``skew`` degrees.

    The copy keeps the image's size (the layer read from it maps back by one turn about the
    centre); what turns out of the frame is the paper's corners, rarely text.
    """
    with Image.open(page.path) as image:
        grey = image.convert("RGB" if image.mode not in {"1", "L"} else "L")
        white = (255, 255, 255) if grey.mode == "RGB" else 255
        turned = grey.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=white)
    path = Path(page.workdir) / f"{Path(page.path).stem}-s{skew:+.2f}.png"
    turned.save(path, dpi=(page.dpi, page.dpi), compress_level=1)
    return page.model_copy(update={"path": str(path)})


# -- the original as a PDF --


def base_pdf(intake: Intake) -> bytes:
    """Return the original as a PDF: the file itself, or its images embedded without loss.

    JPEG and single-strip G4 data go in unchanged (img2pdf passes them through); LZW and other
    TIFF codecs are stored as Flate; a JPEG-compressed TIFF frame keeps its JPEG data (its strips
    joined into one JPEG without decoding, see `tiff_frame_jpeg`). A TIFF frame that cannot be
    decoded becomes a blank page of its size (the page is marked unreadable; the archive keeps
    the original file as it is).
    """
    source = Path(intake.local_path)
    if intake.media_type is MediaType.PDF:
        return source.read_bytes()
    with Image.open(source) as image:
        layout = img2pdf.get_fixed_dpi_layout_fun((image_dpi(image),) * 2)
        joined = list(_jpeg_frames(image, source)) if intake.media_type is MediaType.TIFF else []
    if not any(joined):
        try:
            whole: bytes = img2pdf.convert(
                str(source), layout_fun=layout, rotation=img2pdf.Rotation.ifvalid
            )
            return whole
        except (OSError, ValueError):
            if intake.media_type is not MediaType.TIFF:
                raise  # intake decoded the one image: this is not the file's fault
    with Image.open(source) as image:
        frames = int(getattr(image, "n_frames", 1))
        inputs = [
            joined[i] if joined and joined[i] else _frame_or_blank(image, i) for i in range(frames)
        ]
    return bytes(img2pdf.convert(inputs, layout_fun=layout))


def _jpeg_frames(image: Image.Image, source: Path) -> Iterator[bytes | None]:
    """Yield, per TIFF frame, its data as one JPEG when it is JPEG-compressed, else None."""
    data = source.read_bytes()
    for index in range(int(getattr(image, "n_frames", 1))):
        image.seek(index)
        yield tiff_frame_jpeg(image, data)


def _frame_or_blank(image: Image.Image, index: int) -> bytes:
    """Return one TIFF frame as a lossless single-frame file, or a blank page of its size."""
    image.seek(index)
    dpi = image_dpi(image)
    out = io.BytesIO()
    try:
        image.load()
        frame = image
    except PAGE_ERRORS:
        frame = Image.new("1", image.size, 1)
    if frame.mode == "1":
        frame.save(out, "TIFF", compression="group4", dpi=(dpi, dpi))
    else:
        frame.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


# TIFF tags used to join a JPEG-compressed frame's strips.
_COMPRESSION, _PHOTOMETRIC, _STRIP_OFFSETS, _ROWS_PER_STRIP = 259, 262, 273, 278
_STRIP_BYTE_COUNTS, _JPEG_TABLES = 279, 347
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2})


def tiff_frame_jpeg(image: Image.Image, data: bytes) -> bytes | None:
    """Return the current TIFF frame as one JPEG built from its stored strips, or None.

    A "new-style" JPEG TIFF (compression 7) keeps each strip as a JPEG scan sharing one set of
    tables. The strips are joined as restart intervals of a single JPEG, as libtiff's tiff2pdf
    does: the entropy-coded data is copied byte for byte, only the headers are written anew.
    Returns None for any other layout (tiles, old-style JPEG, strips with their own tables).
    """
    tags = image.tag_v2  # type: ignore[attr-defined]
    photometric = tags.get(_PHOTOMETRIC)
    if tags.get(_COMPRESSION) != 7 or photometric not in (1, 2, 6) or 322 in tags:
        return None
    offsets, counts = tags.get(_STRIP_OFFSETS), tags.get(_STRIP_BYTE_COUNTS)
    if not offsets or not counts or len(offsets) != len(counts):
        return None
    strips = [data[o : o + c] for o, c in zip(offsets, counts, strict=True)]
    tables = tags.get(_JPEG_TABLES, b"")
    try:
        jpeg = _join_jpeg_strips(strips, bytes(tables), image.size, tags.get(_ROWS_PER_STRIP))
    except (ValueError, IndexError, struct.error):
        return None
    # RGB stored without the YCbCr transform needs Adobe's marker to say so to a PDF reader.
    if photometric == 2 and not re.search(
        rb"\xff\xee..Adobe", jpeg[: jpeg.find(b"\xff\xda")], re.S
    ):
        return None
    return jpeg


def _segments(jpeg: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (marker, whole segment) of a JPEG's header; the last is SOS with its scan data."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG stream")
    position = 2
    while position < len(jpeg):
        if jpeg[position] != 0xFF:
            raise ValueError("broken JPEG marker")
        marker = jpeg[position + 1]
        if marker == 0xD9:
            return
        (length,) = struct.unpack(">H", jpeg[position + 2 : position + 4])
        if marker == 0xDA:
            yield marker, jpeg[position:]
            return
        yield marker, jpeg[position : position + 2 + length]
        position += 2 + length


def _join_jpeg_strips(
    strips: list[bytes], tables: bytes, size: tuple[int, int], rows_per_strip: int | None
) -> bytes:
    """Join baseline JPEG strips into one JPEG, a restart marker between each two strips."""
    width, height = size
    shared = [seg for _, seg in _segments(tables + b"\xff\xd9")] if tables else []
    head: list[bytes] | None = None
    sof = sos = b""
    bodies, heights = [], []
    for strip in strips:
        parts = list(_segments(strip))
        if not parts or parts[-1][0] != 0xDA or any(m == 0xDD for m, _ in parts):
            raise ValueError("not a single-scan strip without restart markers")
        frames = [seg for marker, seg in parts if marker in _SOF_MARKERS]
        others = [seg for marker, seg in parts[:-1] if marker not in _SOF_MARKERS]
        if len(frames) != 1 or (head is not None and others != head):
            raise ValueError("strips differ in their tables")
        head = others
        (length,) = struct.unpack(">H", parts[-1][1][2:4])
        scan_header, body = parts[-1][1][: 2 + length], parts[-1][1][2 + length :]
        if sos and (scan_header != sos or frames[0][9:] != sof[9:]):
            raise ValueError("strips differ in their frame or scan")
        sof, sos = frames[0], scan_header
        heights.append(struct.unpack(">H", sof[5:7])[0])
        bodies.append(body[:-2] if body.endswith(b"\xff\xd9") else body)
    if sum(heights) != height or any(h != rows_per_strip for h in heights[:-1]):
        raise ValueError("strip heights do not add up")
    restart = b""
    if len(strips) > 1:
        components = sof[9]
        factors = [sof[11 + 3 * i] for i in range(components)] if components > 1 else [0x11]
        across, down = 8 * max(f >> 4 for f in factors), 8 * max(f & 0x0F for f in factors)
        if not rows_per_strip or rows_per_strip % down:
            raise ValueError("strips do not end on whole MCU rows")
        mcus = -(-width // across) * (rows_per_strip // down)
        if mcus > 0xFFFF:
            raise ValueError("restart interval too long")
        restart = b"\xff\xdd\x00\x04" + struct.pack(">H", mcus)
    frame = sof[:5] + struct.pack(">H", height) + sof[7:]
    # The strips' own segments come after the shared tables, so that their tables win.
    out = bytearray(b"\xff\xd8" + b"".join(shared) + b"".join(head or []) + restart + frame + sos)
    for index, body in enumerate(bodies):
        if index:
            out += bytes((0xFF, 0xD0 + (index - 1) % 8))
        out += body
    return bytes(out + b"\xff\xd9")
