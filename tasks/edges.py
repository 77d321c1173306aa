"""The edges of the pipeline, built in one place from settings and passed in.

Tests point these at their own servers by building :class:`Edges` from their own ``Settings``.
"""

from __future__ import annotations

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


class Edges:
    """The S3 client, the records database, the taxonomy and the DMS a flow run works with.

    Deliberately not a dataclass: Prefect walks every dataclass and pydantic argument of a task
    call, twice, looking for futures to wait on, and walking the taxonomy cost ~5 ms each time
    (~0.13 CPU-s a letter, measured); an instance of a plain class is passed as it is.
    """

    __slots__ = ("dms", "engine", "s3", "settings", "taxonomy")

    def __init__(
        self,
        *,
        settings: Settings,
        s3: S3Client,
        engine: Engine,
        taxonomy: Taxonomy,
        dms: DmsConnector,
    ) -> None:
        self.settings = settings
        self.s3 = s3
        self.engine = engine
        self.taxonomy = taxonomy
        self.dms = dms

    def replace(self, *, taxonomy: Taxonomy) -> Edges:
        """Return these edges with another taxonomy."""
        return Edges(
            settings=self.settings, s3=self.s3, engine=self.engine, taxonomy=taxonomy, dms=self.dms
        )


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
