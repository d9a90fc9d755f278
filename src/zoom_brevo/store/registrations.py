"""Registrations ``zoom-brevo register`` made in Zoom, one per meeting or webinar,
occurrence and address.

``kind`` says whether ``meeting_id`` is a meeting's or a webinar's: Zoom's two objects
have separate ids and endpoints, and a number alone does not say which it is.
``occurrence_id`` is ``""`` for a registration to every occurrence (Zoom's default). The
address is stored lower-cased; Zoom treats addresses case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import zoom_registrations as table

EVERY_OCCURRENCE = ""
Kind = Literal["meeting", "webinar"]


@dataclass(frozen=True, slots=True)
class Registration:
    """One registration: who, to what, and what Zoom answered."""

    kind: Kind
    meeting_id: int
    occurrence_id: str
    email: str
    registrant_id: str
    join_url: str | None
    status: str  # approved | pending


def registered(
    conn: Connection, kind: Kind, meeting_id: int, occurrence_id: str = EVERY_OCCURRENCE
) -> Mapping[str, Registration]:
    """The registrations made for a meeting or webinar (and occurrence), by lower-cased
    address."""
    c = table.c
    rows = conn.execute(
        select(table).where(
            c.kind == kind, c.meeting_id == meeting_id, c.occurrence_id == occurrence_id
        )
    )
    return {row.email: _of(row) for row in rows}


def of_address(conn: Connection, email: str) -> list[Registration]:
    """Every registration made for one address, any meeting, webinar or occurrence."""
    c = table.c
    rows = conn.execute(
        select(table).where(c.email == email.lower()).order_by(c.kind, c.meeting_id)
    )
    return [_of(row) for row in rows]


def _of(row: Any) -> Registration:
    return Registration(
        row.kind,
        row.meeting_id,
        row.occurrence_id,
        row.email,
        row.registrant_id,
        row.join_url,
        row.status,
    )


def record(conn: Connection, registration: Registration, *, now: datetime) -> None:
    """Remember a registration (the first one stored for its key is kept)."""
    values = {
        "kind": registration.kind,
        "meeting_id": registration.meeting_id,
        "occurrence_id": registration.occurrence_id,
        "email": registration.email.lower(),
        "registrant_id": registration.registrant_id,
        "join_url": registration.join_url,
        "status": registration.status,
        "registered_at": now,
    }
    statement = upsert_insert(conn, table).values(**values)
    conn.execute(statement.on_conflict_do_nothing())
