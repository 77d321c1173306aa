"""Sweeping the inbox: list the complete objects and start one process-letter run for each."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterIdempotencyKey
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import run_deployment
from prefect.exceptions import MissingContextError
from prefect.states import Scheduled

from schemas.letter import PageRange, SourceObject
from tasks.edges import Edges
from tasks.errors import io_task
from tasks.intake import is_temporary, letter_id_for

PROCESS_LETTER = "process-letter/process-letter"
KEYS_PER_READ = 200  # the Prefect API's page size
# A run that crashed (its process could not start, or died) is started again by the next sweep,
# from the top: every step is idempotent by letter id. Not more often than this, though, so a
# letter that kills its process each time waits for an operator instead of looping.
MAX_CRASHED_ATTEMPTS = 3
RESTARTS_LABEL = "postroom.restarts"  # how often a sweep started the run again, on the run


def run_name(source: SourceObject, part: PageRange | None = None) -> str:
    """Return the flow run name of a letter: its short id, file name and pages of a batch."""
    name = f"letter-{letter_id_for(source, part)[:8]}-{PurePosixPath(source.key).name}"
    return f"{name}-p{part.first_page}-{part.last_page}" if part else name


def idempotency_key(source: SourceObject, part: PageRange | None = None) -> str:
    """Return the key that makes a second sweep (or split) find the run the first one started."""
    key = f"{source.bucket}/{source.key}/{source.version_id}"
    return f"{key}/{part.first_page}-{part.last_page}" if part else key


def inbox_objects(edges: Edges, settle_seconds: float, now: dt.datetime) -> list[SourceObject]:
    """List every complete, settled object version in the inbox, oldest first."""
    bucket = edges.settings.buckets.inbox
    found: list[tuple[dt.datetime, SourceObject]] = []
    for page in edges.s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            key, modified = version["Key"], version["LastModified"]
            if is_temporary(key) or (now - modified).total_seconds() < settle_seconds:
                continue
            source = SourceObject(bucket=bucket, key=key, version_id=version["VersionId"] or "null")
            found.append((modified, source))
    return [source for _, source in sorted(found, key=lambda item: item[0])]


@dataclass(frozen=True)
class Started:
    """A process-letter run the sweep asked for."""

    source: SourceObject
    flow_run_id: str
    name: str
    new: bool

    def row(self) -> dict[str, str]:
        """Return the sweep artifact's row for this run."""
        return {
            "letter": letter_id_for(self.source)[:8],
            "key": self.source.key,
            "version": self.source.version_id,
            "flow run": self.name,
        }


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Return the task run's logger (shown in the UI), or the module's outside a run."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def restarts(run: FlowRun) -> int:
    """Return how often a sweep started this run again."""
    return int(run.labels.get(RESTARTS_LABEL, 0))


def may_restart(run: FlowRun) -> bool:
    """Return whether a sweep starts this run again: it crashed, and not too often yet."""
    return run.state_type == StateType.CRASHED and restarts(run) + 1 < MAX_CRASHED_ATTEMPTS


def started_keys(keys: Sequence[str]) -> set[str]:
    """Return which of these idempotency keys have a run already: one API read per 200 keys.

    A run the sweep would start again (:func:`may_restart`) does not count.
    """
    found: set[str] = set()
    with get_client(sync_client=True) as client:
        for start in range(0, len(keys), KEYS_PER_READ):
            chunk = list(keys[start : start + KEYS_PER_READ])
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    idempotency_key=FlowRunFilterIdempotencyKey(any_=chunk)
                ),
                limit=KEYS_PER_READ,
            )
            found.update(
                run.idempotency_key for run in runs if run.idempotency_key and not may_restart(run)
            )
    return found


@io_task()
def list_inbox(edges: Edges, settle_seconds: float) -> list[SourceObject]:
    """List the inbox objects that are ready for processing and have no run yet (or a crashed one).

    An object stays in the inbox until its letter is settled, for minutes when the inbox is
    full; asking to start each one again on every sweep (every 15 s) made a task run and a
    run-creating API call per object per sweep, which swamped the Prefect server's database
    (its writes failed with 503 until letters' runs gave up). Starting stays idempotent
    (``idempotency_key``) for the objects two sweeps find at the same moment.
    """
    ready = inbox_objects(edges, settle_seconds, dt.datetime.now(dt.UTC))
    started = started_keys([idempotency_key(source) for source in ready])
    return [source for source in ready if idempotency_key(source) not in started]


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    cache_policy=NO_CACHE,
    task_run_name="start-{source.key}",
)
def start_letter(
    source: SourceObject, parameters: dict[str, Any], part: PageRange | None = None
) -> Started:
    """Start (or find) the top-level process-letter run of one inbox object, or of one part.

    A run found crashed is started again (as the UI's Retry does), up to the attempts allowed.
    """
    since = dt.datetime.now(dt.UTC)
    pages = {"first_page": part.first_page, "last_page": part.last_page} if part else {}
    run = run_deployment(
        PROCESS_LETTER,
        parameters={
            "bucket": source.bucket,
            "key": source.key,
            "version_id": source.version_id,
            **pages,
            **parameters,
        },
        flow_run_name=run_name(source, part),
        idempotency_key=idempotency_key(source, part),
        as_subflow=False,
        timeout=0,
    )
    assert isinstance(run, FlowRun)  # run_deployment is sync here; its type also admits async
    created = run.created or since
    restarted = may_restart(run)
    if restarted:
        restarted_now = restarts(run) + 1
        attempt = restarted_now + 1  # the first attempt was the run's own
        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(run.id, {RESTARTS_LABEL: restarted_now})
            client.set_flow_run_state(
                run.id,
                Scheduled(message=f"started again by the sweep after a crash (attempt {attempt})"),
                force=True,
            )
        run_logger().warning(
            "run %s of %s had crashed; started it again (attempt %d of %d)",
            run.name,
            source.key,
            attempt,
            MAX_CRASHED_ATTEMPTS,
        )
    return Started(
        source=source, flow_run_id=str(run.id), name=run.name, new=created >= since or restarted
    )
