"""Effects already sent (events, emails): the local half of "never send twice".

Keys name the effect, e.g. ``"event:zoom_attended:<uuid>:<email>"``. ``record_if_new`` is
one ``INSERT ... ON CONFLICT DO NOTHING``: of two concurrent callers exactly one gets True.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import ledger


def record_if_new(
    conn: Connection, key: str, *, now: datetime, detail: dict[str, Any] | None = None
) -> bool:
    """Record ``key`` as sent; ``True`` only if it was not recorded before."""
    stmt = (
        upsert_insert(conn, ledger)
        .values(key=key, sent_at=now, detail=detail)
        .on_conflict_do_nothing(index_elements=[ledger.c.key])
        .returning(ledger.c.id)
    )
    return conn.execute(stmt).scalar_one_or_none() is not None


def record_all(conn: Connection, keys: Iterable[str], *, now: datetime) -> None:
    """Record every key as sent (known ones are left as they are): one statement, many rows."""
    rows = [{"key": key, "sent_at": now, "detail": None} for key in dict.fromkeys(keys)]
    if rows:
        stmt = upsert_insert(conn, ledger).on_conflict_do_nothing(index_elements=[ledger.c.key])
        conn.execute(stmt, rows)


def already_sent(conn: Connection, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are recorded (to drop them from a batch before sending)."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # keep the IN list under driver limits
        chunk = wanted[start : start + 500]
        found.update(conn.execute(sa.select(ledger.c.key).where(ledger.c.key.in_(chunk))).scalars())
    return found


def forget(conn: Connection, key: str) -> bool:
    """Remove ``key`` (the send failed for good and may be tried again); ``True`` if present."""
    return conn.execute(sa.delete(ledger).where(ledger.c.key == key)).rowcount == 1


def all_keys(conn: Connection) -> list[str]:
    """Every recorded key, in no particular order."""
    return list(conn.execute(sa.select(ledger.c.key)).scalars())


def detail(conn: Connection, key: str) -> dict[str, Any] | None:
    """The detail recorded with ``key`` (``{}`` when none); ``None`` when not recorded."""
    row = conn.execute(sa.select(ledger.c.detail).where(ledger.c.key == key)).one_or_none()
    if row is None:
        return None
    found: dict[str, Any] = row.detail or {}
    return found
