"""``zoom-brevo demo``: the connector end to end against the built-in sandbox."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from zoom_brevo.cli.context import JsonSummaryOption, stderr, stdout
from zoom_brevo.logging import configure_logging, log_style


def demo(
    json_output: JsonSummaryOption = False,
    debug_logs: Annotated[
        bool,
        typer.Option(
            "--debug-logs",
            help="Log as a server with `debug: true` and `log_level: verbose` would: JSON"
            " lines with every field and each HTTP request, on standard error (secrets and"
            " e-mail addresses masked).",
        ),
    ] = False,
) -> None:
    """Run the whole flow against emulated Zoom and Brevo.

    setup-brevo, sync meeting and sync webinar, end to end. No account, network or
    configuration is needed: the emulators run on a free loopback port and the store and
    configuration live in a temporary directory, deleted after.
    The sandbox holds a team meeting (rejoins, two devices at once, guests without
    e-mail) and a 500-registrant webinar (attendees, absentees, two tracking sources,
    Q&A and polls), and starts with an empty Brevo account. Prints the contacts per
    list, the events sent, the top 10 by engagement, the guests skipped, the Zoom and
    Brevo API calls made and the wall time. All names and addresses are made up.
    """
    from zoom_brevo.cli.sync_cmd import ConsoleFeedback  # noqa: PLC0415
    from zoom_brevo.demo import render, run_demo  # noqa: PLC0415 (keeps CLI start-up fast)

    if debug_logs:
        level, as_json = log_style(debug=True, log_level="verbose")
        configure_logging(level, json_output=as_json, log_requests=True)

    if not json_output:
        stderr().print("Starting the sandbox (emulated Zoom and Brevo on 127.0.0.1)...")
    with tempfile.TemporaryDirectory(prefix="zoom-brevo-demo-") as tmp:
        summary = run_demo(Path(tmp), feedback=ConsoleFeedback(spinner=False))
    if json_output:
        typer.echo(json.dumps(summary.to_json(), indent=2, default=str))
        return
    stdout().print(render(summary))
