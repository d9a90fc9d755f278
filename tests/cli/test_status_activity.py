"""``status --json`` says in one field whether the system is idle, and lists the leases.

The CLI on SQLite; the queries behind it on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.cli.test_status_retry import cli, config, sandbox, status_json, store  # noqa: F401
from tests.delivery.conftest import pg_engine  # noqa: F401
from zoom_brevo.store import activity, inbox, jobs, outbox
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.outbox import NewCommand

LATER = timedelta(hours=24)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "postgres":
        found: Engine = request.getfixturevalue("pg_engine")
        return found
    sqlite: tuple[Engine, str] = request.getfixturevalue("store")
    return sqlite[0]


def queue(engine: Engine, n: int) -> None:
    with transaction(engine) as conn:
        outbox.add_many(
            conn,
            (NewCommand("contact", {"email": f"p{i}@example.com"}) for i in range(n)),
            now=datetime.now(UTC),
        )


def busy(engine: Engine) -> list[str]:
    with reading(engine) as conn:
        return activity.busy(conn, now=datetime.now(UTC), pending_imports=0)


def test_a_job_scheduled_for_later_leaves_the_system_idle(engine: Engine) -> None:
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        jobs.enqueue(conn, "reconcile", {"uuid": "u"}, now=now, run_at=now + LATER)
    assert busy(engine) == []


def test_each_kind_of_work_left_is_named(engine: Engine) -> None:
    queue(engine, 3)
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        outbox.claim_batch(conn, limit=2, owner="w1", lease_s=8, now=now)
        jobs.enqueue(conn, "collect", {"uuid": "u"}, now=now)
        inbox.insert_many(conn, [inbox.NewInboxEvent("k1", "meeting.ended", b"{}", {})], now=now)
    assert busy(engine) == [
        "1 webhooks pending",
        "1 outbox commands queued",
        "2 outbox commands running",
        "1 jobs due",
    ]


def test_leases_are_listed_per_queue_and_owner_with_their_expiry(engine: Engine) -> None:
    queue(engine, 3)
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    with transaction(engine) as conn:
        outbox.claim_batch(conn, limit=2, owner="host:1", lease_s=8, now=now)
        outbox.claim_batch(conn, limit=1, owner="host:2", lease_s=20, now=now)
        jobs.enqueue(conn, "collect", {"uuid": "u"}, now=now)
        jobs.claim(conn, owner="host:2", lease_s=30, now=now)
    with reading(engine) as conn:
        held = [(h.queue, h.owner, h.rows, h.expires_at) for h in activity.leases(conn)]
    assert held == [
        ("outbox", "host:1", 2, now + timedelta(seconds=8)),
        ("outbox", "host:2", 1, now + timedelta(seconds=20)),
        ("jobs", "host:2", 1, now + timedelta(seconds=30)),
    ]


async def test_status_json_says_idle_and_lists_leases(
    capsys: pytest.CaptureFixture[str],
    config: Path,  # noqa: F811
    store: tuple[Engine, str],  # noqa: F811
) -> None:
    empty = status_json(capsys, config)
    assert (empty["idle"], empty["busy"], empty["leases"]) == (True, [], [])
    assert "outbox" in empty and "dead_letters" in empty  # the other fields stay

    queue(store[0], 1)
    with transaction(store[0]) as conn:
        [claimed] = outbox.claim_batch(
            conn, limit=1, owner="vm:42", lease_s=8, now=datetime.now(UTC)
        )
    working = status_json(capsys, config)
    assert working["idle"] is False
    assert working["busy"] == ["1 outbox commands running"]
    assert claimed.lease_expires_at is not None
    assert working["leases"] == [
        {"queue": "outbox", "owner": "vm:42", "rows": 1,
         "expires_at": claimed.lease_expires_at.isoformat()},
    ]  # fmt: skip


async def test_held_in_doubt_events_show_in_status_and_retry_releases_them(
    capsys: pytest.CaptureFixture[str],
    config: Path,  # noqa: F811
    store: tuple[Engine, str],  # noqa: F811
) -> None:
    engine = store[0]
    queue(engine, 2)
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        ids = [c.id for c in outbox.claim_batch(conn, limit=2, owner="vm:1", lease_s=8, now=now)]
        outbox.mark_sending(conn, ids, owner="vm:1", now=now)
        outbox.bury(conn, ids[:1], owner="vm:1", error="in doubt, held: ...", now=now,
                    in_doubt=True)  # fmt: skip
        outbox.retry(conn, ids[1:], owner="vm:1", at=now, error="timeout", now=now,
                     in_doubt=True)  # fmt: skip

    document = status_json(capsys, config)
    assert document["in_doubt"] == {"pending": 1, "held": 1}
    assert document["idle"] is False
    assert "2 outbox commands in doubt" in document["busy"]  # type: ignore[operator]
    assert document["dead_letters"]["recent"][0]["error"] == "in doubt, held: ..."  # type: ignore[index]
    assert document["dead_letters"]["recent"][0]["in_doubt"] is True  # type: ignore[index]
    shown = cli(capsys, config, "status")
    assert shown.code == 0, shown.err
    assert "Events in doubt: 1 being checked in Brevo's events listing; 1 held" in shown.out
    assert f"outbox:{ids[0]}" in shown.out and "(held)" in shown.out

    retried = cli(capsys, config, "retry", f"outbox:{ids[0]}")
    assert retried.code == 0, retried.err
    after = status_json(capsys, config)
    assert after["in_doubt"] == {"pending": 1, "held": 0}  # released: sent, not looked up
    with reading(engine) as conn:
        released = outbox.get(conn, ids[0])
    assert released is not None
    assert (released.state, released.send_started_at) == ("queued", None)


def test_a_job_waiting_to_be_tried_again_keeps_the_system_busy(engine: Engine) -> None:
    now = datetime.now(UTC)
    with transaction(engine) as conn:
        jobs.enqueue(conn, "collect", {"uuid": "u"}, now=now)
        (job,) = jobs.claim(conn, owner="w1", now=now, lease_s=8)
        jobs.retry(conn, job.id, owner="w1", at=now + LATER, error="token endpoint down", now=now)
    assert busy(engine) == ["1 jobs due"]
