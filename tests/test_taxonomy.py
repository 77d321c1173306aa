"""Tests for schemas/taxonomy.py: the packaged taxonomy, routing, retention, and load errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.letter import Fields
from schemas.settings import ReviewSettings
from schemas.taxonomy import Taxonomy, TaxonomyError, load_taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    """Return the packaged taxonomy."""
    return load_taxonomy()


# Line numbers matter: the error tests below refer to them.
MINIMAL = """\
version: 1
fallback: sonstiges
types:
  rechnung:
    description: Rechnung
    routing:
      department: Kämmerei
    retention_years: 10
    rules:
      - kind: literal
        pattern: rechnungsnummer
        weight: 3
      - kind: any
        words: [iban]
  sonstiges:
    description: Alles andere
    routing:
      department: Poststelle
    retention_years: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    """Write a taxonomy file and return its path."""
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_taxonomy_has_the_ten_types(taxonomy: Taxonomy) -> None:
    assert taxonomy.version == 1
    assert taxonomy.fallback == "sonstiges"
    assert set(taxonomy.types) == {
        "rechnung", "mahnung", "antrag", "widerspruch", "beschwerde", "bewerbung", "gericht",
        "anfrage", "werbung", "sonstiges",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("doc_type", "priority", "deadline"),
    [
        ("gericht", "urgent", None),
        ("widerspruch", "high", "P1M"),
        ("rechnung", "normal", None),
        ("sonstiges", "normal", None),
    ],
)
def test_packaged_priorities_and_deadlines(
    taxonomy: Taxonomy, doc_type: str, priority: str, deadline: str | None
) -> None:
    assert taxonomy.types[doc_type].priority == priority
    assert taxonomy.types[doc_type].deadline == deadline


def test_every_type_but_the_fallback_has_rules(taxonomy: Taxonomy) -> None:
    for name, doc_type in taxonomy.types.items():
        assert bool(doc_type.rules) is (name != taxonomy.fallback), name


@pytest.mark.parametrize(
    ("doc_type", "subject", "department", "rule"),
    [
        ("rechnung", None, "Kämmerei", "rechnung → Kämmerei"),
        ("mahnung", None, "Kämmerei", "mahnung → Kämmerei"),
        ("antrag", "Wohngeld", "Sozialamt", "antrag/Wohngeld → Sozialamt"),
        ("antrag", "Baugenehmigung", "Bauordnungsamt", "antrag/Baugenehmigung → Bauordnungsamt"),
        ("antrag", "Bauantrag", "Bauordnungsamt", "antrag/Baugenehmigung → Bauordnungsamt"),
        ("antrag", "Elterngeld", "Jugendamt", "antrag/Elterngeld → Jugendamt"),
        ("antrag", "Parkausweis", "Straßenverkehrsamt", "antrag/Parkausweis → Straßenverkehrsamt"),
        ("antrag", "wohngeld", "Sozialamt", "antrag/Wohngeld → Sozialamt"),
        ("antrag", None, "Bürgerservice", "antrag (default) → Bürgerservice"),
        ("antrag", "Fischereischein", "Bürgerservice", "antrag (default) → Bürgerservice"),
        ("widerspruch", None, "Rechtsamt", "widerspruch → Rechtsamt"),
        ("beschwerde", None, "Bürgerservice", "beschwerde → Bürgerservice"),
        ("bewerbung", None, "Personalamt", "bewerbung → Personalamt"),
        ("gericht", None, "Rechtsamt", "gericht → Rechtsamt"),
        ("anfrage", None, "Pressestelle", "anfrage → Pressestelle"),
        ("werbung", None, "Poststelle", "werbung → Poststelle"),
        ("sonstiges", None, "Poststelle", "sonstiges → Poststelle"),
        ("rechnung", "Wohngeld", "Kämmerei", "rechnung → Kämmerei"),  # no subjects: ignored
    ],
)
def test_department_for(
    taxonomy: Taxonomy, doc_type: str, subject: str | None, department: str, rule: str
) -> None:
    assert taxonomy.department_for(doc_type, subject) == (department, rule)


def test_department_for_an_unknown_type_names_the_known_ones(taxonomy: Taxonomy) -> None:
    with pytest.raises(KeyError, match="unknown document type 'brief'; known: gericht"):
        taxonomy.department_for("brief", None)


@pytest.mark.parametrize(
    ("doc_type", "subject", "years"),
    [
        ("rechnung", None, 10),
        ("mahnung", None, 10),
        ("antrag", None, 10),
        ("antrag", "Wohngeld", 10),
        ("antrag", "Baugenehmigung", 30),
        ("antrag", "Bauantrag", 30),
        ("widerspruch", None, 10),
        ("beschwerde", None, 5),
        ("bewerbung", None, 1),
        ("gericht", None, 30),
        ("anfrage", None, 5),
        ("werbung", None, 1),
        ("sonstiges", None, 2),
    ],
)
def test_retention_years(
    taxonomy: Taxonomy, doc_type: str, subject: str | None, years: int
) -> None:
    assert taxonomy.retention_years(doc_type, subject) == years


def test_missing_fields(taxonomy: Taxonomy) -> None:
    fields = Fields(amount_total=12.5, invoice_number="R-1")
    assert taxonomy.missing_fields("rechnung", fields) == ("iban",)
    assert taxonomy.missing_fields("werbung", fields) == ()


def test_taxonomy_is_frozen(taxonomy: Taxonomy) -> None:
    with pytest.raises(ValidationError):
        taxonomy.fallback = "rechnung"  # type: ignore[misc]


def test_minimal_file_loads(tmp_path: Path) -> None:
    loaded = load_taxonomy(write(tmp_path, MINIMAL))
    assert loaded.types["rechnung"].rules[0].weight == 3.0
    assert loaded.scoring.min_score == 2.0
    assert loaded.scoring.calibration is None  # the hand-made formula applies


def test_a_file_is_parsed_again_only_when_its_content_changed(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    first = load_taxonomy(path)
    assert load_taxonomy(path) is first  # shared: parsing costs ~0.1 CPU-s a flow run
    path.write_text(MINIMAL.replace("weight: 3", "weight: 4"), encoding="utf-8")
    changed = load_taxonomy(path)
    assert changed is not first
    assert changed.types["rechnung"].rules[0].weight == 4.0


CALIBRATED = MINIMAL.replace(
    "fallback: sonstiges\n",
    """fallback: sonstiges
scoring:
  fallback_confidence: 0.94
  calibration:
    intercept: -2.8
    score_weight: 1.1
    lead_weight: 0.07
    ceiling: 0.993
    letters: 147
    fitted_on: train split
""",
)


def test_the_packaged_rules_are_calibrated(taxonomy: Taxonomy) -> None:
    calibration = taxonomy.scoring.calibration
    assert calibration is not None
    assert calibration.score_weight > 0 and calibration.lead_weight >= 0
    assert 0.5 < calibration.ceiling < 1.0
    assert calibration.letters >= 100
    # A letter no rule knows is asked about (unless a trained model is sure it is the fallback).
    assert taxonomy.scoring.fallback_confidence < ReviewSettings().threshold


def test_a_calibration_block_loads(tmp_path: Path) -> None:
    scoring = load_taxonomy(write(tmp_path, CALIBRATED)).scoring
    assert scoring.fallback_confidence == 0.94
    assert scoring.calibration is not None
    assert (scoring.calibration.intercept, scoring.calibration.score_weight) == (-2.8, 1.1)
    assert scoring.calibration.fitted_on == "train split"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    score_weight: 1.1\n",
            "    score_weight: -1.1\n",
            "taxonomy.yaml line 7: scoring.calibration.score_weight: "
            "input should be greater than or equal to 0",
        ),
        (
            "    ceiling: 0.993\n",
            "    ceiling: 1.2\n",
            "taxonomy.yaml line 9: scoring.calibration.ceiling: "
            "input should be less than or equal to 1",
        ),
        (
            "    lead_weight: 0.07\n",
            "",
            "taxonomy.yaml line 6: scoring.calibration.lead_weight: required but missing",
        ),
    ],
)
def test_calibration_errors_name_the_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in CALIBRATED
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(write(tmp_path, CALIBRATED.replace(old, new, 1)))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      - kind: any\n",
            "      - kind: anything\n",
            "taxonomy.yaml line 13: types.rechnung.rules[1].kind: "
            "must be one of any, all, literal, regex, fuzzy",
        ),
        (
            "      - kind: literal\n        pattern: rechnungsnummer\n",
            "      - kind: regex\n        pattern: 'rechnung(snummer'\n",
            "taxonomy.yaml line 11: types.rechnung.rules[0].pattern: invalid regular expression: "
            "missing ), unterminated subpattern at position 8",
        ),
        (
            "      department: Kämmerei\n",
            "      department: '  '\n",
            "taxonomy.yaml line 7: types.rechnung.routing.department: must not be empty",
        ),
        (
            "fallback: sonstiges\n",
            "fallback: post\n",
            "taxonomy.yaml line 2: fallback: fallback type 'post' is not defined under `types`",
        ),
        (
            "    retention_years: 10\n",
            "    retention_years: -1\n",
            "taxonomy.yaml line 8: types.rechnung.retention_years: "
            "input should be greater than or equal to 0",
        ),
        (
            "    retention_years: 10\n",
            "    retention_years: 0.5\n",
            "taxonomy.yaml line 8: types.rechnung.retention_years: "
            "input should be a valid integer, got a number with a fractional part",
        ),
        (
            "    retention_years: 10\n",
            "    retention_years: 10\n    priority: asap\n",
            "taxonomy.yaml line 9: types.rechnung.priority: must be one of normal, high, urgent",
        ),
        (
            "    retention_years: 10\n",
            "    retention_years: 10\n    deadline: 1 Monat\n",
            "taxonomy.yaml line 9: types.rechnung.deadline: "
            "must be an ISO 8601 duration such as P1M or P14D, not '1 Monat'",
        ),
        (
            "    retention_years: 10\n",
            "    retention_years: 10\n    required_fields: [iban, betrag]\n",
            "taxonomy.yaml line 9: types.rechnung.required_fields[1]: unknown field 'betrag'",
        ),
        (
            "        words: [iban]\n",
            "        pattern: iban\n",
            "taxonomy.yaml line 13: types.rechnung.rules[1]: "
            "rule kind 'any' needs `words` (a list), not `pattern`",
        ),
        (
            "        weight: 3\n",
            "        wieght: 3\n",
            "taxonomy.yaml line 12: types.rechnung.rules[0].wieght: extra inputs are not permitted",
        ),
        (
            "    description: Rechnung\n",
            "",
            "taxonomy.yaml line 5: types.rechnung.description: required but missing",
        ),
        (
            "  rechnung:\n",
            "  Rechnung:\n",
            "taxonomy.yaml line 4: types.Rechnung: type name 'Rechnung' must be lower-case",
        ),
        (
            "version: 1\n",
            "version: 2\n",
            "taxonomy.yaml line 1: version: input should be 1",
        ),
        (
            "  sonstiges:\n",
            "  rechnung:\n",
            "taxonomy.yaml line 15: duplicate key 'rechnung'",
        ),
        (
            "        words: [iban]\n",
            "        words: [iban\n",
            "taxonomy.yaml line 15: expected ',' or ']', but got ':' "
            "(while parsing a flow sequence at line 14)",
        ),
    ],
)
def test_load_errors_name_the_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(path)
    assert str(caught.value).startswith(message)


def test_load_errors_are_listed_by_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("kind: any", "kind: some").replace("department: Poststelle", "x: 1")
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(write(tmp_path, text))
    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "taxonomy.yaml line 13",
        "taxonomy.yaml line 18",
        "taxonomy.yaml line 18",
    ]
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "taxonomy.yaml: the file is empty"),
        ("- just\n- a list\n", "taxonomy.yaml line 1: input should be a valid dictionary"),
    ],
)
def test_load_errors_for_wrong_documents(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(write(tmp_path, text))


def test_load_error_for_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read the taxonomy"):
        load_taxonomy(tmp_path / "absent.yaml")
