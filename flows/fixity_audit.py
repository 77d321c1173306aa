"""The fixity-audit flow: re-read archived packages and verify them against their manifests."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from prefect import flow, unmapped
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from schemas.settings import Settings
from tasks.audit import AuditResult, audit, publish_audit, select_packages
from tasks.edges import edges_for

# Packages are read a few at a time: the audit is I/O-bound, and must not crowd out the letters.
# (Prefect's flow decorator types its runner parameter invariantly, hence the cast.)
AUDIT_RUNNER = cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=4))


def audit_run_name() -> str:
    """Return an audit's run name: when it ran."""
    return f"fixity-audit-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"


@flow(name="fixity-audit", flow_run_name=audit_run_name, task_runner=AUDIT_RUNNER)
def fixity_audit(sample: int | None = None) -> list[AuditResult]:
    """Verify every archived package, or the ``sample`` verified longest ago; leave a table."""
    edges = edges_for(Settings())
    actor = f"flow-run/{flow_run.get_id()}"
    targets = select_packages(edges, sample)
    results: list[AuditResult] = audit.map(unmapped(edges), targets, unmapped(actor)).result()
    publish_audit(results)
    return results
