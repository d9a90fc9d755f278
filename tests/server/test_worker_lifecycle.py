"""The worker beside the server: started with the app, stopped (bounded) when it stops."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.sandbox.webhook_sender import WebhookSender
from zoom_brevo.server.app import WEBHOOK_PATH, create_app
from zoom_brevo.server.runner import run_worker_process
from zoom_brevo.server.webhooks import WebhookOptions

from .conftest import SECRET, running_with_lifespan, stored
from .test_webhook_endpoint import STARTED


class Recorder:
    """A worker that notes what happened to it (set from the server's thread)."""

    def __init__(self, *, ignore_stop: bool = False, fail: bool = False) -> None:
        self.started = threading.Event()
        self.stopped_cleanly = threading.Event()
        self.cancelled = threading.Event()
        self._ignore_stop = ignore_stop
        self._fail = fail

    async def __call__(self, stop: asyncio.Event) -> None:
        self.started.set()
        if self._fail:
            raise RuntimeError("worker broke")
        try:
            if self._ignore_stop:
                await asyncio.sleep(3600)
            await stop.wait()
            self.stopped_cleanly.set()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


def test_the_worker_runs_with_the_app_and_is_stopped_when_the_server_stops(
    engine: Engine,
) -> None:
    worker = Recorder()
    app = create_app(WebhookOptions(secret_token=SECRET), engine, worker=worker)
    with running_with_lifespan(app) as server:
        assert worker.started.wait(5)
        assert not worker.stopped_cleanly.is_set()
        server.stop()
        assert not server.thread.is_alive()
    assert worker.stopped_cleanly.is_set()
    assert not worker.cancelled.is_set()


def test_a_worker_that_ignores_stop_is_cancelled_after_the_bound(engine: Engine) -> None:
    worker = Recorder(ignore_stop=True)
    app = create_app(
        WebhookOptions(secret_token=SECRET), engine, worker=worker, worker_stop_timeout_s=0.2
    )
    with running_with_lifespan(app) as server:
        assert worker.started.wait(5)
        server.stop(timeout_s=5)
        assert not server.thread.is_alive()
    assert worker.cancelled.is_set()


async def test_a_failed_worker_does_not_stop_webhook_intake(engine: Engine) -> None:
    worker = Recorder(fail=True)
    app = create_app(WebhookOptions(secret_token=SECRET), engine, worker=worker)
    with running_with_lifespan(app) as server:
        assert worker.started.wait(5)
        async with httpx.AsyncClient(base_url=server.url) as http:
            delivery = await WebhookSender(WEBHOOK_PATH, SECRET, client=http).send(STARTED)
            metrics = (await http.get("/metrics")).text
    assert delivery.status == 200
    assert len(stored(engine)) == 1
    assert "zoom_brevo_worker_up 0.0" in metrics


def test_a_worker_process_ends_with_its_workers_error() -> None:
    with pytest.raises(RuntimeError, match="worker broke"):
        run_worker_process(Recorder(fail=True))


def test_a_worker_process_returns_when_its_worker_finishes() -> None:
    async def short(stop: asyncio.Event) -> str:
        return "done"

    run_worker_process(short)
