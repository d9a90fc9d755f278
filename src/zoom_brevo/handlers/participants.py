"""``*.participant_joined`` / ``*.participant_left``: provisional attendance, live.

Each join becomes a provisional session; each leave closes the person's latest session
that began by the leave time (``facts.record_leave``), so sessions are paired by time, not
by arrival order (reference zoom.md 4.3). A person is keyed like the final report's rows
(``pipeline.rows.person_key``): e-mail first, then Zoom user id, registrant id, session id.

Out of order: a leave that arrives before its join matches no session. It is kept as a
``pair_leave`` job (unique per person and leave time) that tries again a few times with a
growing delay; the person's join makes it due at once, and the pair is closed then rather
than at its next try (up to half a minute later). If the join never arrives, the job
gives up quietly: the final report of the ``collect`` job replaces every provisional
session anyway (a kept leave is dropped as soon as that happened). Duplicates are harmless:
a redelivered join is the same natural key, a redelivered leave writes the same leave time.

Known limit: a leave that overtakes its join while the person's earlier session is still
open closes that earlier session (the only one that began by then); provisional sessions
are approximate by nature and the final report corrects them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.handlers.context import Context
from zoom_brevo.handlers.lifecycle import instance_of
from zoom_brevo.pipeline.rows import clean_email
from zoom_brevo.store import facts, jobs
from zoom_brevo.store.schema import registrants
from zoom_brevo.zoom.webhook_models import (
    Envelope,
    EventParticipant,
    ParticipantObject,
    event_kind,
)

PAIR_LEAVE_JOB = "pair_leave"
PAIR_LEAVE_ATTEMPTS = 6
PAIR_LEAVE_FIRST_DELAY_S = 2.0
FINAL_STATES = ("collected", "reconciled")


def person_key(who: EventParticipant, email: str | None) -> str:
    """The key of the person in this instance (as ``pipeline.rows.person_key``)."""
    user = who.participant_user_id or who.id
    if email:
        return f"email:{email}"
    if user:
        return f"user:{user}"
    if who.registrant_id:
        return f"registrant:{who.registrant_id}"
    if who.user_id:
        return f"session:{who.user_id}"
    return f"guest:{who.user_name}"


def _email(ctx: Context, body: Envelope[ParticipantObject]) -> str | None:
    """The participant's address, or their registration's (webinar guests often have none)."""
    who = body.obj.participant
    found = clean_email(who.email)
    if found or not who.registrant_id:
        return found
    c = registrants.c
    stmt = sa.select(c.email).where(
        c.kind == event_kind(body.event),
        c.meeting_id == body.obj.meeting_id,
        c.registrant_id == who.registrant_id,
    )
    return ctx.conn.execute(stmt.limit(1)).scalar_one_or_none()


def _store_instance(ctx: Context, body: Envelope[ParticipantObject]) -> None:
    if not body.obj.uuid:
        raise ValueError("the event names no meeting instance (payload.object.uuid is empty)")
    instance = instance_of(body.obj, event_kind(body.event), body.payload.account_id, "live")
    facts.upsert_instance(ctx.conn, instance, now=ctx.now)


def _live(
    ctx: Context, body: Envelope[ParticipantObject], at: datetime | None, what: str
) -> datetime:
    """``at``, the event's join or leave time (``what``: its field), once the instance is
    stored; a ``ValueError`` when Zoom sent no such time."""
    if at is None:
        raise ValueError(f"{body.event} without {what}")
    _store_instance(ctx, body)
    return at


def handle_joined(ctx: Context, body: Envelope[ParticipantObject]) -> None:
    """Open a provisional session."""
    who = body.obj.participant
    joined = _live(ctx, body, who.joined_at, "join_time")
    email = _email(ctx, body)
    session = facts.Session(
        person_key=person_key(who, email),
        join_time=joined,
        email=email,
        name=who.user_name or None,
    )
    facts.record_join(ctx.conn, body.obj.uuid, session, now=ctx.now)
    jobs.wake_prefixed(
        ctx.conn, PAIR_LEAVE_JOB, kept_leaves_of(body.obj.uuid, session.person_key), now=ctx.now
    )


def handle_left(ctx: Context, body: Envelope[ParticipantObject]) -> None:
    """Close the matching provisional session, or keep the leave for later pairing."""
    who = body.obj.participant
    left = _live(ctx, body, who.left_at, "leave_time")
    key = person_key(who, _email(ctx, body))
    if facts.record_leave(ctx.conn, body.obj.uuid, key, left):
        return
    payload = {"uuid": body.obj.uuid, "person_key": key, "leave_time": left.isoformat()}
    jobs.enqueue(
        ctx.conn,
        PAIR_LEAVE_JOB,
        payload,
        now=ctx.now,
        run_at=ctx.now + timedelta(seconds=PAIR_LEAVE_FIRST_DELAY_S),
        unique_key=f"{kept_leaves_of(body.obj.uuid, key)}{left.isoformat()}",
        max_attempts=PAIR_LEAVE_ATTEMPTS,
    )


def pair_leave_keys(uuid: str) -> str:
    """What the ``unique_key`` of every kept leave of instance ``uuid`` starts with."""
    return f"{PAIR_LEAVE_JOB}:{uuid}:"


def kept_leaves_of(uuid: str, person_key: str) -> str:
    """What the ``unique_key`` of every kept leave of one person in ``uuid`` starts with."""
    return f"{pair_leave_keys(uuid)}{person_key}:"


def drop_kept_leaves(conn: Connection, uuid: str, *, now: datetime) -> int:
    """The instance's final report is in: its kept leaves have nothing left to pair (the
    report replaced every provisional session), so their jobs end now rather than at their
    next try, seconds to a minute later. The number ended."""
    return jobs.settle_moot(conn, PAIR_LEAVE_JOB, pair_leave_keys(uuid), now=now)


def pair_leave(ctx: Context, payload: dict[str, Any]) -> bool:
    """Close the session a kept leave belongs to; ``False`` while its join is still missing."""
    instance = facts.get_instance(ctx.conn, payload["uuid"])
    if instance is None or instance.collect_state in FINAL_STATES:
        return True  # erased, or the final report replaced every provisional session
    left = datetime.fromisoformat(payload["leave_time"])
    return facts.record_leave(ctx.conn, payload["uuid"], payload["person_key"], left)
