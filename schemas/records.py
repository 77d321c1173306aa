"""The records database: SQLAlchemy 2 tables, migrated by Alembic (``schemas/migrations``).

``letters`` holds one row per letter (claimed by intake before any side effect, keyed by the
deterministic letter id); ``events`` is the append-only log of every step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
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


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the records tables."""


class Letter(Base):
    """One letter: a whole inbox object, or one part of a batch file."""

    __tablename__ = "letters"
    __table_args__ = (UniqueConstraint("id", name="uq_letters_id"),)

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
