"""``meeting.started`` / ``webinar.started`` and ``meeting.ended`` / ``webinar.ended``.

Started: the instance is stored and every known approved registrant of the meeting or
webinar gets ``zoom_meeting_started`` / ``zoom_webinar_started`` with its own join link
(ledger key ``<event>:<uuid>:<email>``, so a redelivery or a replay sends nothing more).

Both events name no occurrence (reference zoom.md 4.4): the instance of a recurring
meeting or webinar takes the stored occurrence (``store.occurrences``, listed earlier by a
registration webhook or ``sync``) whose scheduled start is nearest its own, so that the
started events carry ``occurrence_id``; the ``collect`` job later confirms it from Zoom.

Ended: the instance's end is stored and a ``collect`` job (unique key ``collect:<uuid>``)
is queued ``collect_delay_s`` later, when Zoom has had time to process the attendance
(reference zoom.md 2.4); the job fetches the final report (see ``handlers.jobs``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import structlog

from zoom_brevo.handlers.context import (
    Context,
    enqueue,
    instance_properties,
    new_events,
    usable_email,
)
from zoom_brevo.pipeline.commands import SendEvent
from zoom_brevo.pipeline.occurrences import nearest
from zoom_brevo.store import facts, jobs, occurrences
from zoom_brevo.store.spans import SpanSource
from zoom_brevo.zoom.webhook_models import Envelope, Kind, MeetingObject, event_kind

log = structlog.get_logger(__name__)
COLLECT_JOB = "collect"
STARTED_EVENTS = {"meeting": "zoom_meeting_started", "webinar": "zoom_webinar_started"}


def instance_of(
    obj: MeetingObject, kind: Kind, account_id: str, source: SpanSource
) -> facts.Instance:
    """The store's instance for an event's object (unknown values left ``None``).

    ``source``: how much the object's start and end are worth (``spans.SPAN_SOURCES``):
    ``event`` for the started and ended events, ``live`` for events that only echo the
    instance (participants, recordings).
    """
    return facts.Instance(
        uuid=obj.uuid,
        meeting_id=obj.meeting_id,
        kind=kind,
        topic=obj.topic or None,
        host_id=obj.host_id or None,
        host_email=obj.host_email.lower() or None,
        start_time=obj.started_at,
        end_time=obj.ended_at,
        account_id=account_id or None,
        span_source=source,
    )


def _require_uuid(obj: MeetingObject) -> None:
    if not obj.uuid:
        raise ValueError("the event names no meeting instance (payload.object.uuid is empty)")


def started_events(
    instance: facts.Instance, registrants: list[facts.Registrant], ctx: Context
) -> list[SendEvent]:
    """One started event per approved registrant with a usable address. Pure."""
    name = STARTED_EVENTS[instance.kind]
    base = instance_properties(instance)
    found = []
    for reg in registrants:
        email = usable_email(reg.email, ctx.options)
        if email is None or reg.status != "approved":
            continue
        props = {**base, "join_url": reg.join_url} if reg.join_url else base
        found.append(SendEvent(name, email, f"{name}:{instance.uuid}:{email}", props))
    return found


def handle_started(ctx: Context, body: Envelope[MeetingObject]) -> None:
    """Store the instance; tell its registrants it started."""
    obj = body.obj
    _require_uuid(obj)
    kind = event_kind(body.event)
    instance = _store(ctx, instance_of(obj, kind, body.payload.account_id, "event"))
    if instance is None or not instance.meeting_id:
        return
    registrants = facts.list_registrants(ctx.conn, kind, instance.meeting_id, status="approved")
    events = new_events(ctx.conn, started_events(instance, registrants, ctx))
    enqueue(ctx.conn, events, now=ctx.now)


def handle_ended(ctx: Context, body: Envelope[MeetingObject]) -> None:
    """Store the instance's end; schedule the collection of its final attendance."""
    obj = body.obj
    _require_uuid(obj)
    kind = event_kind(body.event)
    _store(ctx, instance_of(obj, kind, body.payload.account_id, "event"))
    schedule_collect(ctx, obj.uuid, kind, obj.meeting_id)


def _store(ctx: Context, instance: facts.Instance) -> facts.Instance | None:
    """Merge ``instance`` (with its occurrence, when the store knows the occurrences); the
    instance as the store now knows it."""
    if not facts.upsert_instance(ctx.conn, instance, now=ctx.now):
        log.warning("instance_span_refused", uuid=instance.uuid, source=instance.span_source)
    known = facts.get_instance(ctx.conn, instance.uuid)
    if known is None or known.occurrence_id or not known.meeting_id:
        return known
    listed = occurrences.known(ctx.conn, known.kind, known.meeting_id)
    found = nearest(known.start_time, listed)
    if found is None:
        return known
    facts.upsert_instance(ctx.conn, replace(known, occurrence_id=found), now=ctx.now)
    return replace(known, occurrence_id=found)


def schedule_collect(ctx: Context, uuid: str, kind: Kind, meeting_id: int) -> int | None:
    """Queue the ``collect`` job of ``uuid`` once (unique key ``collect:<uuid>``)."""
    if (kind == "webinar" and not ctx.options.webinars) or not ctx.options.participants:
        return None
    return jobs.enqueue(
        ctx.conn,
        COLLECT_JOB,
        {"uuid": uuid, "kind": kind, "meeting_id": meeting_id},
        now=ctx.now,
        run_at=ctx.now + timedelta(seconds=ctx.options.collect_delay_s),
        unique_key=f"{COLLECT_JOB}:{uuid}",
    )
