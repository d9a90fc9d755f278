"""Write many people's names and engagement aggregates in one statement.

Same effect as ``facts.upsert_person`` followed by ``facts.set_engagement`` for each
person (known names are kept unless new ones are given; aggregates are replaced), but as
one executemany upsert per chunk: building a statement per person costs more than the
rest of the derivation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zoom_brevo.pipeline.derive import PersonOutcome
from zoom_brevo.store._sql import upsert_insert
from zoom_brevo.store.schema import people

_AGGREGATES = ("meetings_attended", "total_minutes", "last_attended", "score")


def store_people(conn: Connection, outcomes: Sequence[PersonOutcome], *, now: datetime) -> int:
    """Upsert the people of ``outcomes`` that have an engagement summary; return how many."""
    rows = [_row(o, now) for o in outcomes if o.summary is not None]
    if not rows:
        return 0
    insert = upsert_insert(conn, people)
    merged = {
        name: sa.func.coalesce(insert.excluded[name], people.c[name])
        for name in ("first_name", "last_name")
    }
    replaced = {name: insert.excluded[name] for name in (*_AGGREGATES, "updated_at")}
    stmt = insert.on_conflict_do_update(index_elements=["email"], set_={**merged, **replaced})
    conn.execute(stmt, rows)
    return len(rows)


def _row(outcome: PersonOutcome, now: datetime) -> dict[str, object]:
    summary = outcome.summary
    assert summary is not None
    return {
        "email": outcome.email.lower(),
        "first_name": outcome.first_name,
        "last_name": outcome.last_name,
        "meetings_attended": summary.meetings_attended,
        "total_minutes": summary.total_minutes,
        "last_attended": summary.last_attended,
        "score": summary.score,
        "created_at": now,
        "updated_at": now,
    }
