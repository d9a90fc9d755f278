"""``zoom-brevo serve``: the webhook server, with the worker in-process unless --no-worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import structlog
import typer
from starlette.routing import BaseRoute

from zoom_brevo.cli.context import state_of
from zoom_brevo.cli.sandbox_cmd import ensure_free

if TYPE_CHECKING:  # the server's imports load only when serving (CLI start-up time)
    from sqlalchemy.engine import Engine
    from starlette.applications import Starlette

    from zoom_brevo.config import Settings


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to listen on (default: server.host).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="TCP port (default: server.port)."),
    ] = None,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker", help="Only receive webhooks; run `zoom-brevo worker` elsewhere."
        ),
    ] = False,
) -> None:
    """Run the webhook server, with the worker unless --no-worker.

    Receives Zoom webhooks on POST /webhooks/zoom; serves /healthz, /readyz and /metrics.
    Also /admin when server.admin_token is set, /oauth/authorize + /oauth/callback when
    connectors.zoom.oauth is, and Brevo's list-addition webhook on POST /webhooks/brevo when
    connectors.zoom.registration.brevo_webhook_token is. Runs until SIGTERM or Ctrl-C, then
    answers the requests in flight, stops the worker and exits 0.
    """
    from zoom_brevo.admin import site_routes_for  # noqa: PLC0415
    from zoom_brevo.server.brevo_webhook import brevo_webhook_routes  # noqa: PLC0415
    from zoom_brevo.server.runner import run_server, stop_during_start  # noqa: PLC0415
    from zoom_brevo.wiring import open_store  # noqa: PLC0415

    with stop_during_start():
        settings = state_of(ctx).settings(quiet=False)
        bind_host = host or settings.server.host
        bind_port = port or settings.server.port
        ensure_free(bind_host, bind_port)
        engine = open_store(settings)
        try:
            # /admin, /oauth/*, /webhooks/brevo: each only if configured
            routes = [*site_routes_for(settings, engine), *brevo_webhook_routes(settings, engine)]
            app = serve_app(settings, engine, worker=not no_worker, routes=routes)
            listening = listening_fields(bind_host, bind_port, routes, worker=not no_worker)
            run_server(
                app, host=bind_host, port=bind_port,
                on_listening=lambda: structlog.get_logger(__name__).info(
                    "serve_listening", **listening
                ),
            )  # fmt: skip
        finally:
            engine.dispose()


def listening_fields(
    host: str, port: int, routes: Sequence[BaseRoute], *, worker: bool
) -> dict[str, str]:
    """The fields of the ``serve_listening`` line: where each endpoint answers."""
    from zoom_brevo.admin.auth import MOUNT  # noqa: PLC0415
    from zoom_brevo.server.app import WEBHOOK_PATH  # noqa: PLC0415
    from zoom_brevo.server.brevo_webhook import BREVO_WEBHOOK_PATH  # noqa: PLC0415

    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    paths = {getattr(route, "path", "") for route in routes}
    fields = {
        "url": base,
        "webhook_url": base + WEBHOOK_PATH,
        "health_url": base + "/healthz",
        "metrics_url": base + "/metrics",
    }
    if MOUNT in paths:
        fields["admin_url"] = base + MOUNT
    else:
        fields["admin"] = "off (set server.admin_token)"
    if "/oauth/authorize" in paths:
        fields["oauth_url"] = base + "/oauth/authorize"
    if BREVO_WEBHOOK_PATH in paths:
        fields["brevo_webhook_url"] = base + BREVO_WEBHOOK_PATH
    fields["worker"] = "in-process" if worker else "off (--no-worker)"
    return fields


def serve_app(
    settings: Settings,
    engine: Engine,
    *,
    worker: bool,
    routes: Sequence[BaseRoute] | None = None,
) -> Starlette:
    """What ``serve`` runs: webhooks (Zoom's, and Brevo's when configured), health,
    /metrics, /admin and /oauth, and the worker.

    The worker's clients and deliverer report to the app's metrics, so its API calls, 429s
    and delivery latencies are counted on ``/metrics``.
    """
    from zoom_brevo.admin import site_routes_for  # noqa: PLC0415
    from zoom_brevo.server.app import create_app, webhook_options  # noqa: PLC0415
    from zoom_brevo.server.brevo_webhook import brevo_webhook_routes  # noqa: PLC0415
    from zoom_brevo.server.metrics import Metrics  # noqa: PLC0415
    from zoom_brevo.worker import background_worker  # noqa: PLC0415 (keeps CLI start-up fast)

    if routes is None:  # /admin, /oauth/*, /webhooks/brevo: each only if configured
        routes = [*site_routes_for(settings, engine), *brevo_webhook_routes(settings, engine)]
    metrics = Metrics()
    work = background_worker(settings, engine, metrics) if worker else None
    return create_app(
        webhook_options(settings), engine, metrics=metrics, worker=work, extra_routes=routes
    )
