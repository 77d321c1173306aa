"""Record: claims, duplicates, the event log and the export contract, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from schemas.db import engine_for, migrate
from schemas.export import export_records, export_schema
from schemas.letter import PageRange, SourceObject, State
from schemas.records import Event
from tasks.intake import letter_id_for
from tasks.record import advance, claim_letter, first_with_sha256, load_letter

ACTOR = "flow-run/test"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Return a migrated records database in a temporary file."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate(url)
    return engine_for(url)


def claim(engine: Engine, version: str, batch: PageRange | None = None) -> str:
    """Claim the letter of an inbox object version; return its id."""
    source = SourceObject(bucket="inbox", key="scan.pdf", version_id=version)
    letter_id = letter_id_for(source, batch)
    claim_letter(engine, letter_id, source, batch, ACTOR)
    return letter_id


def events(engine: Engine, letter_id: str) -> int:
    """Return how many events a letter has."""
    with Session(engine) as session:
        return session.scalar(select(func.count()).where(Event.letter_id == letter_id)) or 0


def test_a_second_claim_finds_the_first(engine: Engine) -> None:
    letter_id = claim(engine, "v1")
    advance(engine, letter_id, State.FILED, step="route", actor=ACTOR)
    source = SourceObject(bucket="inbox", key="scan.pdf", version_id="v1")
    again = claim_letter(engine, letter_id, source, None, ACTOR)
    assert again.status is State.FILED
    assert events(engine, letter_id) == 2


def test_the_first_letter_with_the_same_bytes_is_the_original(engine: Engine) -> None:
    first, second = claim(engine, "v1"), claim(engine, "v2")
    for letter_id in (second, first):  # the order the hashes arrive in does not matter
        advance(engine, letter_id, State.RECEIVED, step="intake", actor=ACTOR, sha256="ab" * 32)
    assert first_with_sha256(engine, first, "ab" * 32) is None
    assert first_with_sha256(engine, second, "ab" * 32) == first


def test_a_quarantined_letter_is_no_original(engine: Engine) -> None:
    first, second = claim(engine, "v1"), claim(engine, "v2")
    advance(engine, first, State.QUARANTINED, step="ocr", actor=ACTOR, sha256="cd" * 32)
    advance(engine, second, State.RECEIVED, step="intake", actor=ACTOR, sha256="cd" * 32)
    assert first_with_sha256(engine, second, "cd" * 32) is None


def test_every_exported_line_validates(engine: Engine) -> None:
    whole = claim(engine, "v1")
    part = claim(engine, "v2", PageRange(first_page=2, last_page=3))
    advance(
        engine,
        whole,
        State.DONE,
        step="record",
        actor=ACTOR,
        sha256="ef" * 32,
        pages=1,
        doc_type="rechnung",
        confidence=0.9,
        classified_by="rule",
        department="Kämmerei",
        fields={"iban": "DE89370400440532013000", "amount_total": 12.5, "date": "2026-03-01"},
        text="Rechnung\fSeite 2",
        dms_ref="s3://dms/Kaemmerei/ohne-az/x/",
        archive_key="x/",
    )
    advance(
        engine,
        part,
        State.QUARANTINED,
        step="intake",
        actor=ACTOR,
        quarantine_reason="the file is empty",
    )
    lines = list(export_records(engine))
    validator = jsonschema.Draft202012Validator(
        export_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for line in lines:
        validator.validate(line)
    assert [line["id"] for line in lines] == [whole, part]
    assert lines[0]["fields"]["sender"] is None and lines[0]["fields"]["amount_total"] == 12.5
    assert lines[1]["batch"] == {"source_key": "scan.pdf", "first_page": 2, "last_page": 3}
    assert load_letter(engine, part).status == State.QUARANTINED


def test_the_schema_refuses_a_wrong_line(engine: Engine) -> None:
    claim(engine, "v1")
    (line,) = export_records(engine)
    validator = jsonschema.Draft202012Validator(export_schema())
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**line, "status": "lost"})
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**line, "confidence": 1.5})
