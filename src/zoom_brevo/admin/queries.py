"""Read models from the store, for the pages and the JSON API alike.

Per-meeting attendance comes from ``reports.engagement`` (union of each person's sessions,
the figures sent to Brevo); the charts' data from ``admin.stats``. Every function takes an
open connection and returns models; ``None`` means "no such meeting or person".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.admin import models, stats
from zoom_brevo.engagement import (
    Interval,
    MeetingEngagement,
    SessionRow,
    attended_intervals,
    summarize,
)
from zoom_brevo.reports import engagement as report
from zoom_brevo.store import deadletters, deauthorizations, facts, inbox, jobs, outbox
from zoom_brevo.store.schema import meeting_instances, rate_buckets
from zoom_brevo.store.schema import outbox as outbox_table

MEETINGS_PER_PAGE = 25
ATTENDEES_PER_PAGE = 100
RECENT = 20
COLLECTED_STATES = frozenset({"collected", "reconciled"})
Order = Literal["asc", "desc"]
SORT_KEYS: dict[str, Callable[[models.Attendee], Any]] = {
    "name": lambda a: (a.name or "").casefold() or None,
    "email": lambda a: a.email,
    "minutes": lambda a: a.minutes,
    "ratio": lambda a: a.ratio,
    "rejoins": lambda a: a.rejoins,
    "first_join": lambda a: a.first_join,
    "last_leave": lambda a: a.last_leave,
    "score": lambda a: a.score,
}


@dataclass(frozen=True, slots=True)
class _Figures:
    instance: facts.Instance
    attendees: list[models.Attendee]
    summary: models.MeetingSummary


def pages_for(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill (at least one)."""
    return max(1, math.ceil(total / per_page))


# -- meetings ---------------------------------------------------------------------------


def meeting_page(
    conn: Connection, *, page: int = 1, per_page: int = MEETINGS_PER_PAGE
) -> models.MeetingPage:
    """Meetings and webinars, newest first, ``per_page`` at a time."""
    c = meeting_instances.c
    total = int(
        conn.execute(sa.select(sa.func.count()).select_from(meeting_instances)).scalar_one()
    )
    stmt = (
        sa.select(c.uuid)
        .order_by(c.start_time.is_(None), c.start_time.desc(), c.uuid)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    found = []
    for uuid in conn.execute(stmt).scalars():
        instance = facts.get_instance(conn, uuid)
        if instance is not None:
            found.append(_figures(conn, instance).summary)
    return models.MeetingPage(
        meetings=found, page=page, pages=pages_for(total, per_page), total=total
    )


def _figures(conn: Connection, instance: facts.Instance) -> _Figures:
    _, rows = report.meeting_attendees(conn, instance.uuid)
    attendees = [models.Attendee.model_validate(row, from_attributes=True) for row in rows]
    present = [a for a in attendees if a.minutes > 0]
    registered = facts.list_registrants(conn, instance.kind, instance.meeting_id, status="approved")
    attended_emails = {a.email for a in present if a.email}
    span = report.span_of(instance)
    summary = models.MeetingSummary(
        uuid=instance.uuid,
        meeting_id=instance.meeting_id,
        kind=instance.kind,
        topic=instance.topic,
        start_time=instance.start_time,
        end_time=instance.end_time,
        duration_min=None if span is None else span.duration.total_seconds() / 60,
        registrants=len(registered),
        attendees=len(present),
        absentees=sum(1 for r in registered if r.email not in attended_emails),
        median_minutes=stats.median(a.minutes for a in present),
        sync_state="collected" if instance.collect_state in COLLECTED_STATES else "pending",
        collect_state=instance.collect_state,
        collected_at=instance.collected_at,
    )
    return _Figures(instance, attendees, summary)


def meeting_detail(
    conn: Connection,
    uuid: str,
    *,
    sort: str = "minutes",
    order: Order = "desc",
    page: int = 1,
    per_page: int = ATTENDEES_PER_PAGE,
) -> models.MeetingDetail | None:
    """One meeting with its charts' data and a sorted page of attendees."""
    instance = facts.get_instance(conn, uuid)
    if instance is None:
        return None
    figures = _figures(conn, instance)
    present = [a for a in figures.attendees if a.minutes > 0]
    ordered = sort_attendees(figures.attendees, sort, order)
    start = (page - 1) * per_page
    return models.MeetingDetail(
        meeting=figures.summary,
        presence=_presence(conn, instance),
        histogram=[
            models.HistogramBin(low_min=b.low_min, high_min=b.high_min, count=b.count)
            for b in stats.histogram(
                (a.minutes for a in present), upto_min=figures.summary.duration_min
            )
        ],
        funnel=[
            models.FunnelStage(label=label, count=count)
            for label, count in stats.funnel(
                figures.summary.registrants,
                [a.ratio for a in figures.attendees],
                [a.minutes for a in figures.attendees],
            )
        ],
        attendees=ordered[start : start + per_page],
        attendee_total=len(ordered),
        page=page,
        pages=pages_for(len(ordered), per_page),
        sort=sort,
        order=order,
    )


def sort_attendees(
    attendees: Sequence[models.Attendee], sort: str, order: Order
) -> list[models.Attendee]:
    """Attendees by ``sort`` (a key of ``SORT_KEYS``); unknown values always come last."""
    key = SORT_KEYS[sort]
    known = [a for a in attendees if key(a) is not None]
    unknown = [a for a in attendees if key(a) is None]
    known.sort(key=key, reverse=order == "desc")
    return known + unknown


def _presence(conn: Connection, instance: facts.Instance) -> models.Presence:
    by_person: dict[str, list[SessionRow]] = defaultdict(list)
    for s in facts.sessions(conn, instance.uuid):
        row = SessionRow(join_time=s.join_time, leave_time=s.leave_time, status=s.status)
        by_person[s.person_key].append(row)
    span = report.span_of(instance) or _observed_span(by_person.values())
    if span is None:
        return models.Presence(start=None, per_minute=[], peak=0, peak_minute=None)
    merged = [attended_intervals(rows, span=span) for rows in by_person.values()]
    counts = stats.presence_per_minute(merged, span)
    peak = max(counts, default=0)
    return models.Presence(
        start=span.start,
        per_minute=counts,
        peak=peak,
        peak_minute=counts.index(peak) if counts and peak else None,
    )


def _observed_span(people: Any) -> Interval | None:
    """From the first join to the last leave, when the meeting's own times are unknown."""
    rows = [row for rows in people for row in rows]
    leaves = [row.leave_time for row in rows if row.leave_time is not None]
    if not rows or not leaves:
        return None
    return Interval(min(row.join_time for row in rows), max(leaves))


# -- people -----------------------------------------------------------------------------


def person_detail(conn: Connection, email: str) -> models.PersonDetail | None:
    """A person and their meetings, newest first (``None``: nobody with that address)."""
    try:
        person, rows = report.person_meetings(conn, email)
    except report.ReportError:
        return None
    scores = scores_after(rows)
    return models.PersonDetail(
        email=email.lower(),
        name=_person_name(conn, person, email),
        meetings_attended=person.meetings_attended if person else 0,
        total_minutes=person.total_minutes if person else 0.0,
        last_attended=person.last_attended if person else None,
        score=person.score if person else 0.0,
        meetings=[
            models.PersonMeeting(
                **{f: getattr(row, f) for f in report.MeetingRow.__dataclass_fields__},
                score_after=scores[row.uuid],
            )
            for row in rows
        ],
    )


def _person_name(conn: Connection, person: facts.Person | None, email: str) -> str | None:
    if person is not None and report.full_name(person.first_name, person.last_name):
        return report.full_name(person.first_name, person.last_name)
    for sessions in facts.sessions_of(conn, email).values():
        named = next((s.name for s in sessions if s.name), None)
        if named:
            return named
    return None


def scores_after(rows: Sequence[report.MeetingRow]) -> dict[str, float]:
    """Each meeting's uuid -> the attendance score over the meetings up to and including it.

    Scored as of the meeting's end (its last leave, else its start): how the person looked
    right after it. Questions and polls are not stored per meeting, so they do not count.
    """
    ordered = sorted(rows, key=lambda r: (r.start_time or r.first_join or _EPOCH, r.uuid))
    records: list[MeetingEngagement] = []
    found: dict[str, float] = {}
    for row in ordered:
        records.append(
            MeetingEngagement(row.uuid, row.minutes, ratio=row.ratio, last_leave=row.last_leave)
        )
        as_of = row.last_leave or row.start_time or _EPOCH
        found[row.uuid] = round(summarize(records, now=as_of).score, 1)
    return found


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- operations -------------------------------------------------------------------------


def operations(
    conn: Connection,
    *,
    now: datetime,
    limits: dict[str, Any] | None = None,
    check: models.CheckResult | None = None,
) -> models.Operations:
    """Queues, recent deliveries, dead letters, import rejections and rate-limit state."""
    rejections = facts.list_rejections(conn)
    collected = [i.collected_at for i in facts.list_instances(conn) if i.collected_at]
    return models.Operations(
        depths=models.Depths(
            inbox=inbox.counts(conn), jobs=jobs.counts(conn), outbox=outbox.counts(conn)
        ),
        deliveries=recent_deliveries(conn),
        dead_letters=[
            models.DeadLetter(
                ref=d.ref,
                source=d.source,
                kind=d.kind,
                attempts=d.attempts,
                last_error=d.last_error,
                at=d.updated_at,
                in_doubt=d.in_doubt,
            )
            for d in deadletters.list_dead(conn, limit=RECENT * 5)
        ],
        dead_letter_count=deadletters.count(conn),
        in_doubt=models.InDoubt(**outbox.in_doubt(conn)),
        rejections=[
            models.Rejection(process_id=r.process_id, email=r.email, reason=r.reason)
            for r in reversed(rejections[-RECENT:])
        ],
        rejection_count=len(rejections),
        last_sync=max(collected, default=None),
        limits=limits,
        buckets=buckets(conn, now=now),
        check=check,
        zoom_account=_zoom_account(conn),
        not_processed=[
            models.NotProcessed(
                status=g.status,
                event=g.event_type,
                reason=g.reason,
                count=g.count,
                last_received_at=g.last_received_at,
            )
            for g in inbox.not_processed(conn)
        ],
    )


def _zoom_account(conn: Connection) -> models.ZoomAccount:
    found = deauthorizations.read(conn)
    return models.ZoomAccount(
        deauthorized_at=found.deauthorized_at,
        account_id=found.account_id,
        ignored_deauthorizations=(found.counts or {}).get("ignored", 0),
    )


def recent_deliveries(conn: Connection, *, limit: int = RECENT) -> list[models.Delivery]:
    """The latest commands delivered to Brevo, newest first."""
    c = outbox_table.c
    stmt = (
        sa.select(c.id, c.kind, c.payload, c.attempts, c.updated_at)
        .where(c.state == "done")
        .order_by(c.updated_at.desc(), c.id.desc())
        .limit(limit)
    )
    return [
        models.Delivery(
            id=row.id,
            kind=row.kind,
            email=_text(row.payload.get("email")),
            detail=delivery_detail(row.kind, row.payload),
            attempts=row.attempts,
            delivered_at=row.updated_at,
        )
        for row in conn.execute(stmt)
    ]


def delivery_detail(kind: str, payload: Mapping[str, Any]) -> str | None:
    """What a delivered command carried: the event, the template, or a contact's changes."""
    if kind == "event":
        return _text(payload.get("event_name"))
    if kind == "email":
        return f"template {payload.get('template_id')}"
    if kind != "contact":
        return None
    attributes, lists = payload.get("attributes") or {}, payload.get("list_ids") or []
    parts = [_count(len(attributes), "attribute")] if attributes else []
    if lists:
        parts.append(("list " if len(lists) == 1 else "lists ") + ", ".join(map(str, lists)))
    return "; ".join(parts) or "no attributes or lists"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def buckets(conn: Connection, *, now: datetime) -> list[models.RateBucket]:
    """The shared rate-limit buckets; a pause already over shows as none."""
    c = rate_buckets.c
    found = []
    for row in conn.execute(sa.select(rate_buckets).order_by(c.key)):
        paused = row.paused_until_s > now.timestamp()
        found.append(
            models.RateBucket(
                key=row.key,
                tokens=round(row.tokens, 2),
                updated_at=datetime.fromtimestamp(row.updated_s, UTC),
                paused_until=datetime.fromtimestamp(row.paused_until_s, UTC) if paused else None,
            )
        )
    return found


def retry(conn: Connection, request: models.RetryRequest, *, now: datetime) -> int:
    """Re-queue dead letters; ``ValueError`` for a malformed reference."""
    if request.all:
        return deadletters.requeue_all(conn, now=now)
    for ref in request.refs:
        deadletters.parse_ref(ref)
    return deadletters.requeue(conn, request.refs, now=now)
