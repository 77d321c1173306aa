"""The process-letter flow: one inbox object (or one part of a batch) through every step."""

from __future__ import annotations

import tempfile
from typing import Any, cast

from prefect import flow, suspend_flow_run, unmapped
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from schemas.letter import (
    Classification,
    Intake,
    LetterOutcome,
    LetterRef,
    Limits,
    OcrResult,
    PageRange,
    SeparatorRules,
    SourceObject,
    State,
)
from schemas.settings import RESULTS_BLOCK, Settings
from tasks.archive import archive
from tasks.batch import find_parts, split_batch
from tasks.classify import classify
from tasks.edges import Edges, edges_for
from tasks.errors import PermanentError
from tasks.intake import claim, intake
from tasks.ocr import assemble, ocr_page, prepare_pages, recall_ocr
from tasks.quarantine import quarantine
from tasks.record import (
    outcome_of,
    record,
    recorded_classification,
    release,
    settle_duplicate,
)
from tasks.report import publish_letter
from tasks.review import (
    answer_of,
    apply_review,
    request_review,
    review_request,
)
from tasks.route import route
from tasks.split import MIN_BATCH_PAGES

# Pages are read in parallel threads (tesseract is its own process); the ocr-pages limit, not the
# pool size, bounds the CPU.
# (Prefect's flow decorator types its runner parameter invariantly, hence the cast.)
PAGE_RUNNER = cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=16))


# A re-run finds the OCR of an earlier run of the same letter (crashed, or suspended for review).
RECOGNISED_BEFORE = frozenset({State.RECOGNISED, State.CLASSIFIED, State.IN_REVIEW, State.FILED})
# Prefect keeps flow results (needed to suspend for review) in the system bucket through this
# block, which `postroom up` saves; the tasks keep none (prefect.yaml sets that for the worker).
RESULTS = f"s3-bucket/{RESULTS_BLOCK}"


def review_if_unsure(
    edges: Edges, letter: LetterRef, found: Intake, ocr: OcrResult, actor: str
) -> Classification:
    """Classify the letter; when the machine is unsure, suspend until an operator answers.

    Prefect runs a resumed flow from the top: the letter is then already in review, its proposal
    is read back from the records and ``suspend_flow_run`` returns the stored answer at once.
    """
    why: tuple[str, ...]
    if letter.status == State.IN_REVIEW:
        decided, why = recorded_classification(edges.engine, letter.letter_id), ("resumed",)
    else:
        decision = classify(edges, found, ocr, actor)
        decided, why = decision.classification, decision.review_reasons
        if not why:
            return decided
        request_review(edges, found, ocr, decided, why, str(flow_run.get_id()))
    form = review_request(edges.taxonomy, found, decided, why)
    answer = suspend_flow_run(wait_for_input=form, key=f"review-{letter.letter_id}")
    return apply_review(edges, found, decided, answer_of(answer), actor)


@flow(name="process-letter", task_runner=PAGE_RUNNER, persist_result=True, result_storage=RESULTS)
def process_letter(
    bucket: str,
    key: str,
    version_id: str,
    first_page: int | None = None,
    last_page: int | None = None,
    languages: str = "deu+eng",
    limits: Limits = Limits(),  # noqa: B008 - a frozen model is a safe default
    separators: SeparatorRules = SeparatorRules(),  # noqa: B008 - frozen, as above
) -> LetterOutcome:
    """Take one letter from the inbox through OCR, classification, DMS, archive and records.

    A file of separated letters is split here: this run archives it and starts one run per part
    (``first_page``/``last_page`` set), each of which is a letter of its own.
    """
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
            if batch is None and found.pages >= MIN_BATCH_PAGES:
                sheets, parts = find_parts(found, separators)
                if parts:  # a batch: this run becomes its split run
                    same = {
                        "languages": languages,
                        "limits": limits.model_dump(mode="json"),
                        "separators": separators.model_dump(mode="json"),
                    }
                    outcome = split_batch(edges, found, sheets, parts, same, actor)
                    publish_letter(outcome)
                    return outcome
            ocr = recall_ocr(edges, found) if letter.status in RECOGNISED_BEFORE else None
            if ocr is None:
                pages = prepare_pages(found, workdir)
                limit = unmapped(limits.page_timeout_seconds)
                texts = ocr_page.map(pages, unmapped(languages), limit)
                ocr = assemble(edges, found, texts.result(), actor)
            decided = review_if_unsure(edges, letter, found, ocr, actor)
            filing = route(edges, found, ocr, decided, actor)
            package = archive(edges, found, ocr, decided, filing, actor)
            outcome = record(edges, found, ocr, decided, filing, package, actor)
            release(edges, letter, actor)
        except PermanentError as error:
            publish_letter(quarantine(edges, letter, error, actor))
            raise
    publish_letter(outcome, decided.reasons)
    return outcome
