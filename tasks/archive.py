"""The archive step: a BagIt 1.0 package per letter (RFC 8493, SHA-512), locked under Object Lock.

The package is written as loose objects under ``<letter id>/`` in the archive bucket, read back and
verified against its manifests, and only then locked (COMPLIANCE mode) until the retention date.
The tag manifest is written last, so its presence marks a complete package for a re-run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.letter import ArchivePackage, Classification, Filing, Intake, OcrResult, State
from tasks.edges import Edges
from tasks.errors import TransientError, retry_condition
from tasks.record import advance
from tasks.route import metadata_document

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
TAG_MANIFEST = "tagmanifest-sha512.txt"
# A letter date further back than this before receipt is taken as misread (DESIGN.md: the lock
# can never be shortened, so the retention date must not rest on an implausible date).
MAX_LETTER_AGE = dt.timedelta(days=5 * 366)


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


def build_bag(payload: dict[str, bytes], info: dict[str, str]) -> dict[str, bytes]:
    """Return every file of a BagIt bag: payload under data/, tag files, both manifests."""
    data = {f"data/{path}": body for path, body in payload.items()}
    oxum = f"{sum(len(b) for b in payload.values())}.{len(payload)}"
    bag_info = "".join(f"{key}: {value}\n" for key, value in {**info, "Payload-Oxum": oxum}.items())
    tags = {
        "bagit.txt": BAGIT_TXT,
        "bag-info.txt": bag_info.encode(),
        "manifest-sha512.txt": manifest(data),
    }
    return {**data, **tags, TAG_MANIFEST: manifest(tags)}


def retention_date(letter_date: dt.date | None, received: dt.date, years: int) -> dt.date | None:
    """Return the end of the calendar year of the letter date plus ``years`` (None: keep none)."""
    if years <= 0:
        return None
    plausible = letter_date is not None and received - MAX_LETTER_AGE <= letter_date <= received
    start = letter_date if plausible and letter_date else received
    return dt.date(start.year + years, 12, 31)


def verify_package(edges: Edges, prefix: str) -> dict[str, str]:
    """Read a package back and check every file against its manifests; return path → version id."""
    bucket = edges.settings.buckets.archive
    read = edges.s3.get_object(Bucket=bucket, Key=prefix + TAG_MANIFEST)
    expected = parse_manifest(read["Body"].read().decode())
    versions = {TAG_MANIFEST: read.get("VersionId", "")}
    payload_manifest = edges.s3.get_object(Bucket=bucket, Key=prefix + "manifest-sha512.txt")
    expected.update(parse_manifest(payload_manifest["Body"].read().decode()))
    for path, digest in expected.items():
        obj = edges.s3.get_object(Bucket=bucket, Key=prefix + path)
        if hashlib.sha512(obj["Body"].read()).hexdigest() != digest:
            raise TransientError(f"archive object {prefix}{path} does not match its manifest")
        versions[path] = obj.get("VersionId", "")
    return versions


def lock(edges: Edges, prefix: str, versions: dict[str, str], until: dt.datetime) -> None:
    """Lock every object version of a package in COMPLIANCE mode until ``until``."""
    bucket = edges.settings.buckets.archive
    for path, version in versions.items():
        edges.s3.put_object_retention(
            Bucket=bucket,
            Key=prefix + path,
            VersionId=version,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until},
        )


def package_exists(edges: Edges, prefix: str) -> bool:
    """Return whether a complete package (its tag manifest) is already stored."""
    listing = edges.s3.list_objects_v2(
        Bucket=edges.settings.buckets.archive, Prefix=prefix + TAG_MANIFEST, MaxKeys=1
    )
    return bool(listing.get("KeyCount"))


def payload_files(
    edges: Edges, intake: Intake, ocr: OcrResult, metadata: dict[str, object]
) -> dict[str, bytes]:
    """Collect the package payload: original bit-exact, searchable PDF, texts, metadata."""
    pdf = edges.s3.get_object(Bucket=edges.settings.buckets.system, Key=ocr.pdf_key)["Body"].read()
    files = {
        f"original{intake.media_type.suffix}": Path(intake.local_path).read_bytes(),
        "searchable.pdf": pdf,
        "text.txt": ocr.text.encode(),
        "metadata.json": json.dumps(metadata, ensure_ascii=False, indent=2).encode(),
    }
    for page in ocr.pages:
        files[f"pages/page-{page.number:04d}.txt"] = page.text.encode()
    return files


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_condition,
    cache_policy=NO_CACHE,
)
def archive(
    edges: Edges,
    intake: Intake,
    ocr: OcrResult,
    classification: Classification,
    filing: Filing,
    actor: str,
) -> ArchivePackage:
    """Write, verify and lock the letter's archival package, once."""
    letter_id = intake.letter.letter_id
    prefix = f"{letter_id}/"
    bucket = edges.settings.buckets.archive
    settings = edges.settings.archive
    received = dt.datetime.now(dt.UTC)
    if not package_exists(edges, prefix):
        metadata = metadata_document(intake, ocr, classification, filing.department, filing.rule)
        bag = build_bag(
            payload_files(edges, intake, ocr, metadata),
            {
                "Source-Organization": settings.source_organization,
                "External-Identifier": letter_id,
                "Bagging-Date": received.date().isoformat(),
                "External-Description": f"{classification.doc_type} for {filing.department}",
            },
        )
        for path in sorted(bag, key=lambda p: p == TAG_MANIFEST):
            edges.s3.put_object(Bucket=bucket, Key=prefix + path, Body=bag[path])
    versions = verify_package(edges, prefix)
    years = edges.taxonomy.retention_years(classification.doc_type, classification.subject)
    until = retention_date(classification.fields.date, received.date(), years)
    if until is not None:
        lock_until = dt.datetime.combine(until, dt.time.max, tzinfo=dt.UTC)
        if settings.retention_seconds is not None:
            lock_until = received + dt.timedelta(seconds=settings.retention_seconds)
        lock(edges, prefix, versions, lock_until)
    info = edges.s3.get_object(Bucket=bucket, Key=prefix + "bag-info.txt")["Body"].read().decode()
    oxum = next(
        line.split(":", 1)[1].strip()
        for line in info.splitlines()
        if line.startswith("Payload-Oxum")
    )
    advance(
        edges.engine,
        letter_id,
        State.ARCHIVED,
        step="archive",
        actor=actor,
        detail={"archive_key": prefix, "files": len(versions), "retain_until": str(until)},
        archive_key=prefix,
        retain_until=until,
    )
    return ArchivePackage(archive_key=prefix, payload_oxum=oxum, retain_until=until)
