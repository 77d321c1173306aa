"""The inbox sweep asks for a run only for objects that have none yet."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Crashed

from flows.samples import generate
from schemas.letter import SETTLED, SourceObject
from tasks.edges import edges_for
from tasks.intake import letter_id_for
from tasks.record import load_letter
from tasks.sweep import (
    MAX_CRASHED_ATTEMPTS,
    PROCESS_LETTER,
    RESTARTS_LABEL,
    idempotency_key,
    inbox_objects,
    list_inbox,
    may_restart,
    run_name,
    start_letter,
    started_keys,
)
from tests.conftest import LocalStack


@pytest.mark.slow
def test_a_started_object_is_not_started_again_by_the_next_sweep(
    stack: LocalStack, tmp_path: Path
) -> None:
    source = drop_letter(stack, tmp_path, seed=815)
    edges = edges_for(stack.settings)
    with temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}):
        assert source in inbox_objects(edges, 0.0, dt.datetime.now(dt.UTC))
        assert started_keys(["postroom-inbox/no-such-object/null"]) == set()
        run = start_letter.fn(source, {})
        assert started_keys([idempotency_key(source)]) == {idempotency_key(source)}
        assert source not in list_inbox.fn(edges, 0.0)
        assert start_letter.fn(source, {}).flow_run_id == run.flow_run_id
    wait_until_settled(stack, source)


def drop_letter(stack: LocalStack, tmp_path: Path, seed: int) -> SourceObject:
    """Put one generated letter into the inbox; return its object."""
    (truth,) = generate(tmp_path, count=1, seed=seed, doc_types=["antrag"])
    key = f"sweep-test/{truth.name}"
    inbox = stack.settings.buckets.inbox
    put = stack.s3.put_object(Bucket=inbox, Key=key, Body=(tmp_path / truth.name).read_bytes())
    return SourceObject(bucket=inbox, key=key, version_id=put["VersionId"])


def wait_until_settled(stack: LocalStack, source: SourceObject, seconds: float = 300) -> None:
    """Wait until the object's letter is settled in the records."""
    deadline = time.monotonic() + seconds
    while status_of(stack, source) not in SETTLED:
        assert time.monotonic() < deadline, f"the letter was not processed within {seconds} s"
        time.sleep(1)


def status_of(stack: LocalStack, source: SourceObject) -> str | None:
    """Return the letter's state in the records; None before its run claimed it."""
    try:
        return load_letter(stack.engine, letter_id_for(source)).status
    except KeyError:
        return None


@pytest.mark.slow
def test_a_crashed_run_is_started_again_and_its_letter_processed(
    stack: LocalStack, tmp_path: Path
) -> None:
    """A run that crashed (here: created crashed, as when its process could not start)."""
    source = drop_letter(stack, tmp_path, seed=816)
    inbox, key = source.bucket, source.key
    edges = edges_for(stack.settings)
    with temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}):
        with get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name(PROCESS_LETTER)
            crashed = client.create_flow_run_from_deployment(
                deployment.id,
                parameters={"bucket": inbox, "key": key, "version_id": source.version_id},
                name=run_name(source),
                idempotency_key=idempotency_key(source),
                state=Crashed(message="the worker could not start its process"),
            )
        assert started_keys([idempotency_key(source)]) == set()
        assert source in list_inbox.fn(edges, 0.0)
        again = start_letter.fn(source, {})
        assert again.flow_run_id == str(crashed.id) and again.new
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(crashed.id)
        assert run.labels[RESTARTS_LABEL] == 1
        assert run.state_type != StateType.CRASHED
        assert started_keys([idempotency_key(source)]) == {idempotency_key(source)}
    wait_until_settled(stack, source)


@pytest.mark.parametrize(
    ("state", "restarted_before", "expected"),
    [
        (StateType.CRASHED, 0, True),
        (StateType.CRASHED, MAX_CRASHED_ATTEMPTS - 2, True),
        (StateType.CRASHED, MAX_CRASHED_ATTEMPTS - 1, False),  # every attempt is used up
        (StateType.FAILED, 0, False),  # the flow's own failure: its letter is quarantined
        (StateType.COMPLETED, 0, False),
        (StateType.SCHEDULED, 0, False),
    ],
)
def test_only_a_crashed_run_with_attempts_left_is_restarted(
    state: StateType, restarted_before: int, expected: bool
) -> None:
    labels = {RESTARTS_LABEL: restarted_before} if restarted_before else {}
    run = FlowRun(flow_id=uuid.uuid4(), state_type=state, labels=labels)
    assert may_restart(run) is expected
