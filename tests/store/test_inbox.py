"""Inbox: raw webhooks stored once, exactly as received."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import inbox
from zoom_brevo.store.engine import create_engine
from zoom_brevo.store.schema import inbox as inbox_table

BODY = b'{"event":"meeting.ended","payload":{"object":{"uuid":"abc=="}}}\r\n'


def insert(engine: Engine, key: str = "meeting.ended:abc==", body: bytes = BODY) -> int | None:
    with engine.begin() as conn:
        return inbox.insert(
            conn,
            dedupe_key=key,
            event_type="meeting.ended",
            raw_body=body,
            headers={"x-zm-signature": "[redacted]"},
            now=NOW,
        )


def test_a_new_event_gets_an_id_and_a_redelivery_is_recognised(engine: Engine) -> None:
    first = insert(engine)
    again = insert(engine, body=b"a different delivery of the same event")
    assert first is not None
    assert again is None
    with engine.connect() as conn:
        assert inbox.counts(conn) == {"pending": 1}


def test_the_raw_body_and_headers_come_back_byte_for_byte(engine: Engine) -> None:
    body = bytes(range(256)) + BODY
    event_id = insert(engine, body=body)
    assert event_id is not None
    with engine.connect() as conn:
        event = inbox.get(conn, event_id)
    assert event is not None
    assert event.raw_body == body
    assert event.headers == {"x-zm-signature": "[redacted]"}
    assert event.received_at == NOW
    assert event.status == "pending"


def test_pending_lists_unprocessed_events_oldest_first_and_mark_records_outcomes(
    engine: Engine,
) -> None:
    ids = [event_id for i in range(4) if (event_id := insert(engine, key=f"k{i}")) is not None]
    assert len(ids) == 4
    later = NOW + timedelta(seconds=5)
    with engine.begin() as conn:
        inbox.mark(conn, ids[0], "processed", now=later)
        inbox.mark(conn, ids[2], "failed", now=later, error="no handler")
    with engine.connect() as conn:
        assert [e.id for e in inbox.pending(conn)] == [ids[1], ids[3]]
        assert [e.id for e in inbox.pending(conn, after_id=ids[1])] == [ids[3]]
        failed = inbox.get(conn, ids[2])
        assert inbox.counts(conn) == {"pending": 2, "processed": 1, "failed": 1}
    assert failed is not None
    assert (failed.status, failed.error, failed.processed_at) == ("failed", "no handler", later)


def new(key: str, body: bytes = BODY) -> inbox.NewInboxEvent:
    return inbox.NewInboxEvent(key, "meeting.ended", body, {"x-zm-request-timestamp": "1"})


def test_insert_many_gives_ids_in_input_order_in_one_batch(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = inbox.insert_many(conn, [new("c"), new("a"), new("b")], now=NOW)
    known = [event_id for event_id in ids if event_id is not None]
    assert len(known) == 3
    assert known == sorted(known)  # stored in arrival order
    with engine.connect() as conn:
        events = [inbox.get(conn, event_id) for event_id in known]
    assert [event.dedupe_key for event in events if event is not None] == ["c", "a", "b"]


def test_insert_many_gives_none_for_stored_and_in_batch_duplicates(engine: Engine) -> None:
    existing = insert(engine, key="old")
    with engine.begin() as conn:
        batch = [new("x", b"first"), new("old"), new("y"), new("x", b"second"), new("x", b"3")]
        ids = inbox.insert_many(conn, batch, now=NOW)
    assert existing is not None
    assert [event_id is None for event_id in ids] == [False, True, False, True, True]
    with engine.connect() as conn:
        first_x = inbox.get(conn, ids[0] or 0)
        assert inbox.counts(conn) == {"pending": 3}
    assert first_x is not None
    assert first_x.raw_body == b"first"  # the first occurrence is the one stored


def test_insert_many_stores_every_byte_and_header_exactly(engine: Engine) -> None:
    bodies = [bytes(range(256)) + BODY, b"", "caf\u00e9 \u2603".encode(), b"\x00\r\n\xff" * 100]
    rows = [new(f"k{i}", body) for i, body in enumerate(bodies)]
    with engine.begin() as conn:
        ids = inbox.insert_many(conn, rows, now=NOW)
    with engine.connect() as conn:
        events = [inbox.get(conn, event_id or 0) for event_id in ids]
    assert [event.raw_body if event else None for event in events] == bodies
    assert all(event and event.headers == {"x-zm-request-timestamp": "1"} for event in events)
    assert all(event and (event.received_at, event.status) == (NOW, "pending") for event in events)


def test_insert_many_splits_a_batch_above_the_bound_parameter_limit(engine: Engine) -> None:
    count = 6_000  # 6 parameters a row: 36,000, above SQLite's 32,766 and PostgreSQL's 32,767
    rows = [new(f"k{i}", str(i).encode()) for i in range(count)]
    with engine.begin() as conn:
        ids = inbox.insert_many(conn, rows, now=NOW)
        again = inbox.insert_many(conn, rows[:3], now=NOW)
    assert len(set(ids)) == count
    assert None not in ids
    assert again == [None, None, None]
    with engine.connect() as conn:
        last = inbox.get(conn, ids[-1] or 0)
        assert inbox.counts(conn) == {"pending": count}
    assert last is not None
    assert (last.dedupe_key, last.raw_body) == (f"k{count - 1}", str(count - 1).encode())


def test_insert_many_writes_each_column_as_sqlalchemy_writes_it(engine: Engine) -> None:
    # The batch insert binds values itself: what it stores must be what a plain
    # SQLAlchemy insert of the same row stores (claims compare the stored text on SQLite).
    headers = {"x-zm-request-timestamp": "1", "caf\u00e9": "\u2603"}
    with engine.begin() as conn:
        conn.execute(
            inbox_table.insert().values(
                received_at=NOW, dedupe_key="by-sqlalchemy", event_type="e",
                raw_body=BODY, headers=headers, status="pending",
            )
        )  # fmt: skip
        inbox.insert_many(conn, [inbox.NewInboxEvent("batch", "e", BODY, headers)], now=NOW)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT received_at, event_type, raw_body, CAST(headers AS TEXT), status"
            " FROM inbox ORDER BY id"
        ).all()
    assert len(rows) == 2
    assert rows[0] == rows[1]


def test_insert_many_of_nothing_is_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        assert inbox.insert_many(conn, [], now=NOW) == []


def test_take_claims_a_pending_event_once(engine: Engine) -> None:
    event_id = insert(engine)
    assert event_id is not None
    later = NOW + timedelta(seconds=3)
    with engine.begin() as conn:
        assert inbox.take(conn, event_id, now=later) is True
        assert inbox.take(conn, event_id, now=later) is False  # not pending any more
    with engine.connect() as conn:
        taken = inbox.get(conn, event_id)
    assert taken is not None
    assert (taken.status, taken.processed_at, taken.error) == ("processed", later, None)


def test_fail_pending_marks_only_a_pending_event_failed(engine: Engine) -> None:
    first, second = insert(engine, key="a"), insert(engine, key="b")
    assert first is not None
    assert second is not None
    later = NOW + timedelta(seconds=3)
    with engine.begin() as conn:
        inbox.mark(conn, second, "processed", now=NOW)
        assert inbox.fail_pending(conn, first, "bad payload", now=later) is True
        assert inbox.fail_pending(conn, second, "too late", now=later) is False
    with engine.connect() as conn:
        failed, done = inbox.get(conn, first), inbox.get(conn, second)
    assert failed is not None
    assert done is not None
    assert (failed.status, failed.error, failed.processed_at) == ("failed", "bad payload", later)
    assert (done.status, done.error) == ("processed", None)


def test_take_group_claims_the_oldest_pending_after_a_given_id(engine: Engine) -> None:
    ids = [insert(engine, key=f"k{n}") for n in range(5)]
    later = NOW + timedelta(seconds=3)
    with engine.begin() as conn:
        inbox.mark(conn, ids[1], "processed", now=NOW)  # type: ignore[arg-type]
        first = inbox.take_group(conn, limit=2, now=later)
        rest = inbox.take_group(conn, limit=10, now=later, after_id=first[-1].id)
        none_left = inbox.take_group(conn, limit=10, now=later)
    assert [e.id for e in first] == [ids[0], ids[2]]
    assert [e.id for e in rest] == ids[3:]
    assert none_left == []
    assert rest[0].raw_body == BODY
    with engine.connect() as conn:
        assert inbox.counts(conn) == {"processed": 5}


def test_a_rolled_back_group_hands_its_rows_back(engine: Engine) -> None:
    ids = [insert(engine, key=f"k{n}") for n in range(3)]
    with engine.connect() as conn, conn.begin() as tx:
        assert len(inbox.take_group(conn, limit=3, now=NOW)) == 3
        tx.rollback()
    with engine.begin() as conn:
        assert [e.id for e in inbox.take_group(conn, limit=3, now=NOW)] == ids


@pytest.mark.postgres
def test_on_postgresql_a_second_worker_claims_the_next_rows_without_waiting(
    pg_migrated_url: str,
) -> None:
    engine = create_engine(pg_migrated_url)
    try:
        with engine.begin() as conn:
            conn.execute(inbox_table.delete())
        ids = [insert(engine, key=f"k{n}") for n in range(4)]
        with engine.connect() as first, first.begin():
            held = inbox.take_group(first, limit=2, now=NOW)
            with engine.connect() as second, second.begin():
                second.exec_driver_sql("SET LOCAL lock_timeout = '2s'")  # waiting would fail
                other = inbox.take_group(second, limit=5, now=NOW)
        assert [e.id for e in held] == ids[:2]
        assert [e.id for e in other] == ids[2:]
    finally:
        engine.dispose()


def test_failed_tries_are_counted_in_the_row_and_a_later_try_waits_for_its_time(
    engine: Engine,
) -> None:
    event_id = insert(engine)
    assert event_id is not None
    with engine.begin() as conn:
        assert [inbox.count_failure(conn, event_id) for _ in range(2)] == [1, 2]
        inbox.retry_later(conn, event_id, at=NOW + timedelta(minutes=5))
    with engine.connect() as conn:
        assert inbox.pending(conn, now=NOW + timedelta(minutes=4)) == []
        [due] = inbox.pending(conn, now=NOW + timedelta(minutes=5))
        assert (due.attempts, due.retry_at) == (2, NOW + timedelta(minutes=5))
        assert [e.id for e in inbox.pending(conn)] == [event_id]  # no ``now``: every pending


def test_a_settled_event_counts_no_failure(engine: Engine) -> None:
    event_id = insert(engine)
    assert event_id is not None
    with engine.begin() as conn:
        assert inbox.take(conn, event_id, now=NOW)
        assert inbox.count_failure(conn, event_id) is None
