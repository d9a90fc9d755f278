"""Named positions of resumable work (backfill pages, last sync), stored as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import cursors


def get(conn: Connection, name: str) -> Any:
    """The position saved under ``name``, or ``None``."""
    stmt = sa.select(cursors.c.position).where(cursors.c.name == name)
    return conn.execute(stmt).scalar_one_or_none()


def get_for_update(conn: Connection, name: str) -> Any:
    """``get``, locking the row until the transaction ends (PostgreSQL; SQLite's write
    transaction is exclusive already): read-modify-write without lost updates."""
    stmt = sa.select(cursors.c.position).where(cursors.c.name == name).with_for_update()
    return conn.execute(stmt).scalar_one_or_none()


def save(conn: Connection, name: str, position: Any, *, now: datetime) -> None:
    """Save ``position`` (any JSON value but null) under ``name``, replacing the old one."""
    if position is None:
        raise ValueError("a cursor position cannot be None; use delete() to reset it")
    insert = upsert_insert(conn, cursors).values(name=name, position=position, updated_at=now)
    stmt = insert.on_conflict_do_update(
        index_elements=[cursors.c.name],
        set_={"position": insert.excluded.position, "updated_at": insert.excluded.updated_at},
    )
    conn.execute(stmt)


def delete(conn: Connection, name: str) -> bool:
    """Forget the position under ``name``; ``True`` if there was one."""
    return conn.execute(sa.delete(cursors).where(cursors.c.name == name)).rowcount == 1


def all_positions(conn: Connection, prefix: str = "") -> dict[str, tuple[Any, datetime]]:
    """Every cursor whose name starts with ``prefix``: position and time saved."""
    stmt = sa.select(cursors).where(cursors.c.name.startswith(prefix, autoescape=True))
    return {row.name: (row.position, row.updated_at) for row in conn.execute(stmt)}


def delete_all_except(conn: Connection, keep: str) -> int:
    """Forget every position but the one under ``keep``; how many were forgotten."""
    return int(conn.execute(sa.delete(cursors).where(cursors.c.name != keep)).rowcount)
