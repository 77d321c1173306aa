"""The fixity audit and `postroom archive verify|get|audit`, against the real local S3 server.

Packages are written by the real archive step into an unlocked test bucket (so a test can corrupt
them) or into the stack's Object Lock bucket (so the server must refuse their deletion). Each test
keeps its letters in a records database of its own, so the end-to-end tests' records stay as
they are. The ordering of the rotating sample needs only SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from PIL import Image
from prefect.settings import PREFECT_API_URL, temporary_settings
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flows import archive_commands
from flows.archive_commands import add_archive_commands, add_audit_command
from schemas.db import engine_for, migrate
from schemas.letter import (
    ArchivePackage,
    Classification,
    Fields,
    Filing,
    Intake,
    LetterRef,
    MediaType,
    OcrResult,
    PageText,
    SourceObject,
    State,
)
from schemas.records import Event
from schemas.settings import RecordsSettings, Settings
from tasks.archive import archive, parse_manifest, verify_package
from tasks.audit import FIXITY_FAILED, AuditTarget, audit_package, due_packages
from tasks.edges import Edges, edges_for
from tasks.record import advance, claim_letter, load_letter
from tests.conftest import LocalStack

ACTOR = "test/audit"


def settings_for(stack: LocalStack, tmp_path: Path, archive_bucket: str) -> Settings:
    """Return the stack's settings with this archive bucket and a records database of its own."""
    base = stack.settings
    settings = base.model_copy(
        update={
            "buckets": base.buckets.model_copy(update={"archive": archive_bucket}),
            "records": RecordsSettings(url=f"sqlite:///{tmp_path / 'records.db'}"),
            "archive": base.archive.model_copy(update={"retention_seconds": 60}),
        }
    )
    migrate(settings.records_url)
    return settings


@pytest.fixture
def unlocked(stack: LocalStack, tmp_path: Path) -> Edges:
    """Return edges whose archive is a new bucket without Object Lock or versioning.

    Its taxonomy keeps advertising without retention, so the archive step locks nothing there.
    """
    bucket = f"audit-test-{uuid.uuid4().hex[:12]}"
    stack.s3.create_bucket(Bucket=bucket)
    edges = edges_for(settings_for(stack, tmp_path, bucket))
    types = dict(edges.taxonomy.types)
    types["werbung"] = types["werbung"].model_copy(update={"retention_years": 0})
    return edges.replace(taxonomy=edges.taxonomy.model_copy(update={"types": types}))


@pytest.fixture
def locked(stack: LocalStack, tmp_path: Path) -> Edges:
    """Return edges whose archive is the stack's Object Lock bucket."""
    return edges_for(settings_for(stack, tmp_path, stack.settings.buckets.archive))


def archived_letter(edges: Edges, folder: Path, doc_type: str) -> ArchivePackage:
    """Claim a letter and archive it with the real archive step; return its package."""
    letter_id = uuid.uuid4().hex[:24]
    source = SourceObject(
        bucket=edges.settings.buckets.inbox, key=f"audit/{letter_id}.png", version_id="v1"
    )
    claim_letter(edges.engine, letter_id, source, None, ACTOR)
    scan = folder / f"{letter_id}.png"
    Image.new("L", (120, 60), 255).save(scan)
    body = scan.read_bytes()
    intake = Intake(
        letter=LetterRef(letter_id=letter_id, source=source),
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        media_type=MediaType.PNG,
        pages=1,
        local_path=str(scan),
    )
    ocr = OcrResult(
        letter_id=letter_id,
        pages=(
            PageText(
                number=1, text="Rechnung Nr. 7", confidence=88.0, source="ocr", layer_pdf="p1.pdf"
            ),
        ),
        pdf_key=f"work/{letter_id}/searchable.pdf",
        text_key=f"work/{letter_id}/text.txt",
    )
    system = edges.settings.buckets.system
    edges.s3.put_object(Bucket=system, Key=ocr.pdf_key, Body=b"%PDF-1.7 searchable")
    classification = Classification(
        doc_type=doc_type,
        confidence=0.9,
        classified_by="rule",
        fields=Fields(date=dt.date.today()),
    )
    filing = Filing(
        department="Kämmerei",
        dms_path=f"Kaemmerei/ohne-az/{letter_id}/",
        dms_ref=f"s3://postroom-dms/Kaemmerei/ohne-az/{letter_id}/",
        rule=f"{doc_type} → Kämmerei",
    )
    package: ArchivePackage = archive.fn(
        edges, intake, ocr, classification, filing, ACTOR, languages="deu+eng"
    )
    edges.s3.delete_object(Bucket=system, Key=ocr.pdf_key)
    advance(
        edges.engine,
        letter_id,
        State.DONE,
        step="record",
        actor=ACTOR,
        archive_key=package.archive_key,
        retain_until=package.retain_until,
    )
    return package


def audit_events(edges: Edges, letter_id: str) -> list[dict[str, Any]]:
    """Return the details of a letter's audit events."""
    with Session(edges.engine) as session:
        events = session.scalars(
            select(Event).where(Event.letter_id == letter_id, Event.step == "audit")
        ).all()
        assert all(event.status == State.DONE for event in events)
        return [event.detail or {} for event in events]


@pytest.mark.slow
def test_a_package_written_by_the_archive_step_verifies_and_lists_itself_in_mets(
    unlocked: Edges, tmp_path: Path
) -> None:
    package = archived_letter(unlocked, tmp_path, "werbung")  # no retention here: never locked
    check = verify_package(unlocked, package.archive_key)
    assert check.ok, check.problems
    assert check.declared_oxum == package.payload_oxum == check.found_oxum
    bucket, prefix = unlocked.settings.buckets.archive, package.archive_key
    manifest = unlocked.s3.get_object(Bucket=bucket, Key=f"{prefix}manifest-sha512.txt")
    entries = parse_manifest(manifest["Body"].read().decode())
    mets = unlocked.s3.get_object(Bucket=bucket, Key=f"{prefix}data/mets.xml")["Body"].read()
    assert "data/mets.xml" in entries
    for path, digest in entries.items():
        if path != "data/mets.xml":  # every other payload file, with its SHA-512
            assert f'CHECKSUM="{digest}"'.encode() in mets, path
    for event in ("capture", "ocr", "classification", "routing", "ingest"):
        assert f"<premis:eventType>{event}</premis:eventType>".encode() in mets
    assert b"languages: deu+eng" in mets and b"engine: tesseract " in mets


@pytest.mark.slow
def test_the_audit_catches_a_corrupted_package_and_records_it(
    unlocked: Edges, tmp_path: Path
) -> None:
    package = archived_letter(unlocked, tmp_path, "werbung")
    letter_id, prefix = package.archive_key.rstrip("/"), package.archive_key
    bucket = unlocked.settings.buckets.archive
    unlocked.s3.put_object(Bucket=bucket, Key=f"{prefix}data/searchable.pdf", Body=b"%PDF bitrot")
    unlocked.s3.delete_object(Bucket=bucket, Key=f"{prefix}data/text.txt")
    result = audit_package(unlocked, AuditTarget(letter_id=letter_id, archive_key=prefix), ACTOR)
    assert result.outcome == "mismatch" and result.failed
    problems = "\n".join(result.problems)
    assert "data/searchable.pdf does not match its manifest" in problems
    assert "data/text.txt is missing" in problems
    assert "Payload-Oxum" in problems
    (detail,) = audit_events(unlocked, letter_id)
    assert detail["outcome"] == "mismatch" and detail["event"] == FIXITY_FAILED
    assert detail["problems"] == list(result.problems)
    assert load_letter(unlocked.engine, letter_id).status == State.DONE  # keeps its state


@pytest.mark.slow
def test_the_audit_reports_a_missing_package(unlocked: Edges) -> None:
    letter_id = uuid.uuid4().hex[:24]
    source = SourceObject(bucket="postroom-inbox", key="gone.pdf", version_id="v1")
    claim_letter(unlocked.engine, letter_id, source, None, ACTOR)
    advance(unlocked.engine, letter_id, State.DONE, step="record", actor=ACTOR)
    target = AuditTarget(letter_id=letter_id, archive_key=f"{letter_id}/")
    result = audit_package(unlocked, target, ACTOR)
    assert result.outcome == "missing" and result.files == 0
    assert result.problems == (
        f"no package at s3://{unlocked.settings.buckets.archive}/{letter_id}/",
    )
    (detail,) = audit_events(unlocked, letter_id)
    assert detail["outcome"] == "missing" and detail["event"] == FIXITY_FAILED


@pytest.mark.slow
def test_the_server_refuses_to_delete_a_locked_package(locked: Edges, tmp_path: Path) -> None:
    package = archived_letter(locked, tmp_path, "rechnung")  # locked for 60 s by the setting
    assert package.retain_until is not None
    check = verify_package(locked, package.archive_key)
    assert check.ok and {f.lock_mode for f in check.files} == {"COMPLIANCE"}
    bucket, key = locked.settings.buckets.archive, f"{package.archive_key}data/original.png"
    version = check.versions["data/original.png"]
    with pytest.raises(ClientError) as refused:
        locked.s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert locked.s3.head_object(Bucket=bucket, Key=key, VersionId=version)["ContentLength"] > 0


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print the commands' tables unwrapped, as on a wide terminal."""
    monkeypatch.setattr(archive_commands, "console", Console(width=200))


def run_command(settings: Settings, *argv: str) -> int:
    """Run a command of flows/archive_commands.py as the CLI would."""
    root = argparse.ArgumentParser(prog="postroom")
    sub = root.add_subparsers(dest="command", required=True)
    add_archive_commands(sub)
    add_audit_command(sub)
    args = root.parse_args(argv)
    code: int = args.run(settings, args)
    return code


@pytest.mark.slow
def test_archive_verify_checks_manifests_and_locks(
    locked: Edges, unlocked: Edges, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sound = archived_letter(locked, tmp_path, "rechnung")
    assert run_command(locked.settings, "archive", "verify", sound.archive_key[:10]) == 0
    out = capsys.readouterr().out
    assert "COMPLIANCE" in out and "matches its manifests" in out
    broken = archived_letter(unlocked, tmp_path, "werbung")
    bucket = unlocked.settings.buckets.archive
    key = f"{broken.archive_key}data/metadata.json"
    unlocked.s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    assert run_command(unlocked.settings, "archive", "verify", broken.archive_key[:-1]) == 1
    out = capsys.readouterr().out
    assert "data/metadata.json does not match its manifest" in out
    assert run_command(unlocked.settings, "archive", "verify", "no-such-letter") == 1


@pytest.mark.slow
def test_archive_get_downloads_a_bag_that_verifies_locally(
    unlocked: Edges, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = archived_letter(unlocked, tmp_path, "werbung")
    letter_id = package.archive_key.rstrip("/")
    out_dir = tmp_path / "download"
    assert run_command(unlocked.settings, "archive", "get", letter_id, "-o", str(out_dir)) == 0
    bag = out_dir / letter_id
    entries = parse_manifest((bag / "manifest-sha512.txt").read_text())
    entries.update(parse_manifest((bag / "tagmanifest-sha512.txt").read_text()))
    for path, digest in entries.items():
        assert hashlib.sha512((bag / path).read_bytes()).hexdigest() == digest, path
    assert (bag / "bagit.txt").read_bytes().startswith(b"BagIt-Version: 1.0")
    assert "matches its manifests" in capsys.readouterr().out
    # A second download into the same place refuses to mix two copies.
    assert run_command(unlocked.settings, "archive", "get", letter_id, "-o", str(out_dir)) == 1


def prefect_post(stack: LocalStack, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST a filter to the stack's Prefect API and return the answer."""
    response = httpx.post(f"{stack.env['PREFECT_API_URL']}{path}", json=body, timeout=10)
    response.raise_for_status()
    answer = response.json()
    return list(answer["events"] if isinstance(answer, dict) else answer)


def fixity_events(stack: LocalStack, letter_id: str) -> list[dict[str, Any]]:
    """Return the fixity-failed events the Prefect server holds for a letter."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    return prefect_post(
        stack,
        "/events/filter",
        {
            "filter": {
                "occurred": {"since": since},
                "event": {"name": [FIXITY_FAILED]},
                "resource": {"id": [f"postroom.letter.{letter_id}"]},
            }
        },
    )


@pytest.fixture
def audit_env(
    stack: LocalStack, unlocked: Edges, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Point Settings() (what the flow reads) and Prefect in this process at the test setup."""
    settings = unlocked.settings
    for name, value in {
        "POSTROOM_DATA_DIR": str(settings.data_dir),
        "POSTROOM_S3__ENDPOINT_URL": settings.s3.endpoint_url,
        "POSTROOM_BUCKETS__ARCHIVE": settings.buckets.archive,
        "POSTROOM_RECORDS__URL": settings.records_url,
    }.items():
        monkeypatch.setenv(name, value)
    with temporary_settings(updates={PREFECT_API_URL: stack.env["PREFECT_API_URL"]}):
        yield settings


@pytest.mark.slow
def test_postroom_audit_runs_the_flow_reports_and_emits_an_event(
    stack: LocalStack,
    unlocked: Edges,
    audit_env: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sound = archived_letter(unlocked, tmp_path, "werbung")
    broken = archived_letter(unlocked, tmp_path, "werbung")
    bucket = unlocked.settings.buckets.archive
    unlocked.s3.put_object(Bucket=bucket, Key=f"{broken.archive_key}data/original.png", Body=b"x")
    assert run_command(audit_env, "audit") == 1
    out = capsys.readouterr().out
    assert "2 package(s) audited, 1 failed" in out and "mismatch" in out
    broken_id, sound_id = broken.archive_key.rstrip("/"), sound.archive_key.rstrip("/")
    assert [d["outcome"] for d in audit_events(unlocked, broken_id)] == ["mismatch"]
    assert [d["outcome"] for d in audit_events(unlocked, sound_id)] == ["ok"]
    deadline = time.monotonic() + 30
    while not (events := fixity_events(stack, broken_id)) and time.monotonic() < deadline:
        time.sleep(1)
    assert events, "the fixity-failed event did not reach the Prefect server"
    assert events[0]["payload"]["archive_key"] == broken.archive_key
    assert fixity_events(stack, sound_id) == []
    artifacts = prefect_post(
        stack, "/artifacts/filter", {"artifacts": {"key": {"any_": ["fixity-audit"]}}}
    )
    assert any("1 failed" in (a.get("description") or "") for a in artifacts)
    # The sample takes the package verified longest ago: the audit just verified both, the
    # sound one first or last; after auditing the sample of one, the other comes next.
    assert run_command(audit_env, "audit", "--sample", "1") in {0, 1}
    first = due_packages(unlocked.engine)[0].letter_id
    assert run_command(audit_env, "audit", "--sample", "1") in {0, 1}
    assert due_packages(unlocked.engine)[-1].letter_id == first


def settle(engine: Engine, letter_id: str, status: State, archive_key: str | None = "") -> None:
    """Claim a letter and give it a state and (by default) a package under its id."""
    source = SourceObject(bucket="postroom-inbox", key=letter_id, version_id="v1")
    claim_letter(engine, letter_id, source, None, ACTOR)
    key = f"{letter_id}/" if archive_key == "" else archive_key
    advance(engine, letter_id, status, step="record", actor=ACTOR, archive_key=key)


def test_the_sample_rotates_through_the_packages_verified_longest_ago(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate(url)
    engine = engine_for(url)
    now = dt.datetime.now(dt.UTC)
    history: dict[str, list[tuple[str, int]]] = {
        "never": [],
        "archived-3d": [("archive", 3)],
        "audited-1d": [("archive", 5), ("audit", 1)],
        "audited-2d": [("archive", 9), ("audit", 2)],
    }
    for name, steps in history.items():
        settle(engine, name, State.DONE)
        with Session(engine) as session, session.begin():
            for step, days in steps:
                at = now - dt.timedelta(days=days)
                session.add(Event(letter_id=name, step=step, status="done", actor=ACTOR, at=at))
    settle(engine, "in-flight", State.ARCHIVED)  # its own flow run is still verifying it
    settle(engine, "no-package", State.QUARANTINED, archive_key=None)
    order = ["never", "archived-3d", "audited-2d", "audited-1d"]
    assert [t.letter_id for t in due_packages(engine)] == order
    assert [t.letter_id for t in due_packages(engine, 2)] == order[:2]
    with pytest.raises(ValueError, match="at least 1"):
        due_packages(engine, 0)
