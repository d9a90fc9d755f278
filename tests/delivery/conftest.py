"""A Brevo emulator on loopback, a migrated store, and helpers to queue commands and drain.

The emulator runs with rate limits off (these tests are not about limits) and both retry
layers (the client's and the worker's) use millisecond backoffs, so waits stay short.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import pg_schema
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.delivery.worker import Deliverer
from zoom_brevo.pipeline.commands import Command
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.combined import prepare_brevo_account
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import engine as store_engine
from zoom_brevo.store import outbox
from zoom_brevo.store.outbox import NewCommand

API_KEY = "xkeysib-delivery-test"
FAST_CLIENT = BackoffPolicy(base_s=0.005, cap_s=0.02, max_attempts=4)
FAST_OUTBOX = BackoffPolicy(base_s=0.01, cap_s=0.05)
FAST_IMPORT_CHECKS = CheckSchedule(start_s=0.02, cap_s=0.1)


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
    emulator = BrevoEmulator(api_keys={API_KEY}, enforce_rate_limits=False)
    server[0].app = emulator.app
    return emulator


@pytest.fixture
def lists(emu: BrevoEmulator) -> dict[str, int]:
    """The connector's attributes and one list per role, as ``setup-brevo`` makes them."""
    return prepare_brevo_account(emu.state)


@pytest.fixture
def base_url(server: tuple[SwappableApp, str], emu: BrevoEmulator) -> str:
    return f"{server[1]}/v3"


@pytest.fixture
async def brevo(base_url: str) -> AsyncIterator[BrevoClient]:
    async with BrevoClient(
        API_KEY, base_url, backoff=FAST_CLIENT, limiter=LocalRateLimiter({})
    ) as client:
        yield client


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("delivery") / "template.db"
    engine = store_engine.create_engine(f"sqlite:///{path}")
    store_engine.migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "store.db"
    shutil.copyfile(sqlite_template, path)
    eng = store_engine.create_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    with pg_schema(pg_url) as url:
        eng = store_engine.create_engine(url)
        store_engine.migrate(eng)
        yield eng
        eng.dispose()


def now() -> datetime:
    return datetime.now(UTC)


def enqueue(engine: Engine, *commands: Command) -> list[int]:
    """Queue pipeline commands as the pipeline does; return their outbox ids."""
    with store_engine.transaction(engine) as conn:
        return [
            outbox.add(
                conn,
                NewCommand(command.kind, command.to_payload(), command.coalescing_key),
                now=now(),
            )
            for command in commands
        ]


def deliverer(engine: Engine, brevo: BrevoClient, **options: Any) -> Deliverer:
    settings: dict[str, Any] = {
        "owner": "test-worker",
        "retry_policy": FAST_OUTBOX,
        "import_checks": FAST_IMPORT_CHECKS,
        **options,
    }
    return Deliverer(engine, brevo, **settings)


def calls(emu: BrevoEmulator, fragment: str, method: str = "POST") -> int:
    """How many API calls the emulator answered whose path contains ``fragment``."""
    return sum(1 for r in emu.stats.log if fragment in r.path and r.method == method)


def paths(emu: BrevoEmulator) -> Sequence[str]:
    return [f"{r.method} {r.path}" for r in emu.stats.log]
