"""The disposal-offer flow: the records whose retention has ended, offered to the archivist.

The offer is left as a table artifact and written to the system bucket under ``disposal/<date>/``
as CSV and as an xdomea 3.0.0 ``Aussonderung.Anbieteverzeichnis.0501`` (see ``tasks/dispose.py``).
Nothing is decided or deleted here: the archivist decides per letter with
``postroom disposal decide``.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow

from schemas.settings import Settings
from tasks.dispose import DEFAULT_RECIPIENT, list_offer, publish_offer, store_offer, today
from tasks.edges import edges_for


def offer_run_name() -> str:
    """Return an offer run's name: the day it ran."""
    return f"disposal-offer-{today():%Y%m%d}"


@flow(name="disposal-offer", flow_run_name=offer_run_name)
def disposal_offer(as_of: dt.date | None = None, recipient: str = DEFAULT_RECIPIENT) -> int:
    """Offer every finished letter whose retention ended before ``as_of`` (default: today)."""
    edges = edges_for(Settings())
    day = as_of or today()
    items = list_offer(edges, day)
    files = store_offer(edges, items, day, recipient)
    publish_offer(items, day, files)
    return len(items)
