"""Who took part in an instance, and what the store knows of those people elsewhere.

The reads behind deriving an instance's contacts (``pipeline.gather``): its people (final
attendees plus approved registrants, a keyset page at a time), and for a chunk of
addresses their sessions, registrations and the instances these involve. Each read is one
statement whose cost is bounded by the page or the chunk, not by the size of the meeting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store.facts import SessionStatus
from zoom_brevo.store.schema import attendance_sessions, meeting_instances, registrants


@dataclass(frozen=True, slots=True)
class SessionFact:
    """One stored attendance session of a person."""

    email: str
    instance_uuid: str
    source: str
    name: str | None
    join_time: datetime
    leave_time: datetime | None
    status: SessionStatus


@dataclass(frozen=True, slots=True)
class RegistrationFact:
    """One stored registration of a person to a meeting or webinar."""

    email: str
    kind: str
    meeting_id: int
    status: str
    first_name: str | None
    last_name: str | None
    tracking_source: str | None
    join_url: str | None
    registered_at: datetime | None
    answers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InstanceFact:
    """What deriving needs of one instance: identity, span and whether it was collected."""

    uuid: str
    kind: str
    meeting_id: int
    start_time: datetime | None
    end_time: datetime | None
    collect_state: str
    occurrence_id: str | None = None


def _columns(columns: Any, names: Iterable[str]) -> list[sa.ColumnElement[Any]]:
    """The columns of these names, in order: a fact is then built from a row by position,
    without the dict per row of ``Row._asdict``."""
    return [columns[name] for name in names]


def people_page(
    conn: Connection, *, uuid: str, kind: str, meeting_id: int, after: str, limit: int
) -> list[str]:
    """The next ``limit`` addresses, in order, after ``after``: the instance's final
    attendees and the approved registrants of its meeting or webinar.

    Each side of the union is cut to its own first ``limit`` addresses (via its e-mail
    index) before the union, so a page costs ``limit`` rows, not the whole meeting.
    """
    s, r = attendance_sessions.c, registrants.c
    attended = sa.select(s.email.label("email")).where(
        s.instance_uuid == uuid, s.source == "final", s.email > after
    )
    registered = sa.select(r.email.label("email")).where(
        r.kind == kind, r.meeting_id == meeting_id, r.status == "approved", r.email > after
    )
    parts = [
        sa.select(q.subquery().c.email).distinct().order_by("email").limit(limit).subquery()
        for q in (attended, registered)
    ]
    union = sa.union(*(sa.select(p.c.email) for p in parts)).subquery()
    stmt = sa.select(union.c.email).order_by(union.c.email).limit(limit)
    return list(conn.execute(stmt).scalars())


def sessions_of_people(
    conn: Connection, emails: Sequence[str], *, except_source: str
) -> list[SessionFact]:
    """Every session of these addresses in any instance, but those of ``except_source``;
    ordered by address, instance and join time."""
    c = attendance_sessions.c
    stmt = (
        sa.select(*_columns(c, SessionFact.__dataclass_fields__))
        .where(c.email.in_(list(emails)), c.source != except_source)
        .order_by(c.email, c.instance_uuid, c.join_time)
    )
    return [SessionFact(*row) for row in conn.execute(stmt)]


def registrations_of_people(conn: Connection, emails: Sequence[str]) -> list[RegistrationFact]:
    """Every registration of these addresses, whatever its status."""
    c = registrants.c
    stmt = sa.select(*_columns(c, RegistrationFact.__dataclass_fields__)).where(
        c.email.in_(list(emails))
    )
    return [_registration(*row) for row in conn.execute(stmt)]


def _registration(*values: Any) -> RegistrationFact:
    answers = values[-1] or {}  # stored NULL: none known, an empty mapping
    return RegistrationFact(*(*values[:-1], answers))


def instances_involved(
    conn: Connection, uuids: Iterable[str], meeting_ids: Iterable[int]
) -> list[InstanceFact]:
    """The instances with one of these uuids, or of one of these meetings or webinars."""
    c = meeting_instances.c
    wanted_uuids, wanted_ids = list(uuids), list(meeting_ids)
    if not wanted_uuids and not wanted_ids:
        return []
    columns = (c.uuid, c.kind, c.meeting_id, c.start_time, c.end_time, c.collect_state)
    stmt = sa.select(*columns, c.occurrence_id).where(
        sa.or_(c.uuid.in_(wanted_uuids), c.meeting_id.in_(wanted_ids))
    )
    return [InstanceFact(**row._asdict()) for row in conn.execute(stmt)]


def guests_without_email(conn: Connection, uuid: str) -> int:
    """People of the instance's final sessions that Zoom gave no e-mail for."""
    c = attendance_sessions.c
    stmt = sa.select(sa.func.count(sa.distinct(c.person_key))).where(
        c.instance_uuid == uuid, c.source == "final", c.email.is_(None)
    )
    return int(conn.execute(stmt).scalar_one())
