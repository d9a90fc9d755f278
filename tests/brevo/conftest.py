"""A Brevo emulator behind a real loopback server, fresh for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.serving import serving

API_KEY = "xkeysib-sandbox-test-key"


class SwappableApp:
    """One uvicorn server for the module; each test plugs in its own emulator."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[SwappableApp, str]]:
    swap = SwappableApp()
    with serving(swap) as base:
        yield swap, base


@pytest.fixture
def emu(server: tuple[SwappableApp, str]) -> BrevoEmulator:
    emulator = BrevoEmulator(api_keys={API_KEY})
    server[0].app = emulator.app
    return emulator


@pytest.fixture
def base_url(server: tuple[SwappableApp, str], emu: BrevoEmulator) -> str:
    return f"{server[1]}/v3"


FAST_RETRIES = BackoffPolicy(base_s=0.01, cap_s=0.05, max_attempts=4)


@pytest.fixture
async def brevo(base_url: str) -> AsyncIterator[BrevoClient]:
    limiter = LocalRateLimiter(limits_for("general"))
    async with BrevoClient(API_KEY, base_url, backoff=FAST_RETRIES, limiter=limiter) as client:
        yield client
