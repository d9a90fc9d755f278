"""Dead letters: jobs and outbox commands in state ``dead``, listed and re-queued together.

A dead letter is addressed as ``"job:<id>"`` or ``"outbox:<id>"`` (what ``status`` shows
and ``retry`` accepts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from zoom_brevo.store import _lease
from zoom_brevo.store.schema import jobs, outbox

Source = Literal["job", "outbox"]
_TABLES: dict[Source, tuple[Table, sa.Column[Any]]] = {
    "job": (jobs, jobs.c.run_at),
    "outbox": (outbox, outbox.c.next_attempt_at),
}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One piece of work that will not be tried again unless re-queued."""

    source: Source
    id: int
    kind: str
    attempts: int
    last_error: str | None
    updated_at: datetime
    in_doubt: bool = False  # an event whose send began with no known outcome, held

    @property
    def ref(self) -> str:
        """The address ``retry`` accepts, e.g. ``"outbox:12"``."""
        return f"{self.source}:{self.id}"


def _is_row_id(text: str) -> bool:
    # ASCII digits only ("²".isdigit() is true) and within a 64-bit integer column.
    return text.isascii() and text.isdigit() and len(text) <= 18


def parse_ref(ref: str) -> tuple[Source, int]:
    """Split ``"job:12"`` into ``("job", 12)``; ValueError for anything else."""
    source, _, number = ref.partition(":")
    for known in _TABLES:
        if source == known and _is_row_id(number):
            return known, int(number)
    raise ValueError(f"not a dead letter reference: {ref!r} (expected job:ID or outbox:ID)")


def list_dead(conn: Connection, *, limit: int = 100) -> list[DeadLetter]:
    """The most recent dead letters of both kinds, newest first."""
    letters: list[DeadLetter] = []
    for source, (table, _due) in _TABLES.items():
        c = table.c
        doubt = c.send_started_at.is_not(None) if table is outbox else sa.false()
        stmt = (
            sa.select(c.id, c.kind, c.attempts, c.last_error, c.updated_at, doubt)
            .where(c.state == "dead")
            .order_by(c.updated_at.desc(), c.id.desc())
            .limit(limit)
        )
        letters.extend(
            DeadLetter(source, row[0], row[1], row[2], row[3], row[4], in_doubt=bool(row[5]))
            for row in conn.execute(stmt)
        )
    letters.sort(key=lambda letter: (letter.updated_at, letter.id), reverse=True)
    return letters[:limit]


def count(conn: Connection) -> int:
    """How many dead letters there are."""
    total = 0
    for table, _due in _TABLES.values():
        stmt = sa.select(sa.func.count()).where(table.c.state == "dead")
        total += int(conn.execute(stmt).scalar_one())
    return total


def requeue(conn: Connection, refs: Iterable[str], *, now: datetime) -> int:
    """Queue the given dead letters again with fresh attempts; return how many were dead."""
    ids: dict[Source, list[int]] = {"job": [], "outbox": []}
    for ref in refs:
        source, number = parse_ref(ref)
        ids[source].append(number)
    return sum(
        _lease.requeue_dead(conn, table, due, ids[source], now)
        for source, (table, due) in _TABLES.items()
        if ids[source]
    )


def requeue_all(conn: Connection, *, now: datetime) -> int:
    """Queue every dead letter again; return how many."""
    return sum(_lease.requeue_dead(conn, table, due, None, now) for table, due in _TABLES.values())
