"""When imports are read, through the emulated Brevo over HTTP, in virtual time.

The deliverer and the emulator share one virtual clock, advanced by the deliverer's sleeps,
so the tests see the schedule's decisions (how long it waited, how many reads it made)
without waiting for them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from tests.delivery.conftest import API_KEY, SwappableApp, calls, deliverer, enqueue, paths
from tests.delivery.test_worker import attended, attendee
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.sandbox.brevo import BrevoEmulator, Options
from zoom_brevo.sandbox.combined import prepare_brevo_account

pytestmark = pytest.mark.timeout(60)
PEOPLE = 60


class VirtualTime:
    """A clock that moves only when the deliverer sleeps; the sleeps are kept."""

    def __init__(self) -> None:
        self.t = time.time()
        self.sleeps: list[float] = []

    def seconds(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


def emulator(
    server: tuple[SwappableApp, str], clock: VirtualTime, delay_s: float
) -> tuple[BrevoEmulator, int]:
    """Serve an emulator that applies imports ``delay_s`` after they arrive; and a list id."""
    emu = BrevoEmulator(
        api_keys={API_KEY},
        enforce_rate_limits=False,
        options=Options(import_delay_s=delay_s),
        clock=clock.seconds,
    )
    server[0].app = emu.app
    return emu, prepare_brevo_account(emu.state)["meeting_participants"]


async def sync_contacts(
    engine: Engine, brevo: BrevoClient, server: tuple[SwappableApp, str], delay_s: float
) -> tuple[VirtualTime, BrevoEmulator, int]:
    """Import ``PEOPLE`` contacts as ``sync`` does, with the plan's default schedule."""
    clock = VirtualTime()
    emu, list_id = emulator(server, clock, delay_s)
    enqueue(engine, *(attendee(n, list_id) for n in range(PEOPLE)))
    clock.t = time.time()  # after the rows were queued, so they are due
    worker = deliverer(
        engine, brevo, import_threshold=5, import_checks=None, clock=clock.now, sleep=clock.sleep
    )
    report = await worker.drain(deadline_s=3600, wait_for_imports=True, contacts_first=True)
    assert report.contacts_imported == PEOPLE
    assert report.imports_completed == 1
    return clock, emu, report.pending_imports


@pytest.fixture
def server_of(server: tuple[SwappableApp, str], emu: BrevoEmulator) -> tuple[SwappableApp, str]:
    return server


async def test_a_small_import_is_seen_done_at_the_first_read_without_a_10_s_wait(
    engine: Engine, brevo: BrevoClient, server_of: tuple[SwappableApp, str]
) -> None:
    clock, emu, pending = await sync_contacts(engine, brevo, server_of, delay_s=0.5)

    expected = CheckSchedule.for_plan("general").first_s(PEOPLE)
    assert expected < 1.1
    assert sum(clock.sleeps) == pytest.approx(expected, abs=0.05)  # was 10 s
    assert calls(emu, "/processes", "GET") == 1
    assert pending == 0


async def test_an_import_slower_than_estimated_is_read_again_at_doubling_waits(
    engine: Engine, brevo: BrevoClient, server_of: tuple[SwappableApp, str]
) -> None:
    clock, emu, pending = await sync_contacts(engine, brevo, server_of, delay_s=5.0)

    first = CheckSchedule.for_plan("general").first_s(PEOPLE)
    waits = [s for s in clock.sleeps if s > 0]
    assert waits == pytest.approx([first, 2 * first, 4 * first], abs=0.05)
    assert calls(emu, "/processes", "GET") == 3  # queued, queued, completed
    assert pending == 0


async def test_by_default_a_meetings_contacts_go_in_one_import_from_ten_on_general(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    list_id = lists["meeting_participants"]
    enqueue(engine, *(attendee(n, list_id) for n in range(10)))
    await deliverer(engine, brevo, import_threshold=None).drain(deadline_s=10)
    enqueue(engine, *(attendee(n, list_id) for n in range(10, 19)))
    await deliverer(engine, brevo, import_threshold=None).drain(deadline_s=10)

    assert calls(emu, "/contacts/import") == 1  # the 10; 50 single upserts took 5 s
    assert paths(emu).count("POST /contacts") == 9  # the 9 after them, one each


async def test_the_running_worker_sends_events_held_for_an_import_when_it_is_read(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    list_id = lists["meeting_participants"]
    enqueue(engine, *(attendee(n, list_id) for n in range(5)))
    enqueue(engine, *(attended(n) for n in range(5)))
    # Polling every 60 s: the events must go when the import is read (0.05 s), not then.
    checks = CheckSchedule(start_s=0.05, cap_s=0.1)
    worker = deliverer(
        engine, brevo, import_threshold=5, import_checks=checks, poll_interval_s=60.0
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(20):
            while len(emu.state.events) < 5:  # noqa: ASYNC110 - the emulator has no event
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
    assert calls(emu, "/contacts/import") == 1
