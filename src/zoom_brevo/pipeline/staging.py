"""Final attendance written in chunks, then switched in with the derived commands.

A large meeting's participant list arrives in hundreds of pages. Holding one database
transaction open while they download would block every other writer (SQLite has one write
lock), and holding the rows in memory would grow with the meeting. So pages are written
as they come, in short transactions, as sessions with ``source = 'staging'``; the final
transaction then replaces the instance's previous sessions by the staged ones (one DELETE,
one UPDATE) and queues the commands derived from them. Readers therefore see the old
attendance or the new one together with its commands, never a half-written list.

Staged rows follow ``facts.replace_final``: rows with the same person, status and join
time collapse into the one that lasted longest. Leftovers of an interrupted sync are
cleared when the instance is collected again.

A row with no e-mail that names a registration (a webinar report's ``registrant_id``)
is staged with that id and gets the registration's e-mail at the switch-in, so the
report need not wait for the registrants to be stored. Until then its person key is kept
apart (``pending:<id>|<key>``): it must not merge with rows of the key it would have
without the e-mail, nor with the other people's rows of the e-mail it will get, before
the e-mail is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.pipeline.rows import clean_email, email_key
from zoom_brevo.store._sql import shallow_fields, upsert_insert
from zoom_brevo.store.facts import Session
from zoom_brevo.store.schema import attendance_sessions, registrants

T = TypeVar("T")
STAGING = "staging"
PENDING = "pending:"
_NATURAL_KEY = ["instance_uuid", "source", "person_key", "status", "join_time"]
_IDS_PER_READ = 500
_FIELDS = tuple(Session.__dataclass_fields__)


def clear(conn: Connection, uuid: str) -> int:
    """Drop staged rows of ``uuid`` left by an interrupted sync; return how many."""
    c = attendance_sessions.c
    stmt = sa.delete(attendance_sessions).where(c.instance_uuid == uuid, c.source == STAGING)
    return conn.execute(stmt).rowcount


def stage(
    conn: Connection,
    uuid: str,
    sessions: Sequence[Session],
    *,
    now: datetime,
    registrant_ids: Sequence[str | None] = (),
) -> int:
    """Add one chunk of final-report rows to the staging area; return how many were given.

    ``registrant_ids``: per session (same order), the registrant id whose e-mail the row
    awaits, or ``None``; empty when no row awaits one.
    """
    if not sessions:
        return 0
    awaiting = registrant_ids or [None] * len(sessions)
    _upsert(conn, [_values(uuid, s, now, r) for s, r in zip(sessions, awaiting, strict=True)])
    return len(sessions)


def promote(conn: Connection, uuid: str, *, registrations_of: tuple[str, int] | None = None) -> int:
    """Make the staged rows the instance's final sessions; return how many there are.

    ``registrations_of``: (kind, id) whose stored registrants give the e-mail of the rows
    staged with a registrant id; a row whose registration is not found keeps the key it
    would have had without the e-mail.
    """
    if registrations_of is not None:
        _resolve(conn, uuid, *registrations_of)
    c = attendance_sessions.c
    conn.execute(sa.delete(attendance_sessions).where(c.instance_uuid == uuid, c.source != STAGING))
    stmt = (
        sa.update(attendance_sessions)
        .where(c.instance_uuid == uuid, c.source == STAGING)
        .values(source="final", registrant_id=None)
    )
    return conn.execute(stmt).rowcount


def _resolve(conn: Connection, uuid: str, kind: str, meeting_id: int) -> None:
    """Re-stage the rows awaiting a registration's e-mail, with it where it is known."""
    c = attendance_sessions.c
    stmt = sa.select(c.id, c.registrant_id, c.created_at, *(c[f] for f in _FIELDS)).where(
        c.instance_uuid == uuid, c.source == STAGING, c.registrant_id.is_not(None)
    )
    pending = conn.execute(stmt).all()
    if not pending:
        return
    emails = _registration_emails(conn, kind, meeting_id, {row[1] for row in pending})
    for ids in _batches([row[0] for row in pending]):
        conn.execute(sa.delete(attendance_sessions).where(c.id.in_(ids)))
    rows = []
    for _, registrant_id, created_at, *fields in pending:
        session = Session(*fields)
        address = clean_email(emails.get(registrant_id))
        key = session.person_key.removeprefix(f"{PENDING}{registrant_id}|")
        values = shallow_fields(session) | {"person_key": email_key(address) if address else key}
        rows.append(_values(uuid, Session(**values | {"email": address}), created_at, None))
    _upsert(conn, rows)


def _registration_emails(
    conn: Connection, kind: str, meeting_id: int, registrant_ids: set[str]
) -> dict[str, str]:
    c = registrants.c
    found: dict[str, str] = {}
    for ids in _batches(sorted(registrant_ids)):
        stmt = sa.select(c.registrant_id, c.email).where(
            c.kind == kind, c.meeting_id == meeting_id, c.registrant_id.in_(ids)
        )
        found.update((row.registrant_id, row.email) for row in conn.execute(stmt))
    return found


def _batches(items: Sequence[T]) -> Iterable[Sequence[T]]:
    return (items[i : i + _IDS_PER_READ] for i in range(0, len(items), _IDS_PER_READ))


def _upsert(conn: Connection, rows: list[dict[str, object]]) -> None:
    insert = upsert_insert(conn, attendance_sessions)
    kept = attendance_sessions.c.leave_time
    longer = sa.case(
        (kept.is_(None), insert.excluded.leave_time),
        (insert.excluded.leave_time > kept, insert.excluded.leave_time),
        else_=kept,
    )
    stmt = insert.on_conflict_do_update(index_elements=_NATURAL_KEY, set_={"leave_time": longer})
    conn.execute(stmt, rows)


def _values(
    uuid: str, session: Session, now: datetime, registrant_id: str | None
) -> dict[str, object]:
    email = session.email.lower() if session.email else None
    key = f"{PENDING}{registrant_id}|{session.person_key}" if registrant_id else session.person_key
    values = {**shallow_fields(session), "email": email, "source": STAGING, "person_key": key}
    return {**values, "instance_uuid": uuid, "created_at": now, "registrant_id": registrant_id}
