"""Inbox: raw webhooks stored once, exactly as received."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import inbox

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
