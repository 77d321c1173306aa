"""The record step: the letter's row and its append-only event log in the records database.

The row is claimed first (before any side effect) and then advanced by every step; `finish` writes
the final record. Every function here is idempotent for a given letter id.

The full-text index (``schemas/search.py``) is kept in step in the same transaction: a letter is
indexed when it is claimed and again whenever a step changes what the index holds (its text,
fields, type, subject, department); a destroyed letter leaves it.
"""

from __future__ import annotations

from typing import Any, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.letter import (
    SETTLED,
    ArchivePackage,
    Classification,
    Fields,
    Filing,
    Intake,
    LetterOutcome,
    LetterRef,
    OcrResult,
    PageRange,
    SourceObject,
    State,
)
from schemas.records import Event, Letter
from schemas.search import drop_from_index, index_letters
from tasks.edges import Edges
from tasks.errors import retry_condition

# States a duplicate can point at: the first letter with those bytes that is, or will be, filed.
FILEABLE = (
    State.RECEIVED,
    State.RECOGNISED,
    State.CLASSIFIED,
    State.IN_REVIEW,
    State.FILED,
    State.ARCHIVED,
    State.DONE,
)
# The columns the full-text index and the search filters are built from.
INDEXED = frozenset({"source_key", "text", "fields", "doc_type", "subject", "department"})


def claim_letter(
    engine: Engine, letter_id: str, source: SourceObject, batch: PageRange | None, actor: str
) -> LetterRef:
    """Claim ``letter_id`` for this source, or return the claim an earlier run made."""
    with Session(engine) as session:
        try:
            letter = Letter(
                id=letter_id,
                bucket=source.bucket,
                source_key=source.key,
                version_id=source.version_id,
                first_page=batch.first_page if batch else None,
                last_page=batch.last_page if batch else None,
                status=State.RECEIVED,
            )
            session.add(letter)
            session.flush()
            session.add(
                Event(letter_id=letter_id, step="intake", status=State.RECEIVED, actor=actor)
            )
            session.flush()
            index_letters(session.connection(), [letter.seq])
            session.commit()
        except IntegrityError:
            session.rollback()
    row = load_letter(engine, letter_id)
    return LetterRef(letter_id=letter_id, source=source, batch=batch, status=State(row.status))


def load_letter(engine: Engine, letter_id: str) -> Letter:
    """Return a letter's row; raise KeyError when there is none."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.scalars(select(Letter).where(Letter.id == letter_id)).one_or_none()
        if row is None:
            raise KeyError(letter_id)
        return row


def advance(
    engine: Engine,
    letter_id: str,
    status: State,
    *,
    step: str,
    actor: str,
    detail: dict[str, Any] | None = None,
    **values: Any,
) -> None:
    """Set a letter's state and columns, and append the event that says why."""
    with Session(engine) as session, session.begin():
        row = session.scalars(select(Letter).where(Letter.id == letter_id)).one()
        before = {column: getattr(row, column) for column in INDEXED}
        row.status = status
        for column, value in values.items():
            setattr(row, column, value)
        session.add(
            Event(letter_id=letter_id, step=step, status=status, actor=actor, detail=detail)
        )
        session.flush()
        changed = any(getattr(row, column) != before[column] for column in INDEXED)
        if changed or status == State.DESTROYED:  # a destroyed letter leaves the index
            index_letters(session.connection(), [row.seq])


def unindex_letter(engine: Engine, letter_id: str) -> None:
    """Remove a letter from the full-text index; its row (and filter columns) stay."""
    with Session(engine) as session, session.begin():
        seq = session.scalars(select(Letter.seq).where(Letter.id == letter_id)).one_or_none()
        if seq is not None:
            drop_from_index(session.connection(), [seq])


def first_with_sha256(engine: Engine, letter_id: str, sha256: str) -> str | None:
    """Return the id of the first letter received with these bytes, if it is not this one."""
    with Session(engine) as session:
        first = session.scalars(
            select(Letter.id)
            .where(Letter.sha256 == sha256, Letter.status.in_(FILEABLE))
            .order_by(Letter.seq)
            .limit(1)
        ).one_or_none()
    return first if first is not None and first != letter_id else None


def outcome_of(engine: Engine, letter_id: str) -> LetterOutcome:
    """Return the letter's outcome as recorded."""
    row = load_letter(engine, letter_id)
    return LetterOutcome(
        letter_id=row.id,
        source_key=row.source_key,
        status=State(row.status),
        doc_type=row.doc_type,
        confidence=row.confidence,
        department=row.department,
        dms_ref=row.dms_ref,
        archive_key=row.archive_key,
        reason=row.quarantine_reason,
    )


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_condition,
    cache_policy=NO_CACHE,
)
def record(
    edges: Edges,
    intake: Intake,
    ocr: OcrResult,
    classification: Classification,
    filing: Filing,
    package: ArchivePackage,
    actor: str,
) -> LetterOutcome:
    """Write the letter's complete record: fields, text, references; the letter is now done."""
    letter_id = intake.letter.letter_id
    advance(
        edges.engine,
        letter_id,
        State.DONE,
        step="record",
        actor=actor,
        detail={"dms_ref": filing.dms_ref, "archive_key": package.archive_key},
        pages=len(ocr.pages),
        **classification_columns(classification),
        department=filing.department,
        text=ocr.text,
        ocr_confidence=round(ocr.mean_confidence, 1),
        dms_ref=filing.dms_ref,
        archive_key=package.archive_key,
        retain_until=package.retain_until,
    )
    return outcome_of(edges.engine, letter_id)


def classification_columns(classification: Classification) -> dict[str, Any]:
    """Return the records' columns that hold a classification."""
    return {
        "doc_type": classification.doc_type,
        "subject": classification.subject,
        "confidence": classification.confidence,
        "classified_by": classification.classified_by,
        "reasons": list(classification.reasons),
        "fields": classification.fields.model_dump(mode="json"),
    }


def recorded_classification(engine: Engine, letter_id: str) -> Classification:
    """Return the classification the records hold for a letter (e.g. the proposal under review)."""
    row = load_letter(engine, letter_id)
    return Classification(
        doc_type=row.doc_type or "",
        subject=row.subject,
        confidence=row.confidence or 0.0,
        classified_by=cast("Any", row.classified_by or "rule"),
        reasons=tuple(row.reasons or ()),
        fields=Fields.model_validate(row.fields or {}),
    )


def delete_work_files(edges: Edges, letter_id: str) -> None:
    """Delete the letter's intermediate files from the system bucket."""
    bucket = edges.settings.buckets.system
    listing = edges.s3.list_objects_v2(Bucket=bucket, Prefix=f"work/{letter_id}/")
    for item in listing.get("Contents", []):
        edges.s3.delete_object(Bucket=bucket, Key=item["Key"])


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_condition,
    cache_policy=NO_CACHE,
)
def release(edges: Edges, letter: LetterRef, actor: str) -> None:
    """Delete the inbox object, last: its letter is now safely filed, archived and recorded.

    A part of a batch deletes the batch file only as the last of its letters to settle.
    """
    source = letter.source
    delete_work_files(edges, letter.letter_id)
    if not release_source(edges, letter):
        return
    row = load_letter(edges.engine, letter.letter_id)
    advance(
        edges.engine,
        letter.letter_id,
        State(row.status),
        step="release",
        actor=actor,
        detail={"deleted": f"s3://{source.bucket}/{source.key}?versionId={source.version_id}"},
    )


def release_source(edges: Edges, letter: LetterRef) -> bool:
    """Delete the letter's inbox object if no other letter still needs it; return whether."""
    source = letter.source
    if letter.batch is not None and not source_settled(edges.engine, source):
        return False
    edges.s3.delete_object(Bucket=source.bucket, Key=source.key, VersionId=source.version_id)
    return True


def source_settled(engine: Engine, source: SourceObject) -> bool:
    """Return whether every letter of an inbox object (the file, or each part) has settled."""
    with Session(engine) as session:
        states = session.scalars(
            select(Letter.status).where(
                Letter.bucket == source.bucket,
                Letter.source_key == source.key,
                Letter.version_id == source.version_id,
            )
        ).all()
    return bool(states) and all(State(status) in SETTLED for status in states)


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_condition,
    cache_policy=NO_CACHE,
)
def settle_duplicate(edges: Edges, intake: Intake, actor: str) -> LetterOutcome:
    """Record a letter whose bytes an earlier letter already brought; it is not filed again."""
    advance(
        edges.engine,
        intake.letter.letter_id,
        State.DUPLICATE,
        step="intake",
        actor=actor,
        detail={"duplicate_of": intake.duplicate_of},
        duplicate_of=intake.duplicate_of,
    )
    return outcome_of(edges.engine, intake.letter.letter_id)
