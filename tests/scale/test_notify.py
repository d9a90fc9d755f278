"""Wake-ups: a committed enqueue wakes idle workers at once; polling remains the fallback."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SERIAL
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.store import inbox, jobs, outbox
from zoom_brevo.store.engine import create_engine, transaction
from zoom_brevo.store.notify import Waker, libpq_dsn, notify

pytestmark = SERIAL  # wake-up latency is measured in wall-clock time

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLL_S = 5.0  # what a worker would otherwise sleep between idle polls
FAST_RECONNECT = BackoffPolicy(base_s=0.05, cap_s=0.2, max_attempts=1000)


@pytest.fixture
def pg_engine(pg_schema_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_schema_url)
    yield engine
    engine.dispose()


@pytest.fixture
def channel() -> str:
    """A channel nobody else uses, so other suites' notifications cannot interfere."""
    return f"zb_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def waker(pg_engine: Engine, channel: str) -> AsyncIterator[Waker]:
    async with Waker(libpq_dsn(pg_engine), channel=channel, reconnect=FAST_RECONNECT) as w:
        assert await w.until_listening(5.0)
        await w.wait(0.01)  # the wake-up every (re)connection gives
        yield w


Later = Callable[[float, Callable[[], None]], None]


@pytest.fixture
def later(pg_engine: Engine) -> Iterator[Later]:
    """Run an action in a thread after a delay; joined before the engine is disposed
    (a waiter wakes at COMMIT, before the thread has given its connection back)."""
    timers: list[threading.Timer] = []

    def schedule(delay_s: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(delay_s, action)
        timers.append(timer)
        timer.start()

    yield schedule
    for timer in timers:
        timer.join()


def notify_committed(engine: Engine, channel: str) -> None:
    with transaction(engine) as conn:
        notify(conn, channel)


@pytest.mark.postgres
async def test_a_committed_notify_wakes_a_waiter_in_well_under_the_poll_interval(
    pg_engine: Engine, channel: str, waker: Waker, later: Later
) -> None:
    begun = time.monotonic()
    later(0.2, lambda: notify_committed(pg_engine, channel))
    woken = await waker.wait(POLL_S)
    latency_s = time.monotonic() - begun - 0.2
    assert woken
    assert latency_s < 0.25, latency_s


@pytest.mark.postgres
async def test_a_rolled_back_transaction_wakes_nobody(
    pg_engine: Engine, channel: str, waker: Waker, later: Later
) -> None:
    def rolled_back() -> None:
        with pg_engine.connect() as conn:
            notify(conn, channel)
            conn.rollback()

    later(0.05, rolled_back)
    assert not await waker.wait(0.5)


@pytest.mark.postgres
async def test_one_notification_wakes_every_loop_and_a_busy_loop_sees_it_next_time(
    pg_engine: Engine, channel: str, waker: Waker
) -> None:
    inbox_loop, outbox_loop = waker.wakeup(), waker.wakeup()
    await asyncio.to_thread(notify_committed, pg_engine, channel)
    await asyncio.sleep(0.3)  # both loops "busy": the wake-up waits for them
    assert await inbox_loop.wait(POLL_S)
    assert await outbox_loop.wait(POLL_S)
    assert not await inbox_loop.wait(0.05)  # consumed


@pytest.mark.postgres
async def test_after_the_listen_connection_dies_the_waker_reconnects_and_wakes_everyone(
    pg_engine: Engine, channel: str, waker: Waker, later: Later
) -> None:
    with pg_engine.begin() as conn:
        killed = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE query LIKE :listen AND pid <> pg_backend_pid()"
            ),
            {"listen": f'LISTEN "{channel}"%'},
        ).scalar_one()
    assert killed == 1
    assert await waker.wait(POLL_S)  # reconnected: work may have come meanwhile
    assert waker.listening
    later(0.1, lambda: notify_committed(pg_engine, channel))
    assert await waker.wait(POLL_S)


@pytest.mark.postgres
async def test_the_store_announces_inbox_events_due_jobs_and_commands(
    pg_engine: Engine,
) -> None:
    async with Waker.for_engine(pg_engine) as waker:
        assert await waker.until_listening(5.0)
        await waker.wait(0.01)
        enqueue_steps = [
            lambda c: inbox.insert(
                c,
                dedupe_key=uuid.uuid4().hex,
                event_type="meeting.ended",
                raw_body=b"{}",
                headers={},
                now=NOW,
            ),
            lambda c: jobs.enqueue(c, "collect", {}, now=NOW),
            lambda c: outbox.add_many(c, [outbox.NewCommand("event", {})], now=NOW),
        ]
        for step in enqueue_steps:

            def run(step: object = step) -> None:
                with transaction(pg_engine) as conn:
                    step(conn)  # type: ignore[operator]

            await asyncio.to_thread(run)
            assert await waker.wait(POLL_S)


async def test_without_postgresql_a_wait_is_a_plain_poll_that_stop_cuts_short(
    tmp_path: object,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        async with Waker.for_engine(engine) as waker:
            begun = time.monotonic()
            assert not await waker.wait(0.2)
            assert time.monotonic() - begun >= 0.19
            stop = asyncio.Event()
            stop.set()
            begun = time.monotonic()
            assert not await waker.wait(POLL_S, stop)
            assert time.monotonic() - begun < 1.0
    finally:
        engine.dispose()
