"""The sweep-inbox flow: one process-letter run per new inbox object."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from schemas.settings import Settings
from tasks.edges import edges_for
from tasks.report import publish_sweep
from tasks.review import flag_overdue
from tasks.sweep import list_inbox, start_letter


def sweep_run_name() -> str:
    """Return a sweep's run name: when it ran."""
    return f"sweep-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"


@flow(name="sweep-inbox", flow_run_name=sweep_run_name)
def sweep_inbox(settle_seconds: float = 0.0) -> int:
    """Start a process-letter run for every complete inbox object that has none yet."""
    edges = edges_for(Settings())
    started = [start_letter(source, {}) for source in list_inbox(edges, settle_seconds)]
    new = [run.row() for run in started if run.new]
    if new:
        publish_sweep(new)
    # The sweep runs every few seconds anyway: it is the clock for reviews left waiting too long.
    review = edges.settings.review
    flag_overdue(edges.engine, dt.datetime.now(dt.UTC), review.overdue_hours, "sweep-inbox")
    return len(new)
