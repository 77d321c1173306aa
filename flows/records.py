"""The records commands: list, show and export letters from the records database."""

from __future__ import annotations

import json
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.db import engine_for
from schemas.export import as_utc, export_record, export_records
from schemas.records import Event, Letter
from schemas.settings import Settings


def export_jsonl(settings: Settings, out: TextIO) -> int:
    """Print one export object per letter, ordered by receipt."""
    for record in export_records(engine_for(settings.records_url)):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def list_records(settings: Settings, console: Console, *, limit: int, as_json: bool) -> int:
    """Show the newest letters."""
    with Session(engine_for(settings.records_url)) as session:
        rows = session.scalars(select(Letter).order_by(Letter.seq.desc()).limit(limit)).all()
        if as_json:
            console.print_json(data=[export_record(row) | {"text": None} for row in rows])
            return 0
        table = Table("letter", "received", "file", "status", "type", "department")
        for row in rows:
            table.add_row(
                row.id[:12],
                as_utc(row.received_at).strftime("%Y-%m-%d %H:%M"),
                row.source_key,
                row.status,
                row.doc_type or "",
                row.department or "",
            )
    console.print(table)
    return 0


def find_letter(session: Session, letter_id: str) -> Letter | None:
    """Return the letter with this id or unique id prefix."""
    rows = session.scalars(select(Letter).where(Letter.id.startswith(letter_id)).limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def event_dicts(session: Session, letter_id: str) -> list[dict[str, Any]]:
    """Return a letter's events, oldest first."""
    events = session.scalars(
        select(Event).where(Event.letter_id == letter_id).order_by(Event.id)
    ).all()
    return [
        {
            "at": as_utc(e.at).isoformat(),
            "step": e.step,
            "status": e.status,
            "actor": e.actor,
            "detail": e.detail,
        }
        for e in events
    ]


def show_record(settings: Settings, console: Console, letter_id: str, *, as_json: bool) -> int:
    """Show one letter, its fields and its event log."""
    with Session(engine_for(settings.records_url)) as session:
        row = find_letter(session, letter_id)
        if row is None:
            console.print(f"no single letter matches {letter_id!r}")
            return 1
        record, events = export_record(row), event_dicts(session, row.id)
    if as_json:
        console.print_json(data={**record, "events": events})
        return 0
    table = Table(show_header=False)
    for name, value in record.items():
        if name not in {"text", "fields", "schema_version"}:
            table.add_row(name, "" if value is None else str(value))
    for name, value in record["fields"].items():
        table.add_row(f"fields.{name}", "" if value is None else str(value))
    console.print(table)
    history = Table("at", "step", "status", "actor")
    for event in events:
        history.add_row(event["at"], event["step"], event["status"], event["actor"])
    console.print(history)
    return 0
