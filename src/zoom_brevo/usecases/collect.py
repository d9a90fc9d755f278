"""Collect one past meeting or webinar into the store and queue its commands.

The one entry to ``pipeline.sync`` for ``sync``, ``backfill``, the demo and the
``collect`` / ``reconcile`` jobs; nothing is delivered here (``usecases.sync.deliver``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.engine import Engine

from zoom_brevo.pipeline.sync import SyncOptions, SyncReport, sync_meeting, sync_webinar
from zoom_brevo.zoom.client import ZoomClient

Kind = Literal["meeting", "webinar"]


async def collect(
    zoom: ZoomClient,
    engine: Engine,
    kind: Kind,
    target: str,
    options: SyncOptions,
    *,
    now: datetime,
) -> SyncReport:
    """Collect ``target`` (a number: every ended instance; a UUID: that instance).

    Its facts are stored and its commands queued in the outbox, in one transaction.
    """
    run = sync_webinar if kind == "webinar" else sync_meeting
    return await run(zoom, engine, target, options, now=now)
