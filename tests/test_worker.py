"""The background worker's loops outlive a database outage instead of ending the worker."""

from __future__ import annotations

import asyncio

import pytest

from tests.config.test_loader import _zoom_with
from zoom_brevo.config import parse_settings
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.errors import StoreError
from zoom_brevo.store.notify import Wakeup
from zoom_brevo.worker import _deliver, handler_options


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
    options = handler_options(settings).sync_options().derive_options()
    assert options.tiers == (90, 50)
