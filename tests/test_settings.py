"""Settings: environment names, defaults and the stored local-stack credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.settings import Settings


def test_defaults_describe_the_local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSTROOM_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.s3.endpoint_url == "http://127.0.0.1:8333"
    assert settings.buckets.inbox == "postroom-inbox"
    assert settings.records_url == f"sqlite:///{tmp_path / 'records.db'}"
    assert settings.s3.access_key_id is None


def test_nested_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POSTROOM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("POSTROOM_S3__ENDPOINT_URL", "https://s3.example.org")
    monkeypatch.setenv("POSTROOM_S3__ACCESS_KEY_ID", "AK")
    monkeypatch.setenv("POSTROOM_S3__SECRET_ACCESS_KEY", "SK")
    monkeypatch.setenv("POSTROOM_BUCKETS__ARCHIVE", "langzeit")
    monkeypatch.setenv("POSTROOM_RECORDS__URL", "postgresql+psycopg://db/postroom")
    settings = Settings()
    assert settings.s3.endpoint_url == "https://s3.example.org" and not settings.s3.is_local
    assert settings.s3.secret_access_key is not None
    assert settings.s3.secret_access_key.get_secret_value() == "SK"
    assert "SK" not in repr(settings)
    assert settings.buckets.archive == "langzeit"
    assert settings.records_url == "postgresql+psycopg://db/postroom"


def test_stored_credentials_fill_in_when_the_environment_has_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("POSTROOM_DATA_DIR", str(tmp_path))
    (tmp_path / "s3-credentials.json").write_text(
        json.dumps({"access_key_id": "STORED", "secret_access_key": "SECRET"})
    )
    settings = Settings()
    assert settings.s3.access_key_id is not None
    assert settings.s3.access_key_id.get_secret_value() == "STORED"
