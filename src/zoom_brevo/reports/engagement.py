"""Engagement reports read from the store: people ranked, one meeting's attendees, one
person's meetings.

Read-only queries over ``store.facts``; per-meeting attendance is recomputed from the
stored sessions with ``zoom_brevo.engagement`` (union of intervals, see
``docs/engagement.md``), so the figures match what was sent to Brevo.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.engagement import Attendance, Interval, SessionRow, attendance
from zoom_brevo.errors import ZoomBrevoError
from zoom_brevo.store import facts
from zoom_brevo.store.schema import people


class ReportError(ZoomBrevoError):
    """The report cannot be made (unknown meeting or person); the message says why.

    ``user_input`` is what the user asked for (an e-mail address, a UUID): the command
    line shows it as typed, where it masks any other address.
    """

    def __init__(self, message: str, *, user_input: str) -> None:
        self.user_input = (user_input,)
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One person of the ranking."""

    email: str
    name: str | None
    meetings_attended: int
    total_minutes: float
    last_attended: datetime | None
    score: float


@dataclass(frozen=True, slots=True)
class AttendeeRow:
    """One person's attendance of one meeting instance (``score``: their overall score)."""

    email: str | None
    name: str | None
    minutes: float
    ratio: float | None
    rejoins: int
    first_join: datetime | None
    last_leave: datetime | None
    score: float | None


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """One meeting instance a person attended (or was recorded in)."""

    uuid: str
    kind: str
    meeting_id: int | None
    topic: str | None
    start_time: datetime | None
    occurrence_id: str | None  # the occurrence of a recurring meeting or webinar
    minutes: float
    ratio: float | None
    rejoins: int
    first_join: datetime | None
    last_leave: datetime | None


def full_name(first: str | None, last: str | None) -> str | None:
    """First and last name joined, or ``None``."""
    name = " ".join(part for part in (first, last) if part)
    return name or None


def ranked_people(conn: Connection, *, limit: int | None = None) -> list[PersonRow]:
    """People by engagement score, highest first (ties: more minutes, then e-mail)."""
    c = people.c
    stmt = sa.select(
        c.email, c.first_name, c.last_name, c.meetings_attended, c.total_minutes,
        c.last_attended, c.score,
    ).order_by(c.score.desc(), c.total_minutes.desc(), c.email)  # fmt: skip
    if limit:
        stmt = stmt.limit(limit)
    return [
        PersonRow(
            email=row.email,
            name=full_name(row.first_name, row.last_name),
            meetings_attended=row.meetings_attended,
            total_minutes=row.total_minutes,
            last_attended=row.last_attended,
            score=row.score,
        )
        for row in conn.execute(stmt)
    ]


def span_of(instance: facts.Instance) -> Interval | None:
    """The instance's actual span, when both ends are known."""
    if instance.start_time is None or instance.end_time is None:
        return None
    return Interval(instance.start_time, instance.end_time)


def _rows(sessions: Iterable[facts.Session]) -> list[SessionRow]:
    return [
        SessionRow(join_time=s.join_time, leave_time=s.leave_time, status=s.status)
        for s in sessions
    ]


def _attendance(sessions: Sequence[facts.Session], span: Interval | None) -> Attendance:
    return attendance(_rows(sessions), span=span)


def find_instances(conn: Connection, meeting: str) -> list[facts.Instance]:
    """The instance a UUID names, or every stored instance of a meeting or webinar number
    (``873 9784 3343`` as Zoom prints it, too), latest start first (``ReportError`` if none).
    """
    instance = facts.get_instance(conn, meeting)
    if instance is not None:
        return [instance]
    number = "".join(meeting.split()).replace("-", "")
    if number.isdigit():
        found = facts.list_instances(conn, meeting_id=int(number))
        if found:
            return sorted(found, key=_latest_first)
        raise ReportError(
            f"no instance of meeting or webinar {number} in the store; run 'zoom-brevo sync "
            f"meeting {number}' (or 'sync webinar {number}') first",
            user_input=meeting,
        )
    raise ReportError(
        f"no meeting instance {meeting!r} in the store; give a UUID that 'zoom-brevo report "
        "engagement --email ADDRESS' lists, or a meeting number",
        user_input=meeting,
    )


def _latest_first(instance: facts.Instance) -> tuple[bool, float, str]:
    start = instance.start_time.timestamp() if instance.start_time else float("-inf")
    return (instance.start_time is None, -start, instance.uuid)


def meeting_attendees(
    conn: Connection, uuid: str, *, limit: int | None = None
) -> tuple[facts.Instance, list[AttendeeRow]]:
    """The instance and its attendees, most minutes first (``ReportError`` if unknown)."""
    instance = facts.get_instance(conn, uuid)
    if instance is None:
        raise ReportError(f"no meeting instance {uuid!r} in the store", user_input=uuid)
    by_person: dict[str, list[facts.Session]] = defaultdict(list)
    for session in facts.sessions(conn, uuid):
        by_person[session.person_key].append(session)
    span = span_of(instance)
    emails = {s.email for rows in by_person.values() for s in rows if s.email}
    scores = _scores(conn, emails)
    found = [_attendee(rows, span, scores) for rows in by_person.values()]
    found.sort(key=lambda r: (-r.minutes, r.email or "~", r.name or ""))
    return instance, found[:limit] if limit else found


def _attendee(
    sessions: Sequence[facts.Session], span: Interval | None, scores: dict[str, float]
) -> AttendeeRow:
    email = next((s.email for s in sessions if s.email), None)
    name = next((s.name for s in sessions if s.name), None)
    taken = _attendance(sessions, span)
    return AttendeeRow(
        email=email,
        name=name,
        minutes=taken.minutes,
        ratio=taken.ratio,
        rejoins=taken.rejoins,
        first_join=taken.first_join,
        last_leave=taken.last_leave,
        score=scores.get(email) if email else None,
    )


def _scores(conn: Connection, emails: set[str]) -> dict[str, float]:
    found: dict[str, float] = {}
    ordered = sorted(emails)
    for offset in range(0, len(ordered), 500):  # keep IN lists short (SQLite variable cap)
        chunk = ordered[offset : offset + 500]
        stmt = sa.select(people.c.email, people.c.score).where(people.c.email.in_(chunk))
        found.update({row.email: row.score for row in conn.execute(stmt)})
    return found


def person_meetings(
    conn: Connection, email: str, *, limit: int | None = None
) -> tuple[facts.Person | None, list[MeetingRow]]:
    """A person and the instances they were in, newest first (``ReportError`` if unknown)."""
    person = facts.get_person(conn, email)
    by_instance = facts.sessions_of(conn, email)
    if person is None and not by_instance:
        raise ReportError(
            f"nobody with the e-mail address {email!r} in the store", user_input=email
        )
    found = []
    for uuid, sessions in by_instance.items():
        instance = facts.get_instance(conn, uuid)
        found.append(_meeting_row(uuid, instance, sessions))
    found.sort(key=lambda r: (r.start_time is not None, r.start_time, r.uuid), reverse=True)
    return person, found[:limit] if limit else found


def _meeting_row(
    uuid: str, instance: facts.Instance | None, sessions: Sequence[facts.Session]
) -> MeetingRow:
    taken = _attendance(sessions, span_of(instance) if instance else None)
    return MeetingRow(
        uuid=uuid,
        kind=instance.kind if instance else "meeting",
        meeting_id=instance.meeting_id if instance else None,
        topic=instance.topic if instance else None,
        start_time=instance.start_time if instance else None,
        occurrence_id=instance.occurrence_id if instance else None,
        minutes=taken.minutes,
        ratio=taken.ratio,
        rejoins=taken.rejoins,
        first_join=taken.first_join,
        last_leave=taken.last_leave,
    )
