"""Jobs against the emulators in process: the sandbox behind an ASGI transport, clients of
its Zoom and Brevo, a clock the test moves, and the test's store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.dispatch import InboxProcessor
from zoom_brevo.handlers.jobs import JobDeps, JobRunner
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.combined import (
    BREVO_API_KEY,
    ZOOM_ACCOUNT_ID,
    ZOOM_CLIENT_ID,
    ZOOM_CLIENT_SECRET,
    Sandbox,
    build_sandbox,
)  # fmt: skip
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.webhook_sender import ZoomEvents
from zoom_brevo.zoom import paging
from zoom_brevo.zoom.categories import zoom_limits
from zoom_brevo.zoom.client import ZoomClient

from .conftest import put

MIN = timedelta(minutes=1)
BASE = "http://sandbox.test"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Env:
    box: Sandbox
    zoom: ZoomClient
    brevo: BrevoClient
    clock: Clock
    engine: Engine
    events: ZoomEvents

    def runner(self, options: HandlerOptions) -> JobRunner:
        deps = JobDeps(self.engine, self.zoom, options)
        return JobRunner(deps, owner="test", clock=self.clock)

    def webhooks(self, options: HandlerOptions, *payloads: dict[str, Any]) -> None:
        for payload in payloads:
            put(self.engine, payload, now=self.clock.now)
        assert InboxProcessor(self.engine, options, self.clock).process_all().failed == 0


@contextlib.asynccontextmanager
async def sandbox_env(
    engine: Engine, scenario: Scenario, now: datetime, *, zoom_page_size: int = paging.PAGE_SIZE
) -> AsyncIterator[Env]:
    """``scenario`` emulated (rate limits off), clients of it, the clock at ``now``."""
    box = build_sandbox(scenario, enforce_rate_limits=False, prepare_brevo=True)
    transport = httpx.ASGITransport(app=box.app)
    zoom = ZoomClient.server_to_server(
        account_id=ZOOM_ACCOUNT_ID, client_id=ZOOM_CLIENT_ID, client_secret=ZOOM_CLIENT_SECRET,
        api_base_url=f"{BASE}/zoom/v2", oauth_base_url=f"{BASE}/zoom", transport=transport,
        limiter=LocalRateLimiter(zoom_limits("pro")), page_size=zoom_page_size,
    )  # fmt: skip
    brevo = BrevoClient(
        BREVO_API_KEY, base_url=f"{BASE}/brevo/v3", transport=transport,
        limiter=LocalRateLimiter(limits_for("general")),
    )  # fmt: skip
    async with zoom, brevo:
        yield Env(box, zoom, brevo, Clock(now), engine, ZoomEvents(account_id=ZOOM_ACCOUNT_ID))
