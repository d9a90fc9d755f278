"""A store seeded directly through ``store.facts`` (no sync pipeline involved)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from zoom_brevo.store import facts
from zoom_brevo.store.engine import transaction

WEEKLY = "wk/Uuid//1=="
LAUNCH = "launchUuid2=="
NOW = datetime(2025, 3, 20, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def seed(engine: Engine) -> None:
    """Two instances, four people (see the test modules for the expected figures)."""
    S = facts.Session  # noqa: N806
    with transaction(engine) as conn:
        facts.upsert_instance(
            conn,
            facts.Instance(WEEKLY, 811, "meeting", "Weekly sync", start_time=at(3, 10),
                           end_time=at(3, 11)),
            now=NOW,
        )  # fmt: skip
        facts.upsert_instance(
            conn,
            facts.Instance(LAUNCH, 922, "webinar", "Launch", start_time=at(10, 14),
                           end_time=at(10, 15)),
            now=NOW,
        )  # fmt: skip
        facts.replace_final(
            conn,
            WEEKLY,
            [
                S("user:a", at(3, 10), at(3, 10, 30), "Alice@Example.com", "Alice Liddell"),
                S("user:a", at(3, 10, 40), at(3, 11), "alice@example.com", "Alice Liddell"),
                S("user:b", at(3, 10), at(3, 11), "bob@example.com", "Bob Stone"),
                S("user:b", at(3, 10, 10), at(3, 10, 50), "bob@example.com", "Bob's phone"),
                S("session:g", at(3, 10, 5), at(3, 10, 15), None, "iPhone"),
                S("email:carol@example.com", at(3, 10), at(3, 10, 20), "carol@example.com",
                  "Carol", status="in_waiting_room"),
            ],
            now=NOW,
        )  # fmt: skip
        facts.replace_final(
            conn,
            LAUNCH,
            [S("user:a", at(10, 14), at(10, 15), "alice@example.com", "Alice Liddell")],
            now=NOW,
        )
        for email, first, last, count, minutes, last_seen, score in (
            ("alice@example.com", "Alice", "Liddell", 2, 110.0, at(10, 15), 80.0),
            ("bob@example.com", "Bob", "Stone", 1, 60.0, at(3, 11), 60.0),
            ("dave@example.com", "Dave", None, 0, 0.0, None, 10.0),
        ):
            facts.upsert_person(conn, email, first_name=first, last_name=last, now=NOW)
            facts.set_engagement(
                conn, email, meetings_attended=count, total_minutes=minutes,
                last_attended=last_seen, score=score, now=NOW,
            )  # fmt: skip
