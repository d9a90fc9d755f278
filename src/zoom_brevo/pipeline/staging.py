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
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import shallow_fields, upsert_insert
from zoom_brevo.store.facts import Session
from zoom_brevo.store.schema import attendance_sessions

STAGING = "staging"
_NATURAL_KEY = ["instance_uuid", "source", "person_key", "status", "join_time"]


def clear(conn: Connection, uuid: str) -> int:
    """Drop staged rows of ``uuid`` left by an interrupted sync; return how many."""
    c = attendance_sessions.c
    stmt = sa.delete(attendance_sessions).where(c.instance_uuid == uuid, c.source == STAGING)
    return conn.execute(stmt).rowcount


def stage(conn: Connection, uuid: str, sessions: Sequence[Session], *, now: datetime) -> int:
    """Add one chunk of final-report rows to the staging area; return how many were given."""
    if not sessions:
        return 0
    rows = [_values(uuid, s, now) for s in sessions]
    insert = upsert_insert(conn, attendance_sessions)
    kept = attendance_sessions.c.leave_time
    longer = sa.case(
        (kept.is_(None), insert.excluded.leave_time),
        (insert.excluded.leave_time > kept, insert.excluded.leave_time),
        else_=kept,
    )
    stmt = insert.on_conflict_do_update(index_elements=_NATURAL_KEY, set_={"leave_time": longer})
    conn.execute(stmt, rows)
    return len(rows)


def promote(conn: Connection, uuid: str) -> int:
    """Make the staged rows the instance's final sessions; return how many there are."""
    c = attendance_sessions.c
    conn.execute(sa.delete(attendance_sessions).where(c.instance_uuid == uuid, c.source != STAGING))
    stmt = (
        sa.update(attendance_sessions)
        .where(c.instance_uuid == uuid, c.source == STAGING)
        .values(source="final")
    )
    return conn.execute(stmt).rowcount


def _values(uuid: str, session: Session, now: datetime) -> dict[str, object]:
    email = session.email.lower() if session.email else None
    values = {**shallow_fields(session), "email": email, "source": STAGING}
    return {**values, "instance_uuid": uuid, "created_at": now}
