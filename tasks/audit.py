"""The fixity audit: re-read archived packages and verify them against their manifests.

The packages to audit are the settled letters (``done``) with an archive package, those verified
longest ago first (their last ``audit`` event, or the ``archive`` step's own verification), so a
daily sample of N packages rotates through the whole archive. Every result is appended to the
letter's event log as step ``audit`` (the letter keeps its state); a mismatch or a missing package
also emits the Prefect event ``postroom.archive.fixity-failed``, for automations to notify the
archivist.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from schemas.letter import Frozen, State
from schemas.records import Event, Letter
from tasks.archive import PackageCheck, verify_package
from tasks.edges import Edges
from tasks.errors import io_task, retry_condition
from tasks.record import advance, load_letter

FIXITY_FAILED = "postroom.archive.fixity-failed"
# The steps that read a whole package back and checked it against its manifests.
VERIFYING_STEPS = ("archive", "audit")


class AuditTarget(Frozen):
    """A letter whose package is due for an audit."""

    letter_id: str
    archive_key: str
    last_verified: dt.datetime | None = None


class AuditResult(Frozen):
    """The outcome of re-reading one package."""

    letter_id: str
    archive_key: str
    outcome: Literal["ok", "mismatch", "missing"]
    files: int
    payload_oxum: str | None = None
    problems: tuple[str, ...] = ()
    audited_at: dt.datetime

    @property
    def failed(self) -> bool:
        """Return whether the package is missing or does not match its manifests."""
        return self.outcome != "ok"

    def row(self) -> dict[str, str]:
        """Return the result as a row of the audit table."""
        return {
            "letter": self.letter_id,
            "package": self.archive_key,
            "outcome": self.outcome,
            "files": str(self.files),
            "Payload-Oxum": self.payload_oxum or "–",
            "problems": "; ".join(self.problems) or "–",
        }


def due_packages(engine: Engine, sample: int | None = None) -> list[AuditTarget]:
    """Return the packages to audit: every one, or the ``sample`` verified longest ago."""
    if sample is not None and sample < 1:
        raise ValueError(f"the audit sample must be at least 1 package, not {sample}")
    last = (
        select(Event.letter_id, func.max(Event.at).label("at"))
        .where(Event.step.in_(VERIFYING_STEPS))
        .group_by(Event.letter_id)
        .subquery()
    )
    query = (
        select(Letter.id, Letter.archive_key, last.c.at)
        .outerjoin(last, last.c.letter_id == Letter.id)
        .where(Letter.archive_key.is_not(None), Letter.status == State.DONE)
        .order_by(last.c.at.asc().nulls_first(), Letter.seq)
        .limit(sample)
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    return [AuditTarget(letter_id=i, archive_key=key, last_verified=at) for i, key, at in rows]


def audit_result(target: AuditTarget, check: PackageCheck) -> AuditResult:
    """Return the audit result of a package check."""
    outcome: Literal["ok", "mismatch", "missing"] = (
        "missing" if check.missing else "ok" if check.ok else "mismatch"
    )
    return AuditResult(
        letter_id=target.letter_id,
        archive_key=target.archive_key,
        outcome=outcome,
        files=sum(f.status != "missing" for f in check.files),
        payload_oxum=check.found_oxum,
        problems=check.problems,
        audited_at=dt.datetime.now(dt.UTC),
    )


def record_audit(engine: Engine, result: AuditResult, actor: str) -> None:
    """Append the result to the letter's event log; the letter keeps its state."""
    detail: dict[str, object] = {
        "outcome": result.outcome,
        "archive_key": result.archive_key,
        "files": result.files,
        "payload_oxum": result.payload_oxum,
        "problems": list(result.problems),
    }
    if result.failed:
        detail["event"] = FIXITY_FAILED
    status = State(load_letter(engine, result.letter_id).status)
    advance(engine, result.letter_id, status, step="audit", actor=actor, detail=detail)


def audit_package(edges: Edges, target: AuditTarget, actor: str) -> AuditResult:
    """Re-read one package, check every file against the manifests, and record the result."""
    result = audit_result(target, verify_package(edges, target.archive_key))
    record_audit(edges.engine, result, actor)
    return result


def emit_fixity_failed(edges: Edges, result: AuditResult) -> None:
    """Emit the Prefect event that a package is missing or does not match its manifests."""
    bucket = edges.settings.buckets.archive
    emit_event(
        event=FIXITY_FAILED,
        resource={
            "prefect.resource.id": f"postroom.letter.{result.letter_id}",
            "prefect.resource.name": f"letter {result.letter_id}",
        },
        related=[
            {
                "prefect.resource.id": f"postroom.archive-package.{bucket}/{result.archive_key}",
                "prefect.resource.role": "archive-package",
            }
        ],
        payload={
            "letter_id": result.letter_id,
            "bucket": bucket,
            "archive_key": result.archive_key,
            "outcome": result.outcome,
            "problems": list(result.problems),
        },
    )


@io_task(delays=(5, 30))
def select_packages(edges: Edges, sample: int | None) -> list[AuditTarget]:
    """Read the packages due for an audit from the records database."""
    return due_packages(edges.engine, sample)


@task(
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_condition,
    cache_policy=NO_CACHE,
    task_run_name="audit-{target.letter_id}",
)
def audit(edges: Edges, target: AuditTarget, actor: str) -> AuditResult:
    """Audit one package; a failure also emits ``postroom.archive.fixity-failed``."""
    result = audit_package(edges, target, actor)
    if result.failed:
        emit_fixity_failed(edges, result)
    return result


@task(cache_policy=NO_CACHE)
def publish_audit(results: list[AuditResult]) -> None:
    """Leave the audit's results as a table artifact."""
    failed = sum(r.failed for r in results)
    create_table_artifact(
        key="fixity-audit",
        table=[r.row() for r in results],
        description=f"{len(results)} package(s) audited, {failed} failed",
    )
