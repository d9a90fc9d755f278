"""Raw webhook events, stored exactly as received before anything else happens.

A webhook is acknowledged only after ``insert``/``insert_many`` committed (ARCHITECTURE
invariant 1); the caller computes ``dedupe_key`` from the content, so Zoom's redeliveries
land on one row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

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
    attempts: int = 0  # failed tries of the handler (``count_failure``)
    retry_at: datetime | None = None  # not tried again before (``None``: at once)


def _event(row: sa.Row[Any]) -> InboxEvent:
    return InboxEvent(**row._asdict())


@dataclass(frozen=True, slots=True)
class NewInboxEvent:
    """One webhook to store: its bytes exactly as received, and the key of its content."""

    dedupe_key: str
    event_type: str
    raw_body: bytes
    headers: dict[str, Any]


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
    row = NewInboxEvent(dedupe_key, event_type, raw_body, headers)
    return insert_many(conn, [row], now=now)[0]


def insert_many(
    conn: Connection, rows: Sequence[NewInboxEvent], *, now: datetime
) -> list[int | None]:
    """Store ``rows`` with one statement (per 166 rows); their new ids in input order.

    A row gets ``None`` when its ``dedupe_key`` was stored before or appears earlier in
    ``rows`` (the first occurrence is the one stored). Workers are notified once.
    """
    firsts: dict[str, NewInboxEvent] = {}
    for row in rows:
        firsts.setdefault(row.dedupe_key, row)
    if not firsts:
        return []
    params = _binder(conn.dialect)(list(firsts.values()), now)
    ids: dict[str, int] = {}
    for start in range(0, len(params), _PAGE_ROWS):
        page = params[start : start + _PAGE_ROWS]
        flat = tuple(value for row in page for value in row)
        # RETURNING comes back in no promised order, so ids are matched by dedupe key.
        result = conn.exec_driver_sql(_insert_sql(conn.dialect.name, len(page)), flat)
        ids.update((key, event_id) for event_id, key in result)
    if ids:
        notify(conn)
    return [ids.pop(row.dedupe_key, None) for row in rows]


# The group commit's multi-row INSERT is written as SQL text with the columns' own bind
# processors applied once per value: SQLAlchemy's compiled executemany ("insertmanyvalues")
# rendered and processed every parameter, nearly twice the CPU of this on SQLite
# (docs/benchmarks.md, "Open-loop intake (issue 19)").
_COLUMNS = ("received_at", "dedupe_key", "event_type", "raw_body", "headers", "status")
# Rows per statement: under SQLite's bound-parameter limit (999 before 3.32, 32,766 after)
# and PostgreSQL's 65,535; the group commit writes at most a few hundred rows at a time.
_PAGE_ROWS = 999 // len(_COLUMNS)

Binder = Callable[[list[NewInboxEvent], datetime], list[tuple[Any, ...]]]


@functools.lru_cache(maxsize=16)  # one per engine; bounded for processes making many
def _binder(dialect: Dialect) -> Binder:
    """Rows' parameters as the dialect's driver takes them (SQLAlchemy's bind processors)."""
    c = inbox.c
    when, body, headers = (
        column.type.dialect_impl(dialect).bind_processor(dialect) or _same
        for column in (c.received_at, c.raw_body, c.headers)
    )

    def bind(rows: list[NewInboxEvent], now: datetime) -> list[tuple[Any, ...]]:
        received_at = when(now)
        return [
            (received_at, row.dedupe_key, row.event_type, body(row.raw_body),
             headers(row.headers), "pending")
            for row in rows
        ]  # fmt: skip

    return bind


def _same(value: Any) -> Any:
    return value


@functools.cache
def _insert_sql(dialect: str, rows: int) -> str:
    """``INSERT ... VALUES (...) x rows ON CONFLICT DO NOTHING RETURNING id, dedupe_key``."""
    mark = "?" if dialect == "sqlite" else "%s"
    values = "(" + ", ".join([mark] * len(_COLUMNS)) + ")"
    columns = ", ".join(_COLUMNS)
    # Constant column names and placeholders only: no value is ever part of the text.
    return (
        f"INSERT INTO inbox ({columns}) VALUES {', '.join([values] * rows)}"  # noqa: S608
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key"
    )


def get(conn: Connection, event_id: int) -> InboxEvent | None:
    """The event with id ``event_id``."""
    row = conn.execute(sa.select(inbox).where(inbox.c.id == event_id)).one_or_none()
    return None if row is None else _event(row)


def pending(
    conn: Connection, *, limit: int = 100, after_id: int = 0, now: datetime | None = None
) -> list[InboxEvent]:
    """Events not processed yet, oldest first (``after_id`` pages through them); with
    ``now``, only those due (a failed try's ``retry_at`` passed)."""
    c = inbox.c
    where = [c.status == "pending", c.id > after_id]
    if now is not None:
        where.append(_due(now))
    stmt = sa.select(inbox).where(*where).order_by(c.id).limit(limit)
    return [_event(row) for row in conn.execute(stmt)]


def _due(now: datetime) -> sa.ColumnElement[bool]:
    """Not waiting for a failed try's ``retry_at``."""
    return sa.or_(inbox.c.retry_at.is_(None), inbox.c.retry_at <= now)


def count_failure(conn: Connection, event_id: int) -> int | None:
    """Count one failed try of a pending event; its failed tries so far, all processes and
    restarts included (``None``: the event is no longer pending)."""
    c = inbox.c
    stmt = (
        sa.update(inbox)
        .where(c.id == event_id, c.status == "pending")
        .values(attempts=c.attempts + 1)
        .returning(c.attempts)
    )
    found = conn.execute(stmt).scalar_one_or_none()
    return None if found is None else int(found)


def retry_later(conn: Connection, event_id: int, *, at: datetime) -> None:
    """Leave a pending event to be tried again from ``at``."""
    c = inbox.c
    conn.execute(
        sa.update(inbox).where(c.id == event_id, c.status == "pending").values(retry_at=at)
    )


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


def take(conn: Connection, event_id: int, *, now: datetime) -> bool:
    """Claim a pending event by marking it processed; ``False`` if another worker has it.

    Workers read the same oldest pending rows; a row another worker is handling right now
    is skipped at once (``SKIP LOCKED`` on PostgreSQL) rather than waited for, so that
    several workers handle different rows side by side instead of queueing on one.
    """
    c = inbox.c
    still_pending = (
        sa.select(c.id)
        .where(c.id == event_id, c.status == "pending")
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        sa.update(inbox)
        .where(c.id == still_pending)
        .values(status="processed", processed_at=now, error=None)
    )
    return conn.execute(stmt).rowcount == 1


def take_group(
    conn: Connection, *, limit: int, now: datetime, after_id: int = 0
) -> list[InboxEvent]:
    """Claim up to ``limit`` pending, due events after ``after_id``, oldest first, in one
    statement.

    Each is marked processed in the caller's transaction, so a rollback hands them all
    back. Rows another worker's transaction holds are skipped (``SKIP LOCKED`` on
    PostgreSQL; SQLite has one writer at a time), so workers side by side claim different
    rows instead of each trying, and mostly failing, to take the same oldest ones.
    """
    c = inbox.c
    oldest = (
        sa.select(c.id)
        .where(c.status == "pending", c.id > after_id, _due(now))
        .order_by(c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        sa.update(inbox)
        .where(c.id.in_(oldest.scalar_subquery()))
        .values(status="processed", processed_at=now, error=None)
        .returning(*c)
    )
    return sorted((_event(row) for row in conn.execute(stmt)), key=lambda e: e.id)


def fail_pending(conn: Connection, event_id: int, error: str, *, now: datetime) -> bool:
    """Mark the event ``failed`` with ``error`` if it is still pending; ``True`` if it was."""
    c = inbox.c
    stmt = (
        sa.update(inbox)
        .where(c.id == event_id, c.status == "pending")
        .values(status="failed", processed_at=now, error=error)
    )
    return conn.execute(stmt).rowcount == 1


def tombstone_all(conn: Connection, error: str, *, now: datetime) -> int:
    """Empty every event's body and headers, keeping its dedupe key; how many changed.

    Each gets ``error``; unprocessed events become ``ignored``. Events already carrying
    ``error`` are left alone, so a second run changes nothing.
    """
    c = inbox.c
    done = c.status.in_(("processed", "ignored"))
    stmt = (
        sa.update(inbox)
        .where(sa.or_(c.error.is_(None), c.error != error))
        .values(
            raw_body=b"",
            headers={},
            error=error,
            status=sa.case((done, c.status), else_="ignored"),
            processed_at=sa.func.coalesce(c.processed_at, sa.literal(now, c.processed_at.type)),
        )
    )
    return int(conn.execute(stmt).rowcount)


def counts(conn: Connection) -> dict[str, int]:
    """Number of events per status."""
    stmt = sa.select(inbox.c.status, sa.func.count()).group_by(inbox.c.status)
    return {str(row[0]): int(row[1]) for row in conn.execute(stmt)}


UNHANDLED = "no handler for this event type"


@dataclass(frozen=True, slots=True)
class NotProcessed:
    """Webhooks that were received but not processed, grouped by why."""

    status: Status
    event_type: str
    reason: str
    count: int
    last_received_at: datetime


def not_processed(conn: Connection) -> list[NotProcessed]:
    """Received webhooks that were ignored or failed, by status, event type and reason.

    Nothing received disappears silently: ``status`` lists these with their reason (an
    event type without a handler, a payload that cannot be read, an erasure...).
    """
    c = inbox.c
    stmt = (
        sa.select(c.status, c.event_type, c.error, sa.func.count(), sa.func.max(c.received_at))
        .where(c.status.in_(("ignored", "failed")))
        .group_by(c.status, c.event_type, c.error)
        .order_by(sa.func.max(c.received_at).desc())
    )
    return [
        NotProcessed(row[0], row[1], row[2] or UNHANDLED, int(row[3]), row[4])
        for row in conn.execute(stmt)
    ]
