"""A throwaway PostgreSQL cluster from Debian's binaries, for the tests and the search benchmark.

``initdb`` a cluster in a new temporary directory, start it on a free port of 127.0.0.1 (socket in
that directory too), yield a SQLAlchemy URL and stop and delete it afterwards. The server refuses
to run as root, so as root every binary runs as the ``postgres`` user (``runuser``), which owns
the directory. Debian's package ``postgresql-15`` provides the binaries; when they are missing the
tests fail with what to install, they never skip.

Tests import the session fixture ``postgres_cluster`` and make one database per test with
``postgres_database``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from flows.stack import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_MISSING = (
    f"PostgreSQL's server binaries are not in {PG_BIN}: install the Debian package postgresql-15 "
    "(`make install` does, without starting a cluster of its own)"
)
# Durability is pointless for a cluster deleted after the run; speed is not.
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster."""

    url: str  # of its database ``postroom``
    data_dir: Path

    def database_url(self, name: str) -> str:
        """Return the URL of another database of this cluster."""
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)


def as_postgres(argv: Sequence[str]) -> list[str]:
    """Return a command line run as ``postgres`` when we are root (the server refuses root)."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)


def run(argv: Sequence[str], what: str) -> None:
    """Run a PostgreSQL binary; fail with its output."""
    done = subprocess.run(as_postgres(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@contextmanager
def throwaway_cluster(settings: Mapping[str, str] | None = None) -> Iterator[Cluster]:
    """Start a PostgreSQL cluster in a temporary directory on a free port; stop and delete it."""
    if not (PG_BIN / "pg_ctl").exists():
        raise RuntimeError(PG_MISSING)
    root = Path(tempfile.mkdtemp(prefix="postroom-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    options = {"listen_addresses": "127.0.0.1", "port": str(port), **FAST, **(settings or {})}
    started = False
    try:
        run(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            "initdb",
        )  # fmt: skip
        flags = " ".join(f"-c {name}={value}" for name, value in options.items())
        run(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
             "-o", f"{flags} -k {root}", "start"],
            f"pg_ctl start (log: {log})",
        )  # fmt: skip
        started = True
        admin = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE postroom"))
        admin.dispose()
        yield Cluster(url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postroom", data_dir=data)
    finally:
        if started:
            run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], "pg_ctl stop")
        shutil.rmtree(root, ignore_errors=True)


def create_database(cluster: Cluster) -> str:
    """Create an empty database in the cluster; return its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(cluster.database_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return cluster.database_url(name)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """Return a throwaway PostgreSQL cluster for the session; fail (never skip) without one."""
    assert (PG_BIN / "pg_ctl").exists(), PG_MISSING
    with throwaway_cluster() as cluster:
        yield cluster
