"""What we know from Zoom: meeting instances, attendance sessions, registrants, people,
recordings, and the contacts Brevo refused on import.

Writers merge: a value missing from a new observation (``None``) never erases a known one,
because webhooks and reports each carry only part of the picture. E-mail addresses are
stored lower-cased. Sessions reference their instance: ``upsert_instance`` first.

An instance's span (``start_time``, ``end_time``) is a fact with a source, and sources
differ in strength (``spans.SPAN_SOURCES``, weakest first): ``live`` (the instance as a
participant webhook echoes it), ``event`` (``*.started`` / ``*.ended``: the times Zoom
reports as they happen), ``report`` (the past-meeting details or webinar details report,
final). An observation of a weaker source never overwrites a span a stronger one
established; it may only fill in an end or a start still unknown. A span whose end
precedes its start is refused, whether it came in one observation or from a merge. A
schedule (start plus scheduled duration) is never a span.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from zoom_brevo.store import spans
from zoom_brevo.store._sql import shallow_fields, upsert_insert
from zoom_brevo.store.schema import (
    attendance_sessions,
    import_rejections,
    ledger,
    meeting_instances,
    people,
    recordings,
    registrants,
)
from zoom_brevo.store.spans import SpanSource

Kind = Literal["meeting", "webinar"]
CollectState = Literal["pending", "provisional", "collected", "reconciled"]
SessionStatus = Literal["in_meeting", "in_waiting_room"]
Source = Literal["provisional", "final"]


def _merge_set(insert: Any, table: Table, columns: Iterable[str]) -> dict[str, Any]:
    """``SET col = COALESCE(new, old)`` for an upsert."""
    return {name: sa.func.coalesce(insert.excluded[name], table.c[name]) for name in columns}


# -- meeting instances ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instance:
    """One occurrence of a meeting or webinar, keyed by Zoom's instance uuid."""

    uuid: str
    meeting_id: int
    kind: Kind
    topic: str | None = None
    host_id: str | None = None
    host_email: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    account_id: str | None = None
    details: dict[str, Any] | None = None
    collect_state: CollectState = "pending"
    collected_at: datetime | None = None
    span_source: SpanSource | None = None
    occurrence_id: str | None = None  # of a recurring meeting or webinar (Zoom's id)

    @property
    def span_is_valid(self) -> bool:
        """False when both ends are known and the end precedes the start."""
        return spans.is_valid(self.start_time, self.end_time)


def upsert_instance(conn: Connection, instance: Instance, *, now: datetime) -> bool:
    """Insert or merge an instance; its collection state is only changed by ``set_collected``.

    The span follows the rule of the module docstring (``store.spans.merge``). Returns
    ``False`` when the observation's own span was refused (its end precedes its start); the
    rest of it is still merged. Most observations (every participant webhook echoes its
    instance) change nothing: they cost one read, without a lock, so that workers handling
    webhooks of one meeting do not queue on its row. A change is merged into the row read
    again under a row lock (``BEGIN IMMEDIATE`` on SQLite) and written.
    """
    valid = instance.span_is_valid
    if not valid:
        instance = replace(instance, start_time=None, end_time=None, span_source=None)
    seen = _read_instance(conn, instance.uuid)
    if seen is not None and spans.merge(seen, instance) == seen:
        return valid  # nothing new: no write, no lock (as if merged before a later change)
    old = _read_instance(conn, instance.uuid, lock=True)
    if old is None and _insert_instance(conn, instance, now):
        return valid
    old = old or _read_instance(conn, instance.uuid, lock=True)  # inserted by another
    assert old is not None
    merged = spans.merge(old, instance)
    changed = {k: v for k, v in asdict(merged).items() if getattr(old, k) != v}
    if changed:
        c = meeting_instances.c
        stmt = sa.update(meeting_instances).where(c.uuid == old.uuid)
        conn.execute(stmt.values(**changed, updated_at=now))
    return valid


_INSTANCE_COLUMNS = tuple(meeting_instances.c[f] for f in Instance.__dataclass_fields__)


def _read_instance(conn: Connection, uuid: str, *, lock: bool = False) -> Instance | None:
    stmt = sa.select(*_INSTANCE_COLUMNS).where(meeting_instances.c.uuid == uuid)
    row = conn.execute(stmt.with_for_update() if lock else stmt).one_or_none()
    return None if row is None else Instance(**row._asdict())


def _insert_instance(conn: Connection, instance: Instance, now: datetime) -> bool:
    """Insert ``instance``; ``False`` when a row with its uuid exists already."""
    values = {**asdict(instance), "created_at": now, "updated_at": now}
    stmt = (
        upsert_insert(conn, meeting_instances)
        .values(values)
        .on_conflict_do_nothing(index_elements=[meeting_instances.c.uuid])
        .returning(meeting_instances.c.uuid)
    )
    return conn.execute(stmt).scalar_one_or_none() is not None


def get_instance(conn: Connection, uuid: str) -> Instance | None:
    """The instance ``uuid``."""
    stmt = sa.select(*(meeting_instances.c[f] for f in Instance.__dataclass_fields__))
    row = conn.execute(stmt.where(meeting_instances.c.uuid == uuid)).one_or_none()
    return None if row is None else Instance(**row._asdict())


def list_instances(
    conn: Connection, *, meeting_id: int | None = None, since: datetime | None = None
) -> list[Instance]:
    """Instances, oldest start first, optionally of one meeting or starting at/after ``since``."""
    c = meeting_instances.c
    stmt = sa.select(*(c[f] for f in Instance.__dataclass_fields__)).order_by(c.start_time, c.uuid)
    if meeting_id is not None:
        stmt = stmt.where(c.meeting_id == meeting_id)
    if since is not None:
        stmt = stmt.where(c.start_time >= since)
    return [Instance(**row._asdict()) for row in conn.execute(stmt)]


def set_collected(conn: Connection, uuid: str, state: CollectState, *, now: datetime) -> bool:
    """Record how far attendance collection got; ``False`` if the instance is unknown."""
    stmt = (
        sa.update(meeting_instances)
        .where(meeting_instances.c.uuid == uuid)
        .values(collect_state=state, collected_at=now, updated_at=now)
    )
    return conn.execute(stmt).rowcount == 1


# -- attendance sessions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    """One join..leave interval of one person (Zoom reports one row per join)."""

    person_key: str
    join_time: datetime
    leave_time: datetime | None = None
    email: str | None = None
    name: str | None = None
    status: SessionStatus = "in_meeting"
    source: Source = "provisional"


def _session_values(uuid: str, session: Session, now: datetime) -> dict[str, Any]:
    email = session.email.lower() if session.email else None
    return {**asdict(session), "email": email, "instance_uuid": uuid, "created_at": now}


def record_join(conn: Connection, uuid: str, session: Session, *, now: datetime) -> bool:
    """Store a provisional session from a live join webhook; ``False`` for a redelivery."""
    provisional = Session(**{**asdict(session), "source": "provisional"})
    stmt = (
        upsert_insert(conn, attendance_sessions)
        .values(_session_values(uuid, provisional, now))
        .on_conflict_do_nothing(
            index_elements=["instance_uuid", "source", "person_key", "status", "join_time"]
        )
        .returning(attendance_sessions.c.id)
    )
    return conn.execute(stmt).scalar_one_or_none() is not None


def record_leave(
    conn: Connection,
    uuid: str,
    person_key: str,
    leave_time: datetime,
    *,
    status: SessionStatus = "in_meeting",
) -> bool:
    """Close the person's latest provisional session that began by ``leave_time``.

    Webhooks arrive out of order, so the session is chosen by time, not arrival. ``False``
    when no session matches (the leave came before its join; the final report fixes it).
    """
    c = attendance_sessions.c
    latest = (
        sa.select(c.id)
        .where(
            c.instance_uuid == uuid,
            c.source == "provisional",
            c.person_key == person_key,
            c.status == status,
            c.join_time <= leave_time,
        )
        .order_by(c.join_time.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = sa.update(attendance_sessions).where(c.id == latest).values(leave_time=leave_time)
    return conn.execute(stmt).rowcount == 1


def replace_final(
    conn: Connection, uuid: str, sessions: Iterable[Session], *, now: datetime
) -> int:
    """Replace every session of the instance by the final report's rows; return how many.

    Run it in one transaction with whatever reads the result: readers see either the old
    rows or the new ones. Identical rows (same person, status and join time) collapse into
    the one that lasted longest.
    """
    unique: dict[tuple[str, str, datetime], Session] = {}
    for session in sessions:
        key = (session.person_key, session.status, session.join_time)
        kept = unique.get(key)
        if kept is None or _later(session.leave_time, kept.leave_time):
            unique[key] = session
    c = attendance_sessions.c
    conn.execute(sa.delete(attendance_sessions).where(c.instance_uuid == uuid))
    rows = [
        _session_values(uuid, Session(**{**asdict(s), "source": "final"}), now)
        for s in unique.values()
    ]
    if rows:
        conn.execute(sa.insert(attendance_sessions), rows)
    return len(rows)


def _later(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and (b is None or a > b)


def sessions(conn: Connection, uuid: str) -> list[Session]:
    """The instance's sessions: the final ones once collected, else the provisional ones."""
    c = attendance_sessions.c
    stmt = (
        sa.select(*(c[f] for f in Session.__dataclass_fields__))
        .where(c.instance_uuid == uuid)
        .order_by(c.join_time, c.person_key)
    )
    rows = [Session(**row._asdict()) for row in conn.execute(stmt)]
    final = [s for s in rows if s.source == "final"]
    return final or rows


def sessions_of(conn: Connection, email: str) -> dict[str, list[Session]]:
    """A person's sessions in every instance (final where collected), by instance uuid."""
    c = attendance_sessions.c
    fields = [c[f] for f in Session.__dataclass_fields__]
    stmt = sa.select(c.instance_uuid, *fields).where(c.email == email.lower())
    found: dict[str, list[Session]] = {}
    for row in conn.execute(stmt.order_by(c.join_time)):
        values = row._asdict()
        found.setdefault(values.pop("instance_uuid"), []).append(Session(**values))
    return {uuid: [s for s in rows if s.source == "final"] or rows for uuid, rows in found.items()}


# -- registrants ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registrant:
    """A registration to a meeting or webinar (``status``: approved|pending|denied|cancelled)."""

    kind: Kind
    meeting_id: int
    email: str
    status: str
    registrant_id: str | None = None
    occurrence_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    join_url: str | None = None
    tracking_source: str | None = None
    registered_at: datetime | None = None
    answers: Mapping[str, str] | None = None  # zoom.registration_form keys -> answer


_REGISTRANT_MERGED = (
    "registrant_id",
    "occurrence_id",
    "first_name",
    "last_name",
    "join_url",
    "tracking_source",
    "answers",
)


def upsert_registrant(conn: Connection, registrant: Registrant, *, now: datetime) -> None:
    """Insert or merge a registration; the newest ``status`` wins, the first
    ``registered_at`` stays."""
    upsert_registrants(conn, [registrant], now=now)


def upsert_registrants(conn: Connection, found: Sequence[Registrant], *, now: datetime) -> None:
    """:func:`upsert_registrant` for many, in order: one statement, executed per row.

    Building and compiling the statement once per batch instead of once per row is what
    keeps a 200,000-registrant webinar from spending minutes in SQLAlchemy.
    """
    if not found:
        return
    insert = upsert_insert(conn, registrants)
    merged = _merge_set(insert, registrants, _REGISTRANT_MERGED)
    stmt = insert.on_conflict_do_update(
        index_elements=["kind", "meeting_id", "email"],
        set_={
            **merged,
            "registered_at": sa.func.coalesce(
                registrants.c.registered_at, insert.excluded.registered_at
            ),
            "status": insert.excluded.status,
            "updated_at": insert.excluded.updated_at,
        },
    )
    stamps = {"created_at": now, "updated_at": now}
    rows = [{**shallow_fields(r), "email": r.email.lower(), **stamps} for r in found]
    conn.execute(stmt, rows)


def add_tracking_source(
    conn: Connection,
    kind: Kind,
    meeting_id: int,
    emails: Sequence[str],
    source: str,
    *,
    now: datetime,
) -> set[str]:
    """Give the stored registrations of ``emails`` the tracking ``source`` (one UPDATE for
    the batch, no row-by-row upsert of what is stored already); return the e-mails
    (lower-cased) not stored, whose registrations the caller upserts in full.
    """
    wanted = {email.lower() for email in emails}
    if not wanted:
        return set()
    c = registrants.c
    same = (c.kind == kind, c.meeting_id == meeting_id, c.email.in_(sorted(wanted)))
    update = sa.update(registrants).where(*same).values(tracking_source=source, updated_at=now)
    if conn.execute(update).rowcount == len(wanted):
        return set()
    return wanted - set(conn.execute(sa.select(c.email).where(*same)).scalars())


def registrant_answers(
    conn: Connection, kind: Kind, meeting_id: int, email: str
) -> Mapping[str, str] | None:
    """The registration form's answers stored for one registration (``None``: none known)."""
    c = registrants.c
    stmt = sa.select(c.answers).where(
        c.kind == kind, c.meeting_id == meeting_id, c.email == email.lower()
    )
    found = conn.execute(stmt).scalar_one_or_none()
    return found if isinstance(found, dict) else None


def registrations_of(conn: Connection, email: str) -> list[Registrant]:
    """Every registration of one person (any meeting or webinar, any status)."""
    c = registrants.c
    stmt = (
        sa.select(*(c[f] for f in Registrant.__dataclass_fields__))
        .where(c.email == email.lower())
        .order_by(c.kind, c.meeting_id)
    )
    return [Registrant(**row._asdict()) for row in conn.execute(stmt)]


def list_registrants(
    conn: Connection, kind: Kind, meeting_id: int, *, status: str | None = None
) -> list[Registrant]:
    """Registrants of one meeting or webinar, by e-mail."""
    c = registrants.c
    stmt = (
        sa.select(*(c[f] for f in Registrant.__dataclass_fields__))
        .where(c.kind == kind, c.meeting_id == meeting_id)
        .order_by(c.email)
    )
    if status is not None:
        stmt = stmt.where(c.status == status)
    return [Registrant(**row._asdict()) for row in conn.execute(stmt)]


# -- people -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """Someone we met, with engagement aggregates over all meetings."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    meetings_attended: int = 0
    total_minutes: float = 0.0
    last_attended: datetime | None = None
    score: float = 0.0


def upsert_person(
    conn: Connection,
    email: str,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    now: datetime,
) -> None:
    """Make sure the person exists; known names are kept unless new ones are given."""
    person = asdict(Person(email.lower(), first_name, last_name))
    insert = upsert_insert(conn, people).values({**person, "created_at": now, "updated_at": now})
    merged = _merge_set(insert, people, ("first_name", "last_name"))
    stmt = insert.on_conflict_do_update(
        index_elements=["email"], set_={**merged, "updated_at": now}
    )
    conn.execute(stmt)


def set_engagement(
    conn: Connection,
    email: str,
    *,
    meetings_attended: int,
    total_minutes: float,
    last_attended: datetime | None,
    score: float,
    now: datetime,
) -> None:
    """Store the person's recomputed aggregates (creating the person if needed)."""
    aggregates = {
        "meetings_attended": meetings_attended,
        "total_minutes": total_minutes,
        "last_attended": last_attended,
        "score": score,
    }
    insert = upsert_insert(conn, people).values(
        email=email.lower(), **aggregates, created_at=now, updated_at=now
    )
    stmt = insert.on_conflict_do_update(
        index_elements=["email"], set_={**aggregates, "updated_at": now}
    )
    conn.execute(stmt)


def get_person(conn: Connection, email: str) -> Person | None:
    """The person with this e-mail address."""
    stmt = sa.select(*(people.c[f] for f in Person.__dataclass_fields__))
    row = conn.execute(stmt.where(people.c.email == email.lower())).one_or_none()
    return None if row is None else Person(**row._asdict())


def list_people(conn: Connection, *, limit: int = 1000, after_email: str = "") -> list[Person]:
    """People by e-mail, ``limit`` at a time (page with ``after_email``)."""
    stmt = (
        sa.select(*(people.c[f] for f in Person.__dataclass_fields__))
        .where(people.c.email > after_email)
        .order_by(people.c.email)
        .limit(limit)
    )
    return [Person(**row._asdict()) for row in conn.execute(stmt)]


def forget_person(conn: Connection, email: str) -> int:
    """Erase what is stored about ``email`` (right to erasure); return rows deleted."""
    address = email.lower()
    statements = [
        sa.delete(people).where(people.c.email == address),
        sa.delete(attendance_sessions).where(attendance_sessions.c.email == address),
        sa.delete(registrants).where(registrants.c.email == address),
        sa.delete(import_rejections).where(import_rejections.c.email == address),
        sa.delete(ledger).where(ledger.c.key.endswith(f":{address}", autoescape=True)),
    ]
    return sum(conn.execute(stmt).rowcount for stmt in statements)


# -- recordings -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recording:
    """The cloud recording of one instance (``files``: Zoom's recording_files entries)."""

    instance_uuid: str
    meeting_id: int
    completed_at: datetime
    files: list[dict[str, Any]]
    topic: str | None = None
    share_url: str | None = None
    passcode: str | None = None


def upsert_recording(conn: Connection, recording: Recording, *, now: datetime) -> None:
    """Insert or replace the recording (Zoom may send ``recording.completed`` twice)."""
    insert = upsert_insert(conn, recordings).values({**asdict(recording), "updated_at": now})
    merged = _merge_set(insert, recordings, ("topic", "share_url", "passcode"))
    stmt = insert.on_conflict_do_update(
        index_elements=["instance_uuid"],
        set_={**merged, "files": insert.excluded.files, "updated_at": now},
    )
    conn.execute(stmt)


def get_recording(conn: Connection, uuid: str) -> Recording | None:
    """The recording of instance ``uuid``."""
    stmt = sa.select(*(recordings.c[f] for f in Recording.__dataclass_fields__))
    row = conn.execute(stmt.where(recordings.c.instance_uuid == uuid)).one_or_none()
    return None if row is None else Recording(**row._asdict())


# -- import rejections ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rejection:
    """A contact Brevo refused in import process ``process_id``."""

    process_id: int
    email: str
    reason: str


def add_rejections(conn: Connection, rejections: Sequence[Rejection], *, now: datetime) -> int:
    """Store the rejected rows of an import report; return how many."""
    rows = [{**asdict(r), "email": r.email.lower(), "created_at": now} for r in rejections]
    if rows:
        conn.execute(sa.insert(import_rejections), rows)
    return len(rows)


def list_rejections(conn: Connection, *, process_id: int | None = None) -> list[Rejection]:
    """Stored rejections, oldest first, optionally of one import."""
    c = import_rejections.c
    stmt = sa.select(c.process_id, c.email, c.reason).order_by(c.id)
    if process_id is not None:
        stmt = stmt.where(c.process_id == process_id)
    return [Rejection(*row) for row in conn.execute(stmt)]
