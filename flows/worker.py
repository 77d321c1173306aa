"""postroom's worker: Prefect's process worker, with flow-run processes forked from a zygote.

A flow-run process started the usual way (``python -m prefect.engine``) spends ~4 s importing
prefect and the flows before it reads a page; for letters of one to three pages that start-up is
most of the work. This worker keeps Prefect's process-worker semantics (one OS process per flow
run, cancellation and crash handling by PID, a killed process loses only its own run) and makes
starting that process cost milliseconds:

    python -m flows.worker --pool postroom --limit 4 --name NAME
      |-- fork (before any thread exists) --> zygote: imports prefect's engine and every flow
      |                                       prefect.yaml deploys once, then serves a Unix socket
      |                                       (mode 0700 directory) with a single-threaded loop
      `-- the worker (ProcessWorker): each flow run's process is flows/launch.py, a stdlib-only
          launcher that asks the zygote to fork the engine for it (protocol in flows/launch.py)

The zygote forks one child per request: the child takes the launcher's stdin/stdout/stderr, working
directory and environment, refreshes Prefect's settings from that environment and runs
``prefect.engine`` as ``python -m prefect.engine`` would. The zygote reports the child's PID and,
later, its exit status to the launcher; when a launcher's connection closes first (it was killed)
it SIGKILLs the child's process group. When the worker exits, the zygote kills what it forked and
exits too (it watches a pipe from the worker).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import gc
import importlib
import os
import runpy
import selectors
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import threading
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import anyio.abc
import yaml
from prefect.client.schemas.objects import FlowRun
from prefect.utilities.processutils import command_to_string
from prefect.workers.process import ProcessJobConfiguration, ProcessWorker, ProcessWorkerResult

from flows.launch import SOCKET_ENV, read_line, send_message, signal_group

PROJECT_DIR = Path(__file__).resolve().parent.parent
LAUNCHER = Path(__file__).resolve().with_name("launch.py")
# What `python -m prefect.engine` imports on its way to the first task, besides the flows.
# (prefect.engine itself runs as __main__ in each child; runpy warns if it was imported before.)
ENGINE_MODULES = (
    "prefect._internal.control_listener",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect._internal.metrics",
    "prefect.deployments.steps",
    "prefect.deployments.steps.core",
    "prefect.deployments.steps.pull",
    "prefect.utilities.visualization",
)
# Imported lazily by a run (a module for each is measured in a run's trace): the records
# database's dialect, boto3's transfer manager, the steps' own modules (tasks.model brings
# scikit-learn). Warm if they import; a run imports them itself otherwise.
WARM_MODULES = (
    "sqlite3",
    "sqlalchemy.dialects.sqlite",
    "boto3.s3.transfer",
    "anyio._backends._asyncio",
    "rich._emoji_codes",
    "pypdf.filters",
    "pypdf._page",
)
READY_SECONDS = 180.0  # the zygote's imports take ~5 s alone; far longer on a loaded machine
REQUEST_SECONDS = 10.0  # a launcher sends its request at once; this only bounds a broken one
# The project's own modules the zygote imported, by name: their file's (mtime, size) then.
PRELOADED_SOURCES: dict[str, tuple[int, int]] = {}
# The environment Prefect configured the zygote's logging from (see logging_environment).
PRELOADED_LOGGING: dict[str, str] = {}


class ZygoteError(RuntimeError):
    """The zygote cannot start or fork safely; the message says why."""


@dataclass
class Request:
    """A launcher's request: run as its process would, on its stdin/stdout/stderr."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    fds: list[int]


@dataclass
class Job:
    """A forked flow-run process and the launcher waiting for it (None once it is gone)."""

    pid: int
    pidfd: int
    conn: socket.socket | None


@dataclass
class ZygoteHandle:
    """The worker's end of its zygote: closing ``lifeline`` tells the zygote to exit."""

    pid: int
    socket_path: str
    lifeline: int

    def stop(self) -> None:
        """Make the zygote kill its children and exit; wait for it."""
        with contextlib.suppress(OSError):
            os.close(self.lifeline)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def ensure_single_thread(what: str) -> None:
    """Refuse to fork while other threads run: the child could inherit a lock held forever."""
    if threading.active_count() != 1:
        names = ", ".join(thread.name for thread in threading.enumerate())
        raise ZygoteError(f"cannot {what}: other threads are running ({names})")


def receive_request(conn: socket.socket) -> Request:
    """Read a launcher's request and the three file descriptors attached to it."""
    conn.settimeout(REQUEST_SECONDS)
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    try:
        buffer = bytearray(data)
        message = read_line(conn, buffer) if data else None
        if message is None or len(fds) != 3:
            raise ValueError("incomplete request")
        conn.settimeout(None)
        return Request(
            argv=[str(arg) for arg in message["argv"]],
            cwd=str(message["cwd"]),
            env={str(key): str(value) for key, value in message["env"].items()},
            fds=fds,
        )
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def become_flow_run(request: Request, go: int) -> None:
    """Turn a freshly forked child into the launcher's process, once the zygote says go."""
    os.setsid()  # its own group, so the zygote can kill it with everything it starts
    started = os.read(go, 1)
    os.close(go)
    if not started:  # the launcher never learnt our PID: it runs the engine itself
        os._exit(1)
    for target, fd in enumerate(request.fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    tempfile.tempdir = None  # computed from this environment's TMPDIR on next use
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = list(request.argv)


@dataclass
class Zygote:
    """The single-threaded server that forks flow-run processes from a warm interpreter."""

    socket_path: str
    lifeline: int
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    jobs: list[Job] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.socket_path)
        self.listener.listen(64)
        self.selector.register(self.listener, selectors.EVENT_READ, self.accept)
        self.selector.register(self.lifeline, selectors.EVENT_READ, self.shutdown)

    def serve(self) -> Request:
        """Serve until the worker goes away; return only in a forked flow-run process."""
        while True:
            for key, _events in self.selector.select():
                handler: Callable[[], Request | None] = key.data
                request = handler()
                if request is not None:
                    return request

    def accept(self) -> Request | None:
        """Take a launcher's request and fork its process."""
        conn, _addr = self.listener.accept()
        try:
            request = receive_request(conn)
        except (OSError, ValueError, KeyError, AttributeError) as error:
            print(f"postroom zygote: bad request ({error!r})", file=sys.stderr)
            conn.close()
            return None
        return self.fork(conn, request)

    def fork(self, conn: socket.socket, request: Request) -> Request | None:
        """Fork a flow-run process; return the request in the child, None in the zygote."""
        ensure_single_thread("fork a flow-run process")
        go_read, go_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(go_write)
            self.close_in_child(conn)
            become_flow_run(request, go_read)
            return request
        os.close(go_read)
        for fd in request.fds:
            os.close(fd)
        self.track(Job(pid=pid, pidfd=os.pidfd_open(pid), conn=conn), go_write)
        return None

    def track(self, job: Job, go_write: int) -> None:
        """Report the child's PID to its launcher, then let the child go (or kill it)."""
        self.jobs.append(job)
        self.selector.register(job.pidfd, selectors.EVENT_READ, partial(self.exited, job))
        try:
            assert job.conn is not None
            send_message(job.conn, {"pid": job.pid})
            os.write(go_write, b"g")
        except OSError:
            signal_group(job.pid, signal.SIGKILL)
            self.hang_up(job)
        else:
            self.selector.register(job.conn, selectors.EVENT_READ, partial(self.launcher_gone, job))
        finally:
            os.close(go_write)

    def hang_up(self, job: Job) -> None:
        """Close the connection to a job's launcher."""
        if job.conn is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(job.conn)
            job.conn.close()
            job.conn = None

    def exited(self, job: Job) -> None:
        """Reap a child and tell its launcher how it ended."""
        self.selector.unregister(job.pidfd)
        os.close(job.pidfd)
        _pid, status = os.waitpid(job.pid, 0)
        self.jobs.remove(job)
        if job.conn is not None:
            with contextlib.suppress(OSError):
                send_message(job.conn, {"status": status})
            self.hang_up(job)

    def launcher_gone(self, job: Job) -> None:
        """Kill a child whose launcher closed its connection: nobody waits for that run."""
        if job.conn is None:
            return  # reaped in the same round of events
        self.hang_up(job)
        signal_group(job.pid, signal.SIGKILL)  # the child is not reaped yet: its PID is ours

    def close_in_child(self, conn: socket.socket) -> None:
        """Drop the zygote's descriptors in a child, so its death closes what it should."""
        self.selector.close()
        self.listener.close()
        os.close(self.lifeline)
        conn.close()
        for job in self.jobs:
            os.close(job.pidfd)
            if job.conn is not None:
                job.conn.close()

    def shutdown(self) -> NoReturn:
        """Kill every child's group, remove the socket and exit (the worker went away)."""
        for job in self.jobs:
            signal_group(job.pid, signal.SIGKILL)
        for job in self.jobs:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(job.pid, 0)
        self.listener.close()
        shutil.rmtree(Path(self.socket_path).parent, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def deployed_modules(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Return the modules of the flows prefect.yaml deploys (``flows/x.py:f`` -> ``flows.x``)."""
    config = yaml.safe_load((project_dir / "prefect.yaml").read_text())
    modules = []
    for deployment in config.get("deployments") or []:
        path = str(deployment.get("entrypoint", "")).split(":", 1)[0]
        if path.endswith(".py") and (project_dir / path).is_file():
            modules.append(path.removesuffix(".py").replace("/", "."))
    return modules


def step_modules(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Return the modules of the steps (``tasks/*.py``), which the flows import in part lazily."""
    return [f"tasks.{path.stem}" for path in sorted((project_dir / "tasks").glob("[!_]*.py"))]


def preload_engine() -> None:
    """Import what every flow-run process needs; no threads, sockets, clients or engines."""
    from prefect.plugins import load_prefect_collections

    for name in (*ENGINE_MODULES, *deployed_modules()):
        importlib.import_module(name)
    load_prefect_collections()  # prefect-aws, which holds the results' storage block
    for name in (*WARM_MODULES, *step_modules()):
        try:
            importlib.import_module(name)
        except Exception as error:  # only warmth is lost; the run imports it itself
            print(f"postroom zygote: not preloaded: {name} ({error!r})", file=sys.stderr)
    warm_s3_models()
    warm_libraries()
    PRELOADED_LOGGING.update(logging_environment(os.environ))
    PRELOADED_SOURCES.update(project_sources())
    gc.freeze()  # keep the imported objects out of the children's collections (and pages)


def warm_s3_models() -> None:
    """Parse botocore's S3 service model once, for every session of every child.

    A flow run's first S3 client otherwise costs ~0.28 CPU-s of JSON parsing (measured); a
    client from the same session after that costs ~4 ms. Sessions share one loader (and so its
    parsed models) per data path: prefect-aws makes a session of its own for the flow results,
    which cost ~55 ms more without it. Creating a client opens no connection.
    """
    import boto3
    import botocore.loaders
    import botocore.session

    loaders: dict[str | None, botocore.loaders.Loader] = {}

    def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared_loader
    boto3.client("s3", region_name="us-east-1")


def warm_libraries() -> None:
    """Do once what each run would otherwise do first: Pillow's plugins, the taxonomy."""
    from PIL import Image

    from schemas.taxonomy import load_taxonomy

    Image.init()
    with contextlib.suppress(Exception):  # a broken taxonomy is reported by the run itself
        load_taxonomy()


class SharedTlsContexts:
    """Stands in for the ``ssl`` module in Prefect's client: one context per set of arguments.

    Each ``PrefectClient`` builds a new TLS context, loading the CA bundle (~21 ms, even for an
    ``http://`` API), and a flow run makes ~30 clients (its services, logs, events, concurrency
    slots): ~0.6 CPU-s a letter, measured with py-spy. A context is immutable once built for
    the same arguments, so one is shared (prefect#19106 proposes passing one in instead).
    """

    def __init__(self) -> None:
        self.made: dict[tuple[object, ...], ssl.SSLContext] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(ssl, name)

    def create_default_context(
        self,
        purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH,
        *,
        cafile: str | None = None,
        capath: str | None = None,
        cadata: str | bytes | None = None,
    ) -> ssl.SSLContext:
        """Return the context for these arguments, built on first use."""
        key = (purpose, cafile, capath, cadata)
        if key not in self.made:
            self.made[key] = ssl.create_default_context(
                purpose, cafile=cafile, capath=capath, cadata=cadata
            )
        return self.made[key]


def share_tls_contexts() -> None:
    """Make Prefect's clients in this process (and its forks) share their TLS contexts.

    The HTTP clients build theirs in ``prefect.client.orchestration``; the events client's
    server version check, once in every flow-run process, builds one in
    ``prefect._internal.version_checking``.
    """
    import prefect._internal.version_checking as version_checking
    import prefect.client.orchestration as orchestration

    shared = SharedTlsContexts()
    for module in (orchestration, version_checking):
        if not isinstance(vars(module)["ssl"], SharedTlsContexts):
            vars(module)["ssl"] = shared


def logging_environment(env: Mapping[str, str]) -> dict[str, str]:
    """Return the variables Prefect's logging configuration is built from (levels, handlers)."""
    return {
        key: value
        for key, value in env.items()
        if "LOGGING" in key or key in ("PREFECT_HOME", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH")
    }


def project_sources(project_dir: Path = PROJECT_DIR) -> dict[str, tuple[int, int]]:
    """Return the project's loaded modules (not the venv's) and their files' (mtime, size)."""
    venv = Path(sys.prefix).resolve()
    sources = {}
    for name, module in list(sys.modules.items()):
        if name == "__main__":
            continue  # the worker's own entry module; a flow run never imports it
        path = Path(getattr(module, "__file__", None) or "/").resolve()
        if path.is_relative_to(project_dir) and not path.is_relative_to(venv):
            with contextlib.suppress(OSError):
                stat = path.stat()
                sources[name] = (stat.st_mtime_ns, stat.st_size)
    return sources


def forget_changed_sources() -> None:
    """Drop the project's preloaded modules if any file changed since, so the run imports afresh.

    A fresh process would run the checkout as it is now; a forked one must not run code older
    than that. The project's modules are re-imported together, so none keeps a stale neighbour;
    the libraries stay warm (after upgrading them, restart the worker).
    """
    changed = [name for name, state in PRELOADED_SOURCES.items() if source_state(name) != state]
    if changed:
        print(f"postroom zygote: changed since preloaded: {', '.join(changed)}", file=sys.stderr)
        for name in PRELOADED_SOURCES:
            sys.modules.pop(name, None)


def source_state(name: str) -> tuple[int, int] | None:
    """Return the (mtime, size) of a loaded module's file now, None if it is gone."""
    try:
        stat = Path(str(sys.modules[name].__file__)).stat()
    except (KeyError, OSError):
        return None
    return (stat.st_mtime_ns, stat.st_size)


def zygote_process(
    socket_path: str, lifeline: int, ready: int, preload: Callable[[], None]
) -> Request:
    """Run the zygote; return only in a forked flow-run process."""
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)  # it shares the worker's group; the pipe rules
        preload()
        ensure_single_thread("serve flow runs")
        zygote = Zygote(socket_path, lifeline)
        os.write(ready, b"ready")
        os.close(ready)
        return zygote.serve()
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


def wait_ready(ready: int, seconds: float) -> None:
    """Wait until the zygote serves; fail loudly if it died or took too long."""
    with selectors.DefaultSelector() as waiting:
        waiting.register(ready, selectors.EVENT_READ)
        answered = waiting.select(seconds)
    message = os.read(ready, 16) if answered else b""
    os.close(ready)
    if message != b"ready":
        raise ZygoteError("the zygote did not start; its traceback is in this process's log")


def exit_status(stop: SystemExit) -> int:
    """Return the status a process exits with for ``sys.exit(code)`` (a message goes to stderr)."""
    if stop.code is None or isinstance(stop.code, int):
        return stop.code or 0
    print(stop.code, file=sys.stderr)
    return 1


def exit_without_teardown(status: int) -> NoReturn:
    """Leave a flow-run process as Python would, but without tearing the interpreter down.

    Python's exit joins the threads, runs threading's and atexit's hooks (Prefect drains its
    log and event queues there) and flushes stdio, then frees every object. In a forked child
    that last part writes the reference count of every object it inherited from the zygote,
    so the kernel copies every page of them first: ~0.1 CPU-s a flow run (22 runs of duplicate
    letters and sweeps: 16.4 → 13.9 CPU-s). The hooks run here; the freeing is left to the
    kernel, as multiprocessing's forked children do.
    """
    shutdown_threads: Callable[[], None] = getattr(threading, "_shutdown")  # noqa: B009
    shutdown_threads()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def start_zygote(
    preload: Callable[[], None], child_main: Callable[[Request], None]
) -> ZygoteHandle:
    """Fork the zygote and wait until it serves; in a flow-run child, run it and exit."""
    ensure_single_thread("fork the zygote")
    socket_path = str(Path(tempfile.mkdtemp(prefix="postroom-zygote-")) / "zygote.sock")
    lifeline_read, lifeline_write = os.pipe()
    ready_read, ready_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(lifeline_write)
        os.close(ready_read)
        request = zygote_process(socket_path, lifeline_read, ready_write, preload)
        try:
            child_main(request)
        except SystemExit as stop:
            exit_without_teardown(exit_status(stop))
        exit_without_teardown(0)
    os.close(lifeline_read)
    os.close(ready_write)
    handle = ZygoteHandle(pid=pid, socket_path=socket_path, lifeline=lifeline_write)
    try:
        wait_ready(ready_read, READY_SECONDS)
    except ZygoteError:
        handle.stop()
        raise
    return handle


def run_engine(request: Request) -> None:
    """Run the flow run as ``python -m prefect.engine`` does, with this run's settings."""
    from prefect.context import refresh_global_settings_context
    from prefect.logging.configuration import setup_logging

    # Prefect read its settings (and set up logging) from the zygote's environment at import.
    refresh_global_settings_context()
    # Building the logging configuration costs ~75 ms; the zygote's holds unless it changed.
    if logging_environment(os.environ) != PRELOADED_LOGGING:
        setup_logging(incremental=False)
    forget_changed_sources()
    # flow_engine imports prefect.engine too, as it does in `python -m prefect.engine`; only
    # here it happened before runpy looked.
    warnings.filterwarnings("ignore", "'prefect.engine' found in sys.modules", RuntimeWarning)
    runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)


def launch_command() -> str:
    """Return the flow-run command: the launcher, with a bare and isolated interpreter."""
    return command_to_string([sys.executable, "-I", "-S", str(LAUNCHER)])


with warnings.catch_warnings():
    # Registering under the type "process" is the point: the `postroom` pool is a process pool.
    warnings.simplefilter("ignore")

    class PostroomWorker(ProcessWorker):
        """A process worker whose flow-run processes are forked from the zygote."""

        type = "process"

        def __init__(self, *args: Any, zygote_socket: str | None = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.zygote_socket = zygote_socket

        async def run(
            self,
            flow_run: FlowRun,
            configuration: ProcessJobConfiguration,
            task_status: anyio.abc.TaskStatus[int] | None = None,
        ) -> ProcessWorkerResult:
            """Run the flow run through the launcher unless its deployment sets a command."""
            if self.zygote_socket and not configuration._command_configured:
                configuration.command = launch_command()
                configuration._command_configured = True
                configuration.env[SOCKET_ENV] = self.zygote_socket
            return await super().run(flow_run, configuration, task_status)


async def run_worker(args: argparse.Namespace, zygote_socket: str) -> None:
    """Poll the work pool, as `prefect worker start --type process` does."""
    from prefect.settings import PREFECT_WORKER_HEARTBEAT_SECONDS, PREFECT_WORKER_PREFETCH_SECONDS
    from prefect.utilities.processutils import setup_signal_handlers_worker

    setup_signal_handlers_worker(os.getpid(), "the postroom worker", print)
    worker = PostroomWorker(
        work_pool_name=args.pool,
        name=args.name,
        limit=args.limit,
        prefetch_seconds=PREFECT_WORKER_PREFETCH_SECONDS.value(),
        heartbeat_interval_seconds=int(PREFECT_WORKER_HEARTBEAT_SECONDS.value()),
        zygote_socket=zygote_socket,
    )
    with contextlib.suppress(asyncio.CancelledError):
        await worker.start(printer=print)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the worker's command line."""
    parser = argparse.ArgumentParser(prog="python -m flows.worker", description=__doc__)
    parser.add_argument("--pool", required=True, help="the work pool to poll")
    parser.add_argument("--limit", type=int, default=None, help="flow runs at once")
    parser.add_argument("--name", default=None, help="the worker's name in Prefect")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the zygote, then the worker."""
    args = parse_args(argv)
    share_tls_contexts()  # the worker's clients too; its forks inherit it
    zygote = start_zygote(preload_engine, run_engine)
    print(f"zygote {zygote.pid} serves {zygote.socket_path}", flush=True)
    asyncio.run(run_worker(args, zygote.socket_path))


if __name__ == "__main__":
    main()
