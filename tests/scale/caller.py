"""A process that makes Zoom and Brevo calls through the shared limiter (run by the tests).

``python -m tests.scale.caller CONFIG MEETING_ID UUID ZOOM_CALLS BREVO_CALLS TAG LIMITER``
warms up, prints ``ready`` and waits for a line on stdin (so that every process starts
together); then it makes ``ZOOM_CALLS`` light and heavy Zoom calls each and
``BREVO_CALLS`` contact upserts and events each, four at a time per kind, with clients
wired as ``worker`` wires them (``wiring.shared_limiter(settings, engine)``), or
with ``LIMITER`` ``local``, each process with its own buckets.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from zoom_brevo.brevo.models import Event
from zoom_brevo.config import Settings, load_settings
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.wiring import api_limits, brevo_client, open_store, shared_limiter, zoom_client

CONCURRENCY = 4


async def spread(count: int, call: Callable[[int], Awaitable[object]]) -> None:
    async def lane(start: int) -> None:
        for n in range(start, count, CONCURRENCY):
            await call(n)

    await asyncio.gather(*(lane(i) for i in range(CONCURRENCY)))


def local(settings: Settings) -> LocalRateLimiter:
    """Buckets of this process only, as if it were alone on the account."""
    return LocalRateLimiter(api_limits(settings))


async def main(argv: list[str]) -> None:
    config, meeting_id, uuid, zoom_calls, brevo_calls, tag, limiter = argv
    settings = load_settings(Path(config), {})
    engine = open_store(settings)
    shared = shared_limiter(settings, engine) if limiter == "shared" else local(settings)
    async with (
        zoom_client(settings, shared) as zoom,
        brevo_client(settings, shared) as brevo,
    ):

        async def light(_: int) -> None:
            await zoom.meeting(meeting_id)

        async def heavy(_: int) -> None:
            async for _p in zoom.meeting_participant_report(uuid):
                pass

        async def contact(n: int) -> None:
            await brevo.upsert_contact(f"p{tag}-{n}@example.com")

        async def event(n: int) -> None:
            await brevo.send_event(
                Event(
                    event_name="zoom_attended", identifiers={"email_id": f"p{tag}-{n}@example.com"}
                )
            )

        await zoom.verify_credentials()
        # One call of each kind first: connections, lazy imports and model schemas are
        # warm, so the measured run shows the steady state (its buckets refill meanwhile).
        for warm_up in (light, heavy, contact, event):
            await warm_up(-1)
        print("ready", flush=True)  # noqa: T201
        await asyncio.to_thread(sys.stdin.readline)
        begun = time.time()
        await asyncio.gather(
            spread(int(zoom_calls), light),
            spread(int(zoom_calls), heavy),
            spread(int(brevo_calls), contact),
            spread(int(brevo_calls), event),
        )
    engine.dispose()
    print(json.dumps({"tag": tag, "elapsed_s": time.time() - begun}))  # noqa: T201


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
