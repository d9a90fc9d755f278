"""Group commit: concurrent webhooks share a transaction, each answered after its commit."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.errors import StoreError
from zoom_brevo.server.inbox_writer import InboxWriter, NewEvent
from zoom_brevo.store.engine import transaction

from .conftest import stored


def event(key: str, body: bytes = b"{}") -> NewEvent:
    return NewEvent(key, "meeting.started", body, {"x-zm-request-timestamp": "1"})


def count_commits(engine: Engine) -> list[int]:
    commits: list[int] = []

    @sa.event.listens_for(engine, "commit")
    def _count(_conn: Any) -> None:
        commits.append(1)

    return commits


async def test_concurrent_events_share_one_transaction_and_keep_their_bytes(
    engine: Engine,
) -> None:
    writer = InboxWriter(engine, clock=time.time)
    commits = count_commits(engine)
    events = [event(f"k{i}", f'{{"n":{i}}}'.encode()) for i in range(20)]

    outcomes = await asyncio.gather(*(writer.store(e) for e in events))

    assert outcomes == [True] * 20
    assert len(commits) == 1
    assert [row.raw_body for row in stored(engine)] == [e.raw_body for e in events]


async def test_a_batch_holds_at_most_max_batch_events(engine: Engine) -> None:
    writer = InboxWriter(engine, clock=time.time, max_batch=2)
    commits = count_commits(engine)
    outcomes = await asyncio.gather(*(writer.store(event(f"k{i}")) for i in range(5)))
    assert outcomes == [True] * 5
    assert len(commits) == 3


async def test_a_redelivery_in_the_same_batch_is_a_duplicate(engine: Engine) -> None:
    writer = InboxWriter(engine, clock=time.time)
    first, again, other = await asyncio.gather(
        writer.store(event("same", b"1")),
        writer.store(event("same", b"2")),
        writer.store(event("x")),
    )
    assert (first, again, other) == (True, False, True)
    assert [row.raw_body for row in stored(engine)] == [b"1", b"{}"]


async def test_an_event_is_answered_only_once_its_row_is_committed(engine: Engine) -> None:
    writer = InboxWriter(engine, clock=time.time)
    seen_at_answer: list[int] = []

    async def store_then_look(e: NewEvent) -> None:
        await writer.store(e)
        seen_at_answer.append(len(stored(engine)))  # another connection: committed rows only

    await asyncio.gather(*(store_then_look(event(f"k{i}")) for i in range(3)))
    assert seen_at_answer == [3, 3, 3]


async def test_when_the_store_fails_every_event_of_the_batch_gets_store_error(
    engine: Engine,
) -> None:
    writer = InboxWriter(engine, clock=time.time)
    with transaction(engine) as conn:
        conn.execute(sa.text("ALTER TABLE inbox RENAME TO inbox_away"))

    outcomes = await asyncio.gather(
        *(writer.store(event(f"k{i}")) for i in range(4)), return_exceptions=True
    )

    assert [type(outcome) for outcome in outcomes] == [StoreError] * 4


async def test_one_unstorable_event_does_not_fail_its_neighbours(engine: Engine) -> None:
    writer = InboxWriter(engine, clock=time.time)
    broken = NewEvent("bad", "meeting.started", None, {})  # type: ignore[arg-type]  # NOT NULL

    good, bad, also_good = await asyncio.gather(
        writer.store(event("a")), writer.store(broken), writer.store(event("b")),
        return_exceptions=True,
    )  # fmt: skip

    assert (good, also_good) == (True, True)
    assert isinstance(bad, StoreError)
    assert [row.dedupe_key for row in stored(engine)] == ["a", "b"]


@pytest.mark.parametrize("max_batch", [0, -3])
async def test_a_max_batch_below_one_still_stores(engine: Engine, max_batch: int) -> None:
    writer = InboxWriter(engine, clock=time.time, max_batch=max_batch)
    assert await writer.store(event("k")) is True
