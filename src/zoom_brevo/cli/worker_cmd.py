"""``zoom-brevo worker``: processing and delivery only, for running several processes."""

from __future__ import annotations

import typer

from zoom_brevo.cli.context import state_of


def worker(ctx: typer.Context) -> None:
    """Process stored webhooks and deliver queued Brevo commands until SIGTERM or Ctrl-C.

    Several workers may share one database; each claims its own batches.
    """
    from zoom_brevo.server.runner import run_worker_process  # noqa: PLC0415
    from zoom_brevo.wiring import open_store  # noqa: PLC0415
    from zoom_brevo.worker import background_worker  # noqa: PLC0415 (keeps CLI start-up fast)

    settings = state_of(ctx).settings(quiet=False)
    engine = open_store(settings)
    try:
        run_worker_process(background_worker(settings, engine))
    finally:
        engine.dispose()
