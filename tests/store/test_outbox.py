"""Outbox: Brevo commands claimed in batches, in order per contact, merged per contact."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import outbox
from zoom_brevo.store.outbox import NewCommand

LEASE_S = 30


def contact(email: str, **payload: Any) -> NewCommand:
    return NewCommand(
        "contact_upsert", {"email": email, **payload}, coalesce_key=f"contact:{email}"
    )


def event(name: str) -> NewCommand:
    return NewCommand("event", {"event_name": name, "identifiers": {"email_id": "a@x.io"}})


def add(engine: Engine, *commands: NewCommand) -> list[int]:
    with engine.begin() as conn:
        return [outbox.add(conn, command, now=NOW) for command in commands]


def claim(
    engine: Engine, owner: str = "d1", at: timedelta = timedelta(0), limit: int = 100, **kw: Any
) -> list[outbox.Command]:
    with engine.begin() as conn:
        return outbox.claim_batch(
            conn, limit=limit, owner=owner, lease_s=LEASE_S, now=NOW + at, **kw
        )


def test_a_batch_is_leased_oldest_first_up_to_the_limit(engine: Engine) -> None:
    ids = add(engine, event("a"), event("b"), event("c"))
    first = claim(engine, limit=2)
    assert [c.id for c in first] == ids[:2]
    assert all(c.state == "running" and c.lease_owner == "d1" for c in first)
    assert [c.id for c in claim(engine, owner="d2")] == ids[2:]
    assert claim(engine, owner="d3") == []


def test_later_commands_of_a_contact_wait_while_an_older_one_is_in_flight(engine: Engine) -> None:
    [older] = add(engine, contact("a@x.io", attributes={"FIRSTNAME": "A"}))
    claim(engine, owner="d1")
    [newer, unrelated] = add(engine, contact("a@x.io", list_ids=[3]), contact("b@x.io"))
    assert [c.id for c in claim(engine, owner="d2")] == [unrelated]
    with engine.begin() as conn:
        outbox.complete(conn, [older], owner="d1", now=NOW)
    assert [c.id for c in claim(engine, owner="d2")] == [newer]


def test_later_commands_of_a_contact_wait_for_an_older_ones_retry(engine: Engine) -> None:
    [older, newer] = add(engine, contact("a@x.io"), contact("a@x.io"))
    claim(engine, limit=1)
    with engine.begin() as conn:
        outbox.retry(conn, [older], owner="d1", at=NOW + timedelta(minutes=1), error="503", now=NOW)
    assert claim(engine, at=timedelta(seconds=59)) == []
    assert [c.id for c in claim(engine, at=timedelta(minutes=1))] == [older, newer]


def test_an_expired_lease_is_claimed_again_and_retry_ends_in_the_dead_state(engine: Engine) -> None:
    [command_id] = add(engine, NewCommand("event", {}, max_attempts=2))
    claim(engine, owner="dies")
    [again] = claim(engine, owner="d2", at=timedelta(seconds=LEASE_S))
    assert (again.id, again.attempts) == (command_id, 2)
    with engine.begin() as conn:
        assert outbox.retry(conn, [command_id], owner="d2", at=NOW, error="429", now=NOW) == 1
        assert outbox.counts(conn) == {"queued": 0, "running": 0, "done": 0, "dead": 1}


def test_expired_leases_and_queued_rows_are_claimed_together_in_due_then_id_order(
    engine: Engine,
) -> None:
    first, second, third, fourth = add(engine, *(event(n) for n in "abcd"))
    claim(engine, owner="dies", limit=2)  # first and second: running, their lease ends
    with engine.begin() as conn:  # second is queued again, due 10 s later than the rest
        later = NOW + timedelta(seconds=10)
        outbox.retry(conn, [second], owner="dies", at=later, error="503", now=NOW)

    taken = claim(engine, owner="d2", at=timedelta(seconds=LEASE_S), limit=3)

    assert [c.id for c in taken] == [first, third, fourth]
    assert [c.id for c in claim(engine, owner="d3", at=timedelta(seconds=LEASE_S))] == [second]


def test_only_the_lease_holder_completes_or_buries(engine: Engine) -> None:
    ids = add(engine, event("a"), event("b"))
    claim(engine, owner="d1")
    with engine.begin() as conn:
        assert outbox.complete(conn, ids, owner="other", now=NOW) == 0
        assert outbox.complete(conn, ids[:1], owner="d1", now=NOW) == 1
        assert outbox.bury(conn, ids[1:], owner="d1", error="400 invalid", now=NOW) == 1
        dead = outbox.get(conn, ids[1])
    assert dead is not None and (dead.state, dead.last_error) == ("dead", "400 invalid")


def test_add_many_queues_every_command(engine: Engine) -> None:
    with engine.begin() as conn:
        assert outbox.add_many(conn, [event(str(i)) for i in range(5)], now=NOW) == 5
        assert outbox.add_many(conn, [], now=NOW) == 0
    assert len(claim(engine, kinds=["event"])) == 5


def command(id_: int, kind: str, payload: dict[str, Any], key: str | None = None) -> outbox.Command:
    return outbox.Command(
        id=id_,
        kind=kind,
        coalesce_key=key,
        payload=payload,
        state="running",
        next_attempt_at=NOW,
        attempts=1,
        max_attempts=10,
        lease_owner="d",
        lease_expires_at=NOW,
        last_error=None,
        created_at=NOW,
        updated_at=NOW,
    )


def upsert(id_: int, email: str, **payload: Any) -> outbox.Command:
    return command(id_, "contact_upsert", {"email": email, **payload}, f"contact:{email}")


@pytest.mark.parametrize(
    ("commands", "expected"),
    [
        pytest.param(
            [upsert(1, "a", attributes={"X": 1, "Y": 1}), upsert(2, "a", attributes={"X": 2})],
            [("contact:a", {"X": 2, "Y": 1}, [], [], (1, 2))],
            id="latest-attribute-wins",
        ),
        pytest.param(
            [upsert(2, "a", attributes={"X": 2}), upsert(1, "a", attributes={"X": 1})],
            [("contact:a", {"X": 2}, [], [], (1, 2))],
            id="order-is-by-id-not-by-position",
        ),
        pytest.param(
            [upsert(1, "a", list_ids=[1, 2]), upsert(2, "a", list_ids=[2, 3])],
            [("contact:a", {}, [1, 2, 3], [], (1, 2))],
            id="list-ids-are-unioned",
        ),
        pytest.param(
            [upsert(1, "a", list_ids=[1]), upsert(2, "a", unlink_list_ids=[1])],
            [("contact:a", {}, [], [1], (1, 2))],
            id="a-later-unlink-cancels-a-link",
        ),
        pytest.param(
            [upsert(1, "a", unlink_list_ids=[1]), upsert(2, "a", list_ids=[1])],
            [("contact:a", {}, [1], [], (1, 2))],
            id="a-later-link-cancels-an-unlink",
        ),
        pytest.param(
            [upsert(1, "a", attributes={"X": 1}), upsert(2, "b"), upsert(3, "a", list_ids=[7])],
            [("contact:a", {"X": 1}, [7], [], (1, 3)), ("contact:b", {}, [], [], (2,))],
            id="contacts-are-kept-apart-in-first-seen-order",
        ),
    ],
)
def test_coalesce_merges_contact_upserts(
    commands: list[outbox.Command], expected: list[tuple[Any, ...]]
) -> None:
    merged = outbox.coalesce(commands)
    got = [
        (
            m.coalesce_key,
            m.payload["attributes"],
            m.payload["list_ids"],
            m.payload["unlink_list_ids"],
            m.ids,
        )
        for m in merged
    ]
    assert got == expected


def test_coalesce_never_merges_events_even_with_equal_payloads() -> None:
    same = {"event_name": "zoom_attended", "identifiers": {"email_id": "a@x.io"}}
    commands = [command(1, "event", same), upsert(2, "a@x.io"), command(3, "event", same)]
    merged = outbox.coalesce(commands)
    assert [(m.kind, m.ids) for m in merged] == [
        ("event", (1,)),
        ("contact_upsert", (2,)),
        ("event", (3,)),
    ]
    assert merged[0].payload == same


def test_coalesce_merges_the_pipelines_contact_kind_too() -> None:
    commands = [
        command(1, "contact", {"email": "a", "attributes": {"X": 1}}, "contact:a"),
        command(2, "contact", {"email": "a", "list_ids": [4]}, "contact:a"),
    ]
    [merged] = outbox.coalesce(commands)
    assert (merged.kind, merged.ids) == ("contact", (1, 2))
    assert (merged.payload["attributes"], merged.payload["list_ids"]) == ({"X": 1}, [4])


def test_coalesce_keeps_the_email_and_other_fields_of_the_newest_command() -> None:
    [merged] = outbox.coalesce(
        [upsert(1, "a", update_enabled=False), upsert(2, "a", update_enabled=True)]
    )
    assert merged.payload["email"] == "a"
    assert merged.payload["update_enabled"] is True


def test_concurrent_delivery_workers_never_share_a_command(engine: Engine) -> None:
    commands = [contact(f"p{i % 7}@x.io", attributes={"N": i}) for i in range(21)]
    add(engine, *commands, *(event(str(i)) for i in range(9)))
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def worker(owner: str) -> None:
        barrier.wait()
        while True:
            batch = claim(engine, owner=owner, limit=4)
            if not batch:
                return
            with lock:
                claimed.extend(c.id for c in batch)
            with engine.begin() as conn:
                outbox.complete(conn, [c.id for c in batch], owner=owner, now=NOW)

    threads = [threading.Thread(target=worker, args=(f"d{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(claimed) == 30
    assert len(set(claimed)) == 30


def test_in_flight_keys_are_those_with_a_queued_or_running_command(engine: Engine) -> None:
    with engine.begin() as conn:
        for key in ("event:a", "event:b", "event:c"):
            outbox.add(conn, outbox.NewCommand("event", {"k": key}, key), now=NOW)
        claimed = outbox.claim_batch(conn, limit=1, owner="w", lease_s=30, now=NOW)
        assert [c.coalesce_key for c in claimed] == ["event:a"]
        done = outbox.claim_batch(conn, limit=1, owner="w", lease_s=30, now=NOW)
        outbox.complete(conn, [c.id for c in done], owner="w", now=NOW)
    with engine.connect() as conn:
        found = outbox.in_flight_keys(conn, ["event:a", "event:b", "event:c", "event:z"])
    assert found == {"event:a", "event:c"}  # b was sent, z never queued


def test_a_retry_of_rows_with_different_budgets_buries_only_those_out_of_attempts(
    engine: Engine,
) -> None:
    spent, left = add(engine, NewCommand("event", {}, max_attempts=1), event("b"))
    claim(engine, owner="d1")
    with engine.begin() as conn:
        retried = outbox.retry(
            conn, [spent, left], owner="d1", at=NOW + timedelta(minutes=1), error="503", now=NOW
        )
        assert retried == 2
        states = {i: getattr(outbox.get(conn, i), "state", None) for i in (spent, left)}
    assert states == {spent: "dead", left: "queued"}  # retrying.exhausted, row by row
