"""Raw webhook events, stored exactly as received before anything else happens.

A webhook is acknowledged only after ``insert`` committed (ARCHITECTURE invariant 1); the
caller computes ``dedupe_key`` from the content, so Zoom's redeliveries land on one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.notify import notify
from zoom_brevo.store.schema import inbox

Status = Literal["pending", "processed", "ignored", "failed"]


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """One stored webhook."""

    id: int
    received_at: datetime
    dedupe_key: str
    event_type: str
    raw_body: bytes
    headers: dict[str, Any]
    status: Status
    processed_at: datetime | None
    error: str | None


def _event(row: sa.Row[Any]) -> InboxEvent:
    return InboxEvent(**row._asdict())


def insert(
    conn: Connection,
    *,
    dedupe_key: str,
    event_type: str,
    raw_body: bytes,
    headers: dict[str, Any],
    now: datetime,
) -> int | None:
    """Store one event; return its new id, or ``None`` if ``dedupe_key`` was already stored."""
    stmt = (
        upsert_insert(conn, inbox)
        .values(
            received_at=now,
            dedupe_key=dedupe_key,
            event_type=event_type,
            raw_body=raw_body,
            headers=headers,
            status="pending",
        )
        .on_conflict_do_nothing(index_elements=[inbox.c.dedupe_key])
        .returning(inbox.c.id)
    )
    event_id = conn.execute(stmt).scalar_one_or_none()
    if event_id is not None:
        notify(conn)
    return event_id


def get(conn: Connection, event_id: int) -> InboxEvent | None:
    """The event with id ``event_id``."""
    row = conn.execute(sa.select(inbox).where(inbox.c.id == event_id)).one_or_none()
    return None if row is None else _event(row)


def pending(conn: Connection, *, limit: int = 100, after_id: int = 0) -> list[InboxEvent]:
    """Events not processed yet, oldest first (``after_id`` pages through them)."""
    stmt = (
        sa.select(inbox)
        .where(inbox.c.status == "pending", inbox.c.id > after_id)
        .order_by(inbox.c.id)
        .limit(limit)
    )
    return [_event(row) for row in conn.execute(stmt)]


def mark(
    conn: Connection,
    event_id: int,
    status: Status,
    *,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record the outcome of processing one event."""
    conn.execute(
        sa.update(inbox)
        .where(inbox.c.id == event_id)
        .values(status=status, processed_at=None if status == "pending" else now, error=error)
    )


def counts(conn: Connection) -> dict[str, int]:
    """Number of events per status."""
    stmt = sa.select(inbox.c.status, sa.func.count()).group_by(inbox.c.status)
    return {str(row[0]): int(row[1]) for row in conn.execute(stmt)}
