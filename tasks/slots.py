"""CPU slots of this machine: at most one tesseract per core, across every flow-run process.

Prefect's global concurrency limit (``ocr-pages``) makes a waiting task sleep for a server-chosen
``Retry-After`` that grows with the queue (up to 30 s), and under load its answer itself took
seconds; a core held meanwhile stays idle. So a page is admitted by the Prefect limit first,
holding no core (``up`` sets the limit to two pages per slot, flows/stack.py ``PAGES_IN_HAND``),
and then waits for one of this machine's slots: a lock file held with ``flock`` (released by the
kernel even when its process is killed), polled every few milliseconds.
"""

from __future__ import annotations

import fcntl
import os
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.02
# tesseract runs at this niceness, below the orchestration that feeds it: the Prefect server,
# the worker and the flow runs' own steps share the cores with it, and each of their API calls
# waits for a core. At equal priority two tesseracts starved them: Prefect answered a slot
# request in ~1.9 s (median, up to 6.8 s) and the cores idled while the next pages waited for
# it. At niceness 10 they still get every cycle nobody else wants.
OCR_NICENESS = 10


def slot_dir() -> Path:
    """Return the directory of this machine's slot files (one per user, private)."""
    folder = Path(tempfile.gettempdir()) / f"postroom-cpu-slots-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _try_lock(path: Path) -> int | None:
    """Return an open descriptor holding ``path``'s lock, or None when another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextmanager
def cpu_slot(slots: int | None = None, folder: Path | None = None) -> Iterator[int]:
    """Hold one of the machine's ``slots`` (default: its cores) while the block runs."""
    count = max(1, slots or os.cpu_count() or 1)
    folder = folder or slot_dir()
    paths = [folder / f"slot-{number}.lock" for number in range(count)]
    while True:
        start = random.randrange(count)
        for offset in range(count):
            number = (start + offset) % count
            fd = _try_lock(paths[number])
            if fd is not None:
                try:
                    yield number
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
        time.sleep(POLL_SECONDS)


def lower_priority(niceness: int = OCR_NICENESS) -> None:
    """Run this thread and the processes it starts from now on at ``niceness`` (Linux: per thread).

    A thread's niceness cannot be raised back without privileges, so only a thread that does
    nothing but read pages (the flow's page pool) is lowered, never a process's main thread,
    which goes on to start other things (a test, a benchmark, a command reading a page itself).
    """
    if threading.current_thread() is threading.main_thread():
        return
    thread = threading.get_native_id()
    if os.getpriority(os.PRIO_PROCESS, thread) < niceness:
        os.setpriority(os.PRIO_PROCESS, thread, niceness)
