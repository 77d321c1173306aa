"""Archive: BagIt packages and retention dates."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from tasks.archive import build_bag, parse_manifest, retention_date

RECEIVED = dt.date(2026, 11, 21)


def test_a_bag_has_its_tag_files_and_both_manifests() -> None:
    bag = build_bag(
        {"original.pdf": b"%PDF-1.7 scan", "text.txt": "Grüße".encode()},
        {"External-Identifier": "abc"},
    )
    assert bag["bagit.txt"] == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = bag["bag-info.txt"].decode()
    assert "External-Identifier: abc\n" in info
    assert "Payload-Oxum: 20.2\n" in info
    payload = parse_manifest(bag["manifest-sha512.txt"].decode())
    assert payload == {
        path: hashlib.sha512(bag[path]).hexdigest()
        for path in ("data/original.pdf", "data/text.txt")
    }
    tags = parse_manifest(bag["tagmanifest-sha512.txt"].decode())
    assert set(tags) == {"bagit.txt", "bag-info.txt", "manifest-sha512.txt"}
    assert all(hashlib.sha512(bag[p]).hexdigest() == d for p, d in tags.items())


@pytest.mark.parametrize(
    ("letter_date", "years", "expected"),
    [
        (dt.date(2026, 3, 12), 10, dt.date(2036, 12, 31)),
        (dt.date(2025, 12, 30), 10, dt.date(2035, 12, 31)),
        (None, 10, dt.date(2036, 12, 31)),
        (dt.date(2027, 1, 5), 10, dt.date(2036, 12, 31)),  # in the future: misread
        (dt.date(1996, 1, 5), 10, dt.date(2036, 12, 31)),  # far before receipt: misread
        (dt.date(2026, 3, 12), 0, None),
    ],
)
def test_retention_ends_with_the_calendar_year(
    letter_date: dt.date | None, years: int, expected: dt.date | None
) -> None:
    assert retention_date(letter_date, RECEIVED, years) == expected
