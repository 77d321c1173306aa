"""Exactly once: a run killed between steps is finished by a re-run, filed and archived once.

The run is killed for real (SIGKILL to its flow-run process on the worker) as soon as the records
show it reached a step; the re-run must find its claim, its DMS filing and its package.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from flows.samples import generate
from schemas.letter import SourceObject
from tasks.intake import letter_id_for
from tasks.record import load_letter
from tests.conftest import LocalStack

pytestmark = pytest.mark.slow


def flow_run_pid(flow_run_id: str) -> int | None:
    """Return the PID of the process running a flow run, found by its environment."""
    needle = f"PREFECT__FLOW_RUN_ID={flow_run_id}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                return int(proc.name)
        except OSError:
            continue
    return None


def status_of(stack: LocalStack, letter_id: str) -> str | None:
    """Return a letter's recorded state, or None before its claim."""
    try:
        return load_letter(stack.engine, letter_id).status
    except KeyError:
        return None


def start_run(stack: LocalStack, source: SourceObject, *, watch: bool) -> str:
    """Start a process-letter run of one inbox object; return the prefect command's output."""
    params = json.dumps(
        {"bucket": source.bucket, "key": source.key, "version_id": source.version_id}
    )
    args = ["deployment", "run", "process-letter/process-letter", "--params", params]
    done = stack.prefect(*args, *(["--watch"] if watch else []))
    assert done.returncode == 0 or watch, done.stdout + done.stderr
    return done.stdout


def kill_when(stack: LocalStack, letter_id: str, flow_run_id: str, state: str) -> str:
    """SIGKILL the run as soon as the letter reaches ``state``; return the state it died in."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        seen = status_of(stack, letter_id)
        pid = flow_run_pid(flow_run_id)
        if seen == state and pid is not None:
            os.kill(pid, signal.SIGKILL)
            return status_of(stack, letter_id) or "unclaimed"
        assert seen not in {"done", "quarantined", "duplicate"}, f"the run finished first ({seen})"
        time.sleep(0.02)
    raise AssertionError(f"letter {letter_id} never reached {state}")


@pytest.mark.parametrize("state", ["recognised", "filed"])
def test_a_run_killed_between_steps_is_finished_once_by_a_rerun(
    stack: LocalStack, tmp_path: Path, state: str
) -> None:
    (truth,) = generate(tmp_path, count=1, seed=900 + len(state), doc_types=["rechnung"])
    key = f"crash-{state}/{truth.name}"
    buckets = stack.settings.buckets
    put = stack.s3.put_object(
        Bucket=buckets.inbox, Key=key, Body=(tmp_path / truth.name).read_bytes()
    )
    source = SourceObject(bucket=buckets.inbox, key=key, version_id=put["VersionId"])
    letter_id = letter_id_for(source)

    started = start_run(stack, source, watch=False)
    match = re.search(r"UUID: ([0-9a-f-]{36})", started)
    assert match, started
    killed_in = kill_when(stack, letter_id, match.group(1), state)
    assert killed_in not in {"done"}, killed_in

    rerun = start_run(stack, source, watch=True)
    assert "Completed" in rerun, rerun
    record = load_letter(stack.engine, letter_id)
    assert record.status == "done" and record.dms_ref is not None
    dms = stack.s3.list_objects_v2(Bucket=buckets.dms).get("Contents", [])
    filed = [o["Key"] for o in dms if f"/{letter_id}/" in o["Key"]]
    assert sorted(filed) == [
        record.dms_ref.split("/", 3)[3] + name
        for name in ("letter.pdf", "metadata.json", "text.txt")
    ]
    package = stack.s3.list_objects_v2(Bucket=buckets.archive, Prefix=f"{letter_id}/")
    keys = [o["Key"] for o in package.get("Contents", [])]
    assert len(keys) == len(set(keys)) and f"{letter_id}/tagmanifest-sha512.txt" in keys
    verified = stack.postroom("archive", "verify", letter_id, check=False)
    assert verified.returncode == 0, verified.stdout
    inbox = stack.s3.list_object_versions(Bucket=buckets.inbox, Prefix=key)
    assert inbox.get("Versions", []) == []
