"""The route step: department from the taxonomy, then filing into the DMS (idempotent per letter).

The default DMS is the dms bucket laid out ``<department>/<Aktenzeichen or ohne-az>/<letter id>/``
with the searchable PDF, the text and a metadata JSON; path segments are slugged, the real values
are in the metadata.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.letter import Classification, Filing, Intake, OcrResult, State
from tasks.edges import Edges
from tasks.errors import TransientError, retry_condition
from tasks.record import advance

NO_AKTENZEICHEN = "ohne-az"
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def slug(value: str) -> str:
    """Return a path segment for ``value``: umlauts folded, separators and spaces as hyphens."""
    folded = value.translate(_FOLD)
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-.")
    return cleaned or "-"


def dms_prefix(department: str, aktenzeichen: str | None, letter_id: str) -> str:
    """Return the DMS folder of a letter."""
    folder = slug(aktenzeichen) if aktenzeichen else NO_AKTENZEICHEN
    return f"{slug(department)}/{folder}/{letter_id}/"


def metadata_document(
    intake: Intake, ocr: OcrResult, classification: Classification, department: str, rule: str
) -> dict[str, Any]:
    """Return the letter's metadata as kept beside the PDF in the DMS and in the archive."""
    source = intake.letter.source
    return {
        "letter_id": intake.letter.letter_id,
        "source": {"bucket": source.bucket, "key": source.key, "version_id": source.version_id},
        "batch": intake.letter.batch.model_dump() if intake.letter.batch else None,
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


def existing_filing(edges: Edges, prefix: str, letter_id: str) -> dict[str, Any] | None:
    """Return the metadata of an earlier filing of this letter at ``prefix``, if there is one."""
    bucket = edges.settings.buckets.dms
    try:
        body = edges.s3.get_object(Bucket=bucket, Key=f"{prefix}metadata.json")["Body"].read()
    except edges.s3.exceptions.NoSuchKey:
        return None
    stored: dict[str, Any] = json.loads(body)
    return stored if stored.get("letter_id") == letter_id else None


def put_verified(edges: Edges, bucket: str, key: str, body: bytes, content_type: str) -> None:
    """Write an object and read its size back before trusting it."""
    edges.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    stored = edges.s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    if stored != len(body):
        raise TransientError(f"s3://{bucket}/{key} holds {stored} bytes, expected {len(body)}")


@task(
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=retry_condition,
    cache_policy=NO_CACHE,
)
def route(
    edges: Edges, intake: Intake, ocr: OcrResult, classification: Classification, actor: str
) -> Filing:
    """Choose the department and file the letter in the DMS, once."""
    letter_id = intake.letter.letter_id
    department, rule = edges.taxonomy.department_for(
        classification.doc_type, classification.subject
    )
    prefix = dms_prefix(department, classification.fields.aktenzeichen, letter_id)
    bucket = edges.settings.buckets.dms
    filing = Filing(
        department=department, dms_path=prefix, dms_ref=f"s3://{bucket}/{prefix}", rule=rule
    )
    if existing_filing(edges, prefix, letter_id) is None:
        system = edges.settings.buckets.system
        pdf = edges.s3.get_object(Bucket=system, Key=ocr.pdf_key)["Body"].read()
        put_verified(edges, bucket, f"{prefix}letter.pdf", pdf, "application/pdf")
        put_verified(
            edges, bucket, f"{prefix}text.txt", ocr.text.encode(), "text/plain; charset=utf-8"
        )
        metadata = metadata_document(intake, ocr, classification, department, rule)
        # Written last: its presence marks a complete filing for a re-run.
        put_verified(
            edges,
            bucket,
            f"{prefix}metadata.json",
            json.dumps(metadata, ensure_ascii=False, indent=2).encode(),
            "application/json",
        )
    advance(
        edges.engine,
        letter_id,
        State.FILED,
        step="route",
        actor=actor,
        detail={"department": department, "rule": rule, "dms_ref": filing.dms_ref},
        department=department,
        dms_ref=filing.dms_ref,
    )
    return filing
