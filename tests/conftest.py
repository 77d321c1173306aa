"""Shared fixtures: a real local stack on free ports with a temporary data directory.

The stack is started once per session by the real `postroom up` (weed mini, Prefect server and a
process worker), so `make test` runs beside a demo stack on the fixed ports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from flows.stack import free_port
from schemas.db import engine_for
from schemas.settings import Settings
from tasks.edges import s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from sqlalchemy import Engine

POSTROOM = str(Path(sys.executable).parent / "postroom")
TESSERACT_MISSING = "tesseract is not installed: run `make install` (Debian package tesseract-ocr)"


@dataclass(frozen=True)
class LocalStack:
    """A running stack of the test session, and how to reach it."""

    env: dict[str, str]
    data_dir: Path

    @property
    def settings(self) -> Settings:
        """Return the settings the stack's processes use."""
        return Settings(
            data_dir=self.data_dir,
            s3={"endpoint_url": self.env["POSTROOM_S3__ENDPOINT_URL"]},
            web={"port": int(self.env["POSTROOM_WEB__PORT"])},
        )

    @property
    def s3(self) -> S3Client:
        """Return an S3 client for the stack's endpoint."""
        return s3_client(self.settings)

    @property
    def engine(self) -> Engine:
        """Return the records database engine."""
        return engine_for(self.settings.records_url)

    def postroom(
        self, *args: str, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the postroom command against this stack."""
        done = subprocess.run(
            [POSTROOM, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"postroom {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def prefect(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the prefect command against this stack's server."""
        prefect = str(Path(sys.executable).parent / "prefect")
        return subprocess.run(
            [prefect, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def export(self) -> list[dict[str, Any]]:
        """Return the records export, parsed."""
        out = self.postroom("records", "export", "--jsonl").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def stack_env(data_dir: Path, *, scheduler: bool = False) -> dict[str, str]:
    """Return an environment for a stack on free ports in ``data_dir``.

    The server's scheduler is off unless asked for: a test decides when its objects are swept
    (or starts their runs itself, as the crash test does), not the every-15-seconds sweep.
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("POSTROOM_", "PREFECT_", "AWS_"))
    }
    env.update(
        {
            "POSTROOM_DATA_DIR": str(data_dir),
            "POSTROOM_S3__ENDPOINT_URL": f"http://127.0.0.1:{free_port(pair_offset=10000)}",
            "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
            "POSTROOM_WEB__PORT": str(free_port()),
            "PREFECT_HOME": str(data_dir / "prefect-client"),
            "POSTROOM_ARCHIVE__RETENTION_SECONDS": "600",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": str(scheduler).lower(),
        }
    )
    return env


@pytest.fixture(scope="session")
def tesseract() -> str:
    """Return the tesseract binary; fail (never skip) when it is missing."""
    path = shutil.which("tesseract")
    assert path is not None, TESSERACT_MISSING
    return path


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, tesseract: str) -> Iterator[LocalStack]:
    """Start a real local stack for the session with `postroom up`; stop it with `down`."""
    data_dir = tmp_path_factory.mktemp("stack")
    running = LocalStack(env=stack_env(data_dir), data_dir=data_dir)
    try:
        running.postroom("up", timeout=300)
        yield running
    finally:
        running.postroom("down", timeout=120, check=False)
