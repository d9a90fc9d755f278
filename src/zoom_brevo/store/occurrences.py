"""The scheduled occurrences of recurring meetings and webinars, as Zoom listed them.

The started webhook names no occurrence (reference zoom.md 4.4) and handlers make no Zoom
call, so the occurrences are kept when Zoom lists them (the registration webhooks'
``occurrences``, ``GET /webinars/{webinarId}`` in ``sync``) for the live instance to be
matched later (``pipeline.occurrences.occurrence_of``). A listing never removes a row: a
past occurrence stays what it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import zoom_occurrences as table


def remember(
    conn: Connection,
    kind: str,
    meeting_id: int,
    listed: Iterable[tuple[str, datetime | None]],
    *,
    now: datetime,
) -> int:
    """Store ``(occurrence_id, scheduled start)`` pairs (a moved occurrence gets its new
    start); pairs without an id or a start are skipped. How many were stored."""
    rows = [
        {"kind": kind, "meeting_id": meeting_id, "occurrence_id": ident, "start_time": start}
        for ident, start in dict(listed).items()
        if ident and start is not None
    ]
    if not rows:
        return 0
    stmt = upsert_insert(conn, table)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["kind", "meeting_id", "occurrence_id"],
            set_={"start_time": stmt.excluded.start_time, "updated_at": now},
        ),
        [{**row, "updated_at": now} for row in rows],
    )
    return len(rows)


def known(conn: Connection, kind: str, meeting_id: int) -> list[tuple[str, datetime]]:
    """The stored ``(occurrence_id, scheduled start)`` of one meeting or webinar, by start."""
    rows = conn.execute(
        select(table.c.occurrence_id, table.c.start_time)
        .where(table.c.kind == kind, table.c.meeting_id == meeting_id)
        .order_by(table.c.start_time)
    )
    return [(row.occurrence_id, row.start_time) for row in rows]
