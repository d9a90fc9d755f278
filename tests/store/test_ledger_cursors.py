"""Ledger (each effect recorded once, atomically) and cursors (named JSON positions)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import cursors, ledger

KEY = "event:zoom_attended:abc==:a@x.io"


def test_a_key_is_new_only_the_first_time(engine: Engine) -> None:
    with engine.begin() as conn:
        assert ledger.record_if_new(conn, KEY, now=NOW, detail={"status": 204})
        assert not ledger.record_if_new(conn, KEY, now=NOW + timedelta(hours=1))
        assert ledger.already_sent(conn, [KEY, "event:other", KEY]) == {KEY}


def test_a_rolled_back_record_is_not_kept(engine: Engine) -> None:
    with engine.connect() as conn:
        with conn.begin() as tx:
            assert ledger.record_if_new(conn, KEY, now=NOW)
            tx.rollback()
        with conn.begin():
            assert ledger.record_if_new(conn, KEY, now=NOW)


def test_a_forgotten_key_can_be_recorded_again(engine: Engine) -> None:
    with engine.begin() as conn:
        ledger.record_if_new(conn, KEY, now=NOW)
        assert ledger.forget(conn, KEY)
        assert not ledger.forget(conn, KEY)
        assert ledger.record_if_new(conn, KEY, now=NOW)


def test_of_concurrent_recorders_exactly_one_wins(engine: Engine) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def record() -> None:
        barrier.wait()
        with engine.begin() as conn:
            results.append(ledger.record_if_new(conn, KEY, now=NOW))

    threads = [threading.Thread(target=record) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 5 + [True]


def test_already_sent_handles_more_keys_than_one_query_takes(engine: Engine) -> None:
    keys = [f"event:x:{i}" for i in range(1200)]
    with engine.begin() as conn:
        for key in keys[::100]:
            ledger.record_if_new(conn, key, now=NOW)
        assert ledger.already_sent(conn, keys) == set(keys[::100])


def test_a_cursor_is_saved_replaced_listed_and_deleted(engine: Engine) -> None:
    later = NOW + timedelta(minutes=1)
    with engine.begin() as conn:
        assert cursors.get(conn, "backfill:meetings") is None
        cursors.save(conn, "backfill:meetings", {"day": "2025-01-01", "page": "tok"}, now=NOW)
        cursors.save(conn, "backfill:meetings", {"day": "2025-01-02", "page": None}, now=later)
        cursors.save(conn, "last_sync", "2025-01-03T00:00:00Z", now=NOW)
        assert cursors.get(conn, "backfill:meetings") == {"day": "2025-01-02", "page": None}
        assert cursors.all_positions(conn, "backfill:") == {
            "backfill:meetings": ({"day": "2025-01-02", "page": None}, later)
        }
        assert cursors.delete(conn, "backfill:meetings")
        assert cursors.get(conn, "backfill:meetings") is None
        assert cursors.get(conn, "last_sync") == "2025-01-03T00:00:00Z"


def test_the_detail_of_a_key_is_read_back(engine: Engine) -> None:
    with engine.begin() as conn:
        ledger.record_if_new(conn, "campaign:u1", now=NOW, detail={"campaign_id": 7})
        ledger.record_if_new(conn, "members:u1", now=NOW)
        assert ledger.detail(conn, "campaign:u1") == {"campaign_id": 7}
        assert ledger.detail(conn, "members:u1") == {}  # recorded without detail
        assert ledger.detail(conn, "unknown") is None
