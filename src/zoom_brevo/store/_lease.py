"""Claims with a lease, shared by the job queue and the outbox.

A row is ``queued`` until due, then ``running`` under a lease held by one owner, then
``done`` or ``dead``. A claim never deletes: a worker that dies leaves a ``running`` row
whose lease expires, and the next claim takes it again. The attempt counter grows at claim
time, so a job that kills its worker still runs out of attempts; a row whose final attempt
lost its lease goes ``dead`` instead of being claimed once more.

On PostgreSQL the candidate rows are picked with ``FOR UPDATE SKIP LOCKED`` inside the
UPDATE, so concurrent claimers take disjoint rows. On SQLite the same statement runs inside
``BEGIN IMMEDIATE`` (see ``engine``), which serializes claimers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from zoom_brevo import retrying
from zoom_brevo.store._sql import is_postgres

State = Literal["queued", "running", "done", "dead"]
STATES: tuple[State, ...] = ("queued", "running", "done", "dead")
LOST_LEASE_ERROR = "lease expired during the final attempt (worker stopped?)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Leased:
    """The columns every leased row has (``schema._lease_columns`` and the row's clock)."""

    id: int
    kind: str
    payload: dict[str, Any]
    state: State
    attempts: int
    max_attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


def claimable(table: Table, due: sa.Column[Any], now: datetime) -> sa.ColumnElement[bool]:
    """Rows a claim may take at ``now``: due and queued, or running with an expired lease.

    ``attempts < max_attempts`` is ``retrying.exhausted`` said in SQL: a claim picks its rows
    in one statement (``SKIP LOCKED``), so the rule cannot be asked row by row here.
    """
    return sa.or_(*_claimable_branches(table, due, now))


def _claimable_branches(
    table: Table, due: sa.Column[Any], now: datetime
) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    c = table.c
    untried = c.attempts < c.max_attempts
    return (
        sa.and_(untried, c.state == "queued", due <= now),
        sa.and_(untried, c.state == "running", c.lease_expires_at <= now),
    )


def _candidates(
    conn: Connection,
    table: Table,
    due: sa.Column[Any],
    *,
    now: datetime,
    limit: int,
    where: Iterable[sa.ColumnElement[bool]],
) -> sa.Select[Any]:
    """The ids of the ``limit`` claimable rows first by ``(due, id)``.

    On SQLite, one ordered and limited read per branch of ``claimable``, then the first of
    both: given the ``OR`` whole, SQLite collects every claimable row and sorts them for
    each claim, which made the claims of a 200,000-contact sync grow with the outbox
    (0.2 s a page; docs/benchmarks.md, "CPU per contact"). Each branch reads the
    ``(state, next_attempt_at)`` index in order (its entries end with the id) and stops.
    PostgreSQL keeps the one statement, which ``FOR UPDATE SKIP LOCKED`` needs.
    """
    c = table.c
    conditions = list(where)
    if is_postgres(conn):
        return (
            sa.select(c.id)
            .where(claimable(table, due, now), *conditions)
            .order_by(due, c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    firsts = [
        sa.select(c.id, due.label("due"))
        .where(branch, *conditions)
        .order_by(due, c.id)
        .limit(limit)
        .subquery()
        for branch in _claimable_branches(table, due, now)
    ]
    both = sa.union_all(*(sa.select(f.c.id, f.c.due) for f in firsts)).subquery()
    return sa.select(both.c.id).order_by(both.c.due, both.c.id).limit(limit)


def bury_lost_leases(conn: Connection, table: Table, now: datetime) -> int:
    """Mark dead the rows whose final attempt's lease expired; return how many."""
    c = table.c
    stmt = (
        sa.update(table)
        .where(c.state == "running", c.lease_expires_at <= now, c.attempts >= c.max_attempts)
        .values(
            state="dead",
            lease_owner=None,
            lease_expires_at=None,
            last_error=LOST_LEASE_ERROR,
            updated_at=now,
        )
    )
    return conn.execute(stmt).rowcount


def claim(
    conn: Connection,
    table: Table,
    due: sa.Column[Any],
    *,
    owner: str,
    lease_s: float,
    now: datetime,
    limit: int,
    where: Iterable[sa.ColumnElement[bool]] = (),
) -> Sequence[sa.Row[Any]]:
    """Lease up to ``limit`` claimable rows to ``owner``; return them ordered by id."""
    bury_lost_leases(conn, table, now)
    c = table.c
    candidates = _candidates(conn, table, due, now=now, limit=limit, where=where)
    stmt = (
        sa.update(table)
        .where(c.id.in_(candidates))
        .values(
            state="running",
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=c.attempts + 1,
            updated_at=now,
        )
        .returning(*c)
    )
    return sorted(conn.execute(stmt).all(), key=lambda row: row.id)


def _owned(table: Table, ids: Sequence[int], owner: str) -> sa.ColumnElement[bool]:
    c = table.c
    return sa.and_(c.id.in_(ids), c.state == "running", c.lease_owner == owner)


def _set_owned(
    conn: Connection, table: Table, ids: Sequence[int], owner: str, values: dict[str, Any]
) -> int:
    """Set ``values`` on the rows of ``ids`` that ``owner`` still holds; return how many."""
    return conn.execute(sa.update(table).where(_owned(table, ids, owner)).values(values)).rowcount


def _released(now: datetime, **values: Any) -> dict[str, Any]:
    return {"lease_owner": None, "lease_expires_at": None, "updated_at": now, **values}


def complete(
    conn: Connection, table: Table, ids: Sequence[int], *, owner: str, now: datetime, **extra: Any
) -> int:
    """Mark ``owner``'s rows done (and set ``extra`` columns); return how many were owned."""
    return _set_owned(conn, table, ids, owner, _released(now, state="done", **extra))


def retry(
    conn: Connection,
    table: Table,
    due: sa.Column[Any],
    ids: Sequence[int],
    *,
    owner: str,
    at: datetime,
    error: str,
    now: datetime,
    **extra: Any,
) -> int:
    """Queue ``owner``'s rows again at ``at``, or bury those out of attempts (and set
    ``extra`` columns); return count.

    Out of attempts is ``retrying.exhausted``, the rule the callers decided with: the rows'
    counts are read under a row lock (``FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``) and the
    two updates run in the caller's transaction, so no claim slips in between.
    """
    c = table.c
    held = sa.select(c.id, c.attempts, c.max_attempts).where(_owned(table, ids, owner))
    rows = conn.execute(held.with_for_update()).all()
    spent = [r.id for r in rows if retrying.exhausted(r.attempts, r.max_attempts)]
    again = [r.id for r in rows if r.id not in spent]
    count = bury(conn, table, spent, owner=owner, error=error, now=now, **extra) if spent else 0
    if again:
        values = _released(now, state="queued", last_error=error, **{due.name: at}, **extra)
        count += _set_owned(conn, table, again, owner, values)
    return count


def bury(
    conn: Connection,
    table: Table,
    ids: Sequence[int],
    *,
    owner: str,
    error: str,
    now: datetime,
    **extra: Any,
) -> int:
    """Mark ``owner``'s rows dead at once (retrying cannot help); return count."""
    values = _released(now, state="dead", last_error=error, **extra)
    return _set_owned(conn, table, ids, owner, values)


def release(
    conn: Connection,
    table: Table,
    due: sa.Column[Any],
    ids: Sequence[int],
    *,
    owner: str,
    at: datetime,
    now: datetime,
) -> int:
    """Give ``owner``'s rows back, due at ``at``, refunding the claim's attempt; return count.

    For work that was not tried (credentials refused, a prerequisite still pending): the
    attempt the claim counted is returned so that waiting never exhausts a row.
    """
    c = table.c
    refunded = sa.case((c.attempts > 0, c.attempts - 1), else_=0)
    values = _released(now, state="queued", attempts=refunded, **{due.name: at})
    return _set_owned(conn, table, ids, owner, values)


def extend(
    conn: Connection, table: Table, ids: Sequence[int], *, owner: str, lease_s: float, now: datetime
) -> int:
    """Push the lease of ``owner``'s rows to ``now + lease_s``; return how many are still owned."""
    values = {"lease_expires_at": now + timedelta(seconds=lease_s), "updated_at": now}
    return _set_owned(conn, table, ids, owner, values)


def requeue_dead(
    conn: Connection, table: Table, due: sa.Column[Any], ids: Sequence[int] | None, now: datetime
) -> int:
    """Give dead rows (all, or ``ids``) a fresh set of attempts, due now; return count.

    An outbox row held because its send was in doubt is re-queued as not in doubt: the
    operator's ``retry`` says to send it again.
    """
    c = table.c
    where = [c.state == "dead"]
    if ids is not None:
        where.append(c.id.in_(ids))
    extra = {"send_started_at": None} if "send_started_at" in c else {}
    values = _released(now, state="queued", attempts=0, **{due.name: now}, **extra)
    return conn.execute(sa.update(table).where(*where).values(values)).rowcount


def counts(conn: Connection, table: Table) -> dict[str, int]:
    """Rows per state (every state present, zero included)."""
    stmt = sa.select(table.c.state, sa.func.count()).group_by(table.c.state)
    found = {str(row[0]): int(row[1]) for row in conn.execute(stmt)}
    return {state: found.get(state, 0) for state in STATES}
