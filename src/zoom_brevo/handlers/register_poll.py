"""Brevo -> Zoom, automatically: people who enter a Brevo list are registered into a webinar
or a meeting.

The lists are polled. Every ``poll_interval_s`` (``connectors.zoom.registration``) the one
scheduler of the deployment queues a ``register_poll`` job (one per interval, none while the
last is still queued or running: two polls would register the same people), and Brevo's
``listAddition`` webhook, where configured, makes one due at once (``registration.trigger``,
``server.brevo_webhook``); the job reads, for each configured list -> webinar (or meeting)
pair, the list's members Brevo changed since the last look (``GET
/contacts/lists/{listId}/contacts`` ``modifiedSince``, official spec getContactsFromList)
and registers them through the same code as ``zoom-brevo register`` (``registration.run``),
the join link written back to the contact. People registered and written back already cost
no Zoom call; a poll that finds nobody else calls Zoom not at all.

The cursor (``store.cursors``, one per pair) is the newest ``modifiedAt`` Brevo reported, so
Brevo's clock is compared with Brevo's clock; the next look starts ``OVERLAP_S`` before it
(seeing a contact twice is harmless, missing one is not). A pair with a failed registration
keeps its cursor, so the next poll tries those people again. Once a day a pair is read in
full: a contact that entered the list without Brevo changing its ``modifiedAt`` is still
found. A poll that fails (Zoom or Brevo down) raises, and the job runner retries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.models import Contact
from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.logging import mask_email
from zoom_brevo.registration import writeback
from zoom_brevo.registration.run import RegisterReport, members, register_list, registered
from zoom_brevo.registration.target import Target
from zoom_brevo.registration.trigger import REGISTER_POLL_JOB, poll_pending, queue_poll
from zoom_brevo.scheduler import Tick
from zoom_brevo.store import cursors, registrations
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.zoom.client import ZoomClient

log = structlog.get_logger(__name__)
OVERLAP_S = 1.0
FULL_READ_EVERY = timedelta(days=1)
_REPORTED = ("missing_fields", "blocked", "failed")


def register_poll_tick(interval_s: float) -> Tick:
    """A scheduler tick that queues one ``register_poll`` job per ``interval_s``."""

    def queue_register_poll(engine: Engine, now: datetime) -> int:
        slot = int(now.timestamp() // interval_s)
        with transaction(engine) as conn:
            if poll_pending(conn):
                return 0
            queued = queue_poll(
                conn, unique_key=f"{REGISTER_POLL_JOB}:{int(interval_s)}:{slot}", now=now
            )
        return int(queued)

    return queue_register_poll


def cursor_name(target: Target) -> str:
    """The cursor of one list -> webinar or meeting (occurrence) pair (a webinar's keeps
    the name it had before meetings could be registered into)."""
    kind = "meeting:" if target.kind == "meeting" else ""
    return f"register:{target.list_id}:{kind}{target.zoom_id}:{target.occurrence_id or ''}"


async def register_poll(
    zoom: ZoomClient, brevo: BrevoClient, engine: Engine, options: HandlerOptions, now: datetime
) -> list[RegisterReport]:
    """One poll of every configured pair; the reports of those that had members to look at."""
    reports = []
    for target in options.registration.targets:
        report = await poll_pair(zoom, brevo, engine, options, target=target, now=now)
        if report is not None:
            reports.append(report)
    return reports


async def poll_pair(
    zoom: ZoomClient,
    brevo: BrevoClient,
    engine: Engine,
    options: HandlerOptions,
    *,
    target: Target,
    now: datetime,
) -> RegisterReport | None:
    """Register the pair's members changed since its cursor; ``None`` if none needed it."""
    name = cursor_name(target)
    with reading(engine) as conn:
        position = cursors.get(conn, name)
        done = registered(conn, target)
    since = _since(position, now)
    changed = [c async for c in members(brevo, target.list_id, modified_since=since)]
    # Registered and written back already (the write-back itself changes the contact, and
    # the overlap shows the newest again): nothing to ask Zoom.
    fresh = [c for c in changed if not _settled(c, done)]
    report = None
    if fresh:
        report = await register_list(
            zoom,
            brevo,
            engine,
            target,
            options.registration.mapping,
            now=lambda: now,
            contacts=fresh,
        )
        _log(report)
        if report.failed:  # the cursor stays: the next poll tries the failed people again
            return report
    _advance(engine, name, position, changed, full=since is None, now=now)
    return report


def _settled(contact: Contact, done: Mapping[str, registrations.Registration]) -> bool:
    email = (contact.email or "").strip().lower()
    return email in done and bool(contact.attributes.get(writeback.REGISTRANT_ID))


def _advance(
    engine: Engine, name: str, position: Any, seen: list[Contact], *, full: bool, now: datetime
) -> None:
    """Move the cursor to the newest ``modifiedAt`` seen (Brevo always dates a contact)."""
    newest = max((c.modified_at for c in seen if c.modified_at), default=None, key=_parse)
    if newest is None:
        return
    full_at = now if full else _full_at(position, now)
    with transaction(engine) as conn:
        cursors.save(conn, name, {"newest": newest, "full_at": full_at.isoformat()}, now=now)


def _since(position: Any, now: datetime) -> str | None:
    """``modifiedSince`` for this look, or ``None`` for a full read."""
    if not isinstance(position, dict):
        return None
    newest, full_at = position.get("newest"), position.get("full_at")
    if not isinstance(newest, str) or not isinstance(full_at, str):
        return None
    if now - datetime.fromisoformat(full_at) >= FULL_READ_EVERY:
        return None
    since = _parse(newest) - timedelta(seconds=OVERLAP_S)
    return since.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _full_at(position: Any, now: datetime) -> datetime:
    found = position.get("full_at") if isinstance(position, dict) else None
    return datetime.fromisoformat(found) if isinstance(found, str) else now


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _log(report: RegisterReport) -> None:
    target = report.target
    log.info(
        "register_poll_done", list_id=target.list_id, kind=target.kind, zoom_id=target.zoom_id,
        zoom_registrations_sent=report.zoom_posts, **report.counts(),
    )  # fmt: skip
    for result in report.results:
        if result.outcome in _REPORTED:
            log.warning(
                "register_poll_not_registered", list_id=target.list_id,
                kind=target.kind, zoom_id=target.zoom_id, contact_id=result.contact_id,
                person=mask_email(result.email) if result.email else None,
                outcome=result.outcome, missing=list(result.missing), error=result.error,
            )  # fmt: skip
