"""Erasing: rows by table name, found by fragment, read, deleted and updated by key;
and the account-wide purges erasure uses (ledger keys, cursors, tokens, inbox, leases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import cursors, erasing, facts, inbox, ledger, outbox, tokens
from zoom_brevo.store.facts import Instance, Registrant


def seed(engine: Engine) -> int:
    """Two instances, three registrants, one pending webhook (its id is returned)."""
    with engine.begin() as conn:
        facts.upsert_instance(
            conn,
            Instance("u1", 1, "meeting", host_email="Ann@X.io", details={"k": "ann@x.io"}),
            now=NOW,
        )
        facts.upsert_instance(conn, Instance("u2", 2, "meeting", topic="Plain"), now=NOW)
        for email in ("ann@x.io", "bob@x.io", "cy@x.io"):
            reg = Registrant("webinar", 7, email, "approved")
            facts.upsert_registrant(conn, reg, now=NOW)
        raw = b'{"email":"ann@x.io"}'
        event_id = inbox.insert(
            conn, dedupe_key="d1", event_type="e", raw_body=raw, headers={}, now=NOW
        )
    assert event_id is not None
    return event_id


def test_columns_and_key_come_from_the_schema() -> None:
    names = {c.name for c in erasing.searchable_columns("inbox")}
    assert {"raw_body", "headers", "error", "dedupe_key"} <= names
    assert "id" not in names and "received_at" not in names
    assert erasing.key_column("meeting_instances") == "uuid"
    assert erasing.key_column("cursors") == "name"


def test_rows_mentioning_a_fragment_in_text_json_and_bytes_any_case(engine: Engine) -> None:
    seed(engine)
    with engine.connect() as conn:
        instances = list(erasing.rows_mentioning(conn, "meeting_instances", ["ann"], batch=10))
        events = list(erasing.rows_mentioning(conn, "inbox", ["ann"], batch=10))
        nobody = list(erasing.rows_mentioning(conn, "registrants", ["zed"], batch=10))
        escaped = list(erasing.rows_mentioning(conn, "meeting_instances", ["%"], batch=10))
    assert [r["uuid"] for r in instances] == ["u1"]  # host_email "Ann@X.io": case ignored
    assert [r["dedupe_key"] for r in events] == ["d1"]  # found in the raw bytes
    assert events[0]["raw_body"] == b'{"email":"ann@x.io"}'
    assert nobody == []
    assert escaped == []  # a LIKE wildcard in a fragment is matched literally


def test_without_fragments_every_row_comes_in_key_order_a_page_at_a_time(
    engine: Engine,
) -> None:
    seed(engine)
    with engine.connect() as conn:
        rows = list(erasing.rows_mentioning(conn, "registrants", None, batch=2))
    assert [r["email"] for r in rows] == ["ann@x.io", "bob@x.io", "cy@x.io"]


def test_rows_are_read_updated_and_deleted_by_key(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as conn:
        got = erasing.rows_by_key(conn, "meeting_instances", ["u2", "nope"])
        assert [r["topic"] for r in got] == ["Plain"]
        assert erasing.update_by_key(conn, "meeting_instances", "u1", {"host_email": None}) == 1
        assert erasing.update_by_key(conn, "meeting_instances", "nope", {"topic": "x"}) == 0
        ids = [
            r["id"] for r in erasing.rows_mentioning(conn, "registrants", ["bob", "cy"], batch=9)
        ]
        assert erasing.delete_by_key(conn, "registrants", ids) == 2
        assert erasing.delete_all(conn, "registrants") == 1
        assert erasing.delete_all(conn, "registrants") == 0
        changed = facts.get_instance(conn, "u1")
    assert changed is not None
    assert (changed.host_email, changed.details) == (None, {"k": "ann@x.io"})


def test_account_purges_keep_what_they_are_told_to(engine: Engine) -> None:
    seed(engine)
    with engine.begin() as conn:
        ledger.record_all(conn, ["event:a:1", "email:b:2"], now=NOW)
        for name in ("erasure:totals", "sync:last", "backfill:page"):
            cursors.save(conn, name, {"n": 1}, now=NOW)
        tokens.save(conn, "zoom:user:1", b"c1", now=NOW)
        tokens.save(conn, "zoom:account", b"c2", now=NOW)
        tokens.save(conn, "brevo:key", b"c3", now=NOW)
        assert sorted(ledger.all_keys(conn)) == ["email:b:2", "event:a:1"]
        assert cursors.get_for_update(conn, "sync:last") == {"n": 1}
        assert cursors.get_for_update(conn, "missing") is None
        assert cursors.delete_all_except(conn, "erasure:totals") == 2
        assert tokens.delete_prefixed(conn, "zoom:") == 2
        assert [s for s, _ in tokens.load_all(conn)] == ["brevo:key"]
        assert list(cursors.all_positions(conn)) == ["erasure:totals"]


def test_tombstone_all_empties_every_event_once(engine: Engine) -> None:
    first = seed(engine)
    later = NOW + timedelta(minutes=1)
    with engine.begin() as conn:
        done = inbox.insert(
            conn, dedupe_key="d2", event_type="e", raw_body=b"x", headers={"h": 1}, now=NOW
        )
        assert done is not None
        inbox.mark(conn, done, "processed", now=NOW)
        assert inbox.tombstone_all(conn, "gone", now=later) == 2
        assert inbox.tombstone_all(conn, "gone", now=later) == 0  # a second run changes nothing
        events = sorted(inbox.not_processed(conn), key=lambda e: e.event_type)
        pending, processed = inbox.get(conn, first), inbox.get(conn, done)
    assert pending is not None and processed is not None
    assert (pending.raw_body, pending.headers, pending.status, pending.processed_at) == (
        b"",
        {},
        "ignored",
        later,
    )
    assert (processed.status, processed.processed_at, processed.error) == ("processed", NOW, "gone")
    assert [(e.status, e.reason, e.count) for e in events] == [("ignored", "gone", 1)]


def test_running_lease_ends_lists_only_running_commands(engine: Engine) -> None:
    with engine.begin() as conn:
        for key in ("a", "b"):
            outbox.add(conn, outbox.NewCommand("event", {}, key), now=NOW)
        claimed = outbox.claim_batch(conn, limit=1, owner="w", lease_s=30, now=NOW)
        assert len(claimed) == 1
        assert outbox.running_lease_ends(conn) == [NOW + timedelta(seconds=30)]
