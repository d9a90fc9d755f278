"""In-doubt event batches: Brevo's listing is read before sending again, only the rest is
sent; when the listing fails, ``delivery.in_doubt`` holds them (until ``retry``) or resends.

A worker that "died" mid-send is played in the store: it claimed the batch, marked it
sending and Brevo received part of it; its lease then expired. SQLite and PostgreSQL,
the Brevo emulator over loopback HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.delivery.conftest import API_KEY, FAST_CLIENT, SwappableApp, deliverer, enqueue
from tests.delivery.test_lease import store  # noqa: F401
from tests.faults.gate import Gate
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery.effects import event_of
from zoom_brevo.pipeline.commands import SendEvent
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.store import deadletters, outbox, schema
from zoom_brevo.store.engine import reading, transaction

N = 5
LANDED = 3  # of the batch, Brevo received these before the worker died


def events() -> list[SendEvent]:
    return [
        SendEvent(
            event_name="zoom_attended",
            email=f"p{i}@example.com",
            ledger_key=f"zoom_attended:m1:p{i}@example.com",
            event_properties={"meeting_uuid": "m1", "minutes_attended": 30 + i},
            event_date="2026-12-01T10:00:00+00:00",
        )
        for i in range(N)
    ]


async def died_mid_send(engine: Engine, brevo: BrevoClient, landed: int) -> None:
    """Queue the events; a worker claims them, marks them sending, Brevo gets ``landed``
    of them, the worker dies; its 50 ms lease expires."""
    commands = events()
    for command in commands:
        await brevo.upsert_contact(command.email)
    enqueue(engine, *commands)
    with transaction(engine) as conn:
        claimed = outbox.claim_batch(
            conn, limit=N, owner="dead", lease_s=0.05, now=datetime.now(UTC)
        )
        outbox.mark_sending(conn, [c.id for c in claimed], owner="dead", now=datetime.now(UTC))
    if landed:
        await brevo.send_events([event_of(c) for c in commands[:landed]])
    await asyncio.sleep(0.1)


def received(emu: BrevoEmulator) -> Counter[str]:
    return Counter(str(e.identifiers["email_id"]) for e in emu.state.events)


def rows(engine: Engine) -> set[tuple[str, bool]]:
    with reading(engine) as conn:
        c = schema.outbox.c
        found = conn.execute(sa.select(c.state, c.send_started_at))
        return {(row.state, row.send_started_at is not None) for row in found}


async def test_an_in_doubt_batch_sends_only_what_brevo_does_not_hold(
    store: Engine,  # noqa: F811
    brevo: BrevoClient,
    emu: BrevoEmulator,
) -> None:
    await died_mid_send(store, brevo, LANDED)
    before = len(emu.stats.log)

    report = await deliverer(store, brevo, owner="heir").drain(deadline_s=10)

    looked = Counter(r.path.split("/")[1] for r in emu.stats.log[before:] if r.method == "GET")
    # Each contact's id by e-mail, then the events of all five contacts in one listing.
    assert looked == Counter({"contacts": N, "events": 1})

    assert received(emu) == Counter({f"p{i}@example.com": 1 for i in range(N)})
    assert (report.in_doubt_checked, report.in_doubt_found) == (N, LANDED)
    assert report.events_sent == N - LANDED
    assert rows(store) == {("done", False)}


async def test_a_batch_that_is_not_in_doubt_is_sent_without_looking(
    store: Engine,  # noqa: F811
    brevo: BrevoClient,
    emu: BrevoEmulator,
) -> None:
    enqueue(store, *events())
    report = await deliverer(store, brevo).drain(deadline_s=10)
    assert report.in_doubt_checked == 0
    assert not any(r.method == "GET" for r in emu.stats.log)
    assert sum(received(emu).values()) == N


def listing_down(emu: BrevoEmulator, status: int = 503) -> None:
    now = time.time()
    emu.faults.fail_during(now, now + 60, status=status, path_contains="/contacts/p")


async def test_when_the_listing_fails_hold_keeps_them_until_retry(
    store: Engine,  # noqa: F811
    brevo: BrevoClient,
    emu: BrevoEmulator,
) -> None:
    await died_mid_send(store, brevo, 0)
    listing_down(emu)

    # About 300 refused calls in all (15 attempts, 5 lookups, the client's own retries).
    report = await deliverer(store, brevo, owner="heir", in_doubt="hold").drain(deadline_s=60)

    # Asked again at later attempts while Brevo answers 503; held once out of attempts.
    assert report.in_doubt_checked >= 10 * N
    assert report.held_in_doubt == N
    assert received(emu) == Counter()
    assert rows(store) == {("dead", True)}
    with reading(store) as conn:
        assert outbox.in_doubt(conn) == {"pending": 0, "held": N}
        [letter, *_] = deadletters.list_dead(conn)
    assert letter.last_error is not None
    assert letter.last_error.startswith("in doubt, held")
    assert "zoom-brevo retry" in letter.last_error

    emu.faults.clear()
    with transaction(store) as conn:
        assert deadletters.requeue_all(conn, now=datetime.now(UTC)) == N
    again = await deliverer(store, brevo, owner="heir").drain(deadline_s=10)
    assert again.in_doubt_checked == 0  # the operator's retry sends them
    assert received(emu) == Counter({f"p{i}@example.com": 1 for i in range(N)})
    assert rows(store) == {("done", False)}


async def test_when_the_listing_is_refused_resend_sends_them_at_once(
    store: Engine,  # noqa: F811
    brevo: BrevoClient,
    emu: BrevoEmulator,
) -> None:
    await died_mid_send(store, brevo, 0)
    listing_down(emu, status=400)  # not transient: no use asking again

    report = await deliverer(store, brevo, owner="heir", in_doubt="resend").drain(deadline_s=10)

    assert (report.in_doubt_checked, report.held_in_doubt, report.events_sent) == (N, 0, N)
    assert received(emu) == Counter({f"p{i}@example.com": 1 for i in range(N)})
    assert rows(store) == {("done", False)}


async def test_a_send_left_without_an_answer_is_in_doubt_and_not_sent_twice(
    store: Engine,  # noqa: F811
    brevo: BrevoClient,
    emu: BrevoEmulator,
    server: tuple[SwappableApp, str],
    base_url: str,
) -> None:
    for command in events():
        await brevo.upsert_contact(command.email)
    gate = Gate(emu.app, "/events/batch", answer_late=True)  # accepted, answered too late
    server[0].app = gate
    enqueue(store, *events())
    try:
        async with BrevoClient(
            API_KEY, base_url, backoff=FAST_CLIENT, limiter=LocalRateLimiter({}), timeout_s=0.5
        ) as impatient:
            report = await deliverer(store, impatient).drain(deadline_s=10)
    finally:
        gate.open()  # the answer never reached the worker

    assert len(gate.arrivals) == 1  # the retry found every event at Brevo: no second send
    assert (report.in_doubt_checked, report.in_doubt_found, report.events_sent) == (N, N, 0)
    assert received(emu) == Counter({f"p{i}@example.com": 1 for i in range(N)})
    assert rows(store) == {("done", False)}
