"""CPU slots: one holder per slot across processes, freed when the holder ends or is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tasks.slots import OCR_NICENESS, cpu_slot, lower_priority

HOLD = """
import sys, time
from pathlib import Path
from tasks.slots import OCR_NICENESS, cpu_slot, lower_priority
with cpu_slot(int(sys.argv[1]), Path(sys.argv[2])) as number:
    print(number, flush=True)
    time.sleep(float(sys.argv[3]))
"""


def holder(slots: int, folder: Path, seconds: float) -> subprocess.Popen[str]:
    """Start a process that holds a slot for ``seconds``; return it once it holds one."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(slots), str(folder), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None and process.stdout.readline().strip().isdigit()
    return process


def test_a_held_slot_makes_the_next_page_wait_until_it_is_freed(tmp_path: Path) -> None:
    first = holder(1, tmp_path, 1.0)
    started = time.monotonic()
    with cpu_slot(1, tmp_path) as number:
        waited = time.monotonic() - started
    assert number == 0
    assert 0.5 < waited < 5
    first.communicate(timeout=10)
    assert first.returncode == 0


def test_as_many_pages_as_slots_run_at_once(tmp_path: Path) -> None:
    holders = [holder(2, tmp_path, 1.5) for _ in range(2)]
    started = time.monotonic()
    with cpu_slot(3, tmp_path):  # a third slot is free at once
        assert time.monotonic() - started < 0.5
    for process in holders:
        process.communicate(timeout=10)


def test_a_killed_holder_frees_its_slot(tmp_path: Path) -> None:
    process = holder(1, tmp_path, 60)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    started = time.monotonic()
    with cpu_slot(1, tmp_path):
        assert time.monotonic() - started < 0.5


def test_a_reading_thread_and_its_tesseract_run_below_the_orchestration() -> None:
    seen: dict[str, int] = {}

    def read() -> None:
        lower_priority()
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child = subprocess.run(
            ["sh", "-c", "cut -d' ' -f19 /proc/self/stat"], capture_output=True, text=True
        )
        seen["child"] = int(child.stdout)

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    assert seen == {"thread": OCR_NICENESS, "child": OCR_NICENESS}
    lower_priority()  # the main thread goes on to start other things: never lowered
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
