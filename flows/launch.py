"""The flow-run process the postroom worker starts: milliseconds of stdlib, not seconds of imports.

The worker (flows/worker.py) runs this file by path, ``python -I -S flows/launch.py``, as the
process of one flow run. It asks the worker's zygote, a process that has imported prefect and the
flows once, to fork a flow-run process for it, and stays the process Prefect knows by PID:

- it hands over its argv, working directory, environment and stdin/stdout/stderr (the file
  descriptors themselves), so the forked process runs exactly as ``python -m prefect.engine``
  started here would;
- it forwards SIGTERM and SIGINT to the forked process's group (cancellation, a stopped worker);
- it exits as the forked process exits (same code, or killed by the same signal);
- if it dies, even by SIGKILL, the zygote sees the connection close and SIGKILLs the forked
  process's group, tesseract included;
- if the zygote cannot be reached it becomes ``python -m prefect.engine`` itself, so a flow run
  never fails because of the shortcut.

The protocol, one Unix-socket connection per flow run, one JSON object per line::

    launcher -> zygote   {"argv": [...], "cwd": "...", "env": {...}}   with fds 0, 1, 2 attached
    zygote -> launcher   {"pid": N}       the forked process, before it runs anything
    zygote -> launcher   {"status": S}    its wait status (os.waitpid), once it exited

Standard library only: this module must start in milliseconds, and flows/worker.py imports it for
the protocol's names.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from types import FrameType
from typing import Any, NoReturn

SOCKET_ENV = "POSTROOM_ZYGOTE_SOCKET"  # the zygote's socket path, set by the worker
FORWARDED = (signal.SIGTERM, signal.SIGINT)
MAX_LINE = 16 * 1024 * 1024  # an environment is a few kB; this only bounds a broken peer


class Forwarder:
    """Forward SIGTERM and SIGINT to the flow-run process group, or hold them until it exists."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.pending: list[int] = []
        for signum in FORWARDED:
            signal.signal(signum, self.handle)

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """Pass the signal on (a signal handler)."""
        if self.pid is None:
            self.pending.append(signum)
        else:
            signal_group(self.pid, signum)

    def attach(self, pid: int) -> None:
        """Forward to ``pid``'s group from now on, starting with what arrived before it."""
        self.pid = pid
        for signum in self.pending:
            signal_group(pid, signum)
        self.pending.clear()


def signal_group(pid: int, signum: int) -> None:
    """Send a signal to a process group; to its leader alone while it has not made the group yet.

    Once only: a second SIGTERM would run the flow run's handler again while it exits, in the
    middle of Prefect draining its logs.
    """
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:  # forked, not yet in a group of its own
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)
    except PermissionError:
        pass


def send_message(
    sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None
) -> None:
    """Send one JSON line, with file descriptors attached to its first byte."""
    data = json.dumps(message).encode() + b"\n"
    sent = socket.send_fds(sock, [data], fds) if fds else 0
    sock.sendall(data[sent:])


def read_line(sock: socket.socket, buffer: bytearray) -> dict[str, Any] | None:
    """Return the next JSON line from ``sock`` (``buffer`` keeps what follows it); None at EOF."""
    while b"\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk or len(buffer) > MAX_LINE:
            return None
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    message = json.loads(line)
    return message if isinstance(message, dict) else None


def connect(path: str | None) -> socket.socket | None:
    """Return a connection to the zygote, or None when it does not answer at ``path``."""
    if not path:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def exit_as(status: int) -> NoReturn:
    """Exit the way the flow-run process did: its exit code, or killed by its signal."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        with contextlib.suppress(OSError):  # SIGKILL and SIGSTOP have no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        code = 128 - code  # the signal was not fatal after all
    sys.exit(code)


def run_engine_here(forwarder: Forwarder) -> NoReturn:
    """Become ``python -m prefect.engine`` (the zygote is unreachable), unless told to stop."""
    if forwarder.pending:
        exit_as(forwarder.pending[0])  # a wait status of "killed by signal N" is N
    print("postroom launcher: zygote unreachable, starting prefect.engine", file=sys.stderr)
    for signum in FORWARDED:
        signal.signal(signum, signal.SIG_DFL)
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine"])  # noqa: S606 - no shell meant


def request() -> dict[str, Any]:
    """Return what the forked process needs to run as this process would."""
    cwd = os.getcwd()  # noqa: PTH109 - pathlib would cost import time
    return {"argv": sys.argv, "cwd": cwd, "env": dict(os.environ)}


def launch(sock: socket.socket, forwarder: Forwarder) -> NoReturn:
    """Have the zygote fork this flow run's process, then wait for it and exit as it did."""
    buffer = bytearray()
    try:
        send_message(sock, request(), [0, 1, 2])
        started = read_line(sock, buffer)
    except OSError:
        started = None
    if started is None or not isinstance(started.get("pid"), int):
        # The zygote forks nothing it could not report (see flows/worker.py), so no engine runs.
        sock.close()
        run_engine_here(forwarder)
    forwarder.attach(started["pid"])
    try:
        finished = read_line(sock, buffer)
    except OSError:
        finished = None
    if finished is None or not isinstance(finished.get("status"), int):
        print("postroom launcher: the zygote went away; the flow run was killed", file=sys.stderr)
        sys.exit(1)
    exit_as(finished["status"])


def main() -> NoReturn:
    """Run one flow run through the zygote, or directly when it is unreachable."""
    # Like Prefect's own flow-run processes, keep out of the worker's process group: a signal
    # to the worker's group must not reach the flow run before the worker's own intent does.
    with contextlib.suppress(PermissionError):
        os.setsid()
    forwarder = Forwarder()
    sock = connect(os.environ.get(SOCKET_ENV))
    if sock is None:
        run_engine_here(forwarder)
    launch(sock, forwarder)


if __name__ == "__main__":
    main()
