"""The local stack as a user runs it: `postroom up`, `status` and `down` as subprocesses."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.stack import pid_alive
from tests.conftest import LocalStack, stack_env

pytestmark = pytest.mark.slow


def started_pids(data_dir: Path) -> dict[str, int]:
    """Return the PIDs `up` recorded."""
    state = json.loads((data_dir / "stack.json").read_text())
    return {name: part["pid"] for name, part in state.items()}


def scheduled_sweeps(stack: LocalStack, seconds: float = 60) -> int:
    """Return how many runs the server's scheduler made for the inbox sweep (waiting for some).

    With SQLAlchemy 2.1 Prefect 3.8.8's scheduler failed on every round (its log only said so),
    and the every-15-seconds sweep never ran.
    """
    code = (
        "from prefect.client.orchestration import get_client\n"
        "from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName\n"
        "with get_client(sync_client=True) as client:\n"
        "    runs = client.read_flow_runs(deployment_filter=DeploymentFilter("
        "name=DeploymentFilterName(any_=['sweep-inbox'])))\n"
        "print(sum(run.auto_scheduled for run in runs))\n"
    )
    deadline = time.monotonic() + seconds
    while True:
        done = subprocess.run(
            [sys.executable, "-c", code], env=stack.env, capture_output=True, text=True, check=True
        )
        if int(done.stdout) > 0 or time.monotonic() > deadline:
            return int(done.stdout)
        time.sleep(2)


def test_up_status_down_leaves_nothing_running(tmp_path: Path, tesseract: str) -> None:
    own = LocalStack(env=stack_env(tmp_path, scheduler=True), data_dir=tmp_path)
    try:
        own.postroom("up", timeout=300)
        pids = started_pids(tmp_path)
        assert set(pids) == {"s3", "prefect", "worker", "web"}
        status = own.postroom("status")
        assert status.stdout.count("healthy") == 4, status.stdout
        assert "web token:" in status.stdout
        credentials = tmp_path / "s3-credentials.json"
        assert credentials.stat().st_mode & 0o777 == 0o600
        again = own.postroom("up", timeout=120)
        assert started_pids(tmp_path) == pids, again.stdout
        assert scheduled_sweeps(own) > 0, (tmp_path / "logs" / "prefect.log").read_text()[-3000:]
    finally:
        own.postroom("down", timeout=120, check=False)
    assert not any(pid_alive(pid, "") for pid in pids.values())
    after = own.postroom("status", check=False)
    assert after.returncode == 1 and "healthy" not in after.stdout


def test_up_says_which_port_is_taken(tmp_path: Path) -> None:
    own = LocalStack(env=stack_env(tmp_path), data_dir=tmp_path)
    port = int(own.env["POSTROOM_S3__ENDPOINT_URL"].rsplit(":", 1)[1])
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        done = own.postroom("up", timeout=120, check=False)
    own.postroom("down", timeout=60, check=False)
    assert done.returncode == 1
    assert f"port {port} (S3) is taken" in done.stderr
