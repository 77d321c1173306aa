"""The archive step: a BagIt 1.0 package per letter (RFC 8493, SHA-512), locked under Object Lock.

The package is written as loose objects under ``<letter id>/`` in the archive bucket, read back and
verified against its manifests, and only then locked (COMPLIANCE mode) until the retention date.
The tag manifest is written last, so its presence marks a complete package for a re-run::

    <letter id>/bagit.txt, bag-info.txt, manifest-sha512.txt, tagmanifest-sha512.txt
    <letter id>/data/original.<pdf|tif|jpg|png>  the scan, bit-exact
                     searchable.pdf             the original pages with an invisible text layer
                     text.txt, pages/page-NNNN.txt, pages/page-NNNN.alto.xml
                     metadata.json              the metadata kept in the DMS too
                     mets.xml                   METS 1.12 with PREMIS 3: the package itself

``mets.xml`` lists every other payload file with its SHA-512 and size, holds the letter's core
metadata as Dublin Core, the original and the searchable PDF as PREMIS objects, and the events
capture, ocr, classification, routing and ingest with their outcome, date and agents.

Reading a package back (:func:`check_bag`) reports every missing, altered or unlisted file and a
wrong Payload-Oxum at once, for the archive step, ``postroom archive verify|get`` and the fixity
audit alike; the same check runs on a downloaded directory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from prefect.runtime import flow_run

from schemas.letter import (
    ArchivePackage,
    Classification,
    Filing,
    Frozen,
    Intake,
    OcrResult,
    State,
)
from tasks.edges import Edges
from tasks.errors import TransientError, io_task
from tasks.intake import letter_id_for
from tasks.mets import METS_FILE, mets_document, original_name, provenance_for
from tasks.record import advance
from tasks.route import decide, metadata_document, received_at

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
PAYLOAD_MANIFEST = "manifest-sha512.txt"
TAG_MANIFEST = "tagmanifest-sha512.txt"
# A letter date further back than this before receipt is taken as misread (DESIGN.md: the lock
# can never be shortened, so the retention date must not rest on an implausible date).
MAX_LETTER_AGE = dt.timedelta(days=5 * 366)
CHUNK = 1024 * 1024

# -- BagIt -----------------------------------------------------------------------------------------


def manifest(files: dict[str, bytes]) -> bytes:
    """Return a SHA-512 manifest of ``files`` (path → bytes), sorted by path."""
    lines = [
        f"{hashlib.sha512(body).hexdigest()}  {path}\n" for path, body in sorted(files.items())
    ]
    return "".join(lines).encode()


def parse_manifest(text: str) -> dict[str, str]:
    """Return path → SHA-512 from a manifest's text."""
    entries = {}
    for line in text.splitlines():
        if line.strip():
            digest, path = line.split(maxsplit=1)
            entries[path.strip()] = digest
    return entries


def parse_bag_info(text: str) -> dict[str, str]:
    """Return the labels of a ``bag-info.txt`` (the last value of a repeated label)."""
    info = {}
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            info[label.strip()] = value.strip()
    return info


def build_bag(payload: dict[str, bytes], info: dict[str, str]) -> dict[str, bytes]:
    """Return every file of a BagIt bag: payload under data/, tag files, both manifests."""
    data = {f"data/{path}": body for path, body in payload.items()}
    oxum = f"{sum(len(b) for b in payload.values())}.{len(payload)}"
    bag_info = "".join(f"{key}: {value}\n" for key, value in {**info, "Payload-Oxum": oxum}.items())
    tags = {
        "bagit.txt": BAGIT_TXT,
        "bag-info.txt": bag_info.encode(),
        PAYLOAD_MANIFEST: manifest(data),
    }
    return {**data, **tags, TAG_MANIFEST: manifest(tags)}


def retention_date(letter_date: dt.date | None, received: dt.date, years: int) -> dt.date | None:
    """Return the end of the calendar year of the letter date plus ``years`` (None: keep none)."""
    if years <= 0:
        return None
    plausible = letter_date is not None and received - MAX_LETTER_AGE <= letter_date <= received
    start = letter_date if plausible and letter_date else received
    return dt.date(start.year + years, 12, 31)


# -- reading a package back ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """One file of a package as read back: its digest and size, and its version and lock."""

    sha512: str
    size: int
    version_id: str = ""
    lock_mode: str | None = None
    locked_until: dt.datetime | None = None


class PackageSource(Protocol):
    """Where a package is read from: the archive bucket, or a downloaded directory."""

    @property
    def location(self) -> str:
        """Return where the package is, for people."""
        ...

    def sizes(self) -> dict[str, int]:
        """Return every file of the package (path within the package → size)."""
        ...

    def read(self, path: str) -> bytes | None:
        """Return a (small) file's bytes; None when it is missing."""
        ...

    def stat(self, path: str) -> StoredFile | None:
        """Read a file through, hashing it; None when it is missing."""
        ...


@dataclass(frozen=True)
class S3Package:
    """A package stored as loose objects under ``prefix`` in a bucket."""

    s3: S3Client
    bucket: str
    prefix: str

    @property
    def location(self) -> str:
        """Return the package's S3 URI."""
        return f"s3://{self.bucket}/{self.prefix}"

    def sizes(self) -> dict[str, int]:
        """Return every object under the prefix (all pages of the listing)."""
        found = {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                found[item["Key"].removeprefix(self.prefix)] = item["Size"]
        return found

    def read(self, path: str) -> bytes | None:
        """Return an object's bytes; None when there is no such key."""
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self.prefix + path)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def stat(self, path: str) -> StoredFile | None:
        """Stream an object through SHA-512; None when there is no such key."""
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + path)
        except self.s3.exceptions.NoSuchKey:
            return None
        digest, size = hashlib.sha512(), 0
        for chunk in obj["Body"].iter_chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return StoredFile(
            sha512=digest.hexdigest(),
            size=size,
            version_id=obj.get("VersionId", ""),
            lock_mode=obj.get("ObjectLockMode"),
            locked_until=obj.get("ObjectLockRetainUntilDate"),
        )


@dataclass(frozen=True)
class LocalPackage:
    """A package downloaded into a directory."""

    root: Path

    @property
    def location(self) -> str:
        """Return the directory."""
        return str(self.root)

    def sizes(self) -> dict[str, int]:
        """Return every file below the directory."""
        if not self.root.is_dir():
            return {}
        return {
            path.relative_to(self.root).as_posix(): path.stat().st_size
            for path in self.root.rglob("*")
            if path.is_file()
        }

    def read(self, path: str) -> bytes | None:
        """Return a file's bytes; None when it is missing."""
        file = self.root / path
        return file.read_bytes() if file.is_file() else None

    def stat(self, path: str) -> StoredFile | None:
        """Hash a file; None when it is missing."""
        file = self.root / path
        if not file.is_file():
            return None
        digest, size = hashlib.sha512(), 0
        with file.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return StoredFile(sha512=digest.hexdigest(), size=size)


class FileCheck(Frozen):
    """One file of a package checked against its manifest."""

    path: str
    status: Literal["ok", "mismatch", "missing", "unlisted"]
    expected: str | None = None  # the manifest's SHA-512; None for the tag manifest itself
    actual: str | None = None
    size: int | None = None
    version_id: str = ""
    lock_mode: str | None = None
    locked_until: dt.datetime | None = None


class PackageCheck(Frozen):
    """A package read back and checked against its manifests; every failure is in ``problems``."""

    location: str
    missing: bool = False  # nothing at all is stored there
    files: tuple[FileCheck, ...] = ()
    declared_oxum: str | None = None  # bag-info.txt's Payload-Oxum
    found_oxum: str | None = None  # what the payload found amounts to
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Return whether every file is there and matches, and the Payload-Oxum agrees."""
        return not self.problems

    @property
    def versions(self) -> dict[str, str]:
        """Return path → version id of every file found."""
        return {f.path: f.version_id for f in self.files if f.status in {"ok", "mismatch"}}


def _tag_text(source: PackageSource, path: str, problems: list[str]) -> str:
    """Return a tag file's text, noting it as a problem when it is missing."""
    body = source.read(path)
    if body is None:
        problems.append(f"{path} is missing")
        return ""
    return body.decode("utf-8", errors="replace")


def check_bag(source: PackageSource) -> PackageCheck:
    """Read a package back and check every file against its manifests; report every failure."""
    stored = source.sizes()
    if not stored:
        return PackageCheck(
            location=source.location, missing=True, problems=(f"no package at {source.location}",)
        )
    problems: list[str] = []
    _tag_text(source, "bagit.txt", problems)
    expected = parse_manifest(_tag_text(source, TAG_MANIFEST, problems))
    payload = parse_manifest(_tag_text(source, PAYLOAD_MANIFEST, problems))
    expected.update(payload)
    files = []
    if TAG_MANIFEST in stored:
        found = source.stat(TAG_MANIFEST)
        if found is not None:
            files.append(_file_check(TAG_MANIFEST, None, found))
    for path, digest in sorted(expected.items()):
        found = source.stat(path)
        check = _file_check(path, digest, found)
        files.append(check)
        if check.status == "missing":
            problems.append(f"{path} is missing")
        elif check.status == "mismatch":
            problems.append(
                f"{path} does not match its manifest "
                f"(SHA-512 {(check.actual or '')[:16]}…, expected {digest[:16]}…)"
            )
    for path in sorted(p for p in stored if p.startswith("data/") and p not in payload):
        files.append(FileCheck(path=path, status="unlisted", size=stored[path]))
        problems.append(f"{path} is not in {PAYLOAD_MANIFEST}")
    declared = parse_bag_info(_tag_text(source, "bag-info.txt", [])).get("Payload-Oxum")
    data = [size for path, size in stored.items() if path.startswith("data/")]
    found_oxum = f"{sum(data)}.{len(data)}"
    if declared != found_oxum:
        problems.append(f"Payload-Oxum is {declared}, the payload found is {found_oxum}")
    return PackageCheck(
        location=source.location,
        files=tuple(files),
        declared_oxum=declared,
        found_oxum=found_oxum,
        problems=tuple(problems),
    )


def _file_check(path: str, expected: str | None, found: StoredFile | None) -> FileCheck:
    """Return the check of one file against its expected SHA-512."""
    if found is None:
        return FileCheck(path=path, status="missing", expected=expected)
    return FileCheck(
        path=path,
        status="ok" if expected is None or found.sha512 == expected else "mismatch",
        expected=expected,
        actual=found.sha512,
        size=found.size,
        version_id=found.version_id,
        lock_mode=found.lock_mode,
        locked_until=found.locked_until,
    )


def verify_package(edges: Edges, prefix: str) -> PackageCheck:
    """Read a package back from the archive bucket and check it against its manifests."""
    return check_bag(S3Package(edges.s3, edges.settings.buckets.archive, prefix))


def lock_problems(
    check: PackageCheck, retain_until: dt.date, *, to_the_day: bool = True
) -> list[str]:
    """Return every file of a package not locked in COMPLIANCE mode until ``retain_until``.

    ``to_the_day=False`` only asks for a lock with a date (tests lock for seconds, by a setting).
    """
    problems = []
    for file in check.files:
        if file.status not in {"ok", "mismatch"}:
            continue
        if file.lock_mode != "COMPLIANCE" or file.locked_until is None:
            problems.append(f"{file.path} is not locked in COMPLIANCE mode")
        elif to_the_day and file.locked_until.date() < retain_until:
            problems.append(
                f"{file.path} is locked only until {file.locked_until.date()}, "
                f"its retention ends {retain_until}"
            )
    return problems


def download_package(edges: Edges, prefix: str, target: Path) -> int:
    """Download every object of a package into ``target``; return the number of files."""
    source = S3Package(edges.s3, edges.settings.buckets.archive, prefix)
    root = target.resolve()
    count = 0
    for path in sorted(source.sizes()):
        local = (root / path).resolve()
        if not local.is_relative_to(root):
            raise ValueError(f"package file {path!r} points outside {root}")
        local.parent.mkdir(parents=True, exist_ok=True)
        edges.s3.download_file(source.bucket, prefix + path, str(local))
        count += 1
    return count


def lock(edges: Edges, prefix: str, versions: dict[str, str], until: dt.datetime) -> None:
    """Lock every object version of a package in COMPLIANCE mode until ``until``."""
    bucket = edges.settings.buckets.archive
    for path, version_id in versions.items():
        edges.s3.put_object_retention(
            Bucket=bucket,
            Key=prefix + path,
            VersionId=version_id,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until},
        )


def package_exists(edges: Edges, prefix: str) -> bool:
    """Return whether a complete package (its tag manifest) is already stored."""
    listing = edges.s3.list_objects_v2(
        Bucket=edges.settings.buckets.archive, Prefix=prefix + TAG_MANIFEST, MaxKeys=1
    )
    return bool(listing.get("KeyCount"))


# -- writing a package -----------------------------------------------------------------------------


def payload_files(
    edges: Edges, intake: Intake, ocr: OcrResult, metadata: dict[str, object]
) -> dict[str, bytes]:
    """Collect the package payload: original bit-exact, searchable PDF, texts, ALTO, metadata."""
    system = edges.settings.buckets.system
    pdf = edges.s3.get_object(Bucket=system, Key=ocr.pdf_key)["Body"].read()
    files = {
        original_name(intake): Path(intake.local_path).read_bytes(),
        "searchable.pdf": pdf,
        "text.txt": ocr.text.encode(),
        "metadata.json": json.dumps(metadata, ensure_ascii=False, indent=2).encode(),
    }
    for page in ocr.pages:
        files[f"pages/page-{page.number:04d}.txt"] = page.text.encode()
        if page.alto_key is not None:
            alto = edges.s3.get_object(Bucket=system, Key=page.alto_key)["Body"].read()
            files[f"pages/page-{page.number:04d}.alto.xml"] = alto
    return files


def write_package(edges: Edges, prefix: str, bag: dict[str, bytes]) -> None:
    """Write a bag's files as loose objects, the tag manifest last (it marks a complete package)."""
    for path in sorted(bag, key=lambda p: p == TAG_MANIFEST):
        edges.s3.put_object(
            Bucket=edges.settings.buckets.archive, Key=prefix + path, Body=bag[path]
        )


def extend_batch_lock(edges: Edges, batch_id: str, until: dt.datetime) -> None:
    """Extend the batch package's lock to ``until`` where it ends sooner (never shorten it)."""
    prefix = f"{batch_id}/"
    check = verify_package(edges, prefix)
    bucket = edges.settings.buckets.archive
    later = {}
    for key, version in check.versions.items():
        head = edges.s3.head_object(Bucket=bucket, Key=prefix + key, VersionId=version)
        current = head.get("ObjectLockRetainUntilDate")
        if current is None or current < until:
            later[key] = version
    if later:
        lock(edges, prefix, later, until)


def bag_info(edges: Edges, letter_id: str, now: dt.datetime, description: str) -> dict[str, str]:
    """Return a package's bag-info.txt fields."""
    return {
        "Source-Organization": edges.settings.archive.source_organization,
        "External-Identifier": letter_id,
        "Bagging-Date": now.date().isoformat(),
        "External-Description": description,
    }


def verified(edges: Edges, prefix: str) -> PackageCheck:
    """Return a stored package's check; a package that does not verify is written again."""
    check = verify_package(edges, prefix)
    if not check.ok:
        raise TransientError(
            f"archive package {prefix} does not verify: {'; '.join(check.problems)}"
        )
    return check


def lock_time(edges: Edges, until: dt.date, now: dt.datetime) -> dt.datetime:
    """Return when a package's lock ends: the end of its retention date (or the test override)."""
    seconds = edges.settings.archive.retention_seconds
    if seconds is not None:
        return now + dt.timedelta(seconds=seconds)
    return dt.datetime.combine(until, dt.time.max, tzinfo=dt.UTC)


def run_languages() -> str | None:
    """Return the ``languages`` parameter of the flow run this task runs in, if it has one."""
    value = flow_run.parameters.get("languages")
    return value if isinstance(value, str) else None


@io_task()
def archive(
    edges: Edges,
    intake: Intake,
    ocr: OcrResult,
    classification: Classification,
    filing: Filing,
    actor: str,
    languages: str | None = None,
) -> ArchivePackage:
    """Write, verify and lock the letter's archival package, once.

    ``languages`` (tesseract's) goes into the package's OCR event; by default, the flow run's own
    ``languages`` parameter.
    """
    letter_id = intake.letter.letter_id
    prefix = f"{letter_id}/"
    now = dt.datetime.now(dt.UTC)
    if not package_exists(edges, prefix):
        # The same decision the route step filed with, so the package's metadata is the DMS's.
        routing = decide(edges.taxonomy, classification, received_at(edges.engine, letter_id))
        metadata = metadata_document(
            intake, ocr, classification, filing.department, filing.rule, routing=routing
        )
        payload = payload_files(edges, intake, ocr, metadata)
        provenance = provenance_for(edges, intake, ocr, now, actor, languages or run_languages())
        payload[METS_FILE] = mets_document(intake, ocr, classification, filing, payload, provenance)
        description = f"{classification.doc_type} for {filing.department}"
        write_package(
            edges, prefix, build_bag(payload, bag_info(edges, letter_id, now, description))
        )
    check = verified(edges, prefix)
    years = edges.taxonomy.retention_years(classification.doc_type, classification.subject)
    until = retention_date(classification.fields.date, now.date(), years)
    if until is not None:
        lock_until = lock_time(edges, until, now)
        lock(edges, prefix, check.versions, lock_until)
        if intake.letter.batch is not None:  # the batch file outlives each of its parts
            extend_batch_lock(edges, letter_id_for(intake.letter.source), lock_until)
    advance(
        edges.engine,
        letter_id,
        State.ARCHIVED,
        step="archive",
        actor=actor,
        detail={"archive_key": prefix, "files": len(check.versions), "retain_until": str(until)},
        archive_key=prefix,
        retain_until=until,
    )
    return ArchivePackage(
        archive_key=prefix, payload_oxum=check.declared_oxum or "", retain_until=until
    )
