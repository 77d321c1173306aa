"""The review step: a letter the machine is unsure of waits for an operator in the Prefect UI.

The letter's run suspends (``suspend_flow_run(wait_for_input=...)``): no worker is held while a
person decides. The form shows the machine's proposal; the first page is left as an image
artifact beside it. Prefect runs a resumed flow again from the top, so everything before the
suspension is idempotent and the answer is read back from the run's stored input.
"""

from __future__ import annotations

import datetime as dt
import io
from enum import Enum
from typing import Any, cast

import pypdfium2
from prefect import task
from prefect.artifacts import create_image_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.input import RunInput
from pydantic import Field, create_model
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from schemas.letter import Classification, Intake, OcrResult, ReviewAnswer, State
from schemas.records import Event, Letter
from schemas.taxonomy import Taxonomy
from tasks.edges import Edges
from tasks.record import advance, classification_columns

PREVIEW_DPI = 100  # readable in the UI, a few hundred KB at most
PRESIGN_SECONDS = 7 * 24 * 3600  # the longest a SigV4 link may live
OVERDUE_EVENT = "postroom.review.overdue"


def departments(taxonomy: Taxonomy) -> list[str]:
    """Return every department the taxonomy routes to, sorted."""
    found = set()
    for doc_type in taxonomy.types.values():
        found.add(doc_type.routing.department)
        found.update(subject.department for subject in doc_type.routing.subjects.values())
    return sorted(found)


def review_form(taxonomy: Taxonomy) -> type[RunInput]:
    """Return the review form: the taxonomy's types and departments as choices.

    The choices come from the taxonomy file, so the form is built at run time; Prefect renders
    the pydantic schema (enums as drop-downs) in the UI.
    """
    doc_types = Enum("DocType", {name: name for name in taxonomy.types}, type=str)  # type: ignore[misc]
    depts = Enum("Department", {name: name for name in departments(taxonomy)}, type=str)  # type: ignore[misc]
    form = create_model(
        "Review",
        __base__=RunInput,
        doc_type=(doc_types, Field(title="Document type")),
        department=(depts, Field(title="Department")),
        aktenzeichen=(str | None, Field(default=None, title="Aktenzeichen")),
        sender=(str | None, Field(default=None, title="Sender")),
        reviewer=(str, Field(title="Reviewer (name or Kürzel)", min_length=1)),
        note=(str | None, Field(default=None, title="Note")),
    )
    return cast("type[RunInput]", form)


def proposal(taxonomy: Taxonomy, decided: Classification) -> dict[str, Any]:
    """Return the form's initial values: what the machine proposes."""
    department, _ = taxonomy.department_for(decided.doc_type, decided.subject)
    return {
        "doc_type": decided.doc_type,
        "department": decided.department or department,
        "aktenzeichen": decided.fields.aktenzeichen,
        "sender": decided.fields.sender,
    }


def form_description(source_key: str, decided: Classification, why: tuple[str, ...]) -> str:
    """Return the markdown shown above the form: what the machine thinks, and why it asks."""
    reasons = "\n".join(f"- {reason}" for reason in decided.reasons[:6]) or "- –"
    asks = "\n".join(f"- {reason}" for reason in why)
    return (
        f"### Review `{source_key}`\n\n"
        f"The machine proposes **{decided.doc_type}** with confidence "
        f"{decided.confidence:.2f} ({decided.classified_by}).\n\n"
        f"**Why it asks:**\n{asks}\n\n**Evidence:**\n{reasons}\n\n"
        "The first page is shown in this run's artifacts. Correct the proposal where it is "
        "wrong, put your name in *Reviewer*, and submit to file the letter."
    )


def review_request(
    taxonomy: Taxonomy, intake: Intake, decided: Classification, why: tuple[str, ...]
) -> type[RunInput]:
    """Return the form, filled with the proposal, that the letter's run waits on."""
    return review_form(taxonomy).with_initial_data(
        description=form_description(intake.letter.source.key, decided, why),
        **proposal(taxonomy, decided),
    )


def first_page_png(pdf: bytes, dpi: int = PREVIEW_DPI) -> bytes:
    """Return the PDF's first page rendered as a small PNG."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@task(cache_policy=NO_CACHE)
def request_review(
    edges: Edges,
    intake: Intake,
    ocr: OcrResult,
    decided: Classification,
    why: tuple[str, ...],
    flow_run_id: str,
) -> None:
    """Record that the letter waits for an operator and leave its first page as an artifact."""
    letter_id = intake.letter.letter_id
    bucket = edges.settings.buckets.system
    pdf = edges.s3.get_object(Bucket=bucket, Key=ocr.pdf_key)["Body"].read()
    preview_key = f"previews/{letter_id}/page-1.png"
    edges.s3.put_object(
        Bucket=bucket, Key=preview_key, Body=first_page_png(pdf), ContentType="image/png"
    )
    url = edges.s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": preview_key},
        ExpiresIn=PRESIGN_SECONDS,
    )
    create_image_artifact(
        image_url=url,
        key=f"review-{letter_id}",
        description=f"First page of {intake.letter.source.key} (link valid 7 days)",
    )
    create_markdown_artifact(
        key=f"review-{letter_id}-why",
        markdown=form_description(intake.letter.source.key, decided, why),
        description="why this letter waits for review",
    )
    advance(
        edges.engine,
        letter_id,
        State.IN_REVIEW,
        step="review",
        actor=f"flow-run/{flow_run_id}",
        detail={
            "requested": list(why),
            "proposal": proposal(edges.taxonomy, decided),
            "confidence": decided.confidence,
            "flow_run_id": flow_run_id,
            "preview_key": preview_key,
        },
        flow_run_id=flow_run_id,
    )


def answer_of(form: RunInput) -> ReviewAnswer:
    """Return the operator's answer from the submitted form, stamped with when it was read."""
    values = form.model_dump(mode="json", exclude={"metadata"})
    for name in ("aktenzeichen", "sender", "note"):
        values[name] = (values.get(name) or "").strip() or None
    return ReviewAnswer(**values, answered_at=dt.datetime.now(dt.UTC))


def reviewed(taxonomy: Taxonomy, decided: Classification, answer: ReviewAnswer) -> Classification:
    """Return the classification as the operator decided it.

    An operator who changes the type but leaves the proposed department as it was means the new
    type's routing, not the old type's department.
    """
    changed = []
    department: str | None = answer.department
    if answer.doc_type != decided.doc_type:
        changed.append(f"type {decided.doc_type} → {answer.doc_type}")
        if answer.department == proposal(taxonomy, decided)["department"]:
            department = None
    elif answer.department != proposal(taxonomy, decided)["department"]:
        changed.append(f"department → {answer.department}")
    confidence = dict(decided.fields.confidence)  # what the operator gave counts 1.0
    for name in ("aktenzeichen", "sender"):
        if getattr(answer, name) is None:
            confidence.pop(name, None)
        else:
            confidence[name] = 1.0
    fields = decided.fields.model_copy(
        update={
            "aktenzeichen": answer.aktenzeichen,
            "sender": answer.sender,
            "confidence": confidence,
        }
    )
    verdict = "; ".join(changed) or f"confirmed {answer.doc_type}"
    return Classification(
        doc_type=answer.doc_type,
        subject=decided.subject if answer.doc_type == decided.doc_type else None,
        confidence=1.0,
        classified_by="operator",
        reasons=(f"operator {answer.reviewer}: {verdict}", *decided.reasons),
        fields=fields,
        department=department,
    )


@task(cache_policy=NO_CACHE)
def apply_review(
    edges: Edges, intake: Intake, decided: Classification, answer: ReviewAnswer, actor: str
) -> Classification:
    """Record the operator's answer (who and when) and return the letter's final classification."""
    from tasks.model import add_label  # the answer is training data for the next model

    final = reviewed(edges.taxonomy, decided, answer)
    letter_id = intake.letter.letter_id
    advance(
        edges.engine,
        letter_id,
        State.CLASSIFIED,
        step="review",
        actor=f"operator/{answer.reviewer}",
        detail={"answer": answer.model_dump(mode="json"), "by": actor},
        **classification_columns(final),
    )
    add_label(edges.engine, letter_id, final.doc_type, "operator", answer.reviewer)
    return final


# --- pending reviews -----------------------------------------------------------------------------


def pending_reviews(engine: Engine, now: dt.datetime, overdue_hours: float) -> list[dict[str, Any]]:
    """Return the letters waiting for review, oldest first, with how long and whether overdue."""
    with Session(engine) as session:
        rows = session.scalars(
            select(Letter).where(Letter.status == State.IN_REVIEW).order_by(Letter.seq)
        ).all()
        # The latest review request of each (one query: the sweep asks every few seconds).
        asked_by_letter: dict[str, Event] = {}
        for event in session.scalars(
            select(Event)
            .where(Event.letter_id.in_([row.id for row in rows]), Event.step == "review")
            .order_by(Event.id)
        ):
            asked_by_letter[event.letter_id] = event
        pending = []
        for row in rows:
            asked = asked_by_letter.get(row.id)
            since = asked.at if asked is not None else row.updated_at
            since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
            detail = asked.detail or {} if asked is not None else {}
            waited = (now - since).total_seconds() / 3600
            pending.append(
                {
                    "letter_id": row.id,
                    "source_key": row.source_key,
                    "since": since.isoformat(timespec="seconds"),
                    "waiting_hours": round(waited, 1),
                    "overdue": waited > overdue_hours,
                    "doc_type": row.doc_type,
                    "confidence": row.confidence,
                    "why": detail.get("requested", []),
                    "flow_run_id": row.flow_run_id or detail.get("flow_run_id"),
                }
            )
    return pending


def flag_overdue(engine: Engine, now: dt.datetime, overdue_hours: float, actor: str) -> list[str]:
    """Emit one overdue event per review pending too long; return the letters flagged now."""
    overdue = [item for item in pending_reviews(engine, now, overdue_hours) if item["overdue"]]
    reported = _already_flagged(engine, [item["letter_id"] for item in overdue])
    flagged = []
    for item in overdue:
        if item["letter_id"] in reported:
            continue
        emit_event(
            event=OVERDUE_EVENT,
            resource={
                "prefect.resource.id": f"postroom.letter.{item['letter_id']}",
                "prefect.resource.name": item["source_key"],
            },
            payload={
                "waiting_hours": item["waiting_hours"],
                "flow_run_id": item["flow_run_id"],
                "overdue_hours": overdue_hours,
            },
        )
        with Session(engine) as session, session.begin():
            session.add(
                Event(
                    letter_id=item["letter_id"],
                    step="review-overdue",
                    status=State.IN_REVIEW,
                    actor=actor,
                    detail={"waiting_hours": item["waiting_hours"]},
                )
            )
        flagged.append(item["letter_id"])
    return flagged


def _already_flagged(engine: Engine, letter_ids: list[str]) -> set[str]:
    """Return which of these letters' pending reviews were already reported overdue."""
    if not letter_ids:
        return set()
    with Session(engine) as session:
        return set(
            session.scalars(
                select(Event.letter_id).where(
                    Event.letter_id.in_(letter_ids), Event.step == "review-overdue"
                )
            )
        )
