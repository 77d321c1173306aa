"""The route step: the routing decision from the taxonomy, filing into the DMS, the routed event.

The taxonomy's routing facts decide where a letter goes (:func:`decide`): the department (by type,
or by subject within a type), the DMS target (the Akte of a recognised Aktenzeichen, else the
department's ``ohne-az`` folder), the priority and the deadline (receipt + the type's ISO 8601
duration), with the rule that made the decision. The letter is filed through the DMS connector of
``tasks/dms.py`` (idempotent per letter), the decision is recorded in the event log, and a Prefect
event ``postroom.letter.routed`` lets automations notify the department.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from prefect.events import emit_event
from sqlalchemy import Engine

from schemas.letter import Classification, Filing, Intake, OcrResult, State
from schemas.taxonomy import Priority, Taxonomy
from tasks.classify import betreff_lines
from tasks.dms import DmsTarget
from tasks.edges import Edges
from tasks.errors import io_task
from tasks.intake import letter_id_for
from tasks.record import advance, load_letter

ROUTED_EVENT = "postroom.letter.routed"
BETREFF_MAX = 250
_DURATION = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)


@dataclass(frozen=True)
class Routing:
    """A routing decision: where a letter goes, how urgent it is, and the rule that said so."""

    doc_type: str
    description: str  # the type's description, the Betreff of a letter without a subject line
    department: str
    rule: str
    target: DmsTarget
    priority: Priority
    received: dt.date
    deadline: dt.date | None

    def filing(self, letter_id: str, dms_ref: str) -> Filing:
        """Return the filing of this decision once the DMS has given its reference."""
        return Filing(
            department=self.department,
            dms_path=self.target.prefix(letter_id),
            dms_ref=dms_ref,
            rule=self.rule,
            aktenzeichen=self.target.aktenzeichen,
            priority=self.priority,
            received=self.received,
            deadline=self.deadline,
        )


def add_duration(start: dt.datetime, duration: str) -> dt.datetime:
    """Return ``start`` plus an ISO 8601 duration; months and years are calendar months.

    A month from 31 January is the last day of February (the day is clamped to the month).
    """
    match = _DURATION.fullmatch(duration)
    if match is None or duration == "P" or duration.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {duration!r}")
    parts = {name: int(value or 0) for name, value in match.groupdict().items()}
    month_index = start.month - 1 + parts["months"]
    year = start.year + parts["years"] + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day) + dt.timedelta(
        weeks=parts["weeks"],
        days=parts["days"],
        hours=parts["hours"],
        minutes=parts["minutes"],
        seconds=parts["seconds"],
    )


def decide(taxonomy: Taxonomy, classification: Classification, received: dt.datetime) -> Routing:
    """Return where the taxonomy sends a classified letter received at ``received``."""
    doc_type = taxonomy.doc_type(classification.doc_type)
    department, rule = taxonomy.department_for(classification.doc_type, classification.subject)
    if classification.department and classification.department != department:
        department, rule = classification.department, f"operator → {classification.department}"
    deadline = add_duration(received, doc_type.deadline).date() if doc_type.deadline else None
    return Routing(
        doc_type=classification.doc_type,
        description=doc_type.description,
        department=department,
        rule=rule,
        target=DmsTarget(department, classification.fields.aktenzeichen),
        priority=doc_type.priority,
        received=received.date(),
        deadline=deadline,
    )


def subject_line(text: str) -> str | None:
    """Return the letter's own subject line (``Betreff:``), if it has one."""
    first = next((line for line in betreff_lines(text).splitlines() if line.strip()), None)
    if first is None:
        return None
    first = " ".join(first.split())
    return first if len(first) <= BETREFF_MAX else first[: BETREFF_MAX - 1] + "…"


def xdomea_dokument(classification: Classification, routing: Routing, text: str) -> dict[str, Any]:
    """Return the metadata under the element names of xdomea's Dokument."""
    fields = classification.fields
    return {
        "Betreff": subject_line(text) or routing.description,
        "Kennzeichen": fields.aktenzeichen,
        "Posteingangsdatum": routing.received.isoformat(),
        "DatumDesSchreibens": fields.date.isoformat() if fields.date else None,
        "Absender": fields.sender,
        "Federfuehrung": routing.department,
    }


def batch_reference(intake: Intake) -> dict[str, Any] | None:
    """Return where a part of a batch comes from: its pages and the batch's own package.

    The batch package's id is the whole file's letter id; ``sha256`` is the batch file's.
    """
    part = intake.letter.batch
    if part is None:
        return None
    return {
        "first_page": part.first_page,
        "last_page": part.last_page,
        "package": letter_id_for(intake.letter.source),
        "sha256": intake.sha256,
    }


def metadata_document(
    intake: Intake,
    ocr: OcrResult,
    classification: Classification,
    department: str,
    rule: str,
    *,
    routing: Routing | None = None,
) -> dict[str, Any]:
    """Return the letter's metadata as kept beside the PDF in the DMS and in the archive.

    With ``routing`` it also holds the routing facts (Akte, priority, receipt, deadline) and the
    ``xdomea`` object.
    """
    source = intake.letter.source
    document: dict[str, Any] = {
        "letter_id": intake.letter.letter_id,
        "source": {"bucket": source.bucket, "key": source.key, "version_id": source.version_id},
        "batch": batch_reference(intake),
        "sha256": intake.sha256,
        "size": intake.size,
        "media_type": intake.media_type.value,
        "pages": len(ocr.pages),
        "ocr_confidence": round(ocr.mean_confidence, 1),
        "doc_type": classification.doc_type,
        "subject": classification.subject,
        "confidence": classification.confidence,
        "classified_by": classification.classified_by,
        "reasons": list(classification.reasons),
        "department": department,
        "routing_rule": rule,
        "fields": classification.fields.model_dump(mode="json"),
        "filed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if routing is not None:
        document |= {
            "aktenzeichen": routing.target.aktenzeichen,
            "priority": routing.priority,
            "received": routing.received.isoformat(),
            "deadline": routing.deadline.isoformat() if routing.deadline else None,
            "xdomea": xdomea_dokument(classification, routing, ocr.text),
        }
    return document


def filing_detail(filing: Filing) -> dict[str, Any]:
    """Return the routing decision as recorded in the letter's event log."""
    return {
        "department": filing.department,
        "rule": filing.rule,
        "dms_ref": filing.dms_ref,
        "aktenzeichen": filing.aktenzeichen,
        "priority": filing.priority,
        "received": filing.received.isoformat() if filing.received else None,
        "deadline": filing.deadline.isoformat() if filing.deadline else None,
    }


def record_filing(engine: Engine, letter_id: str, filing: Filing, actor: str) -> None:
    """Mark the letter filed, with the routing decision in its event log."""
    advance(
        engine,
        letter_id,
        State.FILED,
        step="route",
        actor=actor,
        detail=filing_detail(filing),
        department=filing.department,
        dms_ref=filing.dms_ref,
    )


def routed_event(letter_id: str, classification: Classification, filing: Filing) -> dict[str, Any]:
    """Return the ``postroom.letter.routed`` event as keyword arguments of ``emit_event``.

    The id is derived from the letter id, so a re-run's event is the same event: the Prefect
    server stores it once and its triggers do not fire twice.
    """
    return {
        "event": ROUTED_EVENT,
        "resource": {
            "prefect.resource.id": f"postroom.letter.{letter_id}",
            "prefect.resource.name": f"letter {letter_id[:8]}",
            "postroom.department": filing.department,
            "postroom.doc-type": classification.doc_type,
            "postroom.priority": filing.priority,
        },
        "payload": {
            "letter_id": letter_id,
            "doc_type": classification.doc_type,
            "subject": classification.subject,
            **filing_detail(filing),
        },
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"postroom:{ROUTED_EVENT}:{letter_id}"),
    }


def received_at(engine: Engine, letter_id: str) -> dt.datetime:
    """Return when the letter was claimed (its receipt), timezone-aware in UTC."""
    received = load_letter(engine, letter_id).received_at
    return received if received.tzinfo else received.replace(tzinfo=dt.UTC)


@io_task(delays=(1, 2, 5))
def route(
    edges: Edges, intake: Intake, ocr: OcrResult, classification: Classification, actor: str
) -> Filing:
    """Decide where the letter goes, file it in the DMS once, record and announce the decision."""
    letter_id = intake.letter.letter_id
    routing = decide(edges.taxonomy, classification, received_at(edges.engine, letter_id))
    dms_ref = edges.dms.find(letter_id, routing.target)
    if dms_ref is None:
        system = edges.settings.buckets.system
        pdf = edges.s3.get_object(Bucket=system, Key=ocr.pdf_key)["Body"].read()
        metadata = metadata_document(
            intake, ocr, classification, routing.department, routing.rule, routing=routing
        )
        dms_ref = edges.dms.file(letter_id, routing.target, pdf, ocr.text, metadata)
    filing = routing.filing(letter_id, dms_ref)
    record_filing(edges.engine, letter_id, filing, actor)
    emit_event(**routed_event(letter_id, classification, filing))
    return filing
