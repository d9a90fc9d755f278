"""A real server over loopback: the app on a migrated SQLite store, and a signing sender."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.webhook_sender import WebhookSender
from zoom_brevo.server.app import WEBHOOK_PATH, create_app
from zoom_brevo.server.webhooks import WebhookOptions
from zoom_brevo.store import inbox, schema
from zoom_brevo.store.engine import create_engine, migrate, reading

SECRET = "test-webhook-secret"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "store.db"
    eng = create_engine(f"sqlite:///{path}")
    migrate(eng)
    eng.dispose()
    return path


@pytest.fixture
def engine(tmp_path: Path, migrated_template: Path) -> Iterator[Engine]:
    """A migrated SQLite store of its own (busy timeout short, so a lock shows fast)."""
    shutil.copyfile(migrated_template, tmp_path / "store.db")
    eng = create_engine(f"sqlite:///{tmp_path / 'store.db'}", busy_timeout_ms=200)
    yield eng
    eng.dispose()


@pytest.fixture
def options() -> WebhookOptions:
    return WebhookOptions(secret_token=SECRET)


@pytest.fixture
def app(options: WebhookOptions, engine: Engine) -> Starlette:
    return create_app(options, engine)


@pytest.fixture
def base_url(app: Starlette) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        yield http


@pytest.fixture
def sender(client: httpx.AsyncClient) -> WebhookSender:
    return WebhookSender(WEBHOOK_PATH, SECRET, client=client)


def stored(engine: Engine) -> list[inbox.InboxEvent]:
    """Every inbox row, whatever its status (a worker may have processed it), oldest first."""
    with reading(engine) as conn:
        ids = conn.execute(sa.select(schema.inbox.c.id).order_by(schema.inbox.c.id)).scalars()
        return [event for event in (inbox.get(conn, i) for i in ids) if event is not None]


@dataclass
class Running:
    """A uvicorn server in a thread with the lifespan on (so workers start and stop)."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout_s: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout_s)


@contextlib.contextmanager
def running_with_lifespan(app: Any) -> Iterator[Running]:
    """Run ``app`` like ``serve`` does (lifespan on), in a thread; stop it on exit."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    handle = Running(f"http://127.0.0.1:{port}", server, thread)
    try:
        yield handle
    finally:
        handle.stop()
