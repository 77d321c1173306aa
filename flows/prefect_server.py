"""The local stack's Prefect server: ``prefect server start``, with two SQLite faults mended.

``postroom up`` runs ``python -m flows.prefect_server server start ...``; the arguments are
Prefect's own CLI's. Before handing over, it mends how SQLAlchemy's aiosqlite adapter treats a
statement that fails: the adapter opens an aiosqlite cursor per statement and closes it after the
rows are read, but not when ``execute`` raises. A server on SQLite raises there routinely
(``database is locked``, a unique constraint an upsert relies on), and the failed cursor then
lives on in a reference cycle through the exception's traceback.

Python's cyclic garbage collector frees that cursor later, on whichever thread allocates at the
moment, usually the server's event loop. Freeing a cursor resets its statement, and
``sqlite3_reset`` waits for the connection's mutex. If that connection is busy in its own
thread, waiting up to the 60 s busy timeout for the write lock another transaction holds, the
event loop stops too; that other transaction needs the loop to commit, so nothing moves until the
busy timeout ends with ``database is locked``, which leaves the next failed cursor behind.
Measured on a 2-core machine with letters in flight: stalls of exactly 60 s, one after another,
sweeps taking minutes to start 33 letters. With the cursor closed where it failed, on its own
thread, the same run had none.

The mend is :func:`close_failed_cursors`: the adapter's ``execute`` and ``executemany``, with the
cursor closed before the error goes on. It refuses to wrap any SQLAlchemy but 2.0 (pinned in
pyproject.toml), whose adapter it repeats.

A second mend, :func:`immediate_transactions`, is about the writes that failed at once rather
than after 60 s. Prefect begins most writing transactions on SQLite as ``DEFERRED``: they read
first and take the write lock at their first write. If another connection committed in between,
SQLite cannot let them write on their old snapshot and answers ``database is locked`` without
waiting (the busy timeout does not apply), and the API answers 503. Under a bulk drop that hit
worker heartbeats, state changes and, once retries ran out, a worker's labelling of a run it was
submitting, which crashed the run. Every explicit transaction now begins ``IMMEDIATE``: it waits
its turn for the write lock (SQLite has one writer anyway) instead of failing late.

Both mends apply to this process only.
"""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Iterator
from typing import Any

MENDED_FLAG = "_postroom_mended"  # set on a class once its methods are mended


@contextlib.contextmanager
def closed_on_error(adapted: Any, cursor: Any) -> Iterator[None]:
    """Close the aiosqlite ``cursor`` (on its connection's thread) if the block raises."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # the statement's own error is the one to report
            adapted.await_(cursor.close())
        raise


def close_failed_cursors() -> None:
    """Make SQLAlchemy's aiosqlite cursor close its aiosqlite cursor when a statement fails."""
    import sqlalchemy
    from sqlalchemy.dialects.sqlite import aiosqlite as adapter

    if not sqlalchemy.__version__.startswith("2.0."):
        raise RuntimeError(
            f"SQLAlchemy {sqlalchemy.__version__}: review this mend (written for 2.0)"
        )
    cursor_class = adapter.AsyncAdapt_aiosqlite_cursor
    if getattr(cursor_class, MENDED_FLAG, False):
        return
    for name in ("execute", "executemany"):
        if name not in vars(cursor_class):
            raise RuntimeError(f"SQLAlchemy's aiosqlite cursor has no {name}(); review this mend")

    def execute(self: Any, operation: Any, parameters: Any = None) -> None:
        try:
            cursor = self.await_(self._connection.cursor())
            with closed_on_error(self, cursor):
                if parameters is None:
                    self.await_(cursor.execute(operation))
                else:
                    self.await_(cursor.execute(operation, parameters))
                if cursor.description:
                    self.description = cursor.description
                    self.lastrowid = self.rowcount = -1
                    if not self.server_side:
                        self._rows = deque(self.await_(cursor.fetchall()))
                else:
                    self.description = None
                    self.lastrowid = cursor.lastrowid
                    self.rowcount = cursor.rowcount
            if self.server_side:
                self._cursor = cursor
            else:
                self.await_(cursor.close())
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self: Any, operation: Any, seq_of_parameters: Any) -> None:
        try:
            cursor = self.await_(self._connection.cursor())
            with closed_on_error(self, cursor):
                self.await_(cursor.executemany(operation, seq_of_parameters))
            self.description = None
            self.lastrowid = cursor.lastrowid
            self.rowcount = cursor.rowcount
            self.await_(cursor.close())
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    cursor_class.execute = execute  # type: ignore[method-assign]
    cursor_class.executemany = executemany  # type: ignore[method-assign]
    setattr(cursor_class, MENDED_FLAG, True)


def immediate_transactions() -> None:
    """Make every explicit transaction of Prefect's server on SQLite begin ``IMMEDIATE``."""
    from prefect.server.database.configurations import AioSqliteConfiguration

    if getattr(AioSqliteConfiguration, MENDED_FLAG, False):
        return
    original = AioSqliteConfiguration.begin_transaction

    def begin_transaction(
        self: AioSqliteConfiguration, session: Any, with_for_update: bool = False
    ) -> Any:
        return original(self, session, with_for_update=True)

    AioSqliteConfiguration.begin_transaction = begin_transaction  # type: ignore[method-assign]
    setattr(AioSqliteConfiguration, MENDED_FLAG, True)


def main() -> None:
    """Mend the adapter and the transactions, then run Prefect's CLI with this process's argv."""
    close_failed_cursors()
    immediate_transactions()
    from prefect.cli import app

    sys.argv[0] = "prefect"
    app()


if __name__ == "__main__":
    main()
