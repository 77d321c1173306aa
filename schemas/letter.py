"""The frozen models that cross task boundaries, and the letter's state machine.

Only these models travel between tasks: S3 keys, ids and small text, never raw bytes.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Frozen(BaseModel):
    """Base of every model passed between tasks: immutable and strict about extra keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class State(StrEnum):
    """Where a letter stands; see DESIGN.md for the transitions."""

    RECEIVED = "received"
    RECOGNISED = "recognised"
    CLASSIFIED = "classified"
    IN_REVIEW = "in_review"
    FILED = "filed"
    ARCHIVED = "archived"
    DONE = "done"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"
    DESTROYED = "destroyed"
    SPLIT = "split"  # a batch file: its parts are letters of their own

    @property
    def settled(self) -> bool:
        """Return whether nothing more will happen to the letter without a person."""
        return self in SETTLED


SETTLED = frozenset({State.DONE, State.QUARANTINED, State.DUPLICATE, State.DESTROYED, State.SPLIT})


class MediaType(StrEnum):
    """The file types a scanner may drop, as sniffed from their bytes."""

    PDF = "application/pdf"
    TIFF = "image/tiff"
    JPEG = "image/jpeg"
    PNG = "image/png"

    @property
    def suffix(self) -> str:
        """Return the canonical file name suffix for this type."""
        return {
            "application/pdf": ".pdf",
            "image/tiff": ".tif",
            "image/jpeg": ".jpg",
            "image/png": ".png",
        }[self.value]


class Limits(Frozen):
    """What a letter may be before it is refused; a flow parameter set in prefect.yaml."""

    max_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    max_pages: int = Field(default=500, ge=1)
    max_pixels: int = Field(
        default=200_000_000,
        ge=1,
        description="per page, read from the header before decoding: an image file's frame, an "
        "image inside a PDF, or a PDF page rendered at 300 dpi",
    )
    page_timeout_seconds: int = Field(
        default=180,
        ge=1,
        description="tesseract time per page; a page over it is marked unreadable for review",
    )


class SourceObject(Frozen):
    """One object in the inbox bucket, identified by its version."""

    bucket: str
    key: str
    version_id: str


class PageRange(Frozen):
    """A letter's pages within a batch file, 1-based and inclusive."""

    first_page: int = Field(ge=1)
    last_page: int = Field(ge=1)


class LetterRef(Frozen):
    """A claimed letter: its deterministic id, its source, and the state found at claim time."""

    letter_id: str
    source: SourceObject
    batch: PageRange | None = None
    status: State = State.RECEIVED


# What a separator sheet between the letters of a scanned batch carries (tasks/split.py).
SEPARATOR_PREFIX = "POSTROOM-TRENNBLATT"
SEPARATOR_WORD = "TRENNBLATT"


class SeparatorRules(Frozen):
    """Which separator sheets a mailroom uses; a flow parameter, set in prefect.yaml."""

    barcode: bool = True
    barcode_prefix: str = SEPARATOR_PREFIX
    # zxing-cpp format names, comma-separated; "" reads every format (~4 × the time).
    barcode_formats: str = "Code128, QRCode"
    word: bool = True
    separator_word: str = SEPARATOR_WORD
    blank: bool = False


class Separator(Frozen):
    """A page found to be a separator sheet, and why."""

    number: int
    reason: str  # "barcode POSTROOM-TRENNBLATT", "word TRENNBLATT", "blank page"


class Intake(Frozen):
    """What intake learnt about the source object."""

    letter: LetterRef
    sha256: str
    size: int
    media_type: MediaType
    pages: int
    local_path: str  # the fetched bytes, valid within one flow run
    duplicate_of: str | None = None


# A rectangle in PDF user space: left, bottom, right, top.
Box = tuple[float, float, float, float]


class PageImage(Frozen):
    """One page prepared for OCR: a local file valid within the OCR step of one flow run."""

    letter_id: str
    number: int
    path: str  # the image tesseract reads; "" for a page with a text layer or an unreadable one
    dpi: int
    workdir: str = ""  # where tesseract's outputs for this page go
    text_layer: str | None = None  # the page's own text, when it has a usable one
    box: Box | None = None  # where the image lies on its PDF page; None: the whole page
    unreadable: str | None = None  # why the page could not be decoded


class PageText(Frozen):
    """What OCR read on one page."""

    number: int
    text: str
    confidence: float  # mean word confidence, 0-100; 100 for a born-digital text layer
    source: Literal["ocr", "text-layer"]
    layer_pdf: str | None = None  # local path of the invisible text-only page from tesseract
    alto: str | None = None  # local path of tesseract's ALTO XML for the page
    alto_key: str | None = None  # the ALTO XML in the system bucket, once assemble kept it
    rotation: Literal[0, 90, 180, 270] = 0  # clockwise turn that shows the page upright
    skew: float = 0.0  # degrees counter-clockwise the upright image was straightened for reading
    box: Box | None = None  # where the page image lies on its PDF page; None: the whole page
    unreadable: str | None = None  # why OCR has no text for the page (undecodable, timed out)


class OcrResult(Frozen):
    """The OCR step's output: page texts and where the searchable PDF is kept."""

    letter_id: str
    pages: tuple[PageText, ...]
    pdf_key: str  # searchable PDF in the system bucket
    text_key: str  # plain text (pages joined by form feed) in the system bucket
    # Why the searchable PDF does not claim PDF/A-2b; empty when it does.
    pdfa_problems: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Return the whole letter's text, pages joined by form feed."""
        return "\f".join(page.text for page in self.pages)

    @property
    def mean_confidence(self) -> float:
        """Return the mean page confidence."""
        return sum(p.confidence for p in self.pages) / len(self.pages) if self.pages else 0.0

    @property
    def unreadable_pages(self) -> tuple[int, ...]:
        """Return the numbers of the pages OCR could not read (the letter needs a person)."""
        return tuple(p.number for p in self.pages if p.unreadable is not None)

    @property
    def needs_review(self) -> bool:
        """Return whether a person must look at the letter because a page could not be read."""
        return bool(self.unreadable_pages)

    @property
    def alto_keys(self) -> tuple[str, ...]:
        """Return the system-bucket keys of the pages' ALTO XML, in page order."""
        return tuple(p.alto_key for p in self.pages if p.alto_key is not None)


FieldConfidence = Annotated[float, Field(ge=0.0, le=1.0)]


class Fields(Frozen):
    """Fields extracted from a letter; each None where absent.

    ``confidence`` holds, per field found, how sure the extraction is (0-1): a labelled value
    or a valid checksum scores higher than a bare pattern or a value with rivals. A field
    that is None has no entry; an operator's value counts 1.0.
    """

    sender: str | None = None
    date: dt.date | None = None
    aktenzeichen: str | None = None
    iban: str | None = None
    amount_total: float | None = None
    invoice_number: str | None = None
    customer_number: str | None = None
    confidence: dict[str, FieldConfidence] = Field(default_factory=dict)

    @field_validator("confidence")
    @classmethod
    def _known_fields(cls, value: dict[str, float]) -> dict[str, float]:
        """Check that every confidence belongs to a field of this model."""
        unknown = sorted(set(value) - set(cls.names()))
        if unknown:
            raise ValueError(f"confidence for unknown field(s): {', '.join(unknown)}")
        return value

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Return the names of the extracted fields (not the confidence map beside them)."""
        return tuple(name for name in cls.model_fields if name != "confidence")


class Classification(Frozen):
    """The decided document type, with its confidence and why."""

    doc_type: str
    subject: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    classified_by: Literal["rule", "model", "operator"]
    reasons: tuple[str, ...] = ()
    fields: Fields = Fields()
    department: str | None = None  # an operator's choice; None: the taxonomy's routing decides


class ReviewAnswer(Frozen):
    """What an operator answered in the review form, and who answered when."""

    doc_type: str
    department: str
    aktenzeichen: str | None = None
    sender: str | None = None
    reviewer: str
    note: str | None = None
    answered_at: dt.datetime


class Filing(Frozen):
    """Where the letter was filed in the DMS, and the routing decision that sent it there."""

    department: str
    dms_path: str  # <department>/<Aktenzeichen or ohne-az>/<letter id>/, segments slugged
    dms_ref: str  # the DMS's reference: s3://… for the S3 DMS, what an HTTP DMS answered
    rule: str  # the routing rule that chose the department, e.g. "antrag/Wohngeld → Sozialamt"
    aktenzeichen: str | None = None  # the Akte filed into; None: the department's ohne-az folder
    priority: Literal["normal", "high", "urgent"] = "normal"
    received: dt.date | None = None  # Posteingangsdatum, from which the deadline counts
    deadline: dt.date | None = None  # receipt + the type's deadline from the taxonomy


class ArchivePackage(Frozen):
    """A verified archival package in the archive bucket."""

    archive_key: str  # the package prefix, <letter id>/
    payload_oxum: str
    retain_until: dt.date | None = None


class LetterOutcome(Frozen):
    """What a process-letter run ends with, for artifacts and the CLI."""

    letter_id: str
    source_key: str
    status: State
    doc_type: str | None = None
    confidence: float | None = None
    department: str | None = None
    dms_ref: str | None = None
    archive_key: str | None = None
    reason: str | None = None
