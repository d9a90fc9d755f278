"""``zoom-brevo worker``: processing and delivery only, for running several processes."""

from __future__ import annotations

import typer

from zoom_brevo.cli.context import state_of


def worker(ctx: typer.Context) -> None:
    """Process webhooks and deliver to Brevo, without a web server.

    Works through the stored webhooks and the queued Brevo commands. Run it beside
    `zoom-brevo serve --no-worker`. Several workers may share one PostgreSQL database, each
    claiming its own batches. Runs until SIGTERM or Ctrl-C, then stops cleanly and exits 0.
    """
    from zoom_brevo.server.runner import run_worker_process, stop_during_start  # noqa: PLC0415
    from zoom_brevo.wiring import open_store  # noqa: PLC0415
    from zoom_brevo.worker import background_worker  # noqa: PLC0415 (keeps CLI start-up fast)

    with stop_during_start():
        settings = state_of(ctx).settings(quiet=False)
        engine = open_store(settings)
        try:
            run_worker_process(background_worker(settings, engine))
        finally:
            engine.dispose()
