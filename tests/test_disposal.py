"""Disposal: the migrations, the offer (CSV and xdomea 0501 XML) and the archivist's decision.

The first tests use a real SQLite file; the ``slow`` ones run against the session's real local
stack (weed mini with Object Lock, the records database, the `postroom` command).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from schemas.db import alembic_config, engine_for, migrate
from schemas.export import export_schema
from schemas.letter import SourceObject, State
from schemas.records import Base, Decision, Disposal, Event
from schemas.search import include_name
from tasks.archive import build_bag
from tasks.dispose import (
    DisposalRefusedError,
    complete_decision,
    decide,
    delete_versions,
    offer_csv,
    offer_items,
    offer_xml,
    record_decision,
    xdomea_id,
)
from tasks.edges import edges_for
from tasks.intake import letter_id_for
from tasks.record import advance, claim_letter, load_letter

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.conftest import LocalStack

ACTOR = "flow-run/test"
AS_OF = dt.date(2030, 1, 1)
NS = "{urn:xoev-de:xdomea:schema:3.0.0}"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FIELDS = {
    "sender": "Stadtwerke Musterstadt GmbH",
    "date": "2019-03-12",
    "aktenzeichen": "32.1-2019/0815",
    "iban": "DE89370400440532013000",
    "amount_total": 1234.56,
    "invoice_number": "RE-2019-0042",
    "customer_number": "KD-12345",
}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Return a migrated records database in a temporary file."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate(url)
    return engine_for(url)


def finished_letter(
    engine: Engine,
    retain_until: dt.date | None,
    *,
    status: State = State.DONE,
    dms_ref: str | None = None,
    key: str = "scan.pdf",
) -> str:
    """Record a finished letter with a retention date; return its id."""
    source = SourceObject(bucket="postroom-inbox", key=key, version_id=uuid.uuid4().hex)
    letter_id = letter_id_for(source)
    claim_letter(engine, letter_id, source, None, ACTOR)
    advance(
        engine,
        letter_id,
        status,
        step="record",
        actor=ACTOR,
        sha256=hashlib.sha256(letter_id.encode()).hexdigest(),
        pages=1,
        doc_type="rechnung",
        department="Kämmerei",
        fields=FIELDS,
        text="Stadtwerke Musterstadt GmbH\n\nRechnung RE-2019-0042",
        reasons=["literal 'Rechnung' in the Betreff"],
        dms_ref=dms_ref,
        archive_key=f"{letter_id}/",
        retain_until=retain_until,
    )
    return letter_id


# --- migrations and the offer, on SQLite ------------------------------------------------------


def test_migrations_run_from_empty_to_head_and_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate(url)
    engine = engine_for(url)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as connection:
        assert (
            connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head
        )
        assert head == "0004"
        assert {"letters", "events", "disposals"} <= set(inspect(connection).get_table_names())
        assert (
            compare_metadata(
                MigrationContext.configure(connection, opts={"include_name": include_name}),
                Base.metadata,
            )
            == []
        )
    config = alembic_config(url)
    with engine.begin() as connection:  # and back down to 0001 and up again
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        assert "disposals" not in inspect(connection).get_table_names()
        command.upgrade(config, "head")
        assert "disposals" in inspect(connection).get_table_names()


def test_the_offer_lists_exactly_the_letters_whose_retention_has_passed(engine: Engine) -> None:
    past = finished_letter(engine, AS_OF - dt.timedelta(days=1))
    long_past = finished_letter(engine, dt.date(2020, 12, 31))
    finished_letter(engine, AS_OF)  # the lock holds through its last day
    finished_letter(engine, AS_OF + dt.timedelta(days=365))
    finished_letter(engine, None)  # a type without retention: never locked, never offered
    finished_letter(engine, dt.date(2020, 12, 31), status=State.ARCHIVED)  # still in flight
    decided = finished_letter(engine, dt.date(2020, 12, 31))
    record_decision(engine, decided, Decision.ARCHIVE, by="test", note=None, as_of=AS_OF)

    offered = offer_items(engine, AS_OF)

    assert [item.letter_id for item in offered] == [long_past, past]  # oldest retention first
    assert offered[0].aktenzeichen == "32.1-2019/0815"
    assert offered[0].letter_date == dt.date(2019, 3, 12)
    rows = list(csv.DictReader(io.StringIO(offer_csv(offered))))
    assert [row["id"] for row in rows] == [long_past, past]
    assert rows[1]["retain_until"] == (AS_OF - dt.timedelta(days=1)).isoformat()
    assert all(row["assessment"] == "" for row in rows)
    assert "Stadtwerke" not in offer_csv(offered)  # no personal content in the offer


def local(element: ET.Element) -> str:
    """Return an element's name without its namespace."""
    return element.tag.removeprefix(NS)


def test_the_offer_xml_parses_with_the_xdomea_0501_elements(engine: Engine) -> None:
    letter_id = finished_letter(engine, dt.date(2029, 12, 31))
    items = offer_items(engine, AS_OF)
    created = dt.datetime(2030, 1, 2, 8, 0, tzinfo=dt.UTC)

    xml = offer_xml(items, as_of=AS_OF, sender="Kreisverwaltung Musterkreis", created=created)
    root = ET.fromstring(xml)  # noqa: S314 - our own output, no external entities

    assert root.tag == f"{NS}Aussonderung.Anbieteverzeichnis.0501"
    assert [local(child) for child in root] == ["Kopf", "Schriftgutobjekt"]
    head = root.find(f"{NS}Kopf")
    assert head is not None
    assert [local(child) for child in head] == [
        "ProzessID",
        "Nachrichtentyp",
        "Erstellungszeitpunkt",
        "Absender",
        "Empfaenger",
        "SendendesSystem",
        "Hinweis",
        "Empfangsbestaetigung",
    ]
    assert UUID.fullmatch(head.findtext(f"{NS}ProzessID") or "")
    assert head.findtext(f"{NS}Nachrichtentyp/code") == "0501"
    assert head.findtext(f"{NS}Absender/{NS}Institution/{NS}Name") == "Kreisverwaltung Musterkreis"
    vorgang = root.find(f"{NS}Schriftgutobjekt/{NS}Vorgang")
    assert vorgang is not None
    assert [local(child) for child in vorgang] == [  # the order of xdomea's VorgangType
        "Identifikation",
        "AllgemeineMetadaten",
        "ArchivspezifischeMetadaten",
        "Typ",
        "Laufzeit",
        "Dokument",
    ]
    vorgang_id = vorgang.findtext(f"{NS}Identifikation/{NS}ID") or ""
    assert UUID.fullmatch(vorgang_id)
    assert vorgang_id.replace("-", "").startswith(letter_id) and vorgang_id == xdomea_id(letter_id)
    assert vorgang.findtext(f"{NS}AllgemeineMetadaten/{NS}Betreff") == "rechnung"
    assert vorgang.findtext(f"{NS}AllgemeineMetadaten/{NS}Kennzeichen") == "32.1-2019/0815"
    assert vorgang.findtext(f"{NS}AllgemeineMetadaten/{NS}Federfuehrung") == "Kämmerei"
    archival = f"{NS}ArchivspezifischeMetadaten/{NS}"
    assert vorgang.findtext(f"{archival}Aufbewahrungsende") == "2029-12-31"
    assessment = vorgang.find(f"{archival}Aussonderungsart/{NS}Aussonderungsart")
    assert assessment is not None
    assert assessment.findtext("code") == "B"  # "zum Bewerten markiert": for the archivist
    assert assessment.get("listURI") == "urn:xoev-de:xdomea:codeliste:aussonderungsart"
    assert vorgang.findtext(f"{NS}Laufzeit/{NS}Beginn") == "2019-03-12"
    dokument = vorgang.find(f"{NS}Dokument")
    assert dokument is not None
    assert [local(child) for child in dokument] == [
        "Identifikation",
        "AllgemeineMetadaten",
        "Posteingangsdatum",
        "DatumDesSchreibens",
        "Typ",
    ]
    assert dokument.findtext(f"{NS}Identifikation/{NS}ID") == xdomea_id(letter_id, 1)
    assert dokument.findtext(f"{NS}Posteingangsdatum") == items[0].received_at.date().isoformat()
    assert dokument.findtext(f"{NS}DatumDesSchreibens") == "2019-03-12"
    assert b"Stadtwerke" not in xml and b"DE89" not in xml  # no personal content


def test_a_decision_is_refused_before_the_retention_ends(engine: Engine) -> None:
    letter_id = finished_letter(engine, AS_OF)
    with pytest.raises(DisposalRefusedError, match="runs until 2030-01-01"):
        record_decision(engine, letter_id, Decision.DESTROY, by="test", note=None, as_of=AS_OF)
    with Session(engine) as session:
        assert session.scalars(select(Disposal)).all() == []


def test_a_decision_is_final(engine: Engine) -> None:
    letter_id = finished_letter(engine, dt.date(2020, 12, 31))
    first = record_decision(
        engine, letter_id, Decision.DESTROY, by="test", note="Kassation", as_of=AS_OF
    )
    # an interrupted decision is taken up again, a different one is refused
    again = record_decision(engine, letter_id, Decision.DESTROY, by="test", note=None, as_of=AS_OF)
    assert again.id == first.id
    with pytest.raises(DisposalRefusedError, match="already has a decision: destroy by test"):
        record_decision(engine, letter_id, Decision.ARCHIVE, by="test", note=None, as_of=AS_OF)
    complete_decision(engine, first.id)
    for decision in Decision:  # once carried out, nothing more
        with pytest.raises(DisposalRefusedError, match="already has a decision"):
            record_decision(engine, letter_id, decision, by="other", note=None, as_of=AS_OF)
    with Session(engine) as session:
        rows = session.scalars(select(Disposal)).all()
        assert [(r.letter_id, r.decision, r.decided_by, r.note) for r in rows] == [
            (letter_id, "destroy", "test", "Kassation")
        ]
        steps = session.scalars(select(Event.step).where(Event.letter_id == letter_id)).all()
        assert steps.count("dispose") == 1


# --- against the real local stack -------------------------------------------------------------


def put_package(
    s3: S3Client, bucket: str, letter_id: str, lock_seconds: float, *, mets: bool = False
) -> tuple[dict[str, bytes], dt.datetime]:
    """Store a small bag under ``<letter id>/`` (one file twice: two versions), locked briefly."""
    payload = {"original.pdf": b"%PDF-1.7 a scanned letter", "text.txt": b"Sehr geehrte Damen"}
    if mets:
        payload["mets.xml"] = b'<mets xmlns="http://www.loc.gov/METS/"/>'
    bag = build_bag(payload, {"External-Identifier": letter_id})
    s3.put_object(Bucket=bucket, Key=f"{letter_id}/data/text.txt", Body=b"an earlier version")
    versions = [
        (path, s3.put_object(Bucket=bucket, Key=f"{letter_id}/{path}", Body=body)["VersionId"])
        for path, body in bag.items()
    ]
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lock_seconds)
    listing = s3.list_object_versions(Bucket=bucket, Prefix=f"{letter_id}/")
    for version in listing.get("Versions", []):
        s3.put_object_retention(
            Bucket=bucket,
            Key=version["Key"],
            VersionId=version["VersionId"],
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until},
        )
    assert len(versions) == len(bag)
    return bag, until


def stack_letter(
    stack: LocalStack, *, lock_seconds: float, mets: bool = False
) -> tuple[str, dict[str, bytes], dt.datetime]:
    """Record a finished letter in the stack with its DMS copy and a briefly locked package.

    Return its id, the bag's files and until when they are locked.
    """
    settings = stack.settings
    retain_until = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=400)
    placeholder = finished_letter(stack.engine, retain_until, key=f"{uuid.uuid4().hex}.pdf")
    dms_ref = f"s3://{settings.buckets.dms}/Kaemmerei/ohne-az/{placeholder}/"
    advance(stack.engine, placeholder, State.DONE, step="route", actor=ACTOR, dms_ref=dms_ref)
    for name in ("letter.pdf", "text.txt", "metadata.json"):
        key = f"Kaemmerei/ohne-az/{placeholder}/{name}"
        stack.s3.put_object(Bucket=settings.buckets.dms, Key=key, Body=b"filed")
    bag, until = put_package(
        stack.s3, settings.buckets.archive, placeholder, lock_seconds, mets=mets
    )
    return placeholder, bag, until


def said(done: subprocess.CompletedProcess[str]) -> str:
    """Return what a command printed, its lines (wrapped to the terminal) joined."""
    return " ".join((done.stdout + done.stderr).split())


def versions_under(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    """Return every version and delete marker under ``prefix``."""
    listing = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    found = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return [f"{item['Key']}?{item.get('VersionId')}" for item in found]


@pytest.mark.slow
def test_destroy_waits_for_the_lock_then_leaves_only_a_tombstone(stack: LocalStack) -> None:
    settings = stack.settings
    letter_id, _bag, until = stack_letter(stack, lock_seconds=4)
    archive = settings.buckets.archive
    stack.s3.put_object(Bucket=archive, Key=f"{letter_id}/stray.txt", Body=b"never locked")
    before = load_letter(stack.engine, letter_id)
    dms_prefix = f"Kaemmerei/ohne-az/{letter_id}/"

    # in-process, so that the lock surely still holds (the command takes seconds to start)
    with pytest.raises(DisposalRefusedError, match=r"locked until .* nothing was deleted"):
        decide(edges_for(settings), letter_id, Decision.DESTROY, by="test")
    assert len(versions_under(stack.s3, archive, f"{letter_id}/")) == 8
    assert load_letter(stack.engine, letter_id).status == State.DONE

    time.sleep(max(0.0, (until - dt.datetime.now(dt.UTC)).total_seconds()) + 1)  # it expires
    done = stack.postroom("disposal", "decide", letter_id[:12], "--destroy", "--by", "test")
    assert "destroyed by test" in said(done)

    assert versions_under(stack.s3, archive, f"{letter_id}/") == []
    assert versions_under(stack.s3, settings.buckets.dms, dms_prefix) == []
    tombstone = load_letter(stack.engine, letter_id)
    assert tombstone.status == State.DESTROYED
    assert tombstone.sha256 == before.sha256 and tombstone.doc_type == "rechnung"
    assert tombstone.retain_until == before.retain_until
    assert tombstone.text is None and tombstone.reasons is None
    assert tombstone.fields == {"date": "2019-03-12"}
    assert tombstone.dms_ref is None and tombstone.archive_key is None
    with Session(stack.engine) as session:
        disposal = session.scalars(select(Disposal).where(Disposal.letter_id == letter_id)).one()
        assert (disposal.decision, disposal.decided_by) == ("destroy", "test")
        assert disposal.completed_at is not None
        events = session.scalars(
            select(Event).where(Event.letter_id == letter_id, Event.step == "dispose")
        ).all()
        assert [e.status for e in events][-1] == State.DESTROYED
        assert events[-1].actor == "archivist/test"
    [exported] = [line for line in stack.export() if line["id"] == letter_id]
    validator = jsonschema.Draft202012Validator(
        export_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(exported)
    assert exported["status"] == "destroyed" and exported["text"] is None

    again = stack.postroom("disposal", "decide", letter_id, "--archive", "--by", "x", check=False)
    assert again.returncode == 1 and "already has a decision" in said(again)


@pytest.mark.slow
def test_the_server_refuses_to_delete_a_locked_version(stack: LocalStack) -> None:
    bucket = stack.settings.buckets.archive
    key = f"refusal-{uuid.uuid4().hex}/bagit.txt"
    put = stack.s3.put_object(Bucket=bucket, Key=key, Body=b"BagIt-Version: 1.0\n")
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
    stack.s3.put_object_retention(
        Bucket=bucket,
        Key=key,
        VersionId=put["VersionId"],
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until},
    )
    with pytest.raises(DisposalRefusedError, match="the server refused to delete"):
        delete_versions(stack.s3, bucket, [(key, put["VersionId"], False)], "the package object")
    assert stack.s3.head_object(Bucket=bucket, Key=key, VersionId=put["VersionId"])


@pytest.mark.slow
def test_archive_exports_the_bag_as_a_zip_and_keeps_everything(
    stack: LocalStack, tmp_path: Path
) -> None:
    letter_id, bag, _until = stack_letter(stack, lock_seconds=60, mets=True)

    done = stack.postroom(
        "disposal", "decide", letter_id, "--archive", "--by", "test", "--out", str(tmp_path)
    )

    assert "with METS" in said(done)
    target = tmp_path / f"{letter_id}.zip"
    with zipfile.ZipFile(target) as bundle:
        assert sorted(bundle.namelist()) == sorted(f"{letter_id}/{path}" for path in bag)
        assert all(bundle.read(f"{letter_id}/{path}") == body for path, body in bag.items())
    with Session(stack.engine) as session:
        disposal = session.scalars(select(Disposal).where(Disposal.letter_id == letter_id)).one()
        assert disposal.decision == "archive" and disposal.transfer_ref == str(target.resolve())
        assert disposal.transfer_sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    row = load_letter(stack.engine, letter_id)
    assert row.status == State.DONE and row.text is not None
    assert versions_under(stack.s3, stack.settings.buckets.archive, f"{letter_id}/")


@pytest.mark.slow
def test_the_offer_reaches_the_command_line_and_the_system_bucket(
    stack: LocalStack, tmp_path: Path
) -> None:
    letter_id = finished_letter(stack.engine, dt.date(2000, 12, 31), key=f"{uuid.uuid4().hex}.pdf")
    as_of = "2001-01-01"  # only letters whose retention ended in 2000 are offered

    listed = stack.postroom(
        "disposal", "list", "--as-of", as_of, "--csv", str(tmp_path / "o.csv"),
        "--xml", str(tmp_path / "o.xml"),
    )  # fmt: skip
    assert letter_id[:12] in said(listed)
    assert letter_id in (tmp_path / "o.csv").read_text()
    assert xdomea_id(letter_id).encode() in (tmp_path / "o.xml").read_bytes()

    script = (
        "import datetime, sys; from flows.disposal_offer import disposal_offer; "
        f"sys.exit(0 if disposal_offer(as_of=datetime.date.fromisoformat('{as_of}')) else 1)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        env=stack.env,
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    system = stack.settings.buckets.system
    listing = stack.s3.list_objects_v2(Bucket=system, Prefix=f"disposal/{as_of}/")
    keys = sorted(item["Key"] for item in listing.get("Contents", []))
    assert keys[0].endswith("_Aussonderung.Anbieteverzeichnis.0501.xml")
    assert keys[1] == f"disposal/{as_of}/offer.csv"
    body = stack.s3.get_object(Bucket=system, Key=keys[1])["Body"].read().decode()
    assert letter_id in body
    artifact = stack.prefect("artifact", "inspect", "disposal-offer", "--output", "json")
    [latest, *_] = json.loads(artifact.stdout)
    assert latest["type"] == "table" and letter_id in json.dumps(latest["data"])
