"""Delayed, retried background work (collect a meeting's attendance, process an event).

Lifecycle and lease rules are those of ``_lease``. ``unique_key`` (e.g. ``"collect:<uuid>"``)
makes ``enqueue`` idempotent: a second job with the same key is not created, whatever the
state of the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store import _lease
from zoom_brevo.store._sql import starts_with, upsert_insert
from zoom_brevo.store.notify import notify
from zoom_brevo.store.schema import jobs

DEFAULT_MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Job(_lease.Leased):
    """One job row."""

    unique_key: str | None
    run_at: datetime


def _job(row: sa.Row[Any]) -> Job:
    return Job(**row._asdict())


def enqueue(
    conn: Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    run_at: datetime | None = None,
    unique_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int | None:
    """Add a job due at ``run_at`` (default ``now``); ``None`` if ``unique_key`` exists."""
    stmt = (
        upsert_insert(conn, jobs)
        .values(
            kind=kind,
            payload=payload,
            unique_key=unique_key,
            state="queued",
            run_at=run_at or now,
            attempts=0,
            max_attempts=max_attempts,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[jobs.c.unique_key])
        .returning(jobs.c.id)
    )
    job_id = conn.execute(stmt).scalar_one_or_none()
    if job_id is not None and (run_at is None or run_at <= now):
        notify(conn)
    return job_id


def claim(
    conn: Connection,
    *,
    owner: str,
    lease_s: float,
    now: datetime,
    limit: int = 1,
    kinds: Sequence[str] | None = None,
) -> list[Job]:
    """Lease up to ``limit`` due jobs (of ``kinds``, if given) to ``owner``."""
    where = [] if kinds is None else [jobs.c.kind.in_(kinds)]
    rows = _lease.claim(
        conn, jobs, jobs.c.run_at, owner=owner, lease_s=lease_s, now=now, limit=limit, where=where
    )
    return [_job(row) for row in rows]


def complete(conn: Connection, job_id: int, *, owner: str, now: datetime) -> bool:
    """Mark the job done; ``False`` if ``owner`` no longer holds its lease."""
    return _lease.complete(conn, jobs, [job_id], owner=owner, now=now) == 1


def retry(
    conn: Connection, job_id: int, *, owner: str, at: datetime, error: str, now: datetime
) -> bool:
    """Run the job again at ``at`` (dead if out of attempts); ``False`` if not owned."""
    return (
        _lease.retry(conn, jobs, jobs.c.run_at, [job_id], owner=owner, at=at, error=error, now=now)
        == 1
    )


def bury(conn: Connection, job_id: int, *, owner: str, error: str, now: datetime) -> bool:
    """Dead-letter the job now (a fatal error); ``False`` if not owned."""
    return _lease.bury(conn, jobs, [job_id], owner=owner, error=error, now=now) == 1


def release(
    conn: Connection, job_id: int, *, owner: str, now: datetime, at: datetime | None = None
) -> bool:
    """Give the job back, due now (or ``at``), its attempt refunded (a worker stopping, a
    job that must wait for another); ``False`` if not owned."""
    due = at or now
    return _lease.release(conn, jobs, jobs.c.run_at, [job_id], owner=owner, at=due, now=now) == 1


def extend_lease(
    conn: Connection, job_id: int, *, owner: str, lease_s: float, now: datetime
) -> bool:
    """Keep a long job's lease alive; ``False`` if it was lost (stop working on it)."""
    return _lease.extend(conn, jobs, [job_id], owner=owner, lease_s=lease_s, now=now) == 1


def get(conn: Connection, job_id: int) -> Job | None:
    """The job with id ``job_id``."""
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).one_or_none()
    return None if row is None else _job(row)


def wake(conn: Connection, unique_key: str, *, now: datetime) -> bool:
    """Make the queued job with ``unique_key`` due now (it waited for something that has
    just happened); ``False`` when there is none waiting."""
    c = jobs.c
    stmt = (
        sa.update(jobs)
        .where(c.unique_key == unique_key, c.state == "queued", c.run_at > now)
        .values(run_at=now, updated_at=now)
    )
    woken = conn.execute(stmt).rowcount == 1
    if woken:
        notify(conn)
    return woken


def first_of_kind(
    conn: Connection, kind: str, states: Sequence[str] = ("queued", "running")
) -> Job | None:
    """A job of ``kind`` in one of ``states`` (the earliest due), if any."""
    c = jobs.c
    stmt = sa.select(jobs).where(c.kind == kind, c.state.in_(states)).order_by(c.run_at, c.id)
    row = conn.execute(stmt.limit(1)).first()
    return None if row is None else _job(row)


def held_by_another(conn: Connection, kind: str, job_id: int, *, now: datetime) -> bool:
    """Whether a job of ``kind`` other than ``job_id`` runs under a lease still held."""
    c = jobs.c
    stmt = sa.select(c.id).where(
        c.kind == kind, c.state == "running", c.id != job_id, c.lease_expires_at > now
    )
    return conn.execute(stmt.limit(1)).first() is not None


def settle_moot(conn: Connection, kind: str, key_prefix: str, *, now: datetime) -> int:
    """Mark done the queued jobs of ``kind`` whose ``unique_key`` starts with
    ``key_prefix``: work something else made unnecessary. A running one is left to its
    owner. The number settled."""
    stmt = sa.update(jobs).where(*_queued_with_prefix(conn, kind, key_prefix))
    return conn.execute(stmt.values(state="done", updated_at=now)).rowcount


def get_by_key(conn: Connection, unique_key: str) -> Job | None:
    """The job enqueued with ``unique_key``."""
    row = conn.execute(sa.select(jobs).where(jobs.c.unique_key == unique_key)).one_or_none()
    return None if row is None else _job(row)


def counts(conn: Connection) -> dict[str, int]:
    """Jobs per state."""
    return _lease.counts(conn, jobs)


def wake_prefixed(conn: Connection, kind: str, key_prefix: str, *, now: datetime) -> int:
    """Make due now the queued jobs of ``kind`` whose ``unique_key`` starts with
    ``key_prefix`` and that wait for a later try (what they waited for has just happened).
    The number woken."""
    stmt = sa.update(jobs).where(*_queued_with_prefix(conn, kind, key_prefix), jobs.c.run_at > now)
    woken = int(conn.execute(stmt.values(run_at=now, updated_at=now)).rowcount)
    if woken:
        notify(conn)
    return woken


def _queued_with_prefix(
    conn: Connection, kind: str, key_prefix: str
) -> list[sa.ColumnElement[bool]]:
    """Queued jobs of ``kind`` whose ``unique_key`` starts with ``key_prefix`` (compared
    in byte order, so that an index serves it: ``_sql.starts_with``)."""
    c = jobs.c
    return [
        c.kind == kind,
        c.state == "queued",
        starts_with(conn, c.unique_key, key_prefix),
    ]
