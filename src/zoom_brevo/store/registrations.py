"""Registrations ``zoom-brevo register`` made in Zoom, one per webinar, occurrence, address.

``occurrence_id`` is ``""`` for a registration to every occurrence (Zoom's default). The
address is stored lower-cased; Zoom treats addresses case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import zoom_registrations as table

EVERY_OCCURRENCE = ""


@dataclass(frozen=True, slots=True)
class Registration:
    """One registration: who, to what, and what Zoom answered."""

    webinar_id: int
    occurrence_id: str
    email: str
    registrant_id: str
    join_url: str | None
    status: str  # approved | pending


def registered(
    conn: Connection, webinar_id: int, occurrence_id: str = EVERY_OCCURRENCE
) -> Mapping[str, Registration]:
    """The registrations made for a webinar (and occurrence), by lower-cased address."""
    rows = conn.execute(
        select(table).where(
            table.c.webinar_id == webinar_id, table.c.occurrence_id == occurrence_id
        )
    )
    return {
        row.email: Registration(
            row.webinar_id,
            row.occurrence_id,
            row.email,
            row.registrant_id,
            row.join_url,
            row.status,
        )
        for row in rows
    }


def of_address(conn: Connection, email: str) -> list[Registration]:
    """Every registration made for one address, any webinar or occurrence."""
    rows = conn.execute(
        select(table).where(table.c.email == email.lower()).order_by(table.c.webinar_id)
    )
    return [
        Registration(
            row.webinar_id,
            row.occurrence_id,
            row.email,
            row.registrant_id,
            row.join_url,
            row.status,
        )
        for row in rows
    ]


def record(conn: Connection, registration: Registration, *, now: datetime) -> None:
    """Remember a registration (the first one stored for its key is kept)."""
    values = {
        "webinar_id": registration.webinar_id,
        "occurrence_id": registration.occurrence_id,
        "email": registration.email.lower(),
        "registrant_id": registration.registrant_id,
        "join_url": registration.join_url,
        "status": registration.status,
        "registered_at": now,
    }
    statement = upsert_insert(conn, table).values(**values)
    conn.execute(statement.on_conflict_do_nothing())
