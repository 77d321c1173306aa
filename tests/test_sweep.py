"""The inbox sweep asks for a run only for objects that have none yet."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.samples import generate
from schemas.letter import SETTLED, SourceObject
from tasks.edges import edges_for
from tasks.intake import letter_id_for
from tasks.record import load_letter
from tasks.sweep import idempotency_key, inbox_objects, list_inbox, start_letter, started_keys
from tests.conftest import LocalStack

pytestmark = pytest.mark.slow


def test_a_started_object_is_not_started_again_by_the_next_sweep(
    stack: LocalStack, tmp_path: Path
) -> None:
    (truth,) = generate(tmp_path, count=1, seed=815, doc_types=["antrag"])
    key = f"sweep-test/{truth.name}"
    inbox = stack.settings.buckets.inbox
    put = stack.s3.put_object(Bucket=inbox, Key=key, Body=(tmp_path / truth.name).read_bytes())
    source = SourceObject(bucket=inbox, key=key, version_id=put["VersionId"])
    edges = edges_for(stack.settings)
    with temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}):
        assert source in inbox_objects(edges, 0.0, dt.datetime.now(dt.UTC))
        assert started_keys(["postroom-inbox/no-such-object/null"]) == set()
        run = start_letter.fn(source, {})
        assert started_keys([idempotency_key(source)]) == {idempotency_key(source)}
        assert source not in list_inbox.fn(edges, 0.0)
        assert start_letter.fn(source, {}).flow_run_id == run.flow_run_id
    deadline = time.monotonic() + 300
    while status_of(stack, source) not in SETTLED:
        assert time.monotonic() < deadline, "the letter was not processed within 300 s"
        time.sleep(1)


def status_of(stack: LocalStack, source: SourceObject) -> str | None:
    """Return the letter's state in the records; None before its run claimed it."""
    try:
        return load_letter(stack.engine, letter_id_for(source)).status
    except KeyError:
        return None
