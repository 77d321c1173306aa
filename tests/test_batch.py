"""Batches end to end: a scanned stack of three letters becomes three letters, once each.

The file goes through a real stack: its run finds the separator sheets, archives the file in a
package of its own and starts one run per part; each part is filed and archived with its own
pages, and the inbox object is deleted only after the last part settled.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from flows.batches import write_batch
from schemas.letter import PageRange, SourceObject
from tasks.intake import letter_id_for
from tests.conftest import LocalStack

pytestmark = pytest.mark.slow


def test_a_batch_of_three_letters_splits_into_three_records(
    stack: LocalStack, tmp_path: Path
) -> None:
    truth = write_batch(tmp_path, letters=3, seed=31, format="pdf", separator="both")
    data = (tmp_path / truth.name).read_bytes()
    buckets = stack.settings.buckets
    key = f"batch/{truth.name}"
    put = stack.s3.put_object(Bucket=buckets.inbox, Key=key, Body=data)
    source = SourceObject(bucket=buckets.inbox, key=key, version_id=put["VersionId"])
    batch_id = letter_id_for(source)

    processed = stack.postroom("process", "--timeout", "600")
    records = {r["id"]: r for r in stack.export() if r["source_key"] == key}
    assert records[batch_id]["status"] == "split", processed.stdout
    parts = sorted(
        (r for r in records.values() if r["batch"] is not None),
        key=lambda r: r["batch"]["first_page"],
    )
    expected = [(p.first_page, p.last_page) for p in truth.parts]
    assert [(r["batch"]["first_page"], r["batch"]["last_page"]) for r in parts] == expected
    assert len(parts) == 3
    for record, part in zip(parts, truth.parts, strict=True):
        assert record["status"] == "done", (record["status"], processed.stdout)
        assert record["doc_type"] == part.truth.doc_type
        assert record["batch"]["source_key"] == key
        assert record["sha256"] == hashlib.sha256(data).hexdigest()  # the source object's
        assert record["pages"] == part.last_page - part.first_page + 1
        pages = PageRange(first_page=part.first_page, last_page=part.last_page)
        assert record["id"] == letter_id_for(source, pages)

    # The batch file is archived once, in its own package, bit for bit.
    archive = buckets.archive
    meta = _json(stack, archive, f"{batch_id}/data/metadata.json")
    assert [(p["first_page"], p["last_page"]) for p in meta["parts"]] == expected
    assert {s["page"] for s in meta["separators"]} == set(truth.separator_pages)
    original = stack.s3.get_object(Bucket=archive, Key=f"{batch_id}/data/original/{truth.name}")
    assert original["Body"].read() == data

    # Each part's package holds its own pages and names the batch package and its SHA-256.
    for record, part in zip(parts, truth.parts, strict=True):
        part_meta = _json(stack, archive, f"{record['id']}/data/metadata.json")
        assert part_meta["batch"] == {
            "first_page": part.first_page,
            "last_page": part.last_page,
            "package": batch_id,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        listing = stack.s3.list_objects_v2(Bucket=archive, Prefix=f"{record['id']}/data/original")
        (stored,) = [o["Key"] for o in listing.get("Contents", [])]
        body = stack.s3.get_object(Bucket=archive, Key=stored)["Body"].read()
        assert len(PdfReader(io.BytesIO(body)).pages) == part.last_page - part.first_page + 1
        verified = stack.postroom("archive", "verify", record["id"], check=False)
        assert verified.returncode == 0, verified.stdout

    # Separator sheets are not filed; the inbox object is gone only now.
    dms = stack.s3.list_objects_v2(Bucket=buckets.dms).get("Contents", [])
    assert not [o for o in dms if f"/{batch_id}/" in o["Key"]]
    assert stack.s3.list_object_versions(Bucket=buckets.inbox, Prefix=key).get("Versions") is None


def _json(stack: LocalStack, bucket: str, key: str) -> dict[str, Any]:
    """Return a JSON object stored in S3."""
    found: dict[str, Any] = json.loads(stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return found
