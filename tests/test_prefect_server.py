"""The local Prefect server's mend: a failed statement's cursor no longer stalls the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

BUSY_SECONDS = 4.0  # the busy timeout of the connection that waits for the lock


def gc_pause_after_failed_statement(path: Path) -> float:
    """Return how much longer ``gc.collect()`` on the loop's thread takes in the stall's set-up.

    A statement fails on a connection (a unique constraint), and its exception is dropped; the
    same connection then waits for a write lock another thread holds. The collector runs on the
    loop's thread meanwhile, as it does in a busy server. The figure is the collection's time
    less that of a collection beforehand, which in a big test process alone takes ~0.5 s.
    """
    holder_ready, release_holder = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (100)")
        holder_ready.set()
        release_holder.wait(30)
        other.execute("COMMIT")
        other.close()

    async def scenario() -> float:
        started = time.monotonic()
        gc.collect()
        baseline = time.monotonic() - started
        engine = create_async_engine(
            f"sqlite+aiosqlite:///{path}", connect_args={"timeout": BUSY_SECONDS}
        )
        try:
            async with engine.connect() as conn:
                await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))
                await conn.commit()
                with contextlib.suppress(IntegrityError):  # the failed statement's cursor stays
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
                await conn.rollback()
                holder = threading.Thread(target=hold_write_lock)
                holder.start()
                assert holder_ready.wait(10)
                waiting = asyncio.ensure_future(conn.execute(text("INSERT INTO t VALUES (2)")))
                await asyncio.sleep(0.3)  # the insert now waits in its connection's thread
                started = time.monotonic()
                gc.collect()
                paused = time.monotonic() - started - baseline
                release_holder.set()
                holder.join()
                with contextlib.suppress(OperationalError):  # locked, if it waited out its timeout
                    await waiting
                return paused
        finally:
            await engine.dispose()

    gc.disable()
    try:
        return asyncio.run(scenario())
    finally:
        gc.enable()


@pytest.fixture
def mends_undone() -> Iterator[None]:
    """Put SQLAlchemy's and Prefect's own methods back after a test that mended them."""
    from prefect.server.database.configurations import AioSqliteConfiguration
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_cursor

    from flows.prefect_server import MENDED_FLAG

    mended = {
        AsyncAdapt_aiosqlite_cursor: ("execute", "executemany"),
        AioSqliteConfiguration: ("begin_transaction",),
    }
    saved = {(cls, name): vars(cls)[name] for cls, names in mended.items() for name in names}
    yield
    for (cls, name), method in saved.items():
        setattr(cls, name, method)
    for cls in mended:
        if MENDED_FLAG in vars(cls):
            delattr(cls, MENDED_FLAG)


def test_unmended_adapter_stalls_the_loop_for_the_busy_timeout(tmp_path: Path) -> None:
    """The stall itself, reproduced in a fresh interpreter without the mend: the test's premise."""
    script = (
        f"import sys; from pathlib import Path; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        "from test_prefect_server import gc_pause_after_failed_statement as f;"
        f"print(f(Path({str(tmp_path / 'db.sqlite')!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert float(done.stdout.split()[-1]) > BUSY_SECONDS - 0.5


def test_mended_adapter_closes_the_failed_cursor(tmp_path: Path, mends_undone: None) -> None:
    from flows.prefect_server import close_failed_cursors

    close_failed_cursors()
    close_failed_cursors()  # a second call is harmless
    assert gc_pause_after_failed_statement(tmp_path / "db.sqlite") < 1.0


def test_mended_adapter_reads_writes_and_raises_as_before(
    tmp_path: Path, mends_undone: None
) -> None:
    from flows.prefect_server import close_failed_cursors

    close_failed_cursors()

    async def roundtrip() -> list[tuple[int, str]]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
                inserted = await conn.execute(
                    text("INSERT INTO t VALUES (:id, :name)"),
                    [{"id": 1, "name": "eins"}, {"id": 2, "name": "zwei"}],
                )
                assert inserted.rowcount == 2
                with pytest.raises(IntegrityError):
                    await conn.execute(text("INSERT INTO t VALUES (1, 'doppelt')"))
                rows = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
                return [(row.id, row.name) for row in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(roundtrip()) == [(1, "eins"), (2, "zwei")]


def late_write_outcomes(path: Path) -> list[str]:
    """Return how two of Prefect's server transactions end when one writes on an old snapshot.

    The first reads, the second writes and commits meanwhile, then the first writes: what a
    heartbeat or a state change does while other requests write.
    """
    from prefect.server.database.configurations import AioSqliteConfiguration

    async def scenario() -> list[str]:
        config = AioSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{path}")
        engine = await config.engine()
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            second_may_write = asyncio.Event()

            async def reads_then_writes() -> str:
                session = await config.session(engine)
                async with session:
                    try:
                        async with config.begin_transaction(session):
                            await session.execute(text("SELECT count(*) FROM t"))
                            second_may_write.set()
                            await asyncio.sleep(0.5)
                            await session.execute(text("INSERT INTO t VALUES (1)"))
                    except OperationalError as error:
                        return f"failed: {error.orig}"
                return "committed"

            async def writes() -> str:
                await second_may_write.wait()
                session = await config.session(engine)
                async with session, config.begin_transaction(session):
                    await session.execute(text("INSERT INTO t VALUES (2)"))
                return "committed"

            return list(await asyncio.gather(reads_then_writes(), writes()))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def test_deferred_transaction_fails_when_it_writes_late(tmp_path: Path, mends_undone: None) -> None:
    """Prefect's own behaviour, the premise: the late writer fails at once, without waiting."""
    assert late_write_outcomes(tmp_path / "db.sqlite") == [
        "failed: database is locked",
        "committed",
    ]


def test_immediate_transactions_wait_their_turn(tmp_path: Path, mends_undone: None) -> None:
    from flows.prefect_server import immediate_transactions

    immediate_transactions()
    immediate_transactions()  # a second call is harmless
    assert late_write_outcomes(tmp_path / "db.sqlite") == ["committed", "committed"]
