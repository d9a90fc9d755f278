"""Commands for Brevo, written in the same transaction as the facts they derive from.

Kinds are the pipeline's (``contact``, ``event``, ``email``, ``campaign`` ...); the delivery
worker decides how each is sent. States and leases follow ``_lease``
(``done`` means sent).

Commands sharing a ``coalesce_key`` (``"contact:<email>"``) are delivered in order: a claim
skips a command while an older one with the same key is in flight or waiting for its retry,
and ``coalesce`` merges those claimed together. On PostgreSQL, claims take a transaction
advisory lock so that two claimers cannot split one key's commands between them.

Contact payloads (kind ``contact`` or ``contact_upsert``): ``{"email": str, "attributes":
{NAME: value}, "list_ids": [int], "unlink_list_ids": [int]}``, the last three optional.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store import _lease
from zoom_brevo.store._sql import insert_rows, is_postgres
from zoom_brevo.store.notify import notify
from zoom_brevo.store.schema import outbox

# With the deliverer's backoff (5 s doubling, capped at 15 min, full jitter >= half) the
# 16th attempt comes 1 to 2 hours after the first: a Brevo outage of an hour dead-letters
# nothing.
DEFAULT_MAX_ATTEMPTS = 16
CONTACT_KINDS = frozenset({"contact", "contact_upsert"})
_IN_FLIGHT = ("queued", "running")
# Any constant works; it only has to be the same in every process sharing the database.
CLAIM_LOCK_ID = 0x5A42_0002


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(_lease.Leased):
    """One outbox row."""

    coalesce_key: str | None
    next_attempt_at: datetime
    send_started_at: datetime | None = None  # set: a send began, outcome unknown (in doubt)


@dataclass(frozen=True, slots=True)
class NewCommand:
    """A command to add."""

    kind: str
    payload: dict[str, Any]
    coalesce_key: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Merged:
    """What to send once: ``payload`` stands for the outbox rows ``ids``."""

    kind: str
    coalesce_key: str | None
    payload: dict[str, Any]
    ids: tuple[int, ...] = field(default=())


def _command(row: sa.Row[Any]) -> Command:
    return Command(**row._asdict())


_NEW_COLUMNS = (
    "kind",
    "coalesce_key",
    "payload",
    "state",
    "next_attempt_at",
    "attempts",
    "max_attempts",
    "created_at",
    "updated_at",
)


def _row(command: NewCommand, now: datetime) -> tuple[Any, ...]:
    """A new command's values, in ``_NEW_COLUMNS`` order."""
    c = command
    return (c.kind, c.coalesce_key, c.payload, "queued", now, 0, c.max_attempts, now, now)


def _values(command: NewCommand, now: datetime) -> dict[str, Any]:
    return dict(zip(_NEW_COLUMNS, _row(command, now), strict=True))


def add(conn: Connection, command: NewCommand, *, now: datetime) -> int:
    """Queue one command; return its id."""
    stmt = sa.insert(outbox).values(_values(command, now)).returning(outbox.c.id)
    command_id: int = conn.execute(stmt).scalar_one()
    notify(conn)
    return command_id


def add_many(conn: Connection, commands: Iterable[NewCommand], *, now: datetime) -> int:
    """Queue several commands in one round trip; return how many."""
    rows = [_row(command, now) for command in commands]
    if rows:
        insert_rows(conn, outbox, _NEW_COLUMNS, rows)
        notify(conn)
    return len(rows)


def _no_older_blocked(now: datetime) -> sa.ColumnElement[bool]:
    older = outbox.alias("older")
    blocked = sa.or_(
        sa.and_(older.c.state == "running", older.c.lease_expires_at > now),
        sa.and_(older.c.state == "queued", older.c.next_attempt_at > now),
    )
    return ~sa.exists().where(
        older.c.coalesce_key == outbox.c.coalesce_key, older.c.id < outbox.c.id, blocked
    )


def claim_batch(
    conn: Connection,
    *,
    limit: int,
    owner: str,
    lease_s: float,
    now: datetime,
    kinds: Sequence[str] | None = None,
) -> list[Command]:
    """Lease up to ``limit`` due commands to ``owner``, oldest first."""
    if is_postgres(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": CLAIM_LOCK_ID})
    where = [_no_older_blocked(now)]
    if kinds is not None:
        where.append(outbox.c.kind.in_(kinds))
    rows = _lease.claim(
        conn,
        outbox,
        outbox.c.next_attempt_at,
        owner=owner,
        lease_s=lease_s,
        now=now,
        limit=limit,
        where=where,
    )
    return [_command(row) for row in rows]


def complete(conn: Connection, ids: Sequence[int], *, owner: str, now: datetime) -> int:
    """Mark commands sent (no longer in doubt); return how many ``owner`` still held."""
    return _lease.complete(conn, outbox, ids, owner=owner, now=now, send_started_at=None)


def mark_sending(conn: Connection, ids: Sequence[int], *, owner: str, now: datetime) -> int:
    """Note that a send of ``owner``'s commands begins now (in doubt until settled)."""
    c = outbox.c
    stmt = (
        sa.update(outbox)
        .where(c.id.in_(ids), c.state == "running", c.lease_owner == owner)
        .values(send_started_at=now)
    )
    return conn.execute(stmt).rowcount


def in_doubt(conn: Connection) -> dict[str, int]:
    """Commands whose send began and whose outcome is unknown: ``pending`` (queued or
    running, reconciled at their next claim) and ``held`` (dead, waiting for ``retry``)."""
    c = outbox.c
    stmt = (
        sa.select(c.state, sa.func.count()).where(c.send_started_at.is_not(None)).group_by(c.state)
    )
    found = {str(row[0]): int(row[1]) for row in conn.execute(stmt)}
    return {
        "pending": found.get("queued", 0) + found.get("running", 0),
        "held": found.get("dead", 0),
    }


def retry(
    conn: Connection,
    ids: Sequence[int],
    *,
    owner: str,
    at: datetime,
    error: str,
    now: datetime,
    in_doubt: bool = False,
) -> int:
    """Try commands again at ``at`` (dead when out of attempts); return how many were owned.

    ``in_doubt``: the failed send may have reached Brevo (no answer came), so the commands
    stay in doubt; otherwise they are not.
    """
    extra = {} if in_doubt else {"send_started_at": None}
    return _lease.retry(
        conn, outbox, outbox.c.next_attempt_at, ids, owner=owner, at=at, error=error, now=now,
        **extra,
    )  # fmt: skip


def bury(
    conn: Connection,
    ids: Sequence[int],
    *,
    owner: str,
    error: str,
    now: datetime,
    in_doubt: bool = False,
) -> int:
    """Dead-letter commands now (Brevo rejected them, or ``in_doubt``: held until ``retry``);
    return how many were owned."""
    extra = {} if in_doubt else {"send_started_at": None}
    return _lease.bury(conn, outbox, ids, owner=owner, error=error, now=now, **extra)


def release(
    conn: Connection, ids: Sequence[int], *, owner: str, at: datetime, now: datetime
) -> int:
    """Give commands back untried, due at ``at``, without using an attempt; return count."""
    return _lease.release(conn, outbox, outbox.c.next_attempt_at, ids, owner=owner, at=at, now=now)


def extend_lease(
    conn: Connection, ids: Sequence[int], *, owner: str, lease_s: float, now: datetime
) -> int:
    """Keep a long batch's lease alive; return how many commands ``owner`` still holds."""
    return _lease.extend(conn, outbox, ids, owner=owner, lease_s=lease_s, now=now)


def unfinished(
    conn: Connection, coalesce_keys: Iterable[str], *, running_due: datetime | None = None
) -> list[tuple[str, int, datetime]]:
    """Queued or running commands with these keys: ``(key, id, when due or lease ends)``.

    Lets the worker hold an event back while its contact's upsert still waits for a retry.
    ``running_due``: when to say a running command is due, if before its lease ends (it is
    being sent now, and settled as soon as its send is: its lease end is only the latest).
    """
    c = outbox.c
    wanted = list(dict.fromkeys(coalesce_keys))
    found: list[tuple[str, int, datetime]] = []
    for start in range(0, len(wanted), 500):  # keep the IN list under driver limits
        stmt = sa.select(
            c.coalesce_key, c.id, c.state, c.lease_expires_at, c.next_attempt_at
        ).where(
            c.coalesce_key.in_(wanted[start : start + 500]),
            c.state.in_(("queued", "running")),
        )
        for row in conn.execute(stmt):
            due = _due(row.state, row.lease_expires_at, row.next_attempt_at, running_due)
            found.append((row.coalesce_key, row.id, due))
    return found


def _due(
    state: str, lease_end: datetime | None, next_attempt: datetime, running_due: datetime | None
) -> datetime:
    if state != "running" or lease_end is None:
        return next_attempt
    return lease_end if running_due is None else min(lease_end, running_due)


def in_flight_keys(conn: Connection, coalesce_keys: Iterable[str]) -> set[str]:
    """Which of these keys have a command still queued or running."""
    c = outbox.c
    wanted = list(dict.fromkeys(coalesce_keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # keep the IN list under driver limits
        # The state is filtered here, not in SQL: given ``state IN (...)`` SQLite walks the
        # (state, next_attempt_at) index over every queued row instead of the key index,
        # which made deriving a 200,000-person webinar quadratic.
        stmt = sa.select(c.coalesce_key, c.state).where(
            c.coalesce_key.in_(wanted[start : start + 500])
        )
        found.update(key for key, state in conn.execute(stmt) if state in _IN_FLIGHT)
    return found


def running_lease_ends(conn: Connection) -> list[datetime]:
    """When the lease of each running command ends (a worker may be sending it)."""
    c = outbox.c
    stmt = sa.select(c.lease_expires_at).where(c.state == "running")
    return [until for until in conn.execute(stmt).scalars() if until is not None]


def next_due(conn: Connection) -> datetime | None:
    """When the earliest unfinished command becomes claimable (``None``: nothing left).

    Queued commands are due at ``next_attempt_at``; running ones when their lease expires.
    """
    c = outbox.c
    queued = sa.select(sa.func.min(c.next_attempt_at)).where(
        c.state == "queued", c.attempts < c.max_attempts
    )
    running = sa.select(sa.func.min(c.lease_expires_at)).where(c.state == "running")
    times = [conn.execute(stmt).scalar_one_or_none() for stmt in (queued, running)]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def get(conn: Connection, command_id: int) -> Command | None:
    """The command with id ``command_id``."""
    row = conn.execute(sa.select(outbox).where(outbox.c.id == command_id)).one_or_none()
    return None if row is None else _command(row)


def counts(conn: Connection) -> dict[str, int]:
    """Commands per state."""
    return _lease.counts(conn, outbox)


def coalesce(commands: Sequence[Command]) -> list[Merged]:
    """Merge the contact commands of each contact into one; keep the rest as is.

    Commands are taken in id order. Per contact, the latest value of each attribute wins and
    for each list the latest instruction (link or unlink) wins. The result keeps the order
    of each contact's first command.
    """
    merged: dict[str | int, Merged] = {}
    for command in sorted(commands, key=lambda c: c.id):
        if command.kind not in CONTACT_KINDS or command.coalesce_key is None:
            merged[command.id] = Merged(
                command.kind, command.coalesce_key, command.payload, (command.id,)
            )
            continue
        key = command.coalesce_key
        previous = merged.get(key)
        if previous is None:
            merged[key] = Merged(
                command.kind, key, merge_contact({}, command.payload), (command.id,)
            )
        else:
            payload = merge_contact(previous.payload, command.payload)
            merged[key] = Merged(command.kind, key, payload, (*previous.ids, command.id))
    return list(merged.values())


def merge_contact(older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """One contact payload equivalent to sending ``older`` then ``newer``."""
    linked = [i for i in older.get("list_ids", []) if i not in newer.get("unlink_list_ids", [])]
    unlinked = [i for i in older.get("unlink_list_ids", []) if i not in newer.get("list_ids", [])]
    result = {**older, **newer}
    result["attributes"] = {**older.get("attributes", {}), **newer.get("attributes", {})}
    result["list_ids"] = _union(linked, newer.get("list_ids", []))
    result["unlink_list_ids"] = _union(unlinked, newer.get("unlink_list_ids", []))
    return result


def _union(first: Iterable[int], second: Iterable[int]) -> list[int]:
    return list(dict.fromkeys([*first, *second]))
