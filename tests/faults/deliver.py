"""A worker process for the fault tests: delivers the outbox until it is empty.

``python -m tests.faults.deliver DB_URL BREVO_URL OWNER``: a ``Deliverer`` with short
leases (so that a killed worker's batch is taken over quickly), contacts upserted one by
one, calls throttled by the shared ``DatabaseRateLimiter``.
"""

from __future__ import annotations

import asyncio
import sys

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.delivery.worker import Deliverer
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import create_engine, transaction
from zoom_brevo.store.shared_limits import DatabaseRateLimiter

API_KEY = "xkeysib-faults"
LEASE_S = 3.0


async def main(url: str, brevo_url: str, owner: str) -> None:
    engine = create_engine(url)
    limiter = DatabaseRateLimiter(engine, limits_for("general"))
    async with BrevoClient(API_KEY, base_url=brevo_url, limiter=limiter) as brevo:
        deliverer = Deliverer(
            engine,
            brevo,
            owner=owner,
            import_threshold=10**9,
            batch_size=10,
            lease_s=LEASE_S,
            poll_interval_s=0.2,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(deliverer.run(stop))
        print("ready", flush=True)  # noqa: T201
        while True:
            await asyncio.sleep(0.5)
            with transaction(engine) as conn:
                left = outbox.counts(conn)
            if left["queued"] + left["running"] == 0:
                break
        stop.set()
        await running
    engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
