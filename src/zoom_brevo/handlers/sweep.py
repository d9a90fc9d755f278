"""The sweep: ended meetings and webinars that no webhook announced are collected anyway.

Zoom gives up on a webhook after three retries (+5, +20, +60 min, reference zoom.md 4.3),
and an app may not be subscribed to every end event. Every ``sweep_interval_s`` the one
scheduler of the deployment queues a ``sweep`` job (one per interval, whichever process
leads); the job lists, for every user, the meetings of the usage report and the webinar
instances of the last ``sweep_days`` days and queues the usual ``collect`` job for each
instance neither collected nor already queued. ``collect`` jobs are unique per instance, so
an instance a webhook did announce is never collected twice because of a sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.handlers.context import Context, HandlerOptions
from zoom_brevo.handlers.lifecycle import schedule_collect
from zoom_brevo.pipeline.backfill import Found, recent
from zoom_brevo.pipeline.windows import Window
from zoom_brevo.scheduler import Tick
from zoom_brevo.store import jobs
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.schema import meeting_instances
from zoom_brevo.zoom.client import ZoomClient

log = structlog.get_logger(__name__)
SWEEP_JOB = "sweep"
SWEEP_MAX_ATTEMPTS = 3  # the next interval's sweep covers the same days again
DONE_STATES = ("collected", "reconciled")


def sweep_tick(interval_s: float) -> Tick:
    """A scheduler tick that queues one ``sweep`` job per ``interval_s`` (unique per slot)."""

    def queue_sweep(engine: Engine, now: datetime) -> int:
        slot = int(now.timestamp() // interval_s)
        with transaction(engine) as conn:
            queued = jobs.enqueue(
                conn, SWEEP_JOB, {"slot": slot}, now=now,
                unique_key=f"{SWEEP_JOB}:{int(interval_s)}:{slot}",
                max_attempts=SWEEP_MAX_ATTEMPTS,
            )  # fmt: skip
        return 0 if queued is None else 1

    return queue_sweep


def sweep_window(now: datetime, days: int) -> Window:
    """The days a sweep at ``now`` looks at: the last ``days`` days up to today (UTC)."""
    today = now.date()
    return Window(today - timedelta(days=days), today)


async def find_ended(zoom: ZoomClient, window: Window, *, webinars: bool) -> list[Found]:
    """Every user's ended instances within ``window``, once each."""
    found: dict[str, Found] = {}
    async for user in zoom.users():
        if not user.id:
            continue
        async for instance in recent(zoom, user.id, window, webinars=webinars):
            found.setdefault(instance.uuid, instance)
    return list(found.values())


def _collected(engine: Engine, uuids: Sequence[str]) -> set[str]:
    c = meeting_instances.c
    done: set[str] = set()
    with reading(engine) as conn:
        for start in range(0, len(uuids), 500):
            chunk = uuids[start : start + 500]
            stmt = sa.select(c.uuid).where(c.uuid.in_(chunk), c.collect_state.in_(DONE_STATES))
            done.update(conn.scalars(stmt))
    return done


def queue_missing(
    engine: Engine, options: HandlerOptions, found: Sequence[Found], now: datetime
) -> int:
    """Queue a ``collect`` job for each of ``found`` not yet collected; how many were new."""
    done = _collected(engine, [f.uuid for f in found])
    queued = 0
    with transaction(engine) as conn:
        ctx = Context(conn, options, now)
        for instance in found:
            if instance.uuid in done or instance.meeting_id is None:
                continue
            if schedule_collect(ctx, instance.uuid, instance.kind, instance.meeting_id):
                queued += 1
    return queued


async def sweep(zoom: ZoomClient, engine: Engine, options: HandlerOptions, now: datetime) -> int:
    """One sweep; returns how many instances it queued for collection."""
    if not options.participants:
        return 0
    window = sweep_window(now, options.sweep_days)
    found = await find_ended(zoom, window, webinars=options.webinars)
    queued = queue_missing(engine, options, found, now)
    log.info("sweep_done", window=window.label, found=len(found), queued=queued)
    return queued
