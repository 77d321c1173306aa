"""The edges of the pipeline, built in one place from settings and passed in.

Tests point these at their own servers by building :class:`Edges` from their own ``Settings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from sqlalchemy import Engine

from schemas.db import engine_for
from schemas.settings import Settings
from schemas.taxonomy import Taxonomy, load_taxonomy
from tasks.dms import DmsConnector, dms_connector

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(settings: Settings) -> S3Client:
    """Return a boto3 S3 client for the configured endpoint."""
    creds = settings.s3
    return boto3.client(
        "s3",
        endpoint_url=creds.endpoint_url,
        region_name=creds.region,
        aws_access_key_id=creds.access_key_id.get_secret_value() if creds.access_key_id else None,
        aws_secret_access_key=(
            creds.secret_access_key.get_secret_value() if creds.secret_access_key else None
        ),
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


@dataclass(frozen=True)
class Edges:
    """The S3 client, the records database, the taxonomy and the DMS a flow run works with."""

    settings: Settings
    s3: S3Client
    engine: Engine
    taxonomy: Taxonomy
    dms: DmsConnector


@cache
def edges_for(settings: Settings) -> Edges:
    """Return the process-wide edges for these settings."""
    s3 = s3_client(settings)
    return Edges(
        settings=settings,
        s3=s3,
        engine=engine_for(settings.records_url),
        taxonomy=load_taxonomy(),
        dms=dms_connector(settings.dms, s3, settings.buckets.dms),
    )
