"""DMS connectors: the HTTP DMS against a real HTTP server on 127.0.0.1, the S3 DMS's layout.

The S3 connector's round trip through a real S3 server is in ``tests/test_pipeline.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from flows.stack import free_port
from schemas.settings import Settings
from tasks.dms import (
    DmsRejectedError,
    DmsTarget,
    HttpDms,
    S3Dms,
    dms_connector,
    filing_objects,
)
from tasks.edges import s3_client
from tasks.errors import PermanentError, TransientError, is_retryable

LETTER = "9c527a1d5f0cbfa2c1334290"
TARGET = DmsTarget("Rechtsamt", "3 K 1234/26")
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nfake but binary\n%%EOF\n"
METADATA: dict[str, Any] = {
    "letter_id": LETTER,
    "department": "Rechtsamt",
    "xdomea": {"Betreff": "Klage wegen Gebührenbescheid", "Kennzeichen": "3 K 1234/26"},
}
PATH = "/dms/api/v1/documents"

# --- a real HTTP DMS on 127.0.0.1 ---------------------------------------------------------------

# What the server answers instead of its idempotent default: a status (with a body), or "slow".
Answer = int | str


@dataclass(frozen=True)
class Part:
    """One part of a multipart body as the server received it."""

    filename: str | None
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Received:
    """One request as the server received it, and the status it answered."""

    path: str
    headers: dict[str, str]
    parts: dict[str, Part]
    status: int


@dataclass
class DmsServer:
    """A small idempotent DMS: a new Idempotency-Key is filed (201), a known one is a 409.

    ``script`` lists answers given before that behaviour, one per request (e.g. a 503 first);
    ``reference`` says how the reference comes back: a relative Location or a JSON id.
    """

    url: str = ""
    reference: str = "location"
    script: deque[Answer] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    filed: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, key: str) -> tuple[int, dict[str, str], bytes]:
        """Return status, headers and body for a request with this idempotency key."""
        with self.lock:
            scripted = self.script.popleft() if self.script else None
            if isinstance(scripted, int):
                return scripted, {"Content-Type": "text/plain"}, f"scripted {scripted}".encode()
            if scripted == "slow":
                time.sleep(1.0)
            status = 409 if key in self.filed else 201
            doc_id = self.filed.setdefault(key, f"doc-{len(self.filed) + 1}")
        headers = {"Content-Type": "application/json"}
        if self.reference == "location":
            headers["Location"] = f"{PATH}/{doc_id}"
        return status, headers, json.dumps({"id": doc_id}).encode()


def parse_multipart(content_type: str, body: bytes) -> dict[str, Part]:
    """Return the parts of a multipart/form-data body by name."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        parts[name] = Part(part.get_filename(), part.get_content_type(), payload)
    return parts


def handler_for(server: DmsServer) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class serving ``server``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = parse_multipart(self.headers.get("Content-Type", ""), body)
            status, headers, reply = server.answer(self.headers.get("Idempotency-Key", ""))
            server.requests.append(Received(self.path, dict(self.headers), parts, status))
            try:
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(reply))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def dms_server() -> Iterator[DmsServer]:
    """Run a DMS on a free port of 127.0.0.1 for one test."""
    server = DmsServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}{PATH}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def connect() -> Iterator[Callable[..., HttpDms]]:
    """Return a factory of HTTP connectors, closed after the test."""
    made: list[HttpDms] = []

    def make(url: str, **options: Any) -> HttpDms:
        made.append(HttpDms(url, **options))
        return made[-1]

    yield make
    for connector in made:
        connector.close()


def with_retries(call: Callable[[], str], retries: int = 3) -> str:
    """Call like the route task's retry policy does: again while the error is retryable."""
    for _ in range(retries):
        try:
            return call()
        except Exception as exc:
            if not is_retryable(exc):
                raise
    return call()


# --- HTTP connector -----------------------------------------------------------------------------


def test_the_first_filing_posts_metadata_and_pdf_with_the_idempotency_key(
    dms_server: DmsServer, connect: Callable[..., HttpDms]
) -> None:
    dms = connect(dms_server.url, token="s3cr3t")
    ref = dms.file(LETTER, TARGET, PDF, "text", METADATA)
    assert ref == f"{dms_server.url}/doc-1"  # the Location header, made absolute
    [request] = dms_server.requests
    assert request.path == PATH and request.status == 201
    assert request.headers["Idempotency-Key"] == LETTER
    assert request.headers["Authorization"] == "Bearer s3cr3t"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert set(request.parts) == {"metadata", "document"}
    metadata, document = request.parts["metadata"], request.parts["document"]
    assert metadata.content_type == "application/json"
    assert json.loads(metadata.body) == METADATA  # umlauts arrive as UTF-8
    assert document.content_type == "application/pdf"
    assert document.filename == f"{LETTER}.pdf"
    assert document.body == PDF


def test_without_a_token_no_authorization_is_sent(
    dms_server: DmsServer, connect: Callable[..., HttpDms]
) -> None:
    connect(dms_server.url).file(LETTER, TARGET, PDF, "text", METADATA)
    assert "Authorization" not in dms_server.requests[0].headers


def test_filing_the_same_letter_again_gets_409_and_the_same_reference(
    dms_server: DmsServer, connect: Callable[..., HttpDms]
) -> None:
    dms = connect(dms_server.url)
    first = dms.file(LETTER, TARGET, PDF, "text", METADATA)
    second = dms.file(LETTER, TARGET, PDF, "text", METADATA)
    assert [r.status for r in dms_server.requests] == [201, 409]
    assert second == first
    assert len(dms_server.filed) == 1
    assert dms.find(LETTER, TARGET) is None  # no lookup: the 409 is the idempotency


def test_a_json_id_is_the_reference_when_there_is_no_location(
    dms_server: DmsServer, connect: Callable[..., HttpDms]
) -> None:
    dms_server.reference = "json"
    dms = connect(dms_server.url)
    assert dms.file(LETTER, TARGET, PDF, "text", METADATA) == "doc-1"
    assert dms.file(LETTER, TARGET, PDF, "text", METADATA) == "doc-1"
    assert dms.file("another-letter", TARGET, PDF, "text", METADATA) == "doc-2"
    assert [r.status for r in dms_server.requests] == [201, 409, 201]


def test_a_503_then_201_succeeds_through_the_retry_policy(
    dms_server: DmsServer, connect: Callable[..., HttpDms]
) -> None:
    dms_server.script.extend([503, 503])
    dms = connect(dms_server.url)
    with pytest.raises(TransientError) as raised:
        dms.file(LETTER, TARGET, PDF, "text", METADATA)
    assert is_retryable(raised.value)
    ref = with_retries(lambda: dms.file(LETTER, TARGET, PDF, "text", METADATA))
    assert ref == f"{dms_server.url}/doc-1"
    assert [r.status for r in dms_server.requests] == [503, 503, 201]
    assert {r.headers["Idempotency-Key"] for r in dms_server.requests} == {LETTER}


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_server_errors_and_throttling_are_transient(
    dms_server: DmsServer, connect: Callable[..., HttpDms], status: int
) -> None:
    dms_server.script.append(status)
    with pytest.raises(TransientError) as raised:
        connect(dms_server.url).file(LETTER, TARGET, PDF, "text", METADATA)
    assert is_retryable(raised.value) and str(status) in str(raised.value)


def test_a_timeout_is_transient(dms_server: DmsServer, connect: Callable[..., HttpDms]) -> None:
    dms_server.script.append("slow")
    with pytest.raises(TransientError, match="timed out") as raised:
        connect(dms_server.url, timeout_seconds=0.2).file(LETTER, TARGET, PDF, "text", METADATA)
    assert is_retryable(raised.value)


def test_an_unreachable_dms_is_transient(connect: Callable[..., HttpDms]) -> None:
    url = f"http://127.0.0.1:{free_port()}{PATH}"  # nothing listens there
    with pytest.raises(TransientError, match="unreachable") as raised:
        connect(url, timeout_seconds=2).file(LETTER, TARGET, PDF, "text", METADATA)
    assert is_retryable(raised.value)


def test_a_400_is_a_permanent_error_that_names_letter_step_and_status(
    dms_server: DmsServer, connect: Callable[..., HttpDms]
) -> None:
    dms_server.script.append(400)
    with pytest.raises(DmsRejectedError) as raised:
        with_retries(lambda: connect(dms_server.url).file(LETTER, TARGET, PDF, "text", METADATA))
    error = raised.value
    assert isinstance(error, PermanentError) and not is_retryable(error)
    assert len(dms_server.requests) == 1  # not retried
    assert error.letter_id == LETTER and error.step == "route"
    assert "HTTP 400" in error.reason and "scripted 400" in error.reason
    assert str(error).startswith(f"{LETTER} route: ")


@pytest.mark.parametrize("status", [401, 403, 404, 422])
def test_other_client_errors_are_permanent(
    dms_server: DmsServer, connect: Callable[..., HttpDms], status: int
) -> None:
    dms_server.script.append(status)
    with pytest.raises(DmsRejectedError, match=f"HTTP {status}"):
        connect(dms_server.url).file(LETTER, TARGET, PDF, "text", METADATA)


def test_a_success_without_a_reference_is_permanent(
    dms_server: DmsServer, connect: Callable[..., HttpDms]
) -> None:
    dms_server.script.append(200)  # a text body: neither a Location nor a JSON id
    with pytest.raises(DmsRejectedError, match="without a reference"):
        connect(dms_server.url).file(LETTER, TARGET, PDF, "text", METADATA)


# --- S3 connector: layout -----------------------------------------------------------------------


def test_the_s3_target_is_the_akte_or_the_ohne_az_folder() -> None:
    assert TARGET.prefix(LETTER) == f"Rechtsamt/3-K-1234-26/{LETTER}/"
    assert DmsTarget("Kämmerei").prefix(LETTER) == f"Kaemmerei/ohne-az/{LETTER}/"


def test_the_s3_filing_writes_pdf_text_and_metadata_last() -> None:
    objects = filing_objects(PDF, "Seite 1\fSeite 2", METADATA)
    assert [name for name, _, _ in objects] == ["letter.pdf", "text.txt", "metadata.json"]
    by_name = {name: (body, kind) for name, body, kind in objects}
    assert by_name["letter.pdf"] == (PDF, "application/pdf")
    assert by_name["text.txt"] == (b"Seite 1\fSeite 2", "text/plain; charset=utf-8")
    body, kind = by_name["metadata.json"]
    assert kind == "application/json" and json.loads(body) == METADATA
    assert "Gebührenbescheid".encode() in body  # umlauts kept, not escaped


# --- settings -----------------------------------------------------------------------------------


def test_the_s3_dms_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSTROOM_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.dms.kind == "s3" and settings.dms.url is None
    assert settings.dms.timeout_seconds == 30
    dms = dms_connector(settings.dms, s3_client(settings), settings.buckets.dms)
    assert isinstance(dms, S3Dms) and dms.bucket == "postroom-dms"


def test_the_http_dms_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POSTROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POSTROOM_DMS__KIND", "http")
    monkeypatch.setenv("POSTROOM_DMS__URL", "https://dms.example.org/api/documents")
    monkeypatch.setenv("POSTROOM_DMS__TOKEN", "s3cr3t")
    monkeypatch.setenv("POSTROOM_DMS__TIMEOUT_SECONDS", "12.5")
    settings = Settings()
    assert settings.dms.timeout_seconds == 12.5
    assert "s3cr3t" not in repr(settings)
    dms = dms_connector(settings.dms, s3_client(settings), settings.buckets.dms)
    assert isinstance(dms, HttpDms)
    try:
        assert dms.url == "https://dms.example.org/api/documents" and dms.token == "s3cr3t"
        assert dms.client.timeout.read == 12.5
    finally:
        dms.close()


def test_an_http_dms_needs_a_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSTROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POSTROOM_DMS__KIND", "http")
    with pytest.raises(ValidationError, match="POSTROOM_DMS__URL"):
        Settings()
