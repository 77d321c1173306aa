"""The dispose step: the disposal offer when retention ends, and the archivist's decision.

**Offer** (flow ``disposal-offer``, ``postroom disposal list``): every letter that is done, whose
retention date has passed and that has no decision yet, as a CSV table and as the xdomea message
``Aussonderung.Anbieteverzeichnis.0501``, following **xdomea 3.0.0** (namespace
``urn:xoev-de:xdomea:schema:3.0.0``, ``xdomea-Nachrichten-AussonderungDurchfuehren.xsd``; head
``NkNichtFVDatenEinEmpfaengerMitEmpfangsbestaetigungType``). Each letter is one
``Schriftgutobjekt`` holding a ``Vorgang`` with the letter's one ``Dokument`` (in 3.0.0 only Akte
and Vorgang carry ``ArchivspezifischeMetadaten``)::

    Vorgang
      Identifikation/ID                             the letter id as a UUID (below)
      AllgemeineMetadaten/Betreff                   the type (and subject): "antrag: Wohngeld"
      AllgemeineMetadaten/Kennzeichen               the Aktenzeichen, when one was recognised
      AllgemeineMetadaten/Federfuehrung             the department
      ArchivspezifischeMetadaten/Aussonderungsart   code B, "zum Bewerten markiert": the
                                                    archivist's assessment (A or V) is open
      ArchivspezifischeMetadaten/Aufbewahrungsende  the retention date
      Typ                                           the document type
      Laufzeit/Beginn, Laufzeit/Ende                letter date (else receipt), receipt
      Dokument
        Identifikation/ID, AllgemeineMetadaten/Betreff, AllgemeineMetadaten/Kennzeichen
        Posteingangsdatum                           the receipt date
        DatumDesSchreibens                          the letter date, when one was recognised
        Typ                                         the document type

An xdomea ID is a UUID (``stringUUIDType``): its first 24 hex digits are the letter id, the last
8 name the part (``00000000`` the Vorgang, ``00000001`` the Dokument), so the letter id reads
straight off it. Personal content (sender, amounts, text) is not offered.

**Decision** (``postroom disposal decide``): refused unless the letter is done, its retention
has ended and it has no decision yet; an interrupted decision of the same kind is resumed. The
decision is recorded first: nothing is exported or deleted without it.

- ``archive``: the package (every object under ``<letter id>/``, ``data/mets.xml`` included when
  the package has one) is checked against its manifests and written as a zip for transfer; its
  path and SHA-256 are recorded; everything is kept.
- ``destroy``: every version of the package is deleted (while a lock holds, nothing is deleted
  and nothing is recorded as destroyed), then the DMS copy, the work files, the text and the
  personal fields; the row stays as a tombstone with status ``destroyed`` and an event.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from botocore.exceptions import ClientError
from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.letter import State
from schemas.records import (
    Decision,
    Disposal,
    DisposalOutcome,
    Event,
    Letter,
    OfferFiles,
    OfferItem,
)
from tasks.archive import TAG_MANIFEST, parse_manifest
from tasks.edges import Edges
from tasks.errors import PostroomError, io_task
from tasks.record import advance, delete_work_files, load_letter

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

XDOMEA_VERSION = "3.0.0"
XDOMEA_NS = f"urn:xoev-de:xdomea:schema:{XDOMEA_VERSION}"
OFFER_MESSAGE = "Aussonderung.Anbieteverzeichnis.0501"
AUSSONDERUNGSART_LIST = "urn:xoev-de:xdomea:codeliste:aussonderungsart"
TO_BE_ASSESSED = "B"  # Aussonderungsart: "Das Schriftgutobjekt ist zum Bewerten markiert."
DEFAULT_RECIPIENT = "zuständiges Archiv"
VORGANG, DOKUMENT = 0, 1
CSV_COLUMNS = (
    "id",
    "xdomea_id",
    "aktenzeichen",
    "betreff",
    "doc_type",
    "department",
    "received",
    "letter_date",
    "retain_until",
    "assessment",  # left empty for the archivist: A (archive) or V (destroy)
)
MAX_NAME = 100
CHUNK = 1024 * 1024
_LETTER_ID = re.compile(r"[0-9a-f]{24}")

ET.register_namespace("xdomea", XDOMEA_NS)


class DisposalRefusedError(PostroomError):
    """A decision cannot be taken or carried out now; the message says why and what to do."""


def today() -> dt.date:
    """Return today's date in UTC, the calendar the retention dates are kept in."""
    return dt.datetime.now(dt.UTC).date()


# --- the offer ------------------------------------------------------------------------------


def item_of(row: Letter) -> OfferItem:
    """Return the offer entry of a letter row whose retention has ended."""
    fields = row.fields or {}
    letter_date = fields.get("date")
    assert row.retain_until is not None
    return OfferItem(
        letter_id=row.id,
        received_at=row.received_at,
        letter_date=dt.date.fromisoformat(letter_date) if letter_date else None,
        doc_type=row.doc_type,
        subject=row.subject,
        aktenzeichen=fields.get("aktenzeichen"),
        department=row.department,
        retain_until=row.retain_until,
    )


def offer_items(engine: Engine, as_of: dt.date) -> tuple[OfferItem, ...]:
    """Return the letters offered on ``as_of``: done, retention before that day, no decision."""
    with Session(engine) as session:
        rows = session.scalars(
            select(Letter)
            .outerjoin(Disposal, Disposal.letter_id == Letter.id)
            .where(
                Disposal.id.is_(None),
                Letter.status == State.DONE,
                Letter.retain_until.is_not(None),
                Letter.retain_until < as_of,
            )
            .order_by(Letter.retain_until, Letter.seq)
        ).all()
        return tuple(item_of(row) for row in rows)


def xdomea_id(letter_id: str, part: int = VORGANG) -> str:
    """Return the xdomea UUID of a letter's part: the letter id, then the part number."""
    if _LETTER_ID.fullmatch(letter_id):
        digits = f"{letter_id}{part:08x}"
        return str(uuid.UUID(hex=digits))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"postroom:letter:{letter_id}:{part}"))


def betreff(item: OfferItem) -> str:
    """Return the Betreff offered for a letter: its type, and its subject when it has one."""
    kind = item.doc_type or "unbestimmt"
    return f"{kind}: {item.subject}" if item.subject else kind


def received_date(item: OfferItem) -> dt.date:
    """Return the Posteingangsdatum of a letter (UTC)."""
    moment = item.received_at
    return (moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment).date()


def offer_rows(items: Iterable[OfferItem]) -> list[dict[str, str]]:
    """Return the offer as table rows (the CSV and the Prefect table artifact)."""
    return [
        {
            "id": item.letter_id,
            "xdomea_id": xdomea_id(item.letter_id),
            "aktenzeichen": item.aktenzeichen or "",
            "betreff": betreff(item),
            "doc_type": item.doc_type or "",
            "department": item.department or "",
            "received": received_date(item).isoformat(),
            "letter_date": item.letter_date.isoformat() if item.letter_date else "",
            "retain_until": item.retain_until.isoformat(),
            "assessment": "",
        }
        for item in items
    ]


def offer_csv(items: Iterable[OfferItem]) -> str:
    """Return the offer as CSV (RFC 4180, a header line, one letter per line)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(offer_rows(items))
    return out.getvalue()


def offer_process_id(as_of: dt.date, items: Sequence[OfferItem]) -> str:
    """Return the ProzessID of an offer: the same letters on the same day give the same id."""
    ids = ",".join(item.letter_id for item in items)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"postroom:disposal-offer:{as_of}:{ids}"))


def postroom_version() -> str:
    """Return postroom's version, for SendendesSystem."""
    try:
        return metadata.version("postroom")
    except metadata.PackageNotFoundError:
        return "unknown"


def _el(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    """Append an xdomea element (qualified) with optional text to ``parent``."""
    element = ET.SubElement(parent, f"{{{XDOMEA_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def _code(parent: ET.Element, name: str, code: str, **attributes: str) -> ET.Element:
    """Append a code-list element: its ``code`` child is unqualified (xoev-code:Code)."""
    element = _el(parent, name)
    element.attrib.update(attributes)
    ET.SubElement(element, "code").text = code
    return element


def _contact(parent: ET.Element, name: str, institution: str) -> None:
    """Append a KontaktType element naming an institution."""
    _el(_el(_el(parent, name), "Institution"), "Name", institution)


def _allgemeine_metadaten(parent: ET.Element, item: OfferItem, *, lead: bool) -> None:
    """Append AllgemeineMetadaten: Betreff, Kennzeichen and (for the Vorgang) Federfuehrung."""
    general = _el(parent, "AllgemeineMetadaten")
    _el(general, "Betreff", betreff(item))
    if item.aktenzeichen:
        _el(general, "Kennzeichen", item.aktenzeichen)
    if lead and item.department:
        _el(general, "Federfuehrung", item.department)


def _vorgang(parent: ET.Element, item: OfferItem) -> None:
    """Append one letter as Schriftgutobjekt/Vorgang with its Dokument, in schema order."""
    received = received_date(item)
    vorgang = _el(_el(parent, "Schriftgutobjekt"), "Vorgang")
    _el(_el(vorgang, "Identifikation"), "ID", xdomea_id(item.letter_id, VORGANG))
    _allgemeine_metadaten(vorgang, item, lead=True)
    archival = _el(vorgang, "ArchivspezifischeMetadaten")
    _code(
        _el(archival, "Aussonderungsart"),
        "Aussonderungsart",
        TO_BE_ASSESSED,
        listURI=AUSSONDERUNGSART_LIST,
        listVersionID="1.0",
    )
    _el(archival, "Aufbewahrungsende", item.retain_until.isoformat())
    if item.doc_type:
        _el(vorgang, "Typ", item.doc_type)
    term = _el(vorgang, "Laufzeit")
    start = item.letter_date if item.letter_date and item.letter_date <= received else received
    _el(term, "Beginn", start.isoformat())
    _el(term, "Ende", received.isoformat())
    dokument = _el(vorgang, "Dokument")
    _el(_el(dokument, "Identifikation"), "ID", xdomea_id(item.letter_id, DOKUMENT))
    _allgemeine_metadaten(dokument, item, lead=False)
    _el(dokument, "Posteingangsdatum", received.isoformat())
    if item.letter_date:
        _el(dokument, "DatumDesSchreibens", item.letter_date.isoformat())
    if item.doc_type:
        _el(dokument, "Typ", item.doc_type)


def offer_xml(
    items: Sequence[OfferItem],
    *,
    as_of: dt.date,
    sender: str,
    recipient: str = DEFAULT_RECIPIENT,
    created: dt.datetime | None = None,
) -> bytes:
    """Return the offer as an xdomea 3.0.0 ``Aussonderung.Anbieteverzeichnis.0501`` message."""
    if not items:
        raise ValueError("an Anbieteverzeichnis needs at least one Schriftgutobjekt")
    created = created or dt.datetime.now(dt.UTC)
    root = ET.Element(f"{{{XDOMEA_NS}}}{OFFER_MESSAGE}")
    head = _el(root, "Kopf")
    _el(head, "ProzessID", offer_process_id(as_of, items))
    _code(head, "Nachrichtentyp", "0501")
    _el(head, "Erstellungszeitpunkt", created.astimezone(dt.UTC).isoformat(timespec="seconds"))
    _contact(head, "Absender", sender)
    _contact(head, "Empfaenger", recipient)
    system = _el(head, "SendendesSystem")
    _el(system, "Produktname", "postroom")
    _el(system, "Version", postroom_version())
    _el(head, "Hinweis", f"Schriftgut mit abgelaufener Aufbewahrungsfrist (Stichtag {as_of})")
    _el(head, "Empfangsbestaetigung", "0")
    for item in items:
        _vorgang(root, item)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body + b"\n"


def offer_keys(as_of: dt.date, process_id: str) -> tuple[str, str]:
    """Return the system-bucket keys of an offer's CSV and XML (xdomea's file naming)."""
    folder = f"disposal/{as_of.isoformat()}/"
    return f"{folder}offer.csv", f"{folder}{process_id}_{OFFER_MESSAGE}.xml"


@io_task()
def list_offer(edges: Edges, as_of: dt.date) -> tuple[OfferItem, ...]:
    """Read the letters whose retention ended before ``as_of`` and that await a decision."""
    return offer_items(edges.engine, as_of)


@io_task()
def store_offer(
    edges: Edges, items: tuple[OfferItem, ...], as_of: dt.date, recipient: str
) -> OfferFiles:
    """Write the offer's CSV and xdomea XML to the system bucket under ``disposal/<date>/``."""
    bucket = edges.settings.buckets.system
    csv_key, xml_key = offer_keys(as_of, offer_process_id(as_of, items))
    edges.s3.put_object(
        Bucket=bucket,
        Key=csv_key,
        Body=offer_csv(items).encode(),
        ContentType="text/csv; charset=utf-8",
    )
    if not items:
        return OfferFiles(csv_key=csv_key, xml_key=None, count=0)
    sender = edges.settings.archive.source_organization
    xml = offer_xml(items, as_of=as_of, sender=sender, recipient=recipient)
    edges.s3.put_object(Bucket=bucket, Key=xml_key, Body=xml, ContentType="application/xml")
    return OfferFiles(csv_key=csv_key, xml_key=xml_key, count=len(items))


@task(cache_policy=NO_CACHE)
def publish_offer(items: tuple[OfferItem, ...], as_of: dt.date, files: OfferFiles) -> None:
    """Leave the offer as a table artifact for the archivist."""
    where = ", ".join(key for key in (files.csv_key, files.xml_key) if key)
    create_table_artifact(
        key="disposal-offer",
        table=offer_rows(items),
        description=f"{len(items)} letter(s) whose retention ended before {as_of}; {where}",
    )


# --- the decision ---------------------------------------------------------------------------


def refusal(
    letter_id: str,
    row: Letter | None,
    existing: Disposal | None,
    decision: Decision,
    as_of: dt.date,
) -> str | None:
    """Return why ``decision`` may not be taken on this letter on ``as_of`` (None: it may)."""
    if row is None:
        return f"there is no letter {letter_id}"
    if existing is not None:
        if existing.completed_at is None and existing.decision == decision:
            return None  # an interrupted decision: carry it out now
        return (
            f"letter {letter_id} already has a decision: {existing.decision} by "
            f"{existing.decided_by} on {existing.decided_at:%Y-%m-%d}; a decision is final"
        )
    if row.status != State.DONE:
        return f"letter {letter_id} is {row.status}, not done: only finished letters are offered"
    if row.retain_until is None:
        return f"letter {letter_id} has no retention date: its package is kept without a lock"
    if row.retain_until >= as_of:
        return (
            f"the retention of letter {letter_id} runs until {row.retain_until}: "
            f"a decision is possible from {row.retain_until + dt.timedelta(days=1)} on"
        )
    return None


def archivist(by: str) -> str:
    """Return the event actor of an archivist's decision."""
    return f"archivist/{by}"


def record_decision(
    engine: Engine,
    letter_id: str,
    decision: Decision,
    *,
    by: str,
    note: str | None,
    as_of: dt.date,
) -> Disposal:
    """Record the archivist's decision, or find the same unfinished one; refuse if not allowed."""
    by = by.strip()
    if not by or len(by) > MAX_NAME:
        raise DisposalRefusedError(f"name who decides (1 to {MAX_NAME} characters), with --by")
    with Session(engine, expire_on_commit=False) as session:
        row = session.scalars(select(Letter).where(Letter.id == letter_id)).one_or_none()
        existing = session.scalars(
            select(Disposal).where(Disposal.letter_id == letter_id)
        ).one_or_none()
        reason = refusal(letter_id, row, existing, decision, as_of)
        if reason is not None:
            raise DisposalRefusedError(reason)
        if existing is not None:
            return existing
        assert row is not None
        disposal = Disposal(
            letter_id=letter_id,
            decision=decision,
            decided_by=by,
            note=note,
            retain_until=row.retain_until,
        )
        session.add(disposal)
        session.add(  # the decision and its event are one transaction
            Event(
                letter_id=letter_id,
                step="dispose",
                status=row.status,
                actor=archivist(by),
                detail={
                    "decision": decision.value,
                    "note": note,
                    "retain_until": str(row.retain_until),
                },
            )
        )
        try:
            session.commit()
        except IntegrityError as exc:
            raise DisposalRefusedError(
                f"another decision on letter {letter_id} was recorded at the same moment"
            ) from exc
    return disposal


def complete_decision(engine: Engine, disposal_id: int, **values: str | None) -> Disposal:
    """Mark a decision as carried out, with what it produced."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        disposal = session.get_one(Disposal, disposal_id)
        disposal.completed_at = dt.datetime.now(dt.UTC)
        for column, value in values.items():
            setattr(disposal, column, value)
    return disposal


def package_prefix(row: Letter) -> str:
    """Return the archive prefix of a letter's package, checked to be its own."""
    prefix = f"{row.id}/"
    if row.archive_key not in (None, prefix):
        raise DisposalRefusedError(
            f"letter {row.id} names the package {row.archive_key!r}, not {prefix!r}: "
            "check the record before deciding"
        )
    return prefix


def current_objects(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    """Return the keys of the current objects under ``prefix``."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def all_versions(s3: S3Client, bucket: str, prefix: str) -> list[tuple[str, str, bool]]:
    """Return (key, version id, is a delete marker) of every version under ``prefix``."""
    found: list[tuple[str, str, bool]] = []
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        found += [(v["Key"], v.get("VersionId", "null"), False) for v in page.get("Versions", [])]
        found += [
            (m["Key"], m.get("VersionId", "null"), True) for m in page.get("DeleteMarkers", [])
        ]
    return found


def lock_until(s3: S3Client, bucket: str, key: str, version_id: str) -> dt.datetime | None:
    """Return until when an object version is locked (None: no retention set)."""
    try:
        answer = s3.get_object_retention(Bucket=bucket, Key=key, VersionId=version_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"}:
            return None
        raise
    until = answer.get("Retention", {}).get("RetainUntilDate")
    return until.astimezone(dt.UTC) if until else None


def check_unlocked(
    s3: S3Client, bucket: str, versions: Iterable[tuple[str, str, bool]], letter_id: str
) -> None:
    """Refuse before anything is deleted while any version of a package is still locked."""
    now = dt.datetime.now(dt.UTC)
    for key, version_id, marker in versions:
        until = None if marker else lock_until(s3, bucket, key, version_id)
        if until is not None and until > now:
            raise DisposalRefusedError(
                f"the archival package of letter {letter_id} is locked until "
                f"{until:%Y-%m-%d %H:%M:%S} UTC ({key}): Object Lock (COMPLIANCE) keeps it; "
                "nothing was deleted, run the decision again after that"
            )


def delete_versions(
    s3: S3Client, bucket: str, versions: Iterable[tuple[str, str, bool]], what: str
) -> int:
    """Delete every listed object version; a refusal by the server stops with a clear error."""
    count = 0
    for key, version_id, _marker in versions:
        try:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise DisposalRefusedError(
                f"the server refused to delete {what} s3://{bucket}/{key} (version {version_id}): "
                f"{error.get('Code', '?')} {error.get('Message', '')}".rstrip()
                + "; the letter is not recorded as destroyed, run the decision again once "
                "the cause (an unexpired lock?) is gone"
            ) from exc
        count += 1
    return count


def dms_location(edges: Edges, row: Letter) -> tuple[str, str] | None:
    """Return (bucket, prefix) of the letter's DMS copy; refuse a reference that is not its own."""
    if row.dms_ref is None:
        return None
    parts = urlsplit(row.dms_ref)
    prefix = parts.path.lstrip("/")
    own = (
        parts.scheme == "s3"
        and parts.netloc == edges.settings.buckets.dms
        and (prefix == f"{row.id}/" or prefix.endswith(f"/{row.id}/"))
    )
    if not own:
        raise DisposalRefusedError(
            f"the DMS copy of letter {row.id} is {row.dms_ref}, which is not a folder of this "
            f"letter in s3://{edges.settings.buckets.dms}/: postroom cannot delete it; nothing "
            "was deleted"
        )
    return parts.netloc, prefix


def remove_from_search_index(edges: Edges, letter_id: str) -> None:
    """Drop a letter's full-text index entry once its files are deleted.

    The tombstone's ``advance`` to ``destroyed`` drops it as well, in the transaction that clears
    the text; this call already makes the letter unfindable should that last step fail and wait
    for the decision to be resumed.
    """
    from tasks.record import unindex_letter  # (may join the tasks.record import at the top)

    unindex_letter(edges.engine, letter_id)


def tombstone_fields(row: Letter) -> dict[str, object]:
    """Return the fields a tombstone keeps: the letter date only, no personal content."""
    return {"date": (row.fields or {}).get("date")}


def destroy(edges: Edges, letter_id: str, disposal: Disposal) -> DisposalOutcome:
    """Delete the package (every version), the DMS copy and the text; keep the tombstone."""
    row = load_letter(edges.engine, letter_id)
    archive_bucket = edges.settings.buckets.archive
    prefix = package_prefix(row)
    dms = dms_location(edges, row)
    package = all_versions(edges.s3, archive_bucket, prefix)
    check_unlocked(edges.s3, archive_bucket, package, letter_id)
    deleted = delete_versions(edges.s3, archive_bucket, package, "the package object")
    if all_versions(edges.s3, archive_bucket, prefix):
        raise DisposalRefusedError(
            f"versions of the package of letter {letter_id} remain under "
            f"s3://{archive_bucket}/{prefix}: not recorded as destroyed; run the decision again"
        )
    if dms is not None:
        dms_bucket, dms_prefix = dms
        copy = all_versions(edges.s3, dms_bucket, dms_prefix)
        deleted += delete_versions(edges.s3, dms_bucket, copy, "the DMS object")
    delete_work_files(edges, letter_id)
    remove_from_search_index(edges, letter_id)
    advance(
        edges.engine,
        letter_id,
        State.DESTROYED,
        step="dispose",
        actor=archivist(disposal.decided_by),
        detail={
            "decision": Decision.DESTROY.value,
            "deleted_objects": deleted,
            "package": f"s3://{archive_bucket}/{prefix}",
            "dms": row.dms_ref,
        },
        text=None,
        fields=tombstone_fields(row),
        reasons=None,
        dms_ref=None,
        archive_key=None,
    )
    done = complete_decision(edges.engine, disposal.id)
    return outcome(done, deleted_objects=deleted)


def zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    """Return a zip entry's timestamp (the object's last modification, UTC)."""
    utc = moment.astimezone(dt.UTC)
    return (max(utc.year, 1980), utc.month, utc.day, utc.hour, utc.minute, utc.second)


def read_manifests(s3: S3Client, bucket: str, prefix: str) -> dict[str, str]:
    """Return path → SHA-512 of every file a package's payload and tag manifests list."""
    expected: dict[str, str] = {}
    for name in ("manifest-sha512.txt", TAG_MANIFEST):
        try:
            body = s3.get_object(Bucket=bucket, Key=prefix + name)["Body"].read()
        except ClientError as exc:
            raise DisposalRefusedError(
                f"the package s3://{bucket}/{prefix} has no {name}: it is not a complete bag"
            ) from exc
        expected.update(parse_manifest(body.decode()))
    return expected


def write_package_zip(
    s3: S3Client, bucket: str, prefix: str, target: Path
) -> tuple[list[str], list[str]]:
    """Write every object under ``prefix`` into a zip at ``target`` (entries ``<prefix><path>``).

    Return the paths written and those that did not match their manifest.
    """
    expected = read_manifests(s3, bucket, prefix)
    keys = sorted(current_objects(s3, bucket, prefix))
    paths = [key.removeprefix(prefix) for key in keys]
    missing = sorted(set(expected) - set(paths))
    if missing:
        raise DisposalRefusedError(
            f"the package s3://{bucket}/{prefix} lacks {', '.join(missing)}: not exported"
        )
    mismatched = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for key, path in zip(keys, paths, strict=True):
            obj = s3.get_object(Bucket=bucket, Key=key)
            info = zipfile.ZipInfo(key, date_time=zip_time(obj["LastModified"]))
            info.compress_type = zipfile.ZIP_DEFLATED
            digest = hashlib.sha512()
            with bundle.open(info, "w") as out:
                for chunk in obj["Body"].iter_chunks(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if path in expected and digest.hexdigest() != expected[path]:
                mismatched.append(path)
    return paths, mismatched


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_package(edges: Edges, letter_id: str, out_dir: Path) -> tuple[Path, str, bool]:
    """Export a letter's package as ``<out_dir>/<letter id>.zip`` after checking its manifests.

    Return the zip's path, its SHA-256 and whether the package has a METS document.
    """
    row = load_letter(edges.engine, letter_id)
    bucket = edges.settings.buckets.archive
    prefix = package_prefix(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = (out_dir / f"{letter_id}.zip").resolve()
    partial = target.with_name(f".{target.name}.part")
    try:
        paths, mismatched = write_package_zip(edges.s3, bucket, prefix, partial)
        if mismatched:
            raise DisposalRefusedError(
                f"the package s3://{bucket}/{prefix} does not match its manifests "
                f"({', '.join(mismatched)}): not exported; run `postroom audit` and restore it"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target, file_sha256(target), "data/mets.xml" in paths


def hand_over(edges: Edges, letter_id: str, disposal: Disposal, out_dir: Path) -> DisposalOutcome:
    """Export the package for the permanent archive, record the transfer, keep everything."""
    target, sha256, with_mets = export_package(edges, letter_id, out_dir)
    row = load_letter(edges.engine, letter_id)
    done = complete_decision(
        edges.engine, disposal.id, transfer_ref=str(target), transfer_sha256=sha256
    )
    advance(
        edges.engine,
        letter_id,
        State(row.status),
        step="dispose",
        actor=archivist(disposal.decided_by),
        detail={
            "decision": Decision.ARCHIVE.value,
            "transfer": str(target),
            "sha256": sha256,
            "mets": with_mets,
        },
    )
    return outcome(done, with_mets=with_mets)


def outcome(
    disposal: Disposal, *, with_mets: bool = False, deleted_objects: int = 0
) -> DisposalOutcome:
    """Return what a carried-out decision did."""
    return DisposalOutcome(
        letter_id=disposal.letter_id,
        decision=Decision(disposal.decision),
        decided_by=disposal.decided_by,
        decided_at=disposal.decided_at,
        transfer_ref=disposal.transfer_ref,
        transfer_sha256=disposal.transfer_sha256,
        with_mets=with_mets,
        deleted_objects=deleted_objects,
    )


def decide(
    edges: Edges,
    letter_id: str,
    decision: Decision,
    *,
    by: str,
    note: str | None = None,
    out_dir: Path = Path(),
    as_of: dt.date | None = None,
) -> DisposalOutcome:
    """Record the archivist's decision on a letter, then carry it out."""
    disposal = record_decision(
        edges.engine, letter_id, decision, by=by, note=note, as_of=as_of or today()
    )
    if decision is Decision.ARCHIVE:
        return hand_over(edges, letter_id, disposal, out_dir)
    return destroy(edges, letter_id, disposal)
