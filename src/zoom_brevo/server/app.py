"""The ASGI application: webhook intake, health, readiness and metrics, plus the worker.

``create_app`` takes plain values and objects; ``webhook_options`` is the one place that
reads the settings for it. The optional worker runs on the server's event loop for the
app's lifetime and is stopped (bounded) when the server shuts down, after in-flight
requests have been answered.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from zoom_brevo.config import Settings
from zoom_brevo.errors import ConfigError
from zoom_brevo.server.background import DEFAULT_STOP_TIMEOUT_S, Worker, WorkerTask
from zoom_brevo.server.health import healthz, readyz
from zoom_brevo.server.inbox_writer import DEFAULT_MAX_BATCH, InboxWriter
from zoom_brevo.server.metrics import Metrics
from zoom_brevo.server.webhooks import WebhookEndpoint, WebhookOptions

WEBHOOK_PATH = "/webhooks/zoom"


def webhook_options(settings: Settings) -> WebhookOptions:
    """The webhook endpoint's options; a missing secret token is a configuration error."""
    zoom = settings.connectors.zoom
    secret = zoom.webhook.secret_token
    if secret is None:
        raise ConfigError(
            "is required to verify Zoom's webhooks (your app's Secret Token, Features ->"
            " Event Subscriptions)",
            key="connectors.zoom.webhook.secret_token",
        )
    return WebhookOptions(
        secret_token=secret.get_secret_value(),
        tolerance_s=zoom.webhook.tolerance_s,
        log_webhooks=zoom.log_webhooks,
    )


def create_app(
    options: WebhookOptions,
    engine: Engine,
    *,
    metrics: Metrics | None = None,
    worker: Worker | None = None,
    worker_stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
    clock: Callable[[], float] = time.time,
    max_batch: int = DEFAULT_MAX_BATCH,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The server's ASGI app over ``engine`` (already migrated).

    ``app.state.metrics`` holds the :class:`Metrics` (given or new) for others to record
    into. ``worker`` runs while the app's lifespan does (uvicorn with ``lifespan="on"``).
    """
    metrics = metrics if metrics is not None else Metrics()
    metrics.watch_store(engine)
    writer = InboxWriter(engine, clock=clock, max_batch=max_batch)
    webhook = WebhookEndpoint(options, writer, metrics, clock=clock)

    async def metrics_endpoint(_request: Request) -> Response:
        body, content_type = await run_in_threadpool(metrics.render)
        return Response(body, media_type=content_type)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if worker is None:
            yield
            return
        task = WorkerTask(worker, on_exit=lambda: metrics.worker_up.set(0))
        metrics.worker_up.set(1)
        task.start()
        try:
            yield
        finally:
            await task.shutdown(worker_stop_timeout_s)

    app = _WebhookFirst(
        webhook,
        routes=[
            Route(WEBHOOK_PATH, webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz(engine), methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *extra_routes,  # e.g. server.oauth_routes.oauth_routes_for(settings, engine)
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    return app


class _WebhookFirst(Starlette):
    """Starlette, with ``POST /webhooks/zoom`` handed to its endpoint before the middleware.

    Webhooks are nearly all the traffic, and Starlette's error middleware, routing and
    per-request wrappers cost about as much CPU as the endpoint's own work. The route stays
    in the table too, for the requests this shortcut does not take (a ``root_path``, other
    methods, which get Starlette's 405).
    """

    def __init__(self, webhook: WebhookEndpoint, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._webhook = webhook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: a webhook directly, anything else through Starlette."""
        if (
            scope["type"] == "http"
            and scope["path"] == WEBHOOK_PATH
            and scope["method"] == "POST"
            and not scope.get("root_path")
        ):
            await self._webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
