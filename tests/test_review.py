"""Review: the form, the operator's answer, pending and overdue reviews, and the loop for real.

The loop test drops a letter no rule recognises into a real stack: its run suspends in Prefect,
`postroom review answer` resumes it through Prefect's API, and the letter is filed with the
operator's type, once, with the answer kept as training data.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flows.samples import FONT_ROOT
from schemas.db import engine_for, migrate
from schemas.letter import (
    Classification,
    Fields,
    LetterRef,
    ReviewAnswer,
    SourceObject,
    State,
)
from schemas.records import Event, Label, Letter
from schemas.taxonomy import load_taxonomy
from tasks.intake import letter_id_for
from tasks.record import advance, claim_letter, load_letter
from tasks.review import (
    answer_of,
    departments,
    first_page_png,
    pending_reviews,
    proposal,
    review_form,
    reviewed,
)
from tests.conftest import LocalStack

TAXONOMY = load_taxonomy()
NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
UNSURE = Classification(
    doc_type="sonstiges",
    confidence=0.3,
    classified_by="rule",
    reasons=("sonstiges: no rule matched (fallback)",),
    fields=Fields(aktenzeichen="32.1-2026/0815", sender="Erika Musterfrau"),
)


def answer(**values: object) -> ReviewAnswer:
    """Return an operator's answer with defaults for what a test does not care about."""
    base: dict[str, object] = {
        "doc_type": "sonstiges",
        "department": "Poststelle",
        "reviewer": "mm",
        "answered_at": NOW,
    }
    return ReviewAnswer.model_validate(base | values)


def test_the_form_offers_the_taxonomys_types_and_departments() -> None:
    schema = review_form(TAXONOMY).model_json_schema()
    defs = schema["$defs"]
    assert defs["DocType"]["enum"] == list(TAXONOMY.types)
    assert defs["Department"]["enum"] == departments(TAXONOMY)
    assert {"Kämmerei", "Rechtsamt", "Poststelle", "Sozialamt"} <= set(departments(TAXONOMY))
    assert "reviewer" in schema["required"]


def test_the_form_is_filled_with_the_machines_proposal() -> None:
    filled = review_form(TAXONOMY).with_initial_data(
        description="why", **proposal(TAXONOMY, UNSURE)
    )
    props = filled.model_json_schema()["properties"]
    assert props["doc_type"]["default"] == "sonstiges"
    assert props["department"]["default"] == "Poststelle"
    assert props["aktenzeichen"]["default"] == "32.1-2026/0815"
    assert props["sender"]["default"] == "Erika Musterfrau"


def test_a_submitted_form_becomes_an_answer_with_blank_fields_unset() -> None:
    form = review_form(TAXONOMY).model_validate(
        {
            "doc_type": "rechnung",
            "department": "Kämmerei",
            "reviewer": "mm",
            "aktenzeichen": "  ",
            "sender": "X",
        }
    )
    got = answer_of(form)
    assert (got.doc_type, got.department, got.reviewer) == ("rechnung", "Kämmerei", "mm")
    assert got.aktenzeichen is None and got.sender == "X"
    assert got.answered_at.tzinfo is not None


@pytest.mark.parametrize(
    ("values", "doc_type", "department", "verdict"),
    [
        ({}, "sonstiges", "Poststelle", "confirmed sonstiges"),
        # a new type with the proposed department left alone: the new type's routing decides
        ({"doc_type": "rechnung"}, "rechnung", None, "type sonstiges → rechnung"),
        (
            {"doc_type": "rechnung", "department": "Rechtsamt"},
            "rechnung",
            "Rechtsamt",
            "type sonstiges → rechnung",
        ),
        ({"department": "Rechtsamt"}, "sonstiges", "Rechtsamt", "department → Rechtsamt"),
    ],
)
def test_the_operators_answer_decides_type_and_department(
    values: dict[str, str], doc_type: str, department: str | None, verdict: str
) -> None:
    final = reviewed(TAXONOMY, UNSURE, answer(**values))
    assert (final.doc_type, final.department) == (doc_type, department)
    assert final.classified_by == "operator" and final.confidence == 1.0
    assert final.reasons[0] == f"operator mm: {verdict}"
    assert final.fields.aktenzeichen is None  # the answer left it empty
    assert "aktenzeichen" not in final.fields.confidence


def test_what_the_operator_gave_counts_as_certain() -> None:
    unsure = UNSURE.model_copy(
        update={"fields": UNSURE.fields.model_copy(update={"confidence": {"sender": 0.6}})}
    )
    final = reviewed(TAXONOMY, unsure, answer(sender="Stadtwerke", aktenzeichen="3 K 12/26"))
    assert final.fields.confidence == {"sender": 1.0, "aktenzeichen": 1.0}
    assert (final.fields.sender, final.fields.aktenzeichen) == ("Stadtwerke", "3 K 12/26")


def test_the_first_page_preview_is_a_small_png(tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    Image.new("L", (2480, 3508), 255).save(pdf, resolution=300.0)
    png = first_page_png(pdf.read_bytes())
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and abs(image.width - 827) <= 1  # A4 at 100 dpi


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Return a migrated records database in a temporary file."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate(url)
    return engine_for(url)


def in_review(engine: Engine, version: str, at: dt.datetime) -> LetterRef:
    """Claim a letter and record that it went into review at ``at``."""
    source = SourceObject(bucket="inbox", key=f"scan-{version}.pdf", version_id=version)
    letter = claim_letter(engine, letter_id_for(source), source, None, "test")
    with Session(engine) as session, session.begin():
        row = session.scalars(select(Letter).where(Letter.id == letter.letter_id)).one()
        row.status, row.doc_type, row.confidence = State.IN_REVIEW, "sonstiges", 0.3
        session.add(
            Event(
                letter_id=letter.letter_id,
                at=at,
                step="review",
                status=State.IN_REVIEW,
                actor="test",
                detail={
                    "requested": ["confidence 0.30 below 0.80"],
                    "flow_run_id": f"run-{version}",
                },
            )
        )
    return letter


def test_pending_reviews_say_how_long_they_wait_and_which_are_overdue(engine: Engine) -> None:
    old = in_review(engine, "v1", NOW - dt.timedelta(hours=30))
    new = in_review(engine, "v2", NOW - dt.timedelta(hours=2))
    pending = pending_reviews(engine, NOW, overdue_hours=24)
    assert [p["letter_id"] for p in pending] == [old.letter_id, new.letter_id]
    assert [p["overdue"] for p in pending] == [True, False]
    assert [p["waiting_hours"] for p in pending] == [30.0, 2.0]
    assert pending[0]["why"] == ["confidence 0.30 below 0.80"]
    assert pending[0]["flow_run_id"] == "run-v1"
    advance(engine, new.letter_id, State.CLASSIFIED, step="review", actor="operator/mm")
    assert [p["letter_id"] for p in pending_reviews(engine, NOW, 24)] == [old.letter_id]


# --- the loop through a real Prefect server and worker -------------------------------------------

NOTE = (
    "Erika Musterfrau\nLindenweg 4\n12345 Musterstadt\n\n"
    "Hallo zusammen,\n\n"
    "anbei schicke ich Ihnen die Unterlagen zurück, die ich\n"
    "letzte Woche versehentlich mitgenommen habe.\n\n"
    "Viele Grüße\nErika Musterfrau"
)


def write_note(path: Path) -> None:
    """Write a one-page scan of a note that no rule of the taxonomy recognises."""
    font_file = next(FONT_ROOT.rglob("DejaVuSans.ttf"))
    font = ImageFont.truetype(str(font_file), 42)
    page = Image.new("L", (2480, 3508), 255)
    ImageDraw.Draw(page).multiline_text((250, 400), NOTE, font=font, fill=0, spacing=24)
    page.save(path, resolution=300.0)


def wait_for_status(stack: LocalStack, letter_id: str, wanted: str, seconds: float) -> Letter:
    """Wait until the letter is recorded in ``wanted`` state; return its row."""
    deadline = time.monotonic() + seconds
    seen = None
    while time.monotonic() < deadline:
        try:
            row = load_letter(stack.engine, letter_id)
        except KeyError:
            row = None
        seen = row.status if row else None
        if seen == wanted and row is not None:
            return row
        assert seen not in {"quarantined", "duplicate"}, seen
        time.sleep(0.5)
    raise AssertionError(f"letter {letter_id} is {seen}, not {wanted}, after {seconds} s")


@pytest.mark.slow
def test_an_unsure_letter_waits_in_the_ui_and_is_filed_as_the_operator_answers(
    stack: LocalStack, tmp_path: Path
) -> None:
    note = tmp_path / "note.png"
    write_note(note)
    buckets = stack.settings.buckets
    put = stack.s3.put_object(Bucket=buckets.inbox, Key="review/note.png", Body=note.read_bytes())
    source = SourceObject(bucket=buckets.inbox, key="review/note.png", version_id=put["VersionId"])
    letter_id = letter_id_for(source)

    processed = stack.postroom("process", "--timeout", "300")
    assert "review review/note.png: http" in processed.stdout, processed.stdout
    row = wait_for_status(stack, letter_id, "in_review", 5)
    assert row.flow_run_id is not None

    # The run is suspended: no worker slot is held, the form waits in the UI.
    shown = stack.prefect("flow-run", "inspect", row.flow_run_id)
    assert "Suspended" in shown.stdout, shown.stdout
    listed = json.loads(stack.postroom("review", "list", "--json").stdout)
    (item,) = [i for i in listed if i["letter_id"] == letter_id]
    assert item["link"].endswith(f"/runs/flow-run/{row.flow_run_id}")
    assert item["overdue"] is False and item["why"]
    preview = stack.s3.get_object(Bucket=buckets.system, Key=f"previews/{letter_id}/page-1.png")
    assert preview["Body"].read()[:8] == b"\x89PNG\r\n\x1a\n"

    # Overdue after a (configured) short wait: listed so, and one event on the next sweep.
    env = stack.env | {"POSTROOM_REVIEW__OVERDUE_HOURS": "0.0001"}
    overdue = LocalStack(env=env, data_dir=stack.data_dir)
    time.sleep(1)
    (late,) = [
        i
        for i in json.loads(overdue.postroom("review", "list", "--json").stdout)
        if i["letter_id"] == letter_id
    ]
    assert late["overdue"] is True
    overdue.postroom("process", "--timeout", "60")
    overdue.postroom("process", "--timeout", "60")
    with Session(stack.engine) as session:
        flags = session.scalars(
            select(Event).where(Event.letter_id == letter_id, Event.step == "review-overdue")
        ).all()
    assert len(flags) == 1

    answered = stack.postroom(
        "review", "answer", letter_id[:10], "--type", "beschwerde", "--reviewer", "Test Operator"
    )
    assert "its run resumes" in answered.stdout
    done = wait_for_status(stack, letter_id, "done", 240)
    assert done.doc_type == "beschwerde" and done.classified_by == "operator"
    assert done.department == "Bürgerservice"  # the new type's routing
    assert done.duplicate_of is None
    dms = stack.s3.list_objects_v2(Bucket=buckets.dms, Prefix="Buergerservice/")
    assert [o["Key"] for o in dms.get("Contents", []) if f"/{letter_id}/" in o["Key"]]
    with Session(stack.engine) as session:
        steps = session.execute(
            select(Event.step, Event.actor, Event.detail)
            .where(Event.letter_id == letter_id)
            .order_by(Event.id)
        ).all()
    answers = [detail for step, actor, detail in steps if actor == "operator/Test Operator"]
    assert len(answers) == 1 and answers[0]["answer"]["doc_type"] == "beschwerde"
    assert answers[0]["answer"]["answered_at"]
    assert [step for step, _, _ in steps].count("ocr") == 1  # the resumed run did not OCR again
    # Prefect keeps the run's result in the system bucket, as the run ends (after the record).
    deadline = time.monotonic() + 60
    while not stack.s3.list_objects_v2(Bucket=buckets.system, Prefix="prefect/").get("KeyCount"):
        assert time.monotonic() < deadline, "no flow result in the system bucket"
        time.sleep(0.5)
    with Session(stack.engine) as session:  # the answer is training data for the next model
        label = session.scalars(select(Label).where(Label.letter_id == letter_id)).one()
    assert (label.doc_type, label.source, label.by) == ("beschwerde", "operator", "Test Operator")
