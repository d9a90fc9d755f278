"""``backfill``: walk every past instance in a date range, collect each, deliver once.

The walk itself (discovery, order, the resumable cursor) is ``pipeline.backfill``; each
instance is collected by ``usecases.collect`` (the same code as ``sync``) and what they
queued is delivered by ``usecases.sync.deliver``: the bulk-import path of ``sync``, so a
large webinar costs the same Brevo calls whichever command collected it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.config import Settings
from zoom_brevo.pipeline.backfill import (
    Backfill,
    BackfillReport,
    Found,
    Position,
    Progress,
    ReadOnlyCursor,
    StoreCursor,
    SyncInstance,
)
from zoom_brevo.pipeline.sync import SyncOptions, SyncReport
from zoom_brevo.pipeline.windows import BackfillRange
from zoom_brevo.store.engine import create_engine, is_current
from zoom_brevo.usecases.collect import collect
from zoom_brevo.usecases.sync import sync_options
from zoom_brevo.wiring import command_limiter, shared_limiter, zoom_client
from zoom_brevo.zoom.client import ZoomClient

# How long ``backfill`` waits for Brevo after the walk (``usecases.sync.deliver``).
DELIVERY_DEADLINE_S = 300.0
# Where the walk shows how far it got (the CLI's Rich bars), entered for the walk only.
ShownProgress = AbstractContextManager[Progress]


async def walk(
    settings: Settings,
    engine: Engine,
    span: BackfillRange,
    requested_end: date | None,
    *,
    events: bool,
    progress: ShownProgress,
) -> BackfillReport:
    """Collect every instance of ``span`` not done yet into the store, resuming the cursor.

    Commands are only queued; deliver them with ``usecases.sync.deliver``. ``progress``
    is entered for the walk only (``contextlib.nullcontext(NoProgress())`` shows nothing).
    """
    options = sync_options(settings, events=events)
    async with zoom_client(settings, shared_limiter(settings, engine)) as zoom:
        with progress as shown:
            backfill = Backfill(
                zoom,
                span,
                instance_sync(zoom, engine, options),
                StoreCursor(engine),
                progress=shown,
                webinars=settings.connectors.zoom.sync.webinars,
                requested_end=requested_end,
            )
            return await backfill.run()


def instance_sync(
    zoom: ZoomClient,
    engine: Engine,
    options: SyncOptions,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncInstance:
    """The walk's ``sync``: collect the instance into the store and queue its commands."""

    async def sync(instance: Found) -> SyncReport:
        return await collect(zoom, engine, instance.kind, instance.uuid, options, now=clock())

    return sync


@dataclass
class DryRunSync:
    """A sync that only remembers what it would have synced."""

    found: list[Found] = field(default_factory=list)

    async def __call__(self, instance: Found) -> None:
        """Remember ``instance``."""
        self.found.append(instance)


async def dry_run(
    settings: Settings,
    span: BackfillRange,
    requested_end: date | None,
    *,
    progress: ShownProgress,
) -> tuple[list[Found], BackfillReport]:
    """What a real run would sync, from the saved cursor on; writes nothing anywhere."""
    seen = DryRunSync()
    cursor = ReadOnlyCursor(saved_position(settings))
    with command_limiter(settings) as limiter:
        async with zoom_client(settings, limiter) as zoom:
            with progress as shown:
                backfill = Backfill(
                    zoom,
                    span,
                    seen,
                    cursor,
                    progress=shown,
                    webinars=settings.connectors.zoom.sync.webinars,
                    requested_end=requested_end,
                )
                report = await backfill.run()
    return seen.found, report


def saved_position(settings: Settings) -> Position | None:
    """The saved cursor, read without creating or migrating the database."""
    url = sa.make_url(settings.storage.url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return None
    engine = create_engine(settings.storage.url)
    try:
        return StoreCursor(engine).load() if is_current(engine) else None
    finally:
        engine.dispose()
