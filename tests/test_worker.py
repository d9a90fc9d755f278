"""The background worker's loops outlive a database outage instead of ending the worker."""

from __future__ import annotations

import asyncio

import pytest

from tests.config.test_loader import _zoom_with
from zoom_brevo.config import parse_settings
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.errors import StoreError
from zoom_brevo.store.notify import Waker, Wakeup
from zoom_brevo.worker import _deliver, _poll, handler_options


class DeliveryCutByAnOutage:
    """A deliverer whose first run ends with the database going away."""

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, stop: asyncio.Event, _wakeup: Wakeup) -> DeliveryReport:
        self.runs += 1
        if self.runs == 1:
            raise StoreError("database unavailable: connection refused")
        stop.set()
        return DeliveryReport()


@pytest.mark.timeout(5)
async def test_delivery_runs_again_after_the_database_failed_under_it() -> None:
    deliverer = DeliveryCutByAnOutage()
    await _deliver(deliverer, asyncio.Event(), 0.01, Wakeup())  # type: ignore[arg-type]
    assert deliverer.runs == 2


@pytest.mark.timeout(5)
async def test_other_errors_still_end_the_worker() -> None:
    class Refused:
        async def run(self, _stop: asyncio.Event, _wakeup: Wakeup) -> DeliveryReport:
            raise RuntimeError("credentials refused")

    with pytest.raises(RuntimeError, match="credentials refused"):
        await _deliver(Refused(), asyncio.Event(), 0.01, Wakeup())  # type: ignore[arg-type]


def test_live_webhooks_use_the_configured_attendance_tiers() -> None:
    settings = parse_settings(_zoom_with("    sync:\n      attendance_tiers: [50, 90]\n"), {})
    options = handler_options(settings).sync_options()
    assert options.tiers == (90, 50)


@pytest.mark.timeout(10)
async def test_a_loop_that_did_work_wakes_the_other_loops_at_once() -> None:
    waker = Waker(None)  # SQLite: no notifications, plain polling
    jobs = waker.wakeup()
    stop = asyncio.Event()
    results = iter([True, False])

    async def inbox_step() -> bool:
        busy = next(results, False)
        if not busy:
            stop.set()
        return busy

    await _poll("inbox", inbox_step, stop, 60.0, waker.wakeup(), on_busy=waker.fire)

    assert await jobs.wait(0.0)  # woken now, not at its next 60 s poll


@pytest.mark.timeout(10)
async def test_an_idle_loop_wakes_nobody() -> None:
    waker = Waker(None)
    jobs = waker.wakeup()
    stop = asyncio.Event()

    async def idle_step() -> bool:
        stop.set()
        return False

    await _poll("inbox", idle_step, stop, 60.0, waker.wakeup(), on_busy=waker.fire)

    assert not await jobs.wait(0.0)
