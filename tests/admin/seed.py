"""A store seeded directly through the store modules (no sync pipeline involved).

- ``WEEKLY`` (meeting, 10:00-11:00 on 3 March): Alice 10:00-10:30 and 10:40-11:00 (50 min,
  one rejoin), Bob on two devices 10:00-11:00 (60 min), a guest 10:05-10:15 (10 min),
  Carol only in the waiting room (0 min).
- ``LAUNCH`` (webinar 922, 14:00-15:00 on 10 March): four approved registrants (alice,
  dan, erin, frank); Alice 14:00-15:00, Dan 14:00-14:20. So 2 attendees, 2 absentees.
- Outbox: two delivered commands, one dead; one dead job; two import rejections; one
  shared rate bucket paused until far in the future.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine

from zoom_brevo.ratelimit import Limit
from zoom_brevo.store import facts, jobs, outbox
from zoom_brevo.store.engine import transaction
from zoom_brevo.store.ratebuckets import pause_until

WEEKLY = "wk/Uuid//1=="
LAUNCH = "launch+Uuid2=="
NOW = datetime(2025, 3, 20, tzinfo=UTC)
OWNER = "seed:1"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def seed(engine: Engine) -> dict[str, str]:
    """Seed everything; return the dead letters' refs by name."""
    with transaction(engine) as conn:
        _meetings(conn)
        return _operations(conn)


def _meetings(conn: Connection) -> None:
    S = facts.Session  # noqa: N806
    f = facts
    f.upsert_instance(conn, f.Instance(WEEKLY, 811, "meeting", "Weekly <sync>",
                      start_time=at(3, 10), end_time=at(3, 11)), now=NOW)  # fmt: skip
    f.upsert_instance(conn, f.Instance(LAUNCH, 922, "webinar", "Launch",
                      start_time=at(10, 14), end_time=at(10, 15)), now=NOW)  # fmt: skip
    f.set_collected(conn, WEEKLY, "collected", now=NOW)
    f.replace_final(conn, WEEKLY, [
        S("user:a", at(3, 10), at(3, 10, 30), "Alice@Example.com", "Alice Liddell"),
        S("user:a", at(3, 10, 40), at(3, 11), "alice@example.com", "Alice Liddell"),
        S("user:b", at(3, 10), at(3, 11), "bob@example.com", "Bob Stone"),
        S("user:b", at(3, 10, 10), at(3, 10, 50), "bob@example.com", "Bob's phone"),
        S("session:g", at(3, 10, 5), at(3, 10, 15), None, "iPhone"),
        S("email:carol@example.com", at(3, 10), at(3, 10, 20), "carol@example.com", "Carol",
          status="in_waiting_room"),
    ], now=NOW)  # fmt: skip
    f.replace_final(conn, LAUNCH, [
        S("user:a", at(10, 14), at(10, 15), "alice@example.com", "Alice Liddell"),
        S("email:dan@example.com", at(10, 14), at(10, 14, 20), "dan@example.com", "Dan"),
    ], now=NOW)  # fmt: skip
    for email in ("alice@example.com", "dan@example.com", "erin@example.com", "frank@example.com"):
        f.upsert_registrant(conn, f.Registrant("webinar", 922, email, "approved"), now=NOW)
    f.upsert_registrant(
        conn, f.Registrant("webinar", 922, "gone@example.com", "cancelled"), now=NOW
    )
    f.upsert_person(conn, "alice@example.com", first_name="Alice", last_name="Liddell", now=NOW)
    f.set_engagement(conn, "alice@example.com", meetings_attended=2, total_minutes=110.0,
                     last_attended=at(10, 15), score=71.5, now=NOW)  # fmt: skip
    f.set_engagement(conn, "bob@example.com", meetings_attended=1, total_minutes=60.0,
                     last_attended=at(3, 11), score=48.25, now=NOW)  # fmt: skip


def _operations(conn: Connection) -> dict[str, str]:
    o = outbox
    cmds = [
        o.NewCommand(
            "contact",
            {
                "email": "alice@example.com",
                "list_ids": [3],
                "attributes": {"ATTENDANCE_STATUS": "attended", "MEETING_DURATION": 50.0},
            },
            "contact:alice",
        ),
        o.NewCommand(
            "event", {"email": "bob@example.com", "event_name": "zoom_attended", "ledger_key": "k1"}
        ),
        o.NewCommand(
            "event",
            {"email": "carol@example.com", "event_name": "zoom_absent", "ledger_key": "k2"},
            max_attempts=1,
        ),
    ]
    ids = [o.add(conn, c, now=NOW) for c in cmds]
    claimed = o.claim_batch(conn, limit=10, owner=OWNER, lease_s=60, now=NOW)
    assert sorted(c.id for c in claimed) == ids
    o.complete(conn, ids[:2], owner=OWNER, now=NOW)
    o.bury(conn, [ids[2]], owner=OWNER, error="400 invalid_parameter: <b>bad</b>", now=NOW)
    job = jobs.enqueue(conn, "collect", {"uuid": WEEKLY}, now=NOW, max_attempts=1)
    assert job is not None
    jobs.claim(conn, owner=OWNER, lease_s=60, now=NOW)
    jobs.bury(conn, job, owner=OWNER, error="zoom 3001", now=NOW)
    facts.add_rejections(conn, [facts.Rejection(77, "bad@@example", "invalid email"),
                                facts.Rejection(77, "x@example.test", "blocked domain")],
                         now=NOW)  # fmt: skip
    pause_until(conn, "brevo:contacts", Limit(10, 10), until_s=4_000_000_000.0,
                now_s=NOW.timestamp())  # fmt: skip
    return {"outbox": f"outbox:{ids[2]}", "job": f"job:{job}"}
