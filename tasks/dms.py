"""The DMS connectors: one small interface, an S3 DMS (the default) and an HTTP DMS.

The route step files a letter through a :class:`DmsConnector`, built once from settings by
:func:`dms_connector` (``tasks/edges.py`` holds it). Both connectors are idempotent per letter id:

- :class:`S3Dms` keeps ``<department>/<Aktenzeichen or ohne-az>/<letter id>/`` in the dms bucket
  with ``letter.pdf``, ``text.txt`` and ``metadata.json`` (written last: its presence marks a
  complete filing). Path segments are slugged; the real values are in the metadata.
- :class:`HttpDms` POSTs a multipart body (part ``metadata``: JSON, part ``document``: the PDF) with
  ``Idempotency-Key: <letter id>``. 2xx and 409 (already filed) give the reference; 408, 429, 5xx,
  timeouts and network errors raise :class:`~tasks.errors.TransientError` (the route task retries);
  any other answer raises :class:`DmsRejectedError`, which quarantines the letter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from schemas.settings import DmsSettings
from tasks.errors import PermanentError, TransientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NO_AKTENZEICHEN = "ohne-az"
STEP = "route"
# Answers a retry can fix besides 5xx: request timeout and rate limiting.
RETRYABLE_STATUS = frozenset({408, 429})
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


class DmsRejectedError(PermanentError):
    """The DMS refused the letter (a 4xx other than 408/429 and 409, or no reference)."""


def slug(value: str) -> str:
    """Return a path segment for ``value``: umlauts folded, separators and spaces as hyphens."""
    folded = value.translate(_FOLD)
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-.")
    return cleaned or "-"


def dms_prefix(department: str, aktenzeichen: str | None, letter_id: str) -> str:
    """Return the DMS folder of a letter."""
    folder = slug(aktenzeichen) if aktenzeichen else NO_AKTENZEICHEN
    return f"{slug(department)}/{folder}/{letter_id}/"


@dataclass(frozen=True)
class DmsTarget:
    """Where in the DMS a letter belongs: the Akte of its Aktenzeichen, else ``ohne-az``."""

    department: str
    aktenzeichen: str | None = None

    def prefix(self, letter_id: str) -> str:
        """Return the letter's folder, ``<department>/<Aktenzeichen or ohne-az>/<letter id>/``."""
        return dms_prefix(self.department, self.aktenzeichen, letter_id)


class DmsConnector(Protocol):
    """What the route step needs from a DMS; every call is idempotent per letter id."""

    def file(
        self, letter_id: str, target: DmsTarget, pdf: bytes, text: str, metadata: dict[str, Any]
    ) -> str:
        """File the letter at ``target`` unless it is there already; return the DMS reference."""
        ...

    def find(self, letter_id: str, target: DmsTarget) -> str | None:
        """Return the reference of an earlier filing of this letter, or None if it is unknown."""
        ...


# --- S3 -----------------------------------------------------------------------------------------


class S3Dms:
    """The default DMS: a folder per letter in an S3 bucket."""

    def __init__(self, s3: S3Client, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def reference(self, letter_id: str, target: DmsTarget) -> str:
        """Return the ``s3://`` reference of the letter's folder."""
        return f"s3://{self.bucket}/{target.prefix(letter_id)}"

    def find(self, letter_id: str, target: DmsTarget) -> str | None:
        """Return the folder's reference if it holds a complete filing of this letter."""
        key = f"{target.prefix(letter_id)}metadata.json"
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        stored: dict[str, Any] = json.loads(body)
        return self.reference(letter_id, target) if stored.get("letter_id") == letter_id else None

    def file(
        self, letter_id: str, target: DmsTarget, pdf: bytes, text: str, metadata: dict[str, Any]
    ) -> str:
        """Write the PDF, the text and the metadata (last), each read back before trusting it."""
        found = self.find(letter_id, target)
        if found is not None:
            return found
        for name, body, content_type in filing_objects(pdf, text, metadata):
            self._put_verified(target.prefix(letter_id) + name, body, content_type)
        return self.reference(letter_id, target)

    def _put_verified(self, key: str, body: bytes, content_type: str) -> None:
        """Write an object and read its size back."""
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        stored = self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        if stored != len(body):
            raise TransientError(f"s3://{self.bucket}/{key} holds {stored} bytes, not {len(body)}")


def filing_objects(pdf: bytes, text: str, metadata: dict[str, Any]) -> list[tuple[str, bytes, str]]:
    """Return the S3 DMS objects of one filing as (name, body, content type), metadata last."""
    return [
        ("letter.pdf", pdf, "application/pdf"),
        ("text.txt", text.encode(), "text/plain; charset=utf-8"),
        ("metadata.json", metadata_json(metadata), "application/json"),
    ]


def metadata_json(metadata: dict[str, Any]) -> bytes:
    """Return the metadata as stored and sent: UTF-8 JSON, umlauts kept."""
    return json.dumps(metadata, ensure_ascii=False, indent=2).encode()


# --- HTTP ---------------------------------------------------------------------------------------


class HttpDms:
    """A DMS with an HTTP API: one multipart POST per letter, made idempotent by its key.

    ``find`` knows nothing (the API has no lookup): a repeated ``file`` is answered 409 with the
    existing reference, which is the idempotency this connector relies on.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout_seconds: float = 30,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.client = client or httpx.Client(timeout=timeout_seconds)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def find(self, letter_id: str, target: DmsTarget) -> str | None:
        """Return None: the HTTP DMS is asked by filing again (409 carries the reference)."""
        return None

    def file(
        self, letter_id: str, target: DmsTarget, pdf: bytes, text: str, metadata: dict[str, Any]
    ) -> str:
        """POST the metadata and the PDF; return the DMS reference (new or already there)."""
        try:
            response = self.client.post(
                self.url,
                headers=request_headers(letter_id, self.token),
                files={
                    "metadata": ("metadata.json", metadata_json(metadata), "application/json"),
                    "document": (f"{letter_id}.pdf", pdf, "application/pdf"),
                },
            )
        except httpx.TimeoutException as exc:
            raise TransientError(f"{letter_id}: the DMS at {self.url} timed out") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{letter_id}: the DMS at {self.url} is unreachable") from exc
        return reference_from(response, letter_id)


def request_headers(letter_id: str, token: str | None) -> dict[str, str]:
    """Return the headers of a filing request: the idempotency key and the bearer token."""
    headers = {"Idempotency-Key": letter_id, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def reference_from(response: httpx.Response, letter_id: str) -> str:
    """Return the DMS reference of an answer, or raise the error its status calls for."""
    status = response.status_code
    where = f"the DMS at {response.request.url}"
    if status >= 500 or status in RETRYABLE_STATUS:
        raise TransientError(f"{letter_id}: {where} answered {status}; retrying")
    if not (200 <= status < 300 or status == 409):
        raise DmsRejectedError(
            f"{where} refused the letter with HTTP {status}: {excerpt(response)}; "
            "check the DMS settings (POSTROOM_DMS__URL, POSTROOM_DMS__TOKEN) and the letter's "
            "metadata, then drop the file from quarantine into the inbox again",
            step=STEP,
            letter_id=letter_id,
        )
    ref = location_or_id(response)
    if ref is None:
        raise DmsRejectedError(
            f"{where} answered {status} without a reference (no Location header, no JSON id); "
            "the DMS API does not match what postroom expects",
            step=STEP,
            letter_id=letter_id,
        )
    return ref


def location_or_id(response: httpx.Response) -> str | None:
    """Return the ``Location`` header (made absolute) or the ``id`` of a JSON body."""
    location = response.headers.get("Location")
    if location:
        return str(response.request.url.join(location))
    try:
        body = response.json()
    except ValueError:
        return None
    found = body.get("id") if isinstance(body, dict) else None
    return str(found) if found not in (None, "") else None


def excerpt(response: httpx.Response, limit: int = 200) -> str:
    """Return the start of an answer's body, on one line, for an operator's reason."""
    text = " ".join(response.text.split())
    return (text[:limit] + "…" if len(text) > limit else text) or "(empty body)"


def dms_connector(settings: DmsSettings, s3: S3Client, bucket: str) -> DmsConnector:
    """Return the connector the settings choose."""
    if settings.kind == "http":
        if settings.url is None:
            raise ValueError("POSTROOM_DMS__URL must be set when POSTROOM_DMS__KIND is http")
        token = settings.token.get_secret_value() if settings.token else None
        return HttpDms(settings.url, token=token, timeout_seconds=settings.timeout_seconds)
    return S3Dms(s3, bucket)
