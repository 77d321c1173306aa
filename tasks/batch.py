"""A batch file: separator sheets found, the original archived once, one run started per part.

The run of the whole file is the split run. It claims every part's letter id before it starts
any part's run, so the inbox object is deleted only when the last part has settled (see
``tasks.record.source_settled``). Each part's run cuts its pages from the source without
re-encoding them (``tasks.split.extract_part``) and references the batch package by id and
SHA-256.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path, PurePosixPath
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.letter import (
    Intake,
    LetterOutcome,
    PageRange,
    Separator,
    SeparatorRules,
    SourceObject,
    State,
)
from tasks.archive import (
    bag_info,
    build_bag,
    lock,
    lock_time,
    package_exists,
    retention_date,
    verified,
    write_package,
)
from tasks.edges import Edges
from tasks.errors import io_task
from tasks.intake import letter_id_for
from tasks.record import advance, claim_letter, outcome_of
from tasks.split import find_separators, page_views, parts_of
from tasks.sweep import start_letter


@task(cache_policy=NO_CACHE)
def find_parts(intake: Intake, rules: SeparatorRules) -> tuple[list[Separator], list[PageRange]]:
    """Look for separator sheets; return them and the parts between them (none: one letter)."""
    separators = find_separators(page_views(Path(intake.local_path), intake.media_type), rules)
    parts = parts_of(intake.pages, separators) or []
    return separators, parts


def batch_metadata(
    intake: Intake, separators: list[Separator], parts: list[PageRange]
) -> dict[str, Any]:
    """Return the batch package's metadata: the source, its separator sheets and its parts."""
    source = intake.letter.source
    return {
        "letter_id": intake.letter.letter_id,
        "kind": "batch",
        "source": {"bucket": source.bucket, "key": source.key, "version_id": source.version_id},
        "sha256": intake.sha256,
        "media_type": intake.media_type.value,
        "pages": intake.pages,
        "separators": [{"page": s.number, "reason": s.reason} for s in separators],
        "parts": [
            {
                "letter_id": letter_id_for(source, part),
                "first_page": part.first_page,
                "last_page": part.last_page,
            }
            for part in parts
        ],
    }


def archive_batch(edges: Edges, intake: Intake, metadata: dict[str, Any]) -> str:
    """Write, verify and lock the batch file's own package, once; return its prefix.

    It is locked for the taxonomy's shortest retention here; each part's archive step extends
    the lock to its own retention date (``tasks.archive.extend_batch_lock``), so the original
    outlives every part, and no guess made before the parts were classified holds it longer.
    """
    letter_id = intake.letter.letter_id
    prefix = f"{letter_id}/"
    now = dt.datetime.now(dt.UTC)
    if not package_exists(edges, prefix):
        name = f"original/{PurePosixPath(intake.letter.source.key).name}"
        payload = {
            name: Path(intake.local_path).read_bytes(),
            "metadata.json": json.dumps(metadata, ensure_ascii=False, indent=2).encode(),
        }
        description = f"batch file of {len(metadata['parts'])} letters"
        write_package(
            edges, prefix, build_bag(payload, bag_info(edges, letter_id, now, description))
        )
    check = verified(edges, prefix)
    shortest = min(kind.retention_years for kind in edges.taxonomy.types.values())
    until = retention_date(None, now.date(), max(shortest, 1))
    assert until is not None  # at least one year
    lock_until = lock_time(edges, until, now)
    lock(edges, prefix, check.versions, lock_until)
    return prefix


@io_task()
def split_batch(
    edges: Edges,
    intake: Intake,
    separators: list[Separator],
    parts: list[PageRange],
    parameters: dict[str, Any],
    actor: str,
) -> LetterOutcome:
    """Archive the batch file, claim every part, then start one process-letter run per part."""
    source = intake.letter.source
    metadata = batch_metadata(intake, separators, parts)
    prefix = archive_batch(edges, intake, metadata)
    for part in parts:  # every claim before any run: no part deletes the source too early
        claim_letter(edges.engine, letter_id_for(source, part), source, part, actor)
    started = [start_letter.fn(source, parameters, part) for part in parts]
    advance(
        edges.engine,
        intake.letter.letter_id,
        State.SPLIT,
        step="split",
        actor=actor,
        detail={
            "separators": metadata["separators"],
            "parts": [
                {**item, "flow_run": run.name}
                for item, run in zip(metadata["parts"], started, strict=True)
            ],
        },
        archive_key=prefix,
    )
    return outcome_of(edges.engine, intake.letter.letter_id)


def batch_letter_id(source: SourceObject) -> str:
    """Return the id of the batch file's own letter (and package) a part belongs to."""
    return letter_id_for(source)
