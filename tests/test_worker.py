"""The pre-forking worker: the zygote/launcher protocol with real forks, then one run on a stack.

The protocol tests start a real zygote (flows.worker.start_zygote) in a helper process whose forked
children run a line of Python taken from the launcher's argv instead of prefect.engine, and run the
real launcher (flows/launch.py) against it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flows import worker
from flows.launch import SOCKET_ENV, signal_group
from flows.samples import generate
from flows.worker import LAUNCHER, ZygoteError, deployed_modules, ensure_single_thread
from schemas.letter import SourceObject
from tasks.intake import letter_id_for
from tasks.record import load_letter
from tests.conftest import LocalStack

PROJECT_DIR = Path(__file__).resolve().parent.parent
# A worker stand-in: forks the zygote, prints its socket, and lets it go when stdin closes.
ZYGOTE_HELPER = """
import sys
from flows.worker import start_zygote

def run_code(request):
    exec(request.argv[1], {})

zygote = start_zygote(lambda: None, run_code)
print(zygote.socket_path, flush=True)
sys.stdin.read()
zygote.stop()
"""


class ZygoteHelper:
    """A running zygote helper process and its socket."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE_HELPER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=PROJECT_DIR,
            text=True,
        )
        assert self.process.stdout is not None
        self.socket_path = self.process.stdout.readline().strip()
        assert self.socket_path.endswith("zygote.sock"), "the zygote did not start"

    def stop(self) -> int:
        """Close the helper's stdin (the worker goes away); return its exit code."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        code = self.process.wait(timeout=30)
        self.process.stdout.close()
        return code


@pytest.fixture(scope="module")
def zygote() -> Iterator[ZygoteHelper]:
    """Return a zygote serving for the module's tests."""
    helper = ZygoteHelper()
    try:
        yield helper
    finally:
        helper.stop()


def launcher(code: str, socket_path: str, **popen: object) -> subprocess.Popen[str]:
    """Start the launcher as the worker does, with the child's code as its argument."""
    env = {**os.environ, SOCKET_ENV: socket_path, "POSTROOM_TEST_MARK": "set"}
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-I", "-S", str(LAUNCHER), code],
        env=env,
        text=True,
        **popen,
    )


def gone(pid: int) -> bool:
    """Return whether a process has exited (a zombie no one reaps counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def wait_until(check: Callable[[], bool], seconds: float = 10) -> bool:
    """Poll ``check`` until it returns true or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_exit_status_output_environment_and_cwd_reach_the_launcher(
    zygote: ZygoteHelper, tmp_path: Path
) -> None:
    code = (
        "import os, sys; print('out', os.environ['POSTROOM_TEST_MARK'], os.getcwd(), flush=True);"
        " print('err', file=sys.stderr, flush=True); sys.exit(7)"
    )
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with launcher(code, zygote.socket_path, cwd=tmp_path, **pipes) as process:
        out, err = process.communicate(timeout=30)
    assert process.returncode == 7
    assert out == f"out set {tmp_path}\n"
    assert err == "err\n"


def test_the_exit_code_is_the_childs(zygote: ZygoteHelper) -> None:
    process = launcher("import sys; sys.exit(7)", zygote.socket_path)
    assert process.wait(timeout=30) == 7


def test_a_child_leaves_as_python_would_with_its_threads_hooks_and_output(
    zygote: ZygoteHelper,
) -> None:
    # The child skips the interpreter's teardown (worker.exit_without_teardown), nothing else.
    code = (
        "import atexit, sys, threading, time;"
        " threading.Thread(target=lambda: (time.sleep(0.3), print('thread'))).start();"
        " threading._register_atexit(lambda: print('threading hook'));"
        " atexit.register(lambda: print('atexit hook'));"
        " sys.stdout.write('unflushed ');"
        " sys.stderr.write('a message'); sys.exit('given up')"
    )
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with launcher(code, zygote.socket_path, **pipes) as process:
        out, err = process.communicate(timeout=30)
    python = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (process.returncode, out, err) == (python.returncode, python.stdout, python.stderr)
    assert python.returncode == 1 and python.stderr == "a messagegiven up\n"
    assert set(out.split()) == {"unflushed", "thread", "threading", "hook", "atexit"}


def test_a_child_killed_by_a_signal_kills_the_launcher_with_it(zygote: ZygoteHelper) -> None:
    process = launcher(
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", zygote.socket_path
    )
    assert process.wait(timeout=30) == -signal.SIGKILL


def test_sigterm_to_the_launcher_reaches_the_child(zygote: ZygoteHelper) -> None:
    # Short naps, not one long sleep: a signal that lands between Python's check for signals and
    # the sleep's system call is handled only when the sleep ends (CPython's race, ~1 in 300 here).
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))\n"
        "print('ready', flush=True)\n"
        "for _ in range(600): time.sleep(0.1)\n"
    )
    with launcher(code, zygote.socket_path, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 42


def test_a_forwarded_signal_is_sent_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Twice, and the flow run's SIGTERM handler ran again while it exited (its atexit hooks, where
    # Prefect drains its logs, were cut short: seen 2 times in 600 launches before the mend).
    sent: list[tuple[str, int, int]] = []

    def send(how: str, missing: bool = False) -> Callable[[int, int], None]:
        def sender(pid: int, signum: int) -> None:
            if missing:
                raise ProcessLookupError(pid)
            sent.append((how, pid, signum))

        return sender

    monkeypatch.setattr(os, "killpg", send("group"))
    monkeypatch.setattr(os, "kill", send("process"))
    signal_group(4242, signal.SIGTERM)
    assert sent == [("group", 4242, signal.SIGTERM)]
    sent.clear()
    monkeypatch.setattr(os, "killpg", send("group", missing=True))  # not yet in its own group
    signal_group(4242, signal.SIGTERM)
    assert sent == [("process", 4242, signal.SIGTERM)]


def test_sigkill_to_the_launcher_kills_the_child_and_its_group(
    zygote: ZygoteHelper, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    code = (
        "import os, subprocess, time\n"
        "sleeper = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{sleeper.pid}}')\n"
        "time.sleep(60)\n"
    )
    process = launcher(code, zygote.socket_path)
    assert wait_until(lambda: pids.is_file() and " " in pids.read_text())
    child, grandchild = (int(pid) for pid in pids.read_text().split())
    assert not gone(child) and not gone(grandchild)
    process.kill()
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert wait_until(lambda: gone(child) and gone(grandchild)), (
        "the flow run outlived its launcher"
    )


def test_without_a_zygote_the_launcher_becomes_prefect_engine(tmp_path: Path) -> None:
    env = {
        **os.environ,
        SOCKET_ENV: str(tmp_path / "missing.sock"),
        "PREFECT__FLOW_RUN_ID": "not-a-flow-run-id",
    }
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(LAUNCHER)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "zygote unreachable, starting prefect.engine" in done.stderr
    assert "Invalid flow run id" in done.stderr  # prefect.engine's own message: it ran


def test_the_zygote_kills_its_children_and_exits_with_the_worker() -> None:
    helper = ZygoteHelper()
    code = "import time; print('ready', flush=True); time.sleep(60)"
    with launcher(code, helper.socket_path, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        assert helper.stop() == 0
        assert process.wait(timeout=30) == 1
    assert not Path(helper.socket_path).exists()


def test_no_fork_while_other_threads_run() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="busy")
    thread.start()
    try:
        with pytest.raises(ZygoteError, match="busy"):
            ensure_single_thread("fork")
    finally:
        release.set()
        thread.join()


def test_the_zygote_preloads_every_deployed_flow() -> None:
    entrypoints = re.findall(r"entrypoint: (\S+)\.py:", (PROJECT_DIR / "prefect.yaml").read_text())
    assert deployed_modules() == [path.replace("/", ".") for path in entrypoints]
    assert {"flows.process_letter", "flows.sweep_inbox"} <= set(deployed_modules())


def test_a_changed_project_module_is_imported_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "postroom_probe.py"
    source.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import postroom_probe  # type: ignore[import-not-found]

    monkeypatch.setattr(worker, "PRELOADED_SOURCES", worker.project_sources(tmp_path))
    assert list(worker.PRELOADED_SOURCES) == ["postroom_probe"]
    worker.forget_changed_sources()
    assert sys.modules["postroom_probe"] is postroom_probe  # unchanged: stays warm
    source.write_text("VALUE = 22\n")
    worker.forget_changed_sources()
    assert "postroom_probe" not in sys.modules
    import postroom_probe as fresh

    assert fresh.VALUE == 22


def test_prefect_clients_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    import certifi
    import prefect._internal.version_checking as version_checking
    import prefect.client.orchestration as orchestration
    from prefect.client.orchestration import PrefectClient
    from prefect.settings import PREFECT_API_SSL_CERT_FILE

    built: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    monkeypatch.setitem(vars(orchestration), "ssl", ssl)
    monkeypatch.setitem(vars(version_checking), "ssl", ssl)
    PrefectClient("http://127.0.0.1:9/api")
    PrefectClient("http://127.0.0.1:9/api")
    assert len(built) == 2  # Prefect's own way: a context (and the CA bundle read) per client
    worker.share_tls_contexts()
    first = PrefectClient("http://127.0.0.1:9/api")
    second = PrefectClient("http://127.0.0.1:9/api")
    assert len(built) == 3  # once more, then shared
    first_context = built[-1]
    assert first._client._transport._pool._ssl_context is built[-1]  # type: ignore[attr-defined]
    assert second._client._transport._pool._ssl_context is built[-1]  # type: ignore[attr-defined]
    # The events client's version check asks for the same CA bundle: the same context again.
    cafile = PREFECT_API_SSL_CERT_FILE.value() or certifi.where()
    assert vars(version_checking)["ssl"].create_default_context(cafile=cafile) is first_context
    assert len(built) == 3


def test_every_boto3_session_shares_the_parsed_service_models() -> None:
    import boto3

    worker.warm_s3_models()
    first, second = boto3.Session()._session, boto3.Session()._session
    assert first.get_component("data_loader") is second.get_component("data_loader")


def test_logging_is_set_up_again_only_when_its_environment_changed() -> None:
    base = {"PREFECT_API_URL": "http://a/api", "PREFECT_LOGGING_LEVEL": "INFO", "PATH": "/bin"}
    same = {**base, "PREFECT_API_URL": "http://b/api", "PREFECT__FLOW_RUN_ID": "x"}
    assert worker.logging_environment(same) == worker.logging_environment(base)
    louder = {**base, "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}
    assert worker.logging_environment(louder) != worker.logging_environment(base)
    assert worker.logging_environment({**base, "PREFECT_HOME": "/elsewhere"}) != (
        worker.logging_environment(base)
    )


def test_prefect_passes_the_edges_to_a_task_without_walking_them() -> None:
    from prefect.utilities.collections import visit_collection

    from schemas.settings import Settings
    from tasks.edges import edges_for

    edges = edges_for(Settings())
    visited: list[object] = []

    def visit(item: object) -> object:
        visited.append(item)
        return item

    visit_collection(edges, visit, return_data=False)
    assert visited == [edges]  # the taxonomy inside is not walked, on every task call twice


@pytest.mark.slow
def test_a_process_letter_run_goes_through_the_zygote(stack: LocalStack, tmp_path: Path) -> None:
    (truth,) = generate(tmp_path, count=1, seed=4711, doc_types=["rechnung"])
    key = f"worker/{truth.name}"
    buckets = stack.settings.buckets
    put = stack.s3.put_object(
        Bucket=buckets.inbox, Key=key, Body=(tmp_path / truth.name).read_bytes()
    )
    source = SourceObject(bucket=buckets.inbox, key=key, version_id=put["VersionId"])
    params = json.dumps({"bucket": source.bucket, "key": key, "version_id": source.version_id})
    done = stack.prefect(
        "deployment", "run", "process-letter/process-letter", "--params", params, "--watch"
    )
    assert "Completed" in done.stdout, done.stdout + done.stderr
    flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", done.stdout)
    assert flow_run_id and uuid.UUID(flow_run_id.group(1))
    assert load_letter(stack.engine, letter_id_for(source)).status == "done"
    log = (stack.data_dir / "logs" / "worker.log").read_text(errors="replace")
    assert re.search(r"zygote \d+ serves ", log), log[-2000:]
    assert "zygote unreachable" not in log, log[-2000:]
