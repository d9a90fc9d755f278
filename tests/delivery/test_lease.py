"""Short leases kept alive by a heartbeat: a live worker keeps its batch however long it
takes, on SQLite and PostgreSQL, against the Brevo emulator over loopback."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.delivery.conftest import API_KEY, FAST_CLIENT, SwappableApp, deliverer, enqueue
from tests.faults.gate import Gate
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.pipeline.commands import SendEvent
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.store import outbox, schema
from zoom_brevo.store.engine import reading

LEASE_S = 1.0
HOLD_S = 3.5  # the send takes three and a half leases


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Engine:
    name = "engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(name)
    return found


def events(n: int) -> list[SendEvent]:
    return [
        SendEvent(event_name="zoom_attended", email=f"p{i}@example.com", ledger_key=f"k:{i}")
        for i in range(n)
    ]


async def test_a_batch_longer_than_its_lease_stays_with_its_live_worker(
    store: Engine,
    brevo: BrevoClient,
    emu: BrevoEmulator,
    server: tuple[SwappableApp, str],
) -> None:
    gate = Gate(emu.app, "/events")
    server[0].app = gate
    enqueue(store, *events(5))
    first = deliverer(store, brevo, owner="first", lease_s=LEASE_S)
    rival = deliverer(store, brevo, owner="rival", lease_s=LEASE_S, poll_interval_s=0.05)
    stop = asyncio.Event()
    watching = asyncio.create_task(rival.run(stop))

    async def open_late() -> None:
        await asyncio.sleep(HOLD_S)
        gate.open()

    opening = asyncio.create_task(open_late())
    report = await first.drain(deadline_s=20)
    stop.set()
    rivals = await watching
    await opening

    assert report.events_sent == 5
    assert rivals.batches == 0  # the rival never got the batch, though it polled throughout
    assert len(gate.arrivals) == 1
    assert len(emu.state.events) == 5
    with reading(store) as conn:
        attempts = conn.execute(sa.select(schema.outbox.c.attempts)).scalars().all()
        assert outbox.counts(conn)["done"] == 5
    assert set(attempts) == {1}


def rival_in_a_thread(
    engine: Engine, base_url: str, stop: threading.Event, reports: list[DeliveryReport]
) -> threading.Thread:
    """A second worker with its own event loop, free while the first one's loop is held."""

    async def work() -> None:
        async with BrevoClient(
            API_KEY, base_url, backoff=FAST_CLIENT, limiter=LocalRateLimiter({})
        ) as client:
            stopping = asyncio.Event()
            running = asyncio.create_task(
                deliverer(engine, client, owner="rival", lease_s=LEASE_S,
                          poll_interval_s=0.05).run(stopping)
            )  # fmt: skip
            await asyncio.to_thread(stop.wait)
            stopping.set()
            reports.append(await running)

    thread = threading.Thread(target=lambda: asyncio.run(work()), daemon=True)
    thread.start()
    return thread


async def test_a_blocked_event_loop_does_not_let_the_lease_lapse(
    store: Engine,
    brevo: BrevoClient,
    emu: BrevoEmulator,
    server: tuple[SwappableApp, str],
    base_url: str,
) -> None:
    gate = Gate(emu.app, "/events")
    server[0].app = gate
    enqueue(store, *events(5))
    sending = asyncio.create_task(
        deliverer(store, brevo, owner="first", lease_s=LEASE_S).drain(deadline_s=20)
    )
    while not gate.arrived.is_set():  # noqa: ASYNC110 (a threading.Event)
        await asyncio.sleep(0.01)
    stop, rivals = threading.Event(), []
    rival = rival_in_a_thread(store, base_url, stop, rivals)
    threading.Timer(HOLD_S - 0.5, gate.open).start()
    time.sleep(HOLD_S)  # noqa: ASYNC251 (a step holding the event loop: 3.5 leases)
    report = await sending
    stop.set()
    await asyncio.to_thread(rival.join)

    assert (report.events_sent, rivals[0].batches) == (5, 0)
    assert len(emu.state.events) == 5
    with reading(store) as conn:
        attempts = conn.execute(sa.select(schema.outbox.c.attempts)).scalars().all()
    assert set(attempts) == {1}
