"""The records database: SQLAlchemy 2 tables, migrated by Alembic (``schemas/migrations``).

``letters`` holds one row per letter (claimed by intake before any side effect, keyed by the
deterministic letter id); ``events`` is the append-only log of every step; ``disposals`` holds the
archivist's decision on a letter whose retention has ended (at most one per letter).

A destroyed letter keeps its ``letters`` row as a tombstone: id, SHA-256, type, department, receipt
and retention dates and the letter date (``fields.date``) stay; its text, reasons, the personal
fields and the references to the deleted DMS copy and package are cleared; the decision (who, when,
why) is its ``disposals`` row. The frozen models at the end are what the disposal offer hands
between tasks.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.letter import Frozen


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the records tables."""


class Letter(Base):
    """One letter: a whole inbox object, or one part of a batch file."""

    __tablename__ = "letters"
    __table_args__ = (
        UniqueConstraint("id", name="uq_letters_id"),
        Index("ix_letters_doc_type_letter_date", "doc_type", "letter_date"),
    )

    # seq orders letters by receipt; the letter id is the deterministic claim (unique constraint).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[str] = mapped_column(String(255))
    source_key: Mapped[str] = mapped_column(Text)
    version_id: Mapped[str] = mapped_column(String(255))
    first_page: Mapped[int | None] = mapped_column(Integer)
    last_page: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer)
    doc_type: Mapped[str | None] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[float | None] = mapped_column(Float)
    classified_by: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[list[str] | None] = mapped_column(JSON)
    department: Mapped[str | None] = mapped_column(String(128), index=True)
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    dms_ref: Mapped[str | None] = mapped_column(Text)
    archive_key: Mapped[str | None] = mapped_column(Text)
    retain_until: Mapped[dt.date | None] = mapped_column(Date)
    # Search columns (migration 0003): the letter date (else the receipt date) and normalised
    # sender and Aktenzeichen, kept by tasks/record.py beside the full-text index.
    letter_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    sender_norm: Mapped[str | None] = mapped_column(Text)
    aktenzeichen_norm: Mapped[str | None] = mapped_column(String(128), index=True)


class Event(Base):
    """One entry of a letter's append-only event log."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_letter_at", "letter_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(ForeignKey("letters.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    step: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Decision(StrEnum):
    """The archivist's decision on a letter whose retention has ended."""

    ARCHIVE = "archive"  # hand the package to the permanent archive; keep everything
    DESTROY = "destroy"  # delete DMS copy, package and text; keep a tombstone


class Disposal(Base):
    """The archivist's decision on one letter, and when it was carried out.

    The row is written before anything is exported or deleted (nothing is deleted without it);
    ``completed_at`` is set once the decision has been carried out, so an interrupted one can be
    resumed. For ``archive``, ``transfer_ref`` and ``transfer_sha256`` name the exported zip.
    """

    __tablename__ = "disposals"
    __table_args__ = (
        UniqueConstraint("letter_id", name="uq_disposals_letter_id"),
        CheckConstraint("decision IN ('archive', 'destroy')", name="ck_disposals_decision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(ForeignKey("letters.id"))
    decision: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    retain_until: Mapped[dt.date | None] = mapped_column(Date)  # as it stood at the decision
    transfer_ref: Mapped[str | None] = mapped_column(Text)
    transfer_sha256: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OfferItem(Frozen):
    """One record offered for disposal: what the archivist needs to assess it."""

    letter_id: str
    received_at: dt.datetime
    letter_date: dt.date | None = None
    doc_type: str | None = None
    subject: str | None = None
    aktenzeichen: str | None = None
    department: str | None = None
    retain_until: dt.date


class OfferFiles(Frozen):
    """Where a disposal offer was stored in the system bucket."""

    csv_key: str
    xml_key: str | None  # None for an empty offer: an Anbieteverzeichnis needs a Schriftgutobjekt
    count: int


class DisposalOutcome(Frozen):
    """What carrying out a decision did."""

    letter_id: str
    decision: Decision
    decided_by: str
    decided_at: dt.datetime
    transfer_ref: str | None = None
    transfer_sha256: str | None = None
    with_mets: bool = False
    deleted_objects: int = 0


class Label(Base):
    """What type a letter really is, as a person (or a confident decision) said: training data.

    One label per letter; ``source`` is ``operator`` (a review answer), ``csv`` (an imported list)
    or ``confident`` (a machine decision trusted as truth). The classifier trains on labelled
    letters (``tasks/model.py``), with the text from their ``letters`` row.
    """

    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("letter_id", name="uq_labels_letter_id"),
        CheckConstraint("source IN ('operator', 'csv', 'confident')", name="ck_labels_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(ForeignKey("letters.id"))
    doc_type: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
