"""Dialect helpers: the bound above every string with a given prefix, rows inserted
through the driver."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tests.store.conftest import NOW
from zoom_brevo.store._sql import insert_rows, prefix_upper
from zoom_brevo.store.schema import outbox


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [
        ("pair_leave:u1:", "pair_leave:u1;"),
        ("a\ud7ff", "a\ue000"),  # no surrogates in between
        ("ab\U0010ffff", "ac"),
        ("\U0010ffff", None),
        ("", None),
    ],
)
def test_the_bound_is_the_least_string_above_every_string_with_the_prefix(
    prefix: str, upper: str | None
) -> None:
    assert prefix_upper(prefix) == upper
    if upper is not None:
        assert prefix < prefix + "\U0010ffff" * 3 < upper


def test_rows_inserted_through_the_driver_are_stored_as_sqlalchemy_stores_them(
    engine: Engine,
) -> None:
    columns = ("kind", "coalesce_key", "payload", "state", "next_attempt_at", "attempts")
    columns += ("max_attempts", "created_at", "updated_at")
    payload = {"email": "é@x.io", "n": [1, 2.5, None], "s": 'ü"\n'}
    values = ("send_event", None, payload, "queued", NOW, 0, 16, NOW, NOW)
    stored = []
    for insert in (_by_sqlalchemy, insert_rows):
        with engine.begin() as conn:
            conn.execute(outbox.delete())
            insert(conn, outbox, columns, [values, values])
            raw = conn.exec_driver_sql("SELECT * FROM outbox ORDER BY id").all()
            stored.append([tuple(row)[1:] for row in raw])  # ids apart
    assert stored[0] == stored[1]
    with engine.connect() as conn:
        assert conn.execute(sa.select(outbox.c.payload)).scalars().all() == [payload, payload]


def _by_sqlalchemy(
    conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[object, ...]]
) -> None:
    conn.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
