"""``record_all`` records many keys at once and leaves keys already recorded untouched."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import ledger
from zoom_brevo.store.schema import ledger as ledger_table


def test_record_all_records_new_keys_once_and_keeps_known_ones(engine: Engine) -> None:
    with engine.begin() as conn:
        assert ledger.record_if_new(conn, "event:a", now=NOW, detail={"status": 204})
        ledger.record_all(
            conn, ["event:a", "event:b", "event:c", "event:b"], now=NOW + timedelta(1)
        )
        assert ledger.already_sent(conn, ["event:a", "event:b", "event:c", "event:d"]) == {
            "event:a", "event:b", "event:c",
        }  # fmt: skip
        rows = conn.execute(
            sa.select(ledger_table.c.key, ledger_table.c.detail).order_by(ledger_table.c.key)
        ).all()
        assert not ledger.record_if_new(conn, "event:c", now=NOW)
    assert [tuple(r) for r in rows] == [
        ("event:a", {"status": 204}), ("event:b", None), ("event:c", None),
    ]  # fmt: skip


def test_record_all_of_nothing_is_a_no_op(engine: Engine) -> None:
    with engine.begin() as conn:
        ledger.record_all(conn, [], now=NOW)
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger_table)).scalar() == 0
