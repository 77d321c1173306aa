"""The trained classifier beside the rules: training data, the model, its storage, and combine().

The rules (``tasks/classify.py``) say why; the model generalises from letters a person has
labelled. Both run on every letter and :func:`combine` decides between them::

    labels table ─┐
    done letters ─┴─ training_set() ─ fit_model() ─ save_model() ─▶ s3://<system>/models/classifier/
                    (operator/csv labels;            (TF-IDF words 1-2 +        <version>.skops
                     confident rule decisions)        char_wb 3-5, LinearSVC,    <version>.json
                                                      calibrated)               current.json (last)
    letter text ─ classify_text() ─┐
                ─ load_current().predict() ─┴─ combine() ─▶ Decision (type, confidence, review?)

**Storage.** A model is two objects named by its version, written and read back first; then the
pointer ``current.json`` is replaced in one PUT, so a reader sees either the old model or the new
one, never half of one. The pointer carries the SHA-256 of the model object, and a reader refuses
an object that does not match it. Models are serialised with skops, never pickle: loading admits
only scikit-learn's and numpy's own types plus the few private calibration classes listed in
:data:`TRUSTED_TYPES`, so a model object someone else put into the bucket cannot run code.

**Calibration.** ``CalibratedClassifierCV`` with temperature scaling by default: one parameter
for all types, fitted on cross-validated decision values. Sigmoid calibration (one-vs-rest,
then renormalised) was measured underconfident on ten types (a mean top probability of 0.73
at 99.7 % accuracy), which would send nearly every letter to review; isotonic needs thousands of
examples. ``ensemble=False`` fits one classifier on all examples, which small training sets need.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import threading
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import sklearn
from botocore.exceptions import ClientError
from pydantic import Field
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from schemas.letter import Classification, Frozen, State
from schemas.records import Label, Letter, utcnow
from schemas.settings import ReviewSettings
from schemas.taxonomy import RuleCalibration, Taxonomy
from tasks.classify import LetterText, detect_subject, fold, normalise
from tasks.errors import PostroomError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Bump when the features or the estimator change: it is part of the training-set fingerprint, so
# the next retrain does not skip a model built the old way.
RECIPE = "tfidf-word1-2+char_wb3-5/linearsvc/calibrated-1"
PREFIX = "models/classifier/"
POINTER_KEY = f"{PREFIX}current.json"
MIN_EXAMPLES = 2  # per type: a type seen once cannot be cross-validated, nor told from noise
MAX_FOLDS = 5
# What skops may construct beyond scikit-learn's and numpy's own types (its default trust): the
# calibration's private helper classes, which carry only arrays and floats.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.calibration._TemperatureScaling",
)
DEFAULT_THRESHOLD: float = ReviewSettings().threshold  # one home: the review settings
# A rules confidence this high means several specific rules fired with a clear margin.
STRONG_RULE = 0.9

Calibration = Literal["temperature", "sigmoid", "isotonic"]
LabelSource = Literal["operator", "csv", "confident"]
Example = tuple[str, str]  # (text, doc_type)


class ModelError(PostroomError):
    """No usable classifier model: the letter is classified by the rules alone."""


class TooFewExamplesError(ModelError):
    """The training set cannot make a model (fewer than two types with two examples each)."""


class ModelIntegrityError(ModelError):
    """A stored model does not match its pointer's checksum or holds types it may not load."""


# --- text ----------------------------------------------------------------------------------------

_DIGIT = re.compile(r"\d")


def prepare(text: str) -> str:
    """Return the text as the model sees it: normalised and folded as the rules see it, digits 0.

    Digits become 0 so that dates, amounts and numbers count by their shape (``00.00.0000``), not
    by their value, which no other letter repeats.
    """
    return _DIGIT.sub("0", fold(normalise(text)))


# --- the model ---------------------------------------------------------------------------------


class ModelInfo(Frozen):
    """What a trained model is and how well it did; stored as ``<version>.json`` beside it."""

    version: str
    trained_at: dt.datetime
    size: int = Field(description="training examples the model learnt from")
    counts: dict[str, int] = Field(description="examples per type")
    left_out: dict[str, int] = Field(
        default_factory=dict, description=f"types with fewer than {MIN_EXAMPLES} examples"
    )
    labels: tuple[str, ...]
    accuracy: float | None = Field(description="cross-validated; None: too few to measure")
    measured_by: str
    calibration: Calibration
    fingerprint: str
    recipe: str = RECIPE
    sklearn_version: str = sklearn.__version__


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline with its metadata."""

    pipeline: Pipeline
    info: ModelInfo

    @property
    def version(self) -> str:
        """Return the model's version."""
        return self.info.version

    def predict(self, text: str) -> dict[str, float]:
        """Return the calibrated probability of each type the model knows, for one letter."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Return the probabilities of each letter, in order (one call for a whole corpus)."""
        if not texts:
            return []
        probabilities = self.pipeline.predict_proba([prepare(text) for text in texts])
        labels = [str(label) for label in self.pipeline.classes_]
        return [
            {label: round(float(p), 4) for label, p in zip(labels, row, strict=True)}
            for row in probabilities
        ]


def fingerprint(examples: Iterable[Example]) -> str:
    """Return a SHA-256 over the recipe and the (type, text) pairs, independent of their order."""
    digest = hashlib.sha256(RECIPE.encode())
    lines = sorted(
        f"{doc_type}\t{hashlib.sha256(text.encode()).hexdigest()}" for text, doc_type in examples
    )
    for line in lines:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def usable(examples: Sequence[Example]) -> tuple[list[Example], dict[str, int]]:
    """Return the examples of types with enough of them, and the types left out with counts."""
    counts = Counter(doc_type for _, doc_type in examples)
    left_out = {name: n for name, n in sorted(counts.items()) if n < MIN_EXAMPLES}
    kept = [example for example in examples if example[1] not in left_out]
    return kept, left_out


def choose_calibration(counts: Counter[str]) -> Calibration:
    """Return the calibration for a training set: isotonic only with plenty of every type."""
    return "isotonic" if min(counts.values()) >= 500 else "temperature"


def build_pipeline(counts: Counter[str], calibration: Calibration | None = None) -> Pipeline:
    """Return an unfitted pipeline whose calibration folds suit the smallest type's count."""
    folds = max(2, min(MAX_FOLDS, min(counts.values())))
    # min_df=2: a term in one letter only (a name, a number) teaches nothing and would make
    # the vocabulary, and the stored model, ten times larger.
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, dtype=np.float32
    )
    # The stubs (scikit-learn-stubs 0.0.3) predate TfidfVectorizer as a transformer and
    # temperature scaling (scikit-learn 1.8); both are what scikit-learn 1.9 documents.
    features = FeatureUnion([("words", words), ("chars", chars)])  # type: ignore[list-item]
    calibrated = CalibratedClassifierCV(
        LinearSVC(class_weight="balanced"),
        method=calibration or choose_calibration(counts),  # type: ignore[arg-type]
        cv=folds,  # an int: stratified folds, and nothing but built-in types in the saved model
        ensemble=False,
    )
    return Pipeline([("features", features), ("classifier", calibrated)])


def _fit(texts: Sequence[str], labels: Sequence[str], calibration: Calibration | None) -> Pipeline:
    """Return a pipeline fitted to prepared texts."""
    pipeline = build_pipeline(Counter(labels), calibration)
    try:
        pipeline.fit(list(texts), list(labels))
    except ValueError as exc:  # e.g. an empty vocabulary: no letter has a readable word
        raise TooFewExamplesError(f"cannot train on these letters: {exc}") from exc
    return pipeline


def measure(
    texts: Sequence[str], labels: Sequence[str], calibration: Calibration | None = None
) -> tuple[float | None, str]:
    """Return the cross-validated accuracy, and how it was measured.

    Each training fold must keep two examples of every type for the calibration's own folds, so
    the smallest type needs four; below that the accuracy is not measured.
    """
    smallest = min(Counter(labels).values())
    folds = min(MAX_FOLDS, smallest // 2)
    if folds < 2:
        return None, f"not measured: the smallest type has {smallest} examples (4 needed)"
    y = np.asarray(labels)
    correct = 0
    splitter = StratifiedKFold(folds, shuffle=True, random_state=1)
    for train, test in splitter.split(np.zeros(len(y)), y):
        fitted = _fit([texts[i] for i in train], list(y[train]), calibration)
        correct += int(np.sum(fitted.predict([texts[i] for i in test]) == y[test]))
    return round(correct / len(y), 4), f"{folds}-fold stratified cross-validation"


def fit_model(
    examples: Sequence[Example],
    *,
    calibration: Calibration | None = None,
    measured: bool = True,
    now: dt.datetime | None = None,
) -> TrainedModel:
    """Train, measure and describe a model; types with fewer than two examples are left out."""
    kept, left_out = usable(examples)
    counts = Counter(doc_type for _, doc_type in kept)
    if len(counts) < 2:
        raise TooFewExamplesError(
            f"a model needs at least two types with {MIN_EXAMPLES} examples each; the training "
            f"set has {dict(counts) or 'none'}" + (f" (left out: {left_out})" if left_out else "")
        )
    texts = [prepare(text) for text, _ in kept]
    labels = [doc_type for _, doc_type in kept]
    pipeline = _fit(texts, labels, calibration)
    accuracy, how = measure(texts, labels, calibration) if measured else (None, "not measured")
    trained_at = now or utcnow()
    print_ = fingerprint(examples)
    info = ModelInfo(
        version=f"{trained_at:%Y%m%dT%H%M%SZ}-{print_[:8]}",
        trained_at=trained_at,
        size=len(kept),
        counts=dict(sorted(counts.items())),
        left_out=left_out,
        labels=tuple(str(label) for label in pipeline.classes_),
        accuracy=accuracy,
        measured_by=how,
        calibration=pipeline.named_steps["classifier"].method,
        fingerprint=print_,
    )
    return TrainedModel(pipeline, info)


# --- storage -----------------------------------------------------------------------------------


class ModelPointer(Frozen):
    """``current.json``: which model readers use, and the checksum its object must have."""

    version: str
    model_key: str
    info_key: str
    sha256: str
    size: int
    fingerprint: str
    written_at: dt.datetime


def dumps_model(model: TrainedModel) -> bytes:
    """Return the pipeline serialised with skops."""
    import skops.io  # type: ignore[import-untyped]  # skops ships no type hints

    # skops writes the vocabularies as verbose JSON (~800 bytes a term); deflate shrinks it ~20x.
    blob: bytes = skops.io.dumps(model.pipeline, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    return blob


def loads_pipeline(blob: bytes) -> Pipeline:
    """Return a pipeline from skops bytes, refusing any type outside the trusted ones."""
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException  # type: ignore[import-untyped]

    try:
        loaded = skops.io.loads(blob, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise ModelIntegrityError(f"the model holds types it may not load: {exc}") from exc
    except Exception as exc:  # a zip or schema skops cannot read
        raise ModelIntegrityError(f"the model object cannot be read: {exc}") from exc
    if not isinstance(loaded, Pipeline):
        raise ModelIntegrityError(f"the model object holds a {type(loaded).__name__}")
    return loaded


def _get(s3: S3Client, bucket: str, key: str) -> bytes | None:
    """Return an object's bytes, or None when it does not exist."""
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    return body


def save_model(s3: S3Client, bucket: str, model: TrainedModel) -> ModelPointer:
    """Store a model and its metadata, verify them, then point ``current.json`` at them."""
    blob = dumps_model(model)
    sha256 = hashlib.sha256(blob).hexdigest()
    model_key = f"{PREFIX}{model.version}.skops"
    info_key = f"{PREFIX}{model.version}.json"
    s3.put_object(Bucket=bucket, Key=model_key, Body=blob, ContentType="application/zip")
    stored = _get(s3, bucket, model_key)
    if stored is None or hashlib.sha256(stored).hexdigest() != sha256:
        raise ModelIntegrityError(f"s3://{bucket}/{model_key} did not read back as written")
    info = model.info.model_dump(mode="json") | {"sha256": sha256, "model_key": model_key}
    s3.put_object(
        Bucket=bucket,
        Key=info_key,
        Body=json.dumps(info, indent=2, ensure_ascii=False).encode(),
        ContentType="application/json",
    )
    pointer = ModelPointer(
        version=model.version,
        model_key=model_key,
        info_key=info_key,
        sha256=sha256,
        size=len(blob),
        fingerprint=model.info.fingerprint,
        written_at=utcnow(),
    )
    # Written last, in one PUT: readers switch from the old model to the complete new one.
    s3.put_object(
        Bucket=bucket,
        Key=POINTER_KEY,
        Body=pointer.model_dump_json(indent=2).encode(),
        ContentType="application/json",
    )
    return pointer


def read_pointer(s3: S3Client, bucket: str) -> ModelPointer | None:
    """Return the current model's pointer, or None when no model was ever stored."""
    raw = _get(s3, bucket, POINTER_KEY)
    if raw is None:
        return None
    try:
        return ModelPointer.model_validate_json(raw)
    except ValueError as exc:
        raise ModelIntegrityError(f"s3://{bucket}/{POINTER_KEY} is not a model pointer") from exc


def load_model(s3: S3Client, bucket: str, pointer: ModelPointer) -> TrainedModel:
    """Return the model a pointer names, after checking its SHA-256."""
    blob = _get(s3, bucket, pointer.model_key)
    if blob is None:
        raise ModelIntegrityError(f"s3://{bucket}/{pointer.model_key} is missing")
    actual = hashlib.sha256(blob).hexdigest()
    if actual != pointer.sha256:
        raise ModelIntegrityError(
            f"s3://{bucket}/{pointer.model_key} has SHA-256 {actual[:12]}…, its pointer says "
            f"{pointer.sha256[:12]}…: refused"
        )
    raw_info = _get(s3, bucket, pointer.info_key)
    if raw_info is None:
        raise ModelIntegrityError(f"s3://{bucket}/{pointer.info_key} is missing")
    fields = set(ModelInfo.model_fields)
    info = ModelInfo.model_validate({k: v for k, v in json.loads(raw_info).items() if k in fields})
    return TrainedModel(loads_pipeline(blob), info)


_cache: dict[tuple[str, str], TrainedModel] = {}
_cache_lock = threading.Lock()


def load_current(s3: S3Client, bucket: str) -> TrainedModel | None:
    """Return the model ``current.json`` names (None without one), cached by version.

    The small pointer is read on every call, so a new model is used as soon as it is stored;
    the model itself is fetched and verified once per version and process.
    """
    pointer = read_pointer(s3, bucket)
    if pointer is None:
        return None
    where = (f"{s3.meta.endpoint_url}/{bucket}", pointer.version)
    with _cache_lock:
        cached = _cache.get(where)
    if cached is not None:
        return cached
    model = load_model(s3, bucket, pointer)
    with _cache_lock:
        for key in [key for key in _cache if key[0] == where[0]]:
            del _cache[key]  # one model per bucket in memory: the old one is no longer named
        _cache[where] = model
    return model


# --- calibrating the rules --------------------------------------------------------------------

# One rules decision seen on a letter of known type: (best score, runner-up score, top type right).
RuleEvidence = tuple[float, float, bool]


def fit_rule_calibration(
    evidence: Sequence[RuleEvidence], min_score: float, fitted_on: str
) -> RuleCalibration:
    """Fit ``P(top type right | best, lead)`` to letters of known type by Platt's method.

    ``evidence`` holds every letter on which some rule matched, including those below
    ``min_score`` (their top type, usually wrong, shows what a weak score is worth). A logistic
    regression on the best score and the lead over the runner-up, with Platt's targets
    ``(right + 1) / (right + 2)`` and ``1 / (wrong + 2)`` instead of 1 and 0: the rules are
    nearly always right on strong evidence, and hard targets would drive the curve to certainty.
    The weights are bounded at 0, so the confidence is monotone in the score and the lead.
    The ceiling is Laplace's ``(right + 1) / (decided + 2)`` over the letters scoring at least
    ``min_score`` (the ones the rules decide).
    """
    from scipy.optimize import minimize  # type: ignore[import-untyped]  # via scikit-learn

    if not evidence:
        raise ValueError("no letters to calibrate the rules on")
    x = np.array([(best, max(0.0, best - runner_up)) for best, runner_up, _ in evidence])
    right = np.array([ok for _, _, ok in evidence], dtype=bool)
    decided = x[:, 0] >= min_score
    n_right, n_wrong = int(right.sum()), int((~right).sum())
    target = np.where(right, (n_right + 1) / (n_right + 2), 1 / (n_wrong + 2))
    scale = np.maximum(x.std(axis=0), 1e-9)  # fit on standardised features, report raw weights
    centre = x.mean(axis=0)
    z_x = (x - centre) / scale

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = w[0] + z_x @ w[1:]
        log_p, log_q = -np.logaddexp(0, -z), -np.logaddexp(0, z)  # log p, log (1 - p)
        value = -float(np.sum(target * log_p + (1 - target) * log_q))
        residual = np.exp(log_p) - target
        return value, np.concatenate(([residual.sum()], z_x.T @ residual))

    bounds = [(None, None), (0.0, None), (0.0, None)]
    fitted = minimize(loss, np.zeros(3), jac=True, method="L-BFGS-B", bounds=bounds)
    weights = fitted.x[1:] / scale
    intercept = float(fitted.x[0] - weights @ centre)
    return RuleCalibration(
        intercept=round(intercept, 4),
        score_weight=round(float(weights[0]), 4),
        lead_weight=round(float(weights[1]), 4),
        ceiling=round((int(right[decided].sum()) + 1) / (int(decided.sum()) + 2), 4),
        letters=len(evidence),
        fitted_on=fitted_on,
    )


def fallback_share(outcomes: Sequence[bool]) -> float:
    """Return Laplace's estimate of how often a fallback decision is right: (right+1)/(n+2)."""
    return round((sum(outcomes) + 1) / (len(outcomes) + 2), 4)


# --- combining rules and model -----------------------------------------------------------------


class Decision(Frozen):
    """The final classification, and why a person must look at it (empty: decided)."""

    classification: Classification
    review_reasons: tuple[str, ...] = ()

    @property
    def automatic(self) -> bool:
        """Return whether the letter was decided without a person."""
        return not self.review_reasons


def combine(
    rules: Classification,
    probabilities: dict[str, float] | None,
    taxonomy: Taxonomy,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    strong_rule: float = STRONG_RULE,
    text: str | None = None,
) -> Decision:
    """Decide between the rules and the model; say why the letter needs review, if it does.

    - no model (``probabilities`` None or empty): the rules decide;
    - both name the same type: it wins with ``1 - (1 - rules) * (1 - model)`` (noisy-OR: the
      type is wrong only if both are wrong). This assumes their errors independent, which two
      so different methods nearly are, and stays below what the product rule of two
      independent classifiers would give;
    - they differ: the more confident one wins, its confidence discounted by the loser's case
      against it. The model's case is how much more it believes its own type than the rules'
      (``p[model type] - p[rules type]``: an undecided model hardly counts); the rules' case is
      their confidence;
    - the rules fell back (no type scored ``min_score``) and the model names another type: the
      fallback type stays, its confidence discounted by the model's case, and a model reaching
      ``threshold`` sends the letter to review with its type as a suggestion. With a calibrated
      fallback both sides are probabilities, but the model's sonstiges is a catch-all class it
      learnt from a few examples: on wording it never saw it names the nearest specific type,
      confidently, while the rules fall back only when no specific evidence is there at all
      (``bench/classify.py --fit-calibration`` counts both choices on the train split);
    - review when the final confidence is below ``threshold``, when a strong rules decision
      (≥ ``strong_rule``) and a confident model (≥ ``threshold``) disagree, or when the final
      type's required fields (taxonomy ``required_fields``) are missing.

    The subject belongs to the rules' type; when the model's type wins, the subject is detected
    again for it from ``text`` (without the text it is left unset: default routing).
    """
    known = {name: p for name, p in (probabilities or {}).items() if name in taxonomy.types}
    review: list[str] = []
    if not known:
        final = rules
    else:
        model_type = max(known, key=lambda name: known[name])
        model_p = known[model_type]
        note = f"model: {model_type} {model_p:.2f}"
        if model_type == rules.doc_type:
            by_model = model_p > rules.confidence
            both = 1 - (1 - model_p) * (1 - rules.confidence)
            final = rules.model_copy(
                update={
                    "confidence": round(both, 3),
                    "classified_by": "model" if by_model else rules.classified_by,
                    "reasons": (*rules.reasons, note),
                }
            )
        else:
            fell_back = rules.doc_type == taxonomy.fallback
            if fell_back and model_p >= threshold:
                review.append(f"the rules found no type; the model says {model_type} {model_p:.2f}")
            elif rules.confidence >= strong_rule and model_p >= threshold:
                review.append(
                    f"rules ({rules.doc_type} {rules.confidence:.2f}) and model "
                    f"({model_type} {model_p:.2f}) disagree"
                )
            final = _winner(rules, known, model_type, taxonomy, text, fell_back=fell_back)
    if final.confidence < threshold:
        review.append(f"confidence {final.confidence:.2f} below {threshold:.2f}")
    missing = taxonomy.missing_fields(final.doc_type, final.fields)
    if missing:
        review.append(f"{final.doc_type}: required field missing: {', '.join(missing)}")
    return Decision(classification=final, review_reasons=tuple(review))


def _winner(
    rules: Classification,
    probabilities: dict[str, float],
    model_type: str,
    taxonomy: Taxonomy,
    text: str | None,
    *,
    fell_back: bool,
) -> Classification:
    """Return the more confident of two disagreeing decisions, discounted by the other's case.

    A fallback keeps its type (see :func:`combine`).
    """
    model_p = probabilities[model_type]
    note = f"model: {model_type} {model_p:.2f}"
    if fell_back or rules.confidence >= model_p:
        against = max(0.0, model_p - probabilities.get(rules.doc_type, 0.0))
        return rules.model_copy(
            update={
                "confidence": round(rules.confidence * (1 - against), 3),
                "reasons": (*rules.reasons, f"{note} (disagrees)"),
            }
        )
    against = rules.confidence
    subject, subject_reasons = None, [f"{model_type}: subject not detected (no text)"]
    if text is not None:
        subject, subject_reasons = detect_subject(
            taxonomy.doc_type(model_type), model_type, LetterText(text)
        )
    return rules.model_copy(
        update={
            "doc_type": model_type,
            "subject": subject,
            "confidence": round(model_p * (1 - against), 3),
            "classified_by": "model",
            "reasons": (
                f"{note} (rules said {rules.doc_type} {rules.confidence:.2f})",
                *subject_reasons,
                *rules.reasons,
            ),
        }
    )


# --- training data -----------------------------------------------------------------------------

# A person's word outranks a confident machine decision recorded as a label.
_PERSON_SOURCES = ("operator", "csv")


def add_label(engine: Engine, letter_id: str, doc_type: str, source: LabelSource, by: str) -> None:
    """Record what type a letter is (one label per letter; a person's label is never replaced
    by a ``confident`` one). Raise KeyError for an unknown letter."""
    with Session(engine) as session, session.begin():
        if session.scalar(select(Letter.seq).where(Letter.id == letter_id)) is None:
            raise KeyError(f"no letter {letter_id!r} in the records database")
        values = {"doc_type": doc_type, "source": source, "by": by, "at": utcnow()}
        session.execute(_upsert_label(session.get_bind().dialect.name, letter_id, values))


def _upsert_label(dialect: str, letter_id: str, values: dict[str, Any]) -> Any:
    """Return the one-statement upsert of a label (two answers at once cannot both insert)."""
    insert: Any  # the SQLite and PostgreSQL Insert classes share this API but no base type
    if dialect == "postgresql":
        insert = postgresql.insert(Label)
    elif dialect == "sqlite":
        insert = sqlite.insert(Label)
    else:
        raise NotImplementedError(f"labels need SQLite or PostgreSQL, not {dialect}")
    insert = insert.values(letter_id=letter_id, **values)
    return insert.on_conflict_do_update(
        index_elements=[Label.letter_id],
        set_={name: insert.excluded[name] for name in values},
        where=or_(
            insert.excluded.source.in_(_PERSON_SOURCES), Label.source.not_in(_PERSON_SOURCES)
        ),
    )


def training_set(engine: Engine, min_confidence: float = 0.95) -> list[Example]:
    """Return (text, type) of every labelled letter and every confidently decided done letter.

    A label wins over the letter's own classification. The model's own decisions are not
    taken as truth: learning them back would entrench its mistakes.
    """
    confident = and_(
        Letter.status == State.DONE.value,
        Letter.doc_type.is_not(None),
        Letter.confidence >= min_confidence,
        Letter.classified_by.in_(("rule", "operator")),
    )
    query = (
        select(Letter.text, Label.doc_type, Letter.doc_type)
        .outerjoin(Label, Label.letter_id == Letter.id)
        .where(Letter.text.is_not(None), Letter.text != "", or_(Label.id.is_not(None), confident))
        .order_by(Letter.seq)
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    examples: list[Example] = []
    for text, labelled, decided in rows:
        doc_type = labelled or decided
        if text and text.strip() and doc_type:
            examples.append((text, doc_type))
    return examples


class LabelImport(Frozen):
    """What a labels CSV did: rows recorded, and rows that could not be."""

    recorded: int = 0
    unknown_keys: tuple[str, ...] = ()
    unknown_types: tuple[str, ...] = ()  # "key: type" of rows naming no taxonomy type
    ambiguous: tuple[str, ...] = ()  # keys of batch files: which part is meant is unclear


def read_label_csv(path: Path) -> list[tuple[str, str]]:
    """Return the (source_key, doc_type) rows of a labels CSV (comma or semicolon separated)."""
    content = path.read_text(encoding="utf-8-sig")  # a spreadsheet may write a BOM
    header = content.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    names = [name.strip() for name in reader.fieldnames or []]
    if not {"source_key", "doc_type"} <= set(names):
        raise ValueError(f"{path}: the header must name source_key and doc_type, not {names}")
    reader.fieldnames = names
    return [
        (row["source_key"].strip(), row["doc_type"].strip())
        for row in reader
        if (row.get("source_key") or "").strip()
    ]


def import_labels(
    engine: Engine, rows: Sequence[tuple[str, str]], taxonomy: Taxonomy, by: str
) -> LabelImport:
    """Label the letters of each source key with its type; report what could not be matched."""
    recorded = 0
    unknown_keys: list[str] = []
    unknown_types: list[str] = []
    ambiguous: list[str] = []
    for key, doc_type in rows:
        if doc_type not in taxonomy.types:
            unknown_types.append(f"{key}: {doc_type}")
            continue
        with Session(engine) as session:
            found = session.execute(
                select(Letter.id, Letter.first_page).where(
                    Letter.source_key == key, Letter.text.is_not(None)
                )
            ).all()
        if not found:
            unknown_keys.append(key)
        elif any(first_page is not None for _, first_page in found):
            ambiguous.append(key)
        else:
            for letter_id, _ in found:
                add_label(engine, letter_id, doc_type, "csv", by)
                recorded += 1
    return LabelImport(
        recorded=recorded,
        unknown_keys=tuple(unknown_keys),
        unknown_types=tuple(unknown_types),
        ambiguous=tuple(ambiguous),
    )


def model_summary(info: ModelInfo) -> dict[str, Any]:
    """Return the facts of a model an operator reads, as a flat dict."""
    accuracy = f"{info.accuracy:.3f}" if info.accuracy is not None else "–"
    return {
        "version": info.version,
        "trained at": info.trained_at.isoformat(timespec="seconds"),
        "examples": info.size,
        "accuracy": f"{accuracy} ({info.measured_by})",
        "calibration": info.calibration,
        "types": ", ".join(f"{name} {n}" for name, n in info.counts.items()),
        "left out": ", ".join(f"{name} {n}" for name, n in info.left_out.items()) or "–",
    }
