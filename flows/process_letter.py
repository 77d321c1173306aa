"""The process-letter flow: one inbox object (or one part of a batch) through every step."""

from __future__ import annotations

import tempfile
from typing import Any, cast

from prefect import flow, unmapped
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from schemas.letter import LetterOutcome, Limits, PageRange, SourceObject
from schemas.settings import Settings
from tasks.archive import archive
from tasks.classify import classify
from tasks.edges import edges_for
from tasks.errors import PermanentError
from tasks.intake import claim, intake
from tasks.ocr import assemble, ocr_page, prepare_pages
from tasks.quarantine import quarantine
from tasks.record import outcome_of, record, release, settle_duplicate
from tasks.report import publish_letter
from tasks.route import route

# Pages are read in parallel threads (tesseract is its own process); the ocr-pages limit, not the
# pool size, bounds the CPU.
# (Prefect's flow decorator types its runner parameter invariantly, hence the cast.)
PAGE_RUNNER = cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=16))


@flow(name="process-letter", task_runner=PAGE_RUNNER)
def process_letter(
    bucket: str,
    key: str,
    version_id: str,
    first_page: int | None = None,
    last_page: int | None = None,
    languages: str = "deu+eng",
    limits: Limits = Limits(),  # noqa: B008 - a frozen model is a safe default
) -> LetterOutcome:
    """Take one letter from the inbox through OCR, classification, DMS, archive and records."""
    edges = edges_for(Settings())
    actor = f"flow-run/{flow_run.get_id()}"
    batch = (
        PageRange(first_page=first_page, last_page=last_page) if first_page and last_page else None
    )
    letter = claim(edges, SourceObject(bucket=bucket, key=key, version_id=version_id), batch, actor)
    if letter.status.settled:
        return outcome_of(edges.engine, letter.letter_id)
    with tempfile.TemporaryDirectory(prefix=f"postroom-{letter.letter_id}-") as workdir:
        try:
            found = intake(edges, letter, workdir, limits, actor)
            if found.duplicate_of:
                outcome = settle_duplicate(edges, found, actor)
                release(edges, letter, actor)
                publish_letter(outcome)
                return outcome
            pages = prepare_pages(found, workdir)
            texts = ocr_page.map(pages, unmapped(languages), unmapped(limits.page_timeout_seconds))
            ocr = assemble(edges, found, texts.result(), actor)
            decided = classify(edges, found, ocr, actor)
            filing = route(edges, found, ocr, decided, actor)
            package = archive(edges, found, ocr, decided, filing, actor)
            outcome = record(edges, found, ocr, decided, filing, package, actor)
            release(edges, letter, actor)
        except PermanentError as error:
            publish_letter(quarantine(edges, letter, error, actor))
            raise
    publish_letter(outcome, decided.reasons)
    return outcome
