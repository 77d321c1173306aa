"""The records export: the versioned contract other tools read (``records-export.v1``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from schemas.letter import Fields
from schemas.records import Letter

SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).parent / "records-export.v1.schema.json"
FIELD_NAMES = Fields.names()


@cache
def export_schema() -> dict[str, Any]:
    """Return the JSON Schema every exported line validates against."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return schema


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Return a timestamp as timezone-aware UTC (SQLite hands back naive ones)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def export_record(row: Letter) -> dict[str, Any]:
    """Return one letter as its export object."""
    stored = row.fields or {}
    batch = None
    if row.first_page is not None and row.last_page is not None:
        batch = {
            "source_key": row.source_key,
            "first_page": row.first_page,
            "last_page": row.last_page,
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "id": row.id,
        "source_key": row.source_key,
        "sha256": row.sha256,
        "received_at": as_utc(row.received_at).isoformat(),
        "status": row.status,
        "pages": row.pages,
        "doc_type": row.doc_type,
        "confidence": row.confidence,
        "classified_by": row.classified_by,
        "department": row.department,
        "fields": {
            **{name: stored.get(name) for name in FIELD_NAMES},
            "confidence": stored.get("confidence") or {},
        },
        "text": row.text,
        "batch": batch,
        "quarantine_reason": row.quarantine_reason,
        "duplicate_of": row.duplicate_of,
        "dms_ref": row.dms_ref,
        "archive_key": row.archive_key,
        "retain_until": row.retain_until.isoformat() if row.retain_until else None,
    }


def export_records(engine: Engine) -> Iterator[dict[str, Any]]:
    """Yield every letter's export object, ordered by receipt."""
    with Session(engine) as session:
        for row in session.scalars(select(Letter).order_by(Letter.seq)).yield_per(200):
            yield export_record(row)
