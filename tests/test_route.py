"""Route: DMS paths."""

from __future__ import annotations

import pytest

from tasks.route import dms_prefix, slug


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Kämmerei", "Kaemmerei"),
        ("Straßenverkehrsamt", "Strassenverkehrsamt"),
        ("32.1-2026/0815", "32.1-2026-0815"),
        ("3 K 1234/26", "3-K-1234-26"),
        ("Bürgerservice", "Buergerservice"),
        ("../etc", "etc"),
    ],
)
def test_slug_folds_umlauts_and_separators(value: str, expected: str) -> None:
    assert slug(value) == expected


def test_dms_prefix_uses_ohne_az_without_aktenzeichen() -> None:
    assert dms_prefix("Kämmerei", None, "abc") == "Kaemmerei/ohne-az/abc/"
    assert dms_prefix("Rechtsamt", "3 K 1234/26", "abc") == "Rechtsamt/3-K-1234-26/abc/"
