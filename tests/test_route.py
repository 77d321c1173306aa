"""Route: the default routing table, deadlines, xdomea metadata, the record and the event."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from prefect.events import Event as PrefectEvent
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from schemas.db import engine_for, migrate
from schemas.letter import (
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
from schemas.taxonomy import Taxonomy, load_taxonomy
from tasks.dms import dms_prefix, slug
from tasks.record import claim_letter, load_letter
from tasks.route import (
    ROUTED_EVENT,
    add_duration,
    decide,
    metadata_document,
    received_at,
    record_filing,
    routed_event,
    subject_line,
)

LETTER = "9c527a1d5f0cbfa2c1334290"
RECEIVED = dt.datetime(2026, 3, 16, 9, 30, tzinfo=dt.UTC)
ACTOR = "flow-run/test"

# (doc type, subject) → department, priority, deadline from receipt: the default taxonomy's table.
ROUTING_TABLE: dict[tuple[str, str | None], tuple[str, str, dt.date | None]] = {
    ("gericht", None): ("Rechtsamt", "urgent", None),
    ("widerspruch", None): ("Rechtsamt", "high", dt.date(2026, 4, 16)),
    ("mahnung", None): ("Kämmerei", "high", None),
    ("rechnung", None): ("Kämmerei", "normal", None),
    ("antrag", "Wohngeld"): ("Sozialamt", "normal", None),
    ("antrag", "Baugenehmigung"): ("Bauordnungsamt", "normal", None),
    ("antrag", "Elterngeld"): ("Jugendamt", "normal", None),
    ("antrag", "Parkausweis"): ("Straßenverkehrsamt", "normal", None),
    ("antrag", None): ("Bürgerservice", "normal", None),
    ("beschwerde", None): ("Bürgerservice", "normal", None),
    ("bewerbung", None): ("Personalamt", "normal", None),
    ("anfrage", None): ("Pressestelle", "normal", None),
    ("werbung", None): ("Poststelle", "normal", None),
    ("sonstiges", None): ("Poststelle", "normal", None),
}


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    """Return the default taxonomy."""
    return load_taxonomy()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Return a migrated records database in a temporary file, with the letter claimed."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate(url)
    engine = engine_for(url)
    source = SourceObject(bucket="inbox", key="scan.pdf", version_id="v1")
    claim_letter(engine, LETTER, source, None, ACTOR)
    return engine


def classified(
    doc_type: str, subject: str | None = None, aktenzeichen: str | None = None
) -> Classification:
    """Return a rule classification of ``doc_type`` with a sender and a letter date."""
    fields = Fields(sender="Max Mustermann", date=dt.date(2026, 3, 12), aktenzeichen=aktenzeichen)
    return Classification(
        doc_type=doc_type, subject=subject, confidence=0.9, classified_by="rule", fields=fields
    )


def letter(text: str) -> tuple[Intake, OcrResult]:
    """Return the intake and OCR result of a one-page letter with ``text``."""
    source = SourceObject(bucket="inbox", key="scan.pdf", version_id="v1")
    intake = Intake(
        letter=LetterRef(letter_id=LETTER, source=source),
        sha256="ab" * 32,
        size=1234,
        media_type=MediaType.PDF,
        pages=1,
        local_path="/nonexistent/scan.pdf",
    )
    page = PageText(number=1, text=text, confidence=91.0, source="ocr")
    ocr = OcrResult(letter_id=LETTER, pages=(page,), pdf_key="work/x.pdf", text_key="work/x.txt")
    return intake, ocr


# --- DMS paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Kämmerei", "Kaemmerei"),
        ("Straßenverkehrsamt", "Strassenverkehrsamt"),
        ("32.1-2026/0815", "32.1-2026-0815"),
        ("3 K 1234/26", "3-K-1234-26"),
        ("Bürgerservice", "Buergerservice"),
        ("../etc", "etc"),
    ],
)
def test_slug_folds_umlauts_and_separators(value: str, expected: str) -> None:
    assert slug(value) == expected


def test_dms_prefix_uses_ohne_az_without_aktenzeichen() -> None:
    assert dms_prefix("Kämmerei", None, "abc") == "Kaemmerei/ohne-az/abc/"
    assert dms_prefix("Rechtsamt", "3 K 1234/26", "abc") == "Rechtsamt/3-K-1234-26/abc/"


# --- the routing decision -----------------------------------------------------------------------


def test_the_routing_table_covers_every_type_and_subject(taxonomy: Taxonomy) -> None:
    subjects = {("antrag", name) for name in taxonomy.doc_type("antrag").routing.subjects}
    types = {(name, None) for name in taxonomy.types}
    assert set(ROUTING_TABLE) == types | subjects


@pytest.mark.parametrize(("doc_type", "subject"), list(ROUTING_TABLE))
def test_each_type_routes_to_its_department_priority_and_deadline(
    taxonomy: Taxonomy, doc_type: str, subject: str | None
) -> None:
    department, priority, deadline = ROUTING_TABLE[doc_type, subject]
    routing = decide(taxonomy, classified(doc_type, subject), RECEIVED)
    assert (routing.department, routing.priority, routing.deadline) == (
        department,
        priority,
        deadline,
    )
    assert routing.received == RECEIVED.date()
    assert routing.rule.startswith(f"{doc_type}/{subject}" if subject else doc_type)
    assert routing.rule.endswith(f"→ {department}")


def test_a_subject_alias_routes_like_its_subject(taxonomy: Taxonomy) -> None:
    routing = decide(taxonomy, classified("antrag", "bauantrag"), RECEIVED)
    assert routing.department == "Bauordnungsamt"
    assert routing.rule == "antrag/Baugenehmigung → Bauordnungsamt"


def test_an_unknown_subject_falls_back_to_the_type_department(taxonomy: Taxonomy) -> None:
    routing = decide(taxonomy, classified("antrag", "Hundesteuer"), RECEIVED)
    assert routing.department == "Bürgerservice"
    assert routing.rule == "antrag (default) → Bürgerservice"


def test_the_target_is_the_akte_of_the_aktenzeichen_else_ohne_az(taxonomy: Taxonomy) -> None:
    with_az = decide(taxonomy, classified("gericht", aktenzeichen="3 K 1234/26"), RECEIVED)
    assert with_az.target.prefix(LETTER) == f"Rechtsamt/3-K-1234-26/{LETTER}/"
    without = decide(taxonomy, classified("rechnung"), RECEIVED)
    assert without.target.prefix(LETTER) == f"Kaemmerei/ohne-az/{LETTER}/"


def test_a_widerspruch_at_the_end_of_january_is_due_at_the_end_of_february(
    taxonomy: Taxonomy,
) -> None:
    received = dt.datetime(2026, 1, 31, 8, 0, tzinfo=dt.UTC)
    routing = decide(taxonomy, classified("widerspruch"), received)
    assert routing.deadline == dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (dt.datetime(2026, 3, 16, 9), "P1M", dt.datetime(2026, 4, 16, 9)),
        (dt.datetime(2026, 1, 31, 9), "P1M", dt.datetime(2026, 2, 28, 9)),
        (dt.datetime(2028, 1, 31, 9), "P1M", dt.datetime(2028, 2, 29, 9)),
        (dt.datetime(2026, 11, 30, 9), "P3M", dt.datetime(2027, 2, 28, 9)),
        (dt.datetime(2026, 3, 16, 9), "P14D", dt.datetime(2026, 3, 30, 9)),
        (dt.datetime(2026, 3, 16, 9), "P2W", dt.datetime(2026, 3, 30, 9)),
        (dt.datetime(2028, 2, 29, 9), "P1Y", dt.datetime(2029, 2, 28, 9)),
        (dt.datetime(2026, 3, 16, 9), "P1Y2M3DT4H", dt.datetime(2027, 5, 19, 13)),
        (dt.datetime(2026, 3, 16, 23), "PT48H", dt.datetime(2026, 3, 18, 23)),
    ],
)
def test_add_duration_counts_calendar_months(
    start: dt.datetime, duration: str, expected: dt.datetime
) -> None:
    assert add_duration(start, duration) == expected


@pytest.mark.parametrize("duration", ["P", "PT", "1M", "P1MT", "P1.5M"])
def test_add_duration_refuses_what_is_no_duration(duration: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        add_duration(RECEIVED, duration)


# --- metadata -----------------------------------------------------------------------------------

BETREFF_LETTER = (
    "Max Mustermann\nHauptstr. 1\n\nKreisverwaltung Musterkreis\n\n"
    "Betreff: Widerspruch gegen den Bescheid vom 01.03.2026\n\nSehr geehrte Damen und Herren,"
)


def test_the_metadata_maps_to_xdomea_and_keeps_the_existing_keys(taxonomy: Taxonomy) -> None:
    decided = classified("widerspruch", aktenzeichen="36.1-2026/0815")
    routing = decide(taxonomy, decided, RECEIVED)
    intake, ocr = letter(BETREFF_LETTER)
    meta = metadata_document(
        intake, ocr, decided, routing.department, routing.rule, routing=routing
    )
    assert meta["xdomea"] == {
        "Betreff": "Widerspruch gegen den Bescheid vom 01.03.2026",
        "Kennzeichen": "36.1-2026/0815",
        "Posteingangsdatum": "2026-03-16",
        "DatumDesSchreibens": "2026-03-12",
        "Absender": "Max Mustermann",
        "Federfuehrung": "Rechtsamt",
    }
    assert meta["priority"] == "high" and meta["deadline"] == "2026-04-16"
    assert meta["aktenzeichen"] == "36.1-2026/0815"
    old_keys = metadata_document(intake, ocr, decided, routing.department, routing.rule)
    assert set(old_keys) <= set(meta)
    assert meta["letter_id"] == LETTER and meta["routing_rule"] == "widerspruch → Rechtsamt"
    json.dumps(meta)  # plain JSON, as stored in the DMS and the archive


def test_without_a_subject_line_the_betreff_is_the_type_description(taxonomy: Taxonomy) -> None:
    decided = classified("rechnung")
    routing = decide(taxonomy, decided, RECEIVED)
    intake, ocr = letter("Stadtwerke Musterstadt\n\nRechnung Nr. 42\n\nGesamtbetrag 12,00 EUR")
    meta = metadata_document(
        intake, ocr, decided, routing.department, routing.rule, routing=routing
    )
    assert meta["xdomea"]["Betreff"] == taxonomy.doc_type("rechnung").description
    assert meta["xdomea"]["Kennzeichen"] is None


def test_a_long_subject_line_is_cut_on_one_line() -> None:
    line = subject_line("Betr.:  Antrag   auf " + "sehr " * 100 + "viel")
    assert line is not None and len(line) == 250 and line.endswith("…")
    assert line.startswith("Antrag auf sehr")
    assert subject_line("Sehr geehrte Damen und Herren,") is None


# --- record and event ---------------------------------------------------------------------------


def test_the_decision_is_recorded_with_priority_deadline_and_rule(
    engine: Engine, taxonomy: Taxonomy
) -> None:
    routing = decide(taxonomy, classified("widerspruch"), received_at(engine, LETTER))
    filing = routing.filing(LETTER, f"s3://postroom-dms/{routing.target.prefix(LETTER)}")
    record_filing(engine, LETTER, filing, ACTOR)
    row = load_letter(engine, LETTER)
    assert row.status == State.FILED and row.department == "Rechtsamt"
    assert row.dms_ref == f"s3://postroom-dms/Rechtsamt/ohne-az/{LETTER}/"
    with Session(engine) as session:
        event = session.scalars(select(Event).where(Event.step == "route")).one()
    received = row.received_at.date()
    assert event.detail == {
        "department": "Rechtsamt",
        "rule": "widerspruch → Rechtsamt",
        "dms_ref": row.dms_ref,
        "aktenzeichen": None,
        "priority": "high",
        "received": received.isoformat(),
        "deadline": add_duration(row.received_at, "P1M").date().isoformat(),
    }


def test_the_filing_crosses_task_boundaries_as_json(taxonomy: Taxonomy) -> None:
    routing = decide(taxonomy, classified("gericht", aktenzeichen="3 K 1234/26"), RECEIVED)
    filing = routing.filing(LETTER, "https://dms.example.org/documents/7")
    assert Filing.model_validate_json(filing.model_dump_json()) == filing
    assert filing.dms_path == f"Rechtsamt/3-K-1234-26/{LETTER}/"
    assert filing.aktenzeichen == "3 K 1234/26"
    assert (filing.priority, filing.deadline) == ("urgent", None)


def test_the_routed_event_names_the_letter_and_the_department(taxonomy: Taxonomy) -> None:
    decided = classified("widerspruch")
    filing = decide(taxonomy, decided, RECEIVED).filing(LETTER, "s3://postroom-dms/x/")
    event = PrefectEvent(**routed_event(LETTER, decided, filing))  # Prefect's own validation
    assert event.event == ROUTED_EVENT == "postroom.letter.routed"
    assert event.resource.id == f"postroom.letter.{LETTER}"
    assert event.resource["postroom.department"] == "Rechtsamt"
    assert event.payload["department"] == "Rechtsamt"
    assert event.payload["doc_type"] == "widerspruch"
    assert event.payload["priority"] == "high"
    assert event.payload["deadline"] == "2026-04-16"


def test_a_rerun_emits_the_same_event_id(taxonomy: Taxonomy) -> None:
    decided = classified("gericht")
    filing = decide(taxonomy, decided, RECEIVED).filing(LETTER, "s3://postroom-dms/x/")
    first, again = (routed_event(LETTER, decided, filing) for _ in range(2))
    other = routed_event("another-letter", decided, filing)
    assert first["id"] == again["id"] != other["id"]
