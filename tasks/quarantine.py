"""Quarantine: a letter that failed permanently leaves the inbox for the quarantine bucket.

The object is copied under the same key, verified, given a ``<key>.reason.json`` an operator can
read, and only then deleted from the inbox; the letter is recorded as quarantined.
"""

from __future__ import annotations

import datetime as dt
import json

from botocore.exceptions import ClientError

from schemas.letter import LetterOutcome, LetterRef, State
from tasks.edges import Edges
from tasks.errors import PermanentError, TransientError, io_task
from tasks.record import advance, outcome_of, release_source


def reason_document(letter: LetterRef, error: PermanentError) -> dict[str, object]:
    """Return the reason file's content."""
    source = letter.source
    return {
        "letter_id": letter.letter_id,
        "step": error.step,
        "error": type(error).__name__,
        "reason": error.reason,
        "source": {"bucket": source.bucket, "key": source.key, "version_id": source.version_id},
        "quarantined_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def reason_key(letter: LetterRef) -> str:
    """Return the key of the reason file: one per part of a batch, which share one source."""
    source, part = letter.source, letter.batch
    pages = f".pages-{part.first_page}-{part.last_page}" if part else ""
    return f"{source.key}{pages}.reason.json"


def move_to_quarantine(edges: Edges, letter: LetterRef, error: PermanentError) -> str:
    """Copy the inbox object to quarantine with its reason, verify, then delete it in the inbox.

    A part of a batch leaves the batch file in the inbox while other parts still need it; the
    last letter of the file to settle deletes it (``release_source``).
    """
    source = letter.source
    target = edges.settings.buckets.quarantine
    try:
        original = edges.s3.head_object(
            Bucket=source.bucket, Key=source.key, VersionId=source.version_id
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NoSuchVersion"}:
            return f"s3://{target}/{source.key}"  # moved by an earlier attempt
        raise
    edges.s3.copy_object(
        Bucket=target,
        Key=source.key,
        CopySource={"Bucket": source.bucket, "Key": source.key, "VersionId": source.version_id},
    )
    copied = edges.s3.head_object(Bucket=target, Key=source.key)
    if copied["ContentLength"] != original["ContentLength"] or copied["ETag"] != original["ETag"]:
        raise TransientError(f"the quarantine copy of {source.key} does not match the original")
    edges.s3.put_object(
        Bucket=target,
        Key=reason_key(letter),
        Body=json.dumps(reason_document(letter, error), ensure_ascii=False, indent=2).encode(),
        ContentType="application/json",
    )
    if letter.batch is None:
        edges.s3.delete_object(Bucket=source.bucket, Key=source.key, VersionId=source.version_id)
    return f"s3://{target}/{source.key}"


@io_task()
def quarantine(edges: Edges, letter: LetterRef, error: PermanentError, actor: str) -> LetterOutcome:
    """Move a permanently failed letter to quarantine and record why."""
    where = move_to_quarantine(edges, letter, error)
    advance(
        edges.engine,
        letter.letter_id,
        State.QUARANTINED,
        step=error.step or "intake",
        actor=actor,
        detail={"reason": error.reason, "quarantine": where},
        quarantine_reason=error.reason,
    )
    if letter.batch is not None:
        release_source(edges, letter)
    return outcome_of(edges.engine, letter.letter_id)
