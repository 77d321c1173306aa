"""`postroom process`: sweep the inbox now and follow its letters until each is settled."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.review_commands import ui_base
from flows.sweep_inbox import sweep_inbox
from schemas.db import engine_for
from schemas.letter import SETTLED, PageRange, SourceObject, State
from schemas.records import Letter
from schemas.settings import Settings
from tasks.edges import Edges, edges_for
from tasks.intake import letter_id_for
from tasks.sweep import inbox_objects, run_name

FAILED_RUN_STATES = {"FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Tracked:
    """One inbox object being followed."""

    source: SourceObject
    letter_id: str
    run_name: str
    status: str = "waiting"
    flow_run_id: str | None = None
    run_state: str | None = None

    @property
    def finished(self) -> bool:
        """Return whether nothing more happens without a person."""
        if self.status in {s.value for s in SETTLED} or self.status == State.IN_REVIEW:
            return True
        return self.run_state in FAILED_RUN_STATES


def add_parts(edges: Edges, tracked: list[Tracked]) -> None:
    """Follow the parts of every batch file that was split, as letters of their own."""
    split = {(t.source.key, t.source.version_id): t.source for t in tracked if t.status == "split"}
    if not split:
        return
    known = {t.letter_id for t in tracked}
    with Session(edges.engine) as session:
        parts = session.scalars(
            select(Letter)
            .where(Letter.first_page.is_not(None), Letter.source_key.in_([k for k, _ in split]))
            .order_by(Letter.first_page)
        ).all()
    for row in parts:
        source = split.get((row.source_key, row.version_id))
        if source is None or row.id in known or row.first_page is None or row.last_page is None:
            continue
        part = PageRange(first_page=row.first_page, last_page=row.last_page)
        tracked.append(Tracked(source=source, letter_id=row.id, run_name=run_name(source, part)))


def refresh(edges: Edges, tracked: list[Tracked]) -> None:
    """Read each letter's state from the records and its run's state from Prefect."""
    with Session(edges.engine) as session:
        rows = session.execute(
            select(Letter.id, Letter.status).where(Letter.id.in_([t.letter_id for t in tracked]))
        ).all()
    status: dict[str, str] = {letter_id: state for letter_id, state in rows}
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[t.run_name for t in tracked])
            )
        )
    by_name = {run.name: run for run in runs}
    for item in tracked:
        item.status = status.get(item.letter_id, item.status)
        run = by_name.get(item.run_name)
        if run is not None:
            item.flow_run_id = str(run.id)
            item.run_state = run.state_type.value if run.state_type else None


def summary(settings: Settings, tracked: list[Tracked]) -> Table:
    """Return the table of letters with their outcome."""
    table = Table("letter", "file", "type", "department", "status")
    with Session(engine_for(settings.records_url)) as session:
        rows = {
            row.id: row
            for row in session.scalars(
                select(Letter).where(Letter.id.in_([t.letter_id for t in tracked]))
            )
        }
    for item in tracked:
        row = rows.get(item.letter_id)
        status = item.status
        if row is not None and row.quarantine_reason:
            status = f"{status}: {row.quarantine_reason}"
        elif row is not None and row.duplicate_of:
            status = f"{status} of {row.duplicate_of[:8]}"
        elif item.run_state in FAILED_RUN_STATES and status not in {s.value for s in SETTLED}:
            status = f"run {item.run_state.lower()}"
        table.add_row(
            item.letter_id[:8],
            item.source.key,
            row.doc_type or "" if row else "",
            row.department or "" if row else "",
            status,
        )
    return table


def process_inbox(settings: Settings, console: Console, *, timeout: float) -> int:
    """Run a sweep now, follow every letter it found, and print the outcome."""
    edges = edges_for(settings)
    sources = inbox_objects(edges, 0.0, dt.datetime.now(dt.UTC))
    if not sources:
        console.print("the inbox is empty: nothing to process")
        return 0
    tracked = [Tracked(source=s, letter_id=letter_id_for(s), run_name=run_name(s)) for s in sources]
    console.print(f"{len(tracked)} object(s) in the inbox; sweeping")
    # The sweep runs here, as a flow run of its own, rather than waiting for a worker to pick
    # up the deployment; the letters' runs it starts are idempotent either way.
    sweep_inbox()
    deadline = time.monotonic() + timeout
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("processing letters", total=len(tracked))
        while True:
            refresh(edges, tracked)
            add_parts(edges, tracked)
            progress.update(bar, completed=sum(t.finished for t in tracked), total=len(tracked))
            if all(t.finished for t in tracked) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    console.print(summary(settings, tracked))
    ui = ui_base(settings)
    waiting = [t for t in tracked if t.status == State.IN_REVIEW]
    for item in waiting:
        link = f"{ui}/runs/flow-run/{item.flow_run_id}"
        console.print(f"review {item.source.key}: {link}", soft_wrap=True)  # keep it clickable
    failed = [t for t in tracked if not t.finished]
    failed += [
        t
        for t in tracked
        if t.run_state in FAILED_RUN_STATES and t.status not in {s.value for s in SETTLED}
    ]
    console.print(f"Prefect UI: {ui}")
    if failed:
        console.print(f"[red]{len(failed)} letter(s) did not settle[/]")
        return 1
    return 0
