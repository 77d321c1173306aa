"""Artifacts for operators: a markdown summary per letter and a table per sweep."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from schemas.letter import LetterOutcome


def letter_markdown(outcome: LetterOutcome, reasons: tuple[str, ...] = ()) -> str:
    """Return the markdown summary of one letter."""
    confidence = f"{outcome.confidence:.2f}" if outcome.confidence is not None else "–"
    rows = [
        ("Letter", f"`{outcome.letter_id}`"),
        ("Source", f"`{outcome.source_key}`"),
        ("Status", f"**{outcome.status.value}**"),
        ("Type", outcome.doc_type or "–"),
        ("Confidence", confidence),
        ("Department", outcome.department or "–"),
        ("DMS", f"`{outcome.dms_ref}`" if outcome.dms_ref else "–"),
        ("Archive package", f"`{outcome.archive_key}`" if outcome.archive_key else "–"),
    ]
    if outcome.reason:
        rows.append(("Reason", outcome.reason))
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    why = "\n".join(f"- {reason}" for reason in reasons) or "- –"
    return f"## Letter {outcome.letter_id[:8]}\n\n| | |\n|---|---|\n{table}\n\n### Why\n{why}\n"


def artifact_key(letter_id: str) -> str:
    """Return the artifact key of a letter (lower-case letters, digits and dashes only)."""
    return f"letter-{letter_id}"


def publish_letter(outcome: LetterOutcome, reasons: tuple[str, ...] = ()) -> None:
    """Leave the letter's summary as a markdown artifact on its flow run.

    Called in the flow, not as a task: the artifact belongs to the letter's run, where the
    operator looks, and a task run of its own cost the server a run's worth of state events for
    one API call.
    """
    create_markdown_artifact(
        key=artifact_key(outcome.letter_id),
        markdown=letter_markdown(outcome, reasons),
        description=f"{outcome.source_key}: {outcome.status.value}",
    )


@task(cache_policy=NO_CACHE)
def publish_sweep(rows: list[dict[str, str]]) -> None:
    """Leave the table of letters a sweep started."""
    create_table_artifact(
        key="sweep", table=rows, description=f"{len(rows)} new letter(s) in the inbox"
    )
