"""Retrain the classifier: labels in, a measured model out, stored where the pipeline reads it.

postroom train [--labels FILE.csv] [--force] [--by NAME]

:func:`train` records the labels of an optional CSV (``source_key,doc_type``), builds the
training set from the records database (labelled letters and confident decisions, see
``tasks/model.py``), and trains only when that set differs from the one the current model learnt
from (its fingerprint), unless forced. The ``retrain-classifier`` flow runs it and leaves the
result as a markdown artifact; :func:`add_train_command` registers the command on the CLI.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from rich.console import Console

from schemas.letter import Frozen
from schemas.settings import Settings
from tasks.edges import Edges, edges_for
from tasks.model import (
    LabelImport,
    ModelInfo,
    ModelIntegrityError,
    TooFewExamplesError,
    fingerprint,
    fit_model,
    import_labels,
    model_summary,
    read_label_csv,
    read_pointer,
    save_model,
    training_set,
)

FLOW_NAME = "retrain-classifier"

console = Console()


class TrainResult(Frozen):
    """What a retrain did: trained a new model, skipped (nothing changed), or could not."""

    status: Literal["trained", "skipped", "too-few"]
    message: str
    examples: int
    fingerprint: str
    labels: LabelImport | None = None
    model: ModelInfo | None = None  # the new model; None when skipped or too few
    model_key: str | None = None
    previous_version: str | None = None


def train(
    edges: Edges,
    labels_csv: Path | None = None,
    force: bool = False,
    *,
    by: str = "csv import",
    min_confidence: float = 0.95,
) -> TrainResult:
    """Record a labels CSV, then train and store a model unless the training set is unchanged."""
    labels = None
    if labels_csv is not None:
        labels = import_labels(edges.engine, read_label_csv(labels_csv), edges.taxonomy, by)
    examples = training_set(edges.engine, min_confidence)
    print_ = fingerprint(examples)
    bucket = edges.settings.buckets.system
    try:
        current = read_pointer(edges.s3, bucket)
    except ModelIntegrityError:
        current = None  # an unreadable pointer is replaced by the model trained now
    previous = current.version if current else None
    if current is not None and current.fingerprint == print_ and not force:
        return TrainResult(
            status="skipped",
            message=f"the training set is unchanged since model {current.version}",
            examples=len(examples),
            fingerprint=print_,
            labels=labels,
            previous_version=previous,
        )
    try:
        model = fit_model(examples)
    except TooFewExamplesError as exc:
        return TrainResult(
            status="too-few",
            message=str(exc),
            examples=len(examples),
            fingerprint=print_,
            labels=labels,
            previous_version=previous,
        )
    pointer = save_model(edges.s3, bucket, model)
    return TrainResult(
        status="trained",
        message=f"model {model.version} is now current",
        examples=len(examples),
        fingerprint=print_,
        labels=labels,
        model=model.info,
        model_key=pointer.model_key,
        previous_version=previous,
    )


def result_rows(result: TrainResult) -> list[tuple[str, str]]:
    """Return the result as (what, value) rows, for the artifact and the terminal."""
    rows = [("outcome", f"{result.status}: {result.message}"), ("examples", str(result.examples))]
    if result.labels is not None:
        found = result.labels
        rows.append(("labels recorded", str(found.recorded)))
        for name, items in (
            ("unknown source keys", found.unknown_keys),
            ("unknown types", found.unknown_types),
            ("batch files (skipped)", found.ambiguous),
        ):
            if items:
                shown = ", ".join(items[:10]) + (
                    f" … (+{len(items) - 10})" if len(items) > 10 else ""
                )
                rows.append((name, shown))
    if result.model is not None:
        rows += [(name, str(value)) for name, value in model_summary(result.model).items()]
        rows.append(("stored at", result.model_key or "–"))
    rows.append(("previous model", result.previous_version or "–"))
    return rows


def result_markdown(result: TrainResult) -> str:
    """Return the markdown artifact of a retrain."""
    table = "\n".join(
        f"| {name} | {value.replace('|', '/')} |" for name, value in result_rows(result)
    )
    return f"## Classifier retrain: {result.status}\n\n| | |\n|---|---|\n{table}\n"


@task(cache_policy=NO_CACHE)
def publish_training(result: TrainResult) -> None:
    """Leave the retrain's result as a markdown artifact."""
    create_markdown_artifact(
        key="retrain-classifier", markdown=result_markdown(result), description=result.message
    )


def retrain_run_name() -> str:
    """Return a retrain's run name: when it ran."""
    return f"retrain-classifier-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"


@flow(name=FLOW_NAME, flow_run_name=retrain_run_name)
def retrain_classifier(
    labels_csv: str | None = None,
    force: bool = False,
    by: str = FLOW_NAME,
    min_confidence: float = 0.95,
) -> TrainResult:
    """Retrain the classifier when its training set changed (or ``force``); leave the result."""
    edges = edges_for(Settings())
    result = train(
        edges,
        Path(labels_csv) if labels_csv else None,
        force,
        by=by,
        min_confidence=min_confidence,
    )
    publish_training(result)
    return result
