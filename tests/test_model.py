"""Tests for tasks/model.py and flows/train.py: the trained classifier, its storage, combine().

The letters are the sample generator's ground-truth text (``flows.samples.compose``): fast, no
OCR. Storage runs against a real ``weed mini`` started for this module alone (the S3 part of
the local stack, without Prefect), and the labels against real SQLite and PostgreSQL databases.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import skops.io  # type: ignore[import-untyped]  # skops ships no type hints
from sklearn.preprocessing import FunctionTransformer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flows.samples import DOC_TYPES, compose
from flows.stack import Part, Stack, free_port, stop
from flows.train import TrainResult, result_markdown, train
from schemas.db import engine_for, migrate
from schemas.letter import (
    Classification,
    Fields,
    Intake,
    MediaType,
    OcrResult,
    PageText,
    SourceObject,
    State,
)
from schemas.records import Label
from schemas.settings import BucketSettings, Settings
from schemas.taxonomy import Scoring, Taxonomy, load_taxonomy
from tasks.classify import classify, rule_confidence
from tasks.dms import dms_connector
from tasks.edges import Edges, s3_client
from tasks.intake import letter_id_for
from tasks.model import (
    POINTER_KEY,
    Decision,
    Example,
    ModelIntegrityError,
    TooFewExamplesError,
    TrainedModel,
    add_label,
    combine,
    fallback_share,
    fingerprint,
    fit_model,
    fit_rule_calibration,
    load_current,
    load_model,
    loads_pipeline,
    read_label_csv,
    read_pointer,
    save_model,
    training_set,
)
from tasks.record import advance, claim_letter
from tests.postgres import Cluster, create_database, postgres_cluster  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACTOR = "flow-run/test"
TRAIN_SEEDS = range(8)
TEST_SEEDS = range(900, 910)


def letters(seeds: range, doc_types: tuple[str, ...] = DOC_TYPES) -> list[Example]:
    """Return (text, type) of composed sample letters, pages joined by form feed as OCR does."""
    return [("\f".join(compose(t, seed).pages), t) for seed in seeds for t in doc_types]


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    """Return the packaged taxonomy."""
    return load_taxonomy()


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    """Return the training letters: eight of each type."""
    return letters(TRAIN_SEEDS)


@pytest.fixture(scope="module")
def model(corpus: list[Example]) -> TrainedModel:
    """Return a model trained (and cross-validated) on the training letters."""
    return fit_model(corpus)


@pytest.fixture(scope="module")
def s3_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Start a real `weed mini` on a free port (the stack's own S3 part); stop it afterwards."""
    data_dir = tmp_path_factory.mktemp("model-s3")
    port = free_port(pair_offset=10000)
    stack = Stack(Settings(data_dir=data_dir, s3={"endpoint_url": f"http://127.0.0.1:{port}"}))
    settings = stack.ensure_credentials()
    parts: dict[str, Part] = {}
    try:
        with warnings.catch_warnings():
            # Stack.spawn leaves weed running and drops its Popen handle, as `postroom up` means
            # to; in this process that handle's finaliser would warn that it still runs.
            warnings.simplefilter("ignore", ResourceWarning)
            stack.start_s3(settings, parts)
        yield settings
    finally:
        if "s3" in parts:
            stop(parts["s3"])


@pytest.fixture
def bucket_settings(s3_settings: Settings) -> Settings:
    """Return settings whose system bucket is new and empty."""
    name = f"system-{uuid.uuid4().hex[:12]}"
    s3_client(s3_settings).create_bucket(Bucket=name)
    return s3_settings.model_copy(update={"buckets": BucketSettings(system=name)})


@pytest.fixture
def s3(bucket_settings: Settings) -> S3Client:
    """Return an S3 client for the module's server."""
    return s3_client(bucket_settings)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Return a migrated records database: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("postgres_cluster")
        url = create_database(cluster)
    migrate(url)
    yield engine_for(url)
    engine_for(url).dispose()  # before the session's cluster stops


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    """Return a migrated SQLite records database."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate(url)
    return engine_for(url)


@pytest.fixture
def edges(bucket_settings: Settings, sqlite_engine: Engine, taxonomy: Taxonomy) -> Edges:
    """Return edges on the module's S3 (a fresh system bucket) and a fresh records database."""
    s3 = s3_client(bucket_settings)
    return Edges(
        settings=bucket_settings,
        s3=s3,
        engine=sqlite_engine,
        taxonomy=taxonomy,
        dms=dms_connector(bucket_settings.dms, s3, bucket_settings.buckets.dms),
    )


def record_letter(
    engine: Engine,
    text: str | None,
    doc_type: str,
    *,
    key: str | None = None,
    status: State = State.DONE,
    confidence: float = 0.5,
    classified_by: str = "rule",
) -> str:
    """Record a processed letter with its text and classification; return its id."""
    source = SourceObject(
        bucket="postroom-inbox", key=key or f"scan-{uuid.uuid4().hex[:8]}.pdf", version_id="v1"
    )
    letter_id = letter_id_for(source)
    claim_letter(engine, letter_id, source, None, ACTOR)
    advance(
        engine,
        letter_id,
        status,
        step="record",
        actor=ACTOR,
        text=text,
        doc_type=doc_type,
        confidence=confidence,
        classified_by=classified_by,
    )
    return letter_id


# --- the model ---------------------------------------------------------------------------------


def test_the_model_beats_chance_clearly_on_held_out_letters(model: TrainedModel) -> None:
    held_out = letters(TEST_SEEDS)
    predicted = model.predict_many([text for text, _ in held_out])
    right = sum(
        max(p, key=lambda t: p[t]) == truth
        for p, (_, truth) in zip(predicted, held_out, strict=True)
    )
    assert right / len(held_out) >= 0.9  # chance is 0.1 with ten types
    one = predicted[0]
    assert set(one) == set(DOC_TYPES)
    assert sum(one.values()) == pytest.approx(1.0, abs=0.01)


def test_the_model_describes_itself(model: TrainedModel, corpus: list[Example]) -> None:
    info = model.info
    assert info.size == len(corpus) == 80
    assert info.counts == dict.fromkeys(sorted(DOC_TYPES), 8)
    assert info.labels == tuple(sorted(DOC_TYPES))
    assert info.accuracy is not None and info.accuracy >= 0.8
    assert info.measured_by == "4-fold stratified cross-validation"
    assert info.fingerprint == fingerprint(corpus)
    assert info.version.endswith(f"-{info.fingerprint[:8]}")
    assert info.calibration == "temperature"


def test_types_with_one_example_are_left_out_and_reported() -> None:
    examples = letters(range(3), ("rechnung", "gericht")) + letters(range(1), ("werbung",))
    small = fit_model(examples)
    assert small.info.left_out == {"werbung": 1}
    assert small.info.labels == ("gericht", "rechnung")
    assert small.info.accuracy is None  # three of a type: too few to cross-validate
    assert small.info.measured_by.startswith("not measured")
    assert set(small.predict(examples[0][0])) == {"gericht", "rechnung"}


def test_one_type_cannot_make_a_model() -> None:
    with pytest.raises(TooFewExamplesError, match="at least two types"):
        fit_model(letters(range(3), ("rechnung",)) + letters(range(1), ("gericht",)))


def test_the_fingerprint_ignores_order_and_sees_every_change(corpus: list[Example]) -> None:
    assert fingerprint(corpus) == fingerprint(list(reversed(corpus)))
    relabelled = [(corpus[0][0], "sonstiges"), *corpus[1:]]
    assert fingerprint(relabelled) != fingerprint(corpus)
    assert fingerprint(corpus[1:]) != fingerprint(corpus)


# --- storage -----------------------------------------------------------------------------------


def test_a_model_round_trips_through_s3(model: TrainedModel, s3: S3Client, bucket: str) -> None:
    assert load_current(s3, bucket) is None
    pointer = save_model(s3, bucket, model)
    assert pointer.model_key == f"models/classifier/{model.version}.skops"
    loaded = load_current(s3, bucket)
    assert loaded is not None and loaded.info == model.info
    text = letters(range(950, 951), ("mahnung",))[0][0]
    assert loaded.predict(text) == model.predict(text)
    assert load_current(s3, bucket) is loaded  # cached by version


@pytest.fixture
def bucket(bucket_settings: Settings) -> str:
    """Return the name of the fresh system bucket."""
    return bucket_settings.buckets.system


def test_the_old_model_is_served_until_the_pointer_moves(
    model: TrainedModel, s3: S3Client, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_model(s3, bucket, model)
    newer = fit_model(letters(range(3), ("rechnung", "mahnung")), measured=False)
    put_object = s3.put_object

    def crash_at_the_pointer(**kwargs: Any) -> Any:
        if kwargs["Key"] == POINTER_KEY:
            raise ConnectionError("the process died before it moved the pointer")
        return put_object(**kwargs)

    monkeypatch.setattr(s3, "put_object", crash_at_the_pointer)
    with pytest.raises(ConnectionError):
        save_model(s3, bucket, newer)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"models/classifier/{newer.version}.skops" in keys  # written, not yet named
    current = load_current(s3, bucket)
    assert current is not None and current.version == model.version
    monkeypatch.setattr(s3, "put_object", put_object)
    save_model(s3, bucket, newer)
    current = load_current(s3, bucket)
    assert current is not None and current.version == newer.version


def test_a_corrupted_model_is_refused_by_its_checksum(
    model: TrainedModel, s3: S3Client, bucket: str
) -> None:
    pointer = save_model(s3, bucket, model)
    blob = s3.get_object(Bucket=bucket, Key=pointer.model_key)["Body"].read()
    damaged = blob[:-100] + bytes(100)
    s3.put_object(Bucket=bucket, Key=pointer.model_key, Body=damaged)
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        load_model(s3, bucket, pointer)


def test_a_pointer_that_is_not_json_is_refused(s3: S3Client, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key=POINTER_KEY, Body=b"<html>not a pointer</html>")
    with pytest.raises(ModelIntegrityError, match="not a model pointer"):
        read_pointer(s3, bucket)


def test_a_model_that_would_run_code_is_refused() -> None:
    blob = skops.io.dumps(FunctionTransformer(func=os.system))
    with pytest.raises(ModelIntegrityError, match="may not load"):
        loads_pipeline(blob)


# --- combine -----------------------------------------------------------------------------------

INVOICE_FIELDS = Fields(amount_total=12.5, iban="DE89370400440532013000", invoice_number="R-1")
AZ = Fields(aktenzeichen="3 K 1234/26")


def rules_say(doc_type: str, confidence: float, fields: Fields | None = None) -> Classification:
    """Return a rules classification."""
    return Classification(
        doc_type=doc_type,
        confidence=confidence,
        classified_by="rule",
        reasons=(f"{doc_type}: literal (+3.0)",),
        fields=fields or Fields(),
    )


@pytest.mark.parametrize(
    ("rules", "probabilities", "doc_type", "by", "confidence", "review"),
    [
        # agreement: noisy-OR of both, by whoever was more confident
        (
            rules_say("rechnung", 0.7, INVOICE_FIELDS),
            {"rechnung": 0.95},
            "rechnung",
            "model",
            0.985,
            "",
        ),
        (
            rules_say("gericht", 0.97, AZ),
            {"gericht": 0.85, "anfrage": 0.15},
            "gericht",
            "rule",
            0.9955,
            "",
        ),
        (rules_say("werbung", 0.69), {"werbung": 0.4}, "werbung", "rule", 0.814, ""),
        # rules found nothing (fallback): the fallback type stays, discounted by the model's
        # case; a sure model's type is a suggestion for the reviewer
        (
            rules_say("sonstiges", 0.94),
            {"werbung": 0.97, "sonstiges": 0.03},
            "sonstiges",
            "rule",
            0.0564,
            "the model says werbung 0.97",
        ),
        # ... an unsure one only lowers the fallback's confidence
        (rules_say("sonstiges", 0.94), {"beschwerde": 0.45}, "sonstiges", "rule", 0.517, "below"),
        (
            rules_say("sonstiges", 0.94),
            {"beschwerde": 0.15, "sonstiges": 0.1},
            "sonstiges",
            "rule",
            0.893,
            "",
        ),
        # agreement on the fallback
        (rules_say("sonstiges", 0.94), {"sonstiges": 0.8}, "sonstiges", "rule", 0.988, ""),
        # a weak rule match still counts against the model
        (rules_say("werbung", 0.3), {"anfrage": 0.97}, "anfrage", "model", 0.679, "below"),
        # disagreement: the more confident wins, discounted by the other's case against it
        (rules_say("anfrage", 0.6), {"beschwerde": 0.9}, "beschwerde", "model", 0.36, "below"),
        (rules_say("anfrage", 0.92), {"beschwerde": 0.4}, "anfrage", "rule", 0.552, "below"),
        # an undecided model (its type barely ahead of the rules') hardly counts
        (
            rules_say("anfrage", 0.92),
            {"beschwerde": 0.4, "anfrage": 0.35},
            "anfrage",
            "rule",
            0.874,
            "",
        ),
        # a strong rule and a confident model disagree
        (
            rules_say("gericht", 0.95, AZ),
            {"widerspruch": 0.9},
            "gericht",
            "rule",
            0.095,
            "disagree",
        ),
        # agreement below the threshold
        (rules_say("anfrage", 0.5), {"anfrage": 0.5}, "anfrage", "rule", 0.75, "below"),
        # no model: the rules alone, against the same threshold
        (rules_say("anfrage", 0.85), None, "anfrage", "rule", 0.85, ""),
        (rules_say("anfrage", 0.5), None, "anfrage", "rule", 0.5, "below"),
        (rules_say("anfrage", 0.85), {}, "anfrage", "rule", 0.85, ""),
        # a type the taxonomy does not know (an old model) is ignored
        (rules_say("anfrage", 0.85), {"altlast": 0.99}, "anfrage", "rule", 0.85, ""),
        # required fields missing for the final type
        (rules_say("gericht", 0.95), {"gericht": 0.9}, "gericht", "rule", 0.995, "aktenzeichen"),
        (rules_say("anfrage", 0.3), {"rechnung": 0.99}, "rechnung", "model", 0.693, "iban"),
    ],
)
def test_combine(
    taxonomy: Taxonomy,
    rules: Classification,
    probabilities: dict[str, float] | None,
    doc_type: str,
    by: str,
    confidence: float,
    review: str,
) -> None:
    decided = combine(rules, probabilities, taxonomy)
    final = decided.classification
    assert (final.doc_type, final.classified_by) == (doc_type, by)
    assert final.confidence == pytest.approx(confidence, abs=0.001)
    assert set(rules.reasons) <= set(final.reasons)
    if probabilities and set(probabilities) & set(taxonomy.types):
        assert any(reason.startswith("model: ") for reason in final.reasons)
    if review:
        assert any(review in reason for reason in decided.review_reasons), decided.review_reasons
        assert not decided.automatic
    else:
        assert decided.review_reasons == ()
        assert decided.automatic


def test_a_model_decision_detects_the_subject_for_routing(taxonomy: Taxonomy) -> None:
    text = "Antrag auf Wohngeld\nHiermit beantrage ich Wohngeld (Mietzuschuss) für meine Wohnung."
    decided = combine(rules_say("anfrage", 0.3), {"antrag": 0.98}, taxonomy, text=text)
    assert decided.classification.doc_type == "antrag"
    assert decided.classification.subject == "Wohngeld"


# --- calibrating the rules ------------------------------------------------------------------------


def evidence_like_the_rules() -> list[tuple[float, float, bool]]:
    """Return rules evidence: weak top scores often wrong, strong ones always right."""
    weak = [(1.5, 0.0, False)] * 10 + [(1.5, 0.0, True)] * 2 + [(2.5, 1.0, False)] * 2
    strong = [
        (score, runner_up, True) for score in (2.5, 4.0, 6.0, 9.0, 12.0) for runner_up in (0.0, 1.5)
    ]
    return weak + strong * 6


def test_a_rule_calibration_is_monotone_and_calibrated_on_its_letters(taxonomy: Taxonomy) -> None:
    evidence = evidence_like_the_rules()
    fitted = fit_rule_calibration(evidence, min_score=2.0, fitted_on="made-up evidence")
    assert fitted.score_weight > 0 and fitted.lead_weight >= 0
    assert fitted.letters == len(evidence)
    decided = [ok for best, _, ok in evidence if best >= 2.0]
    assert fitted.ceiling == pytest.approx((sum(decided) + 1) / (len(decided) + 2), abs=1e-4)
    uncapped = Scoring(calibration=fitted.model_copy(update={"ceiling": 1.0}))
    confidences = [rule_confidence(best, runner_up, uncapped) for best, runner_up, _ in evidence]
    # a logistic fit's mean probability over its letters is their mean target: Platt's
    # (right + 1) / (right + 2) for a right letter and 1 / (wrong + 2) for a wrong one
    right = sum(ok for *_, ok in evidence)
    wrong = len(evidence) - right
    target = (right * (right + 1) / (right + 2) + wrong / (wrong + 2)) / len(evidence)
    assert sum(confidences) / len(confidences) == pytest.approx(target, abs=0.005)
    scoring = Scoring(calibration=fitted)
    assert rule_confidence(1.5, 0.0, scoring) < 0.5 < rule_confidence(6.0, 0.0, scoring)


def test_a_rule_calibration_never_rewards_less_evidence() -> None:
    # strong scores wrong, weak ones right: the fit would want a negative weight, and gets 0
    evidence = [(10.0, 0.0, False)] * 5 + [(10.0, 0.0, True)] * 5 + [(2.0, 0.0, True)] * 10
    fitted = fit_rule_calibration(evidence, min_score=2.0, fitted_on="made-up evidence")
    assert fitted.score_weight == 0.0 and fitted.lead_weight == 0.0


def test_a_rule_calibration_needs_letters() -> None:
    with pytest.raises(ValueError, match="no letters"):
        fit_rule_calibration([], min_score=2.0, fitted_on="nothing")


@pytest.mark.parametrize(
    ("outcomes", "share"),
    [([], 0.5), ([True] * 15, 16 / 17), ([True] * 8 + [False] * 2, 9 / 12)],
)
def test_the_fallback_share_is_laplace_smoothed(outcomes: list[bool], share: float) -> None:
    assert fallback_share(outcomes) == pytest.approx(share, abs=1e-4)


# --- labels and the training set ----------------------------------------------------------------


def labels_of(engine: Engine) -> dict[str, tuple[str, str, str]]:
    """Return every label as letter id → (type, source, by)."""
    with Session(engine) as session:
        rows = session.scalars(select(Label)).all()
        return {row.letter_id: (row.doc_type, row.source, row.by) for row in rows}


def test_a_label_is_one_per_letter_and_a_person_outranks_a_machine(engine: Engine) -> None:
    letter = record_letter(engine, "Rechnung Nr. 1", "rechnung")
    add_label(engine, letter, "mahnung", "confident", "pipeline")
    add_label(engine, letter, "rechnung", "operator", "anna")
    assert labels_of(engine) == {letter: ("rechnung", "operator", "anna")}
    add_label(engine, letter, "mahnung", "confident", "pipeline")  # does not replace a person
    assert labels_of(engine) == {letter: ("rechnung", "operator", "anna")}
    add_label(engine, letter, "sonstiges", "csv", "bernd")  # a later person does
    assert labels_of(engine) == {letter: ("sonstiges", "csv", "bernd")}
    with pytest.raises(KeyError, match="no letter"):
        add_label(engine, "0" * 24, "rechnung", "operator", "anna")


def test_the_training_set_is_labels_and_confident_rule_decisions(engine: Engine) -> None:
    labelled = record_letter(engine, "labelled", "anfrage", confidence=0.4)
    add_label(engine, labelled, "beschwerde", "operator", "anna")
    in_review = record_letter(engine, "in review", "anfrage", status=State.IN_REVIEW)
    add_label(engine, in_review, "antrag", "operator", "anna")
    record_letter(engine, "confident rule", "rechnung", confidence=0.97)
    record_letter(engine, "operator decided", "gericht", confidence=1.0, classified_by="operator")
    record_letter(engine, "unsure", "werbung", confidence=0.9)
    record_letter(engine, "the model's own", "werbung", confidence=0.99, classified_by="model")
    record_letter(engine, "not done", "werbung", confidence=0.99, status=State.FILED)
    add_label(engine, record_letter(engine, None, "gericht"), "gericht", "csv", "bernd")  # no text
    assert training_set(engine) == [
        ("labelled", "beschwerde"),
        ("in review", "antrag"),
        ("confident rule", "rechnung"),
        ("operator decided", "gericht"),
    ]
    assert ("unsure", "werbung") in training_set(engine, min_confidence=0.9)


# --- retraining ----------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[tuple[str, str]], delimiter: str = ",") -> Path:
    """Write a labels CSV with its header."""
    lines = [f"source_key{delimiter}doc_type", *(f"{k}{delimiter}{t}" for k, t in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_labels_csv_is_read_with_commas_or_semicolons_and_a_bom(tmp_path: Path) -> None:
    rows = [("scanner-1/a.pdf", "rechnung"), ("b.tif", "gericht")]
    assert read_label_csv(write_csv(tmp_path / "a.csv", rows)) == rows
    semicolons = write_csv(tmp_path / "b.csv", rows, ";")
    semicolons.write_bytes(b"\xef\xbb\xbf" + semicolons.read_bytes())
    assert read_label_csv(semicolons) == rows
    (tmp_path / "c.csv").write_text("key,type\nx,y\n")
    with pytest.raises(ValueError, match="source_key and doc_type"):
        read_label_csv(tmp_path / "c.csv")


def test_csv_labels_bootstrap_the_first_model(edges: Edges, tmp_path: Path) -> None:
    rows = []
    for index, (text, doc_type) in enumerate(letters(range(3), ("rechnung", "gericht", "antrag"))):
        key = f"scanner-1/{index:03d}.pdf"
        record_letter(edges.engine, text, "sonstiges", key=key, confidence=0.3)
        rows.append((key, doc_type))
    rows += [("scanner-9/never-seen.pdf", "rechnung"), ("scanner-1/000.pdf", "altlast")]
    result = train(edges, write_csv(tmp_path / "labels.csv", rows), by="anna")
    assert result.status == "trained", result.message
    assert result.labels is not None
    assert result.labels.recorded == 9
    assert result.labels.unknown_keys == ("scanner-9/never-seen.pdf",)
    assert result.labels.unknown_types == ("scanner-1/000.pdf: altlast",)
    assert result.model is not None
    assert result.model.counts == {"antrag": 3, "gericht": 3, "rechnung": 3}
    assert {by for _, _, by in labels_of(edges.engine).values()} == {"anna"}
    current = load_current(edges.s3, edges.settings.buckets.system)
    assert current is not None and current.version == result.model.version
    markdown = result_markdown(result)
    assert "| labels recorded | 9 |" in markdown and "never-seen.pdf" in markdown


def test_retraining_skips_when_nothing_changed(edges: Edges) -> None:
    for text, doc_type in letters(range(2), ("rechnung", "mahnung")):
        record_letter(edges.engine, text, doc_type, confidence=0.99)
    first = train(edges)
    assert first.status == "trained", first.message
    assert first.model is not None
    again = train(edges)
    assert (again.status, again.previous_version) == ("skipped", first.model.version)
    assert again.model is None
    forced = train(edges, force=True)
    assert forced.status == "trained"
    text, _ = letters(range(5, 6), ("mahnung",))[0]
    record_letter(edges.engine, text, "mahnung", confidence=0.99)
    changed = train(edges)
    assert changed.status == "trained" and changed.examples == first.examples + 1


def test_an_empty_training_set_trains_nothing(edges: Edges) -> None:
    result: TrainResult = train(edges)
    assert (result.status, result.examples) == ("too-few", 0)
    assert read_pointer(edges.s3, edges.settings.buckets.system) is None


def test_a_page_ocr_could_not_read_sends_a_sure_letter_to_a_person(edges: Edges) -> None:
    source = SourceObject(bucket="postroom-inbox", key="two-pages.pdf", version_id="v1")
    letter = claim_letter(edges.engine, letter_id_for(source), source, None, ACTOR)
    intake = Intake(
        letter=letter, sha256="0" * 64, size=1, media_type=MediaType.PDF, pages=2, local_path="-"
    )
    read = PageText(number=1, text=compose("rechnung", 3).pages[0], confidence=95.0, source="ocr")
    timed_out = PageText(
        number=2, text="", confidence=0.0, source="ocr", unreadable="OCR took longer than 180 s"
    )

    def decided(*pages: PageText) -> Decision:
        ocr = OcrResult(letter_id=letter.letter_id, pages=pages, pdf_key="-", text_key="-")
        return classify.fn(edges, intake, ocr, ACTOR)

    sure = decided(read)
    assert sure.classification.doc_type == "rechnung" and sure.automatic
    flagged = decided(read, timed_out)
    assert flagged.classification.doc_type == "rechnung"
    assert flagged.review_reasons == ("page(s) 2 could not be read",)
    assert not flagged.automatic
