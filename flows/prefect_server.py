"""The local stack's Prefect server: ``prefect server start``, with one SQLite stall mended.

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
cursor closed before the error goes on. It is applied in this process only, and refuses to wrap
any SQLAlchemy but 2.0 (pinned in pyproject.toml), whose adapter it repeats.
"""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from typing import Any

PATCHED_FLAG = "_postroom_closes_failed_cursors"


def close_failed_cursors() -> None:
    """Make SQLAlchemy's aiosqlite cursor close its aiosqlite cursor when a statement fails."""
    import sqlalchemy
    from sqlalchemy.dialects.sqlite import aiosqlite as adapter

    if not sqlalchemy.__version__.startswith("2.0."):
        raise RuntimeError(
            f"SQLAlchemy {sqlalchemy.__version__}: review this mend (written for 2.0)"
        )
    cursor_class = adapter.AsyncAdapt_aiosqlite_cursor
    if getattr(cursor_class, PATCHED_FLAG, False):
        return
    for name in ("execute", "executemany"):
        if name not in vars(cursor_class):
            raise RuntimeError(f"SQLAlchemy's aiosqlite cursor has no {name}(); review this mend")

    def execute(self: Any, operation: Any, parameters: Any = None) -> None:
        try:
            cursor = self.await_(self._connection.cursor())
            try:
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
            except BaseException:
                with contextlib.suppress(Exception):
                    self.await_(cursor.close())
                raise
            if self.server_side:
                self._cursor = cursor
            else:
                self.await_(cursor.close())
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self: Any, operation: Any, seq_of_parameters: Any) -> None:
        try:
            cursor = self.await_(self._connection.cursor())
            try:
                self.await_(cursor.executemany(operation, seq_of_parameters))
            except BaseException:
                with contextlib.suppress(Exception):
                    self.await_(cursor.close())
                raise
            self.description = None
            self.lastrowid = cursor.lastrowid
            self.rowcount = cursor.rowcount
            self.await_(cursor.close())
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    cursor_class.execute = execute  # type: ignore[method-assign]
    cursor_class.executemany = executemany  # type: ignore[method-assign]
    setattr(cursor_class, PATCHED_FLAG, True)


def main() -> None:
    """Mend the adapter, then run Prefect's CLI with this process's arguments."""
    close_failed_cursors()
    from prefect.cli import app

    sys.argv[0] = "prefect"
    app()


if __name__ == "__main__":
    main()
