"""The local stack as a user runs it: `postroom up`, `status` and `down` as subprocesses."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from flows.stack import pid_alive
from tests.conftest import LocalStack, stack_env

pytestmark = pytest.mark.slow


def started_pids(data_dir: Path) -> dict[str, int]:
    """Return the PIDs `up` recorded."""
    state = json.loads((data_dir / "stack.json").read_text())
    return {name: part["pid"] for name, part in state.items()}


def test_up_status_down_leaves_nothing_running(tmp_path: Path, tesseract: str) -> None:
    own = LocalStack(env=stack_env(tmp_path), data_dir=tmp_path)
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
