"""Flow runs that do nothing, through a running stack: what Prefect's orchestration alone costs.

    .venv/bin/python -m bench.nothing RUNS STEPS     (in the stack's environment)

Deploys the ``nothing`` flow below from this checkout to the stack's work pool and starts RUNS
top-level runs of it, as the sweep starts letters (``run_deployment(..., as_subflow=False,
timeout=0)``); each run calls a task that does nothing STEPS times. Returns when every run has
ended: exit 0 if all completed. ``bench/ocr.py`` measures the stack's CPU around it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import UUID

from prefect import Flow, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.deployments import run_deployment

from flows.stack import WORK_POOL

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEPLOYMENT = "nothing/nothing"
POLL_SECONDS = 2.0
FINAL = (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)


@task(cache_policy=NO_CACHE)
def step(count: int) -> int:
    """Do nothing but count: the task run is all it costs."""
    return count + 1


@flow(name="nothing")
def nothing(steps: int = 0) -> int:
    """Call the task that does nothing ``steps`` times, one after the other."""
    done = 0
    for _ in range(steps):
        done = step(done)
    return done


def deploy() -> UUID:
    """Deploy the flow from this checkout to the stack's work pool."""
    source = flow.from_source(source=str(PROJECT_DIR), entrypoint="bench/nothing.py:nothing")
    assert isinstance(source, Flow)  # called sync, as below; their types also admit coroutines
    deployed = source.deploy(
        name="nothing", work_pool_name=WORK_POOL, build=False, push=False, print_next_steps=False
    )
    assert isinstance(deployed, UUID)
    return deployed


def counter(client: SyncPrefectClient, deployment: UUID) -> Callable[..., int]:
    """Return a function counting the deployment's runs in the given state types."""

    def count(*types: StateType) -> int:
        only = FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(types))),
        )
        return client.count_flow_runs(flow_run_filter=only)

    return count


def main(argv: Sequence[str] | None = None) -> int:
    """Start the runs and wait until every one has ended."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=int)
    parser.add_argument("steps", type=int)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    deployment = deploy()
    with get_client(sync_client=True) as client:
        count = counter(client, deployment)
        ended_before, completed_before = count(*FINAL), count(StateType.COMPLETED)
        for _ in range(args.runs):
            run_deployment(
                DEPLOYMENT, parameters={"steps": args.steps}, as_subflow=False, timeout=0
            )
        deadline = time.monotonic() + args.timeout
        # Polled seldom: the server's answers are counted in what the runs cost.
        while (ended := count(*FINAL) - ended_before) < args.runs:
            if time.monotonic() > deadline:
                print(f"only {ended} run(s) ended in {args.timeout:.0f} s", file=sys.stderr)
                return 1
            time.sleep(POLL_SECONDS)
        failed = args.runs - (count(StateType.COMPLETED) - completed_before)
    if failed:
        print(f"{failed} of {args.runs} run(s) ended but did not complete", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
