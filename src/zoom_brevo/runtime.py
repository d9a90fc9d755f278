"""The background worker that ``serve`` (in-process) and ``worker`` run, wired from settings.

For now it is the outbox delivery loop; the inbox event handlers join it here later, each
as another coroutine watching the same ``stop`` event.
"""

from __future__ import annotations

import asyncio
import os
import socket

from sqlalchemy.engine import Engine

from zoom_brevo.config import Settings
from zoom_brevo.server.background import Worker
from zoom_brevo.wiring import brevo_client


def worker_owner() -> str:
    """This process's name on leases it takes: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def background_worker(settings: Settings, engine: Engine) -> Worker:
    """The processing + delivery worker for ``settings`` over ``engine``."""

    async def work(stop: asyncio.Event) -> None:
        from zoom_brevo.delivery.worker import Deliverer  # noqa: PLC0415 (keeps CLI start-up fast)

        async with brevo_client(settings) as brevo:
            await Deliverer(engine, brevo, owner=worker_owner()).run(stop)

    return work
