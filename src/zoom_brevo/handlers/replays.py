"""``zoom_replay_watched``: people who watched the recording later are not chased.

After a recording is completed, a ``replay`` job (payload ``uuid``, ``day``) reads who
watched it from Zoom's recording analytics (``type=by_view``, reference: Meetings spec,
``analytics_details``) and queues one Brevo event per person and instance through the
outbox, ledger key ``zoom_replay_watched:<uuid>:<email>``: a run that finds the same viewer
again sends nothing. A viewer whose event is new also gets the contact attribute
``ZOOM_REPLAY_WATCHED`` (``field_mapping.replay_watched``, a date: the event's ``watched_at``
day), queued before the event. The job runs at once and then daily, ``day`` 0 to
``connectors.zoom.sync.replay_days - 1`` (unique key ``replay:<uuid>:<day>``); 0 days = off.
A "sorry we missed you" automation exits when the event arrives (README).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from zoom_brevo.handlers.context import HandlerOptions, instance_properties, usable_email
from zoom_brevo.pipeline.commands import SendEvent, UpsertContact
from zoom_brevo.pipeline.mapping import MappedContact, PersonFacts, map_person
from zoom_brevo.store import facts, jobs
from zoom_brevo.zoom.models import RecordingView

REPLAY_JOB = "replay"
REPLAY_EVENT = "zoom_replay_watched"
MAX_RANGE_DAYS = 30  # analytics answer at most one month per call (spec: "Maximum duration")


def schedule_replay(conn: Connection, uuid: str, day: int, *, days: int, now: datetime) -> None:
    """Queue the ``day``-th look at the recording's viewers (``day`` days from ``now``)."""
    if day >= days:
        return
    jobs.enqueue(
        conn,
        REPLAY_JOB,
        {"uuid": uuid, "day": day},
        now=now,
        run_at=now if day == 0 else now + timedelta(days=1),
        unique_key=f"{REPLAY_JOB}:{uuid}:{day}",
    )


def view_range(completed: datetime | None, now: datetime) -> tuple[date, date]:
    """The dates to ask for: since the recording was completed, at most one month back."""
    end = now.date()
    start = completed.date() if completed is not None else end
    return max(start, end - timedelta(days=MAX_RANGE_DAYS)), end


def watched_events(
    instance: facts.Instance,
    recording: facts.Recording | None,
    views: Iterable[RecordingView],
    options: HandlerOptions,
) -> list[SendEvent]:
    """One event per viewer (first view, total seconds, number of views). Pure."""
    seen: dict[str, list[RecordingView]] = {}
    for view in views:
        email = usable_email(view.email, options)
        if email:
            seen.setdefault(email, []).append(view)
    base = instance_properties(instance)
    if recording is not None and recording.topic:
        base["topic"] = recording.topic
    key = f"{REPLAY_EVENT}:{instance.uuid}"
    return [
        SendEvent(REPLAY_EVENT, email, f"{key}:{email}", base | _watched(rows))
        for email, rows in sorted(seen.items())
    ]


def watched_contacts(events: Sequence[SendEvent], options: HandlerOptions) -> list[UpsertContact]:
    """The ``replay_watched`` attribute of each event's viewer (the ``watched_at`` day);
    none for an event without it. Pure."""
    found = []
    for event in events:
        watched_at = event.event_properties.get("watched_at")
        if not watched_at:
            continue
        mapped = map_person(
            PersonFacts(email=event.email, replay_watched=datetime.fromisoformat(watched_at)),
            field_mapping=options.field_mapping,
            exclude_domains=options.exclude_domains,
        )
        if isinstance(mapped, MappedContact) and mapped.attributes:
            found.append(UpsertContact(mapped.email, mapped.attributes))
    return found


def _watched(rows: list[RecordingView]) -> dict[str, Any]:
    times = sorted(r.date_time for r in rows if r.date_time is not None)
    values: dict[str, Any] = {"views": len(rows)}
    if times:
        values["watched_at"] = times[0].isoformat().replace("+00:00", "Z")
    durations = [r.duration for r in rows if r.duration is not None]
    if durations:
        values["duration_s"] = sum(durations)
    return values
