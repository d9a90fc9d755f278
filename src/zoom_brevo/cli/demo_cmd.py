"""``zoom-brevo demo``: the connector end to end against the built-in sandbox."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from zoom_brevo.cli.context import stderr, stdout


def demo(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print only the summary, as JSON, on standard output.")
    ] = False,
) -> None:
    """Run setup-brevo, sync meeting and sync webinar against emulated Zoom and Brevo.

    No account, network or configuration is needed: the emulators run on a free loopback
    port and the store and configuration live in a temporary directory, deleted after.
    The sandbox holds a team meeting (rejoins, two devices at once, guests without
    e-mail) and a 500-registrant webinar (attendees, absentees, two tracking sources,
    Q&A and polls), and starts with an empty Brevo account. Prints the contacts per
    list, the events sent, the top 10 by engagement, the guests skipped, the Zoom and
    Brevo API calls made and the wall time. All names and addresses are made up.
    """
    from zoom_brevo.demo import render, run_demo  # noqa: PLC0415 (keeps CLI start-up fast)

    if not json_output:
        stderr().print("Starting the sandbox (emulated Zoom and Brevo on 127.0.0.1)...")
    with tempfile.TemporaryDirectory(prefix="zoom-brevo-demo-") as tmp:
        summary = run_demo(Path(tmp))
    if json_output:
        typer.echo(json.dumps(summary.to_json(), indent=2, default=str))
        return
    stdout().print(render(summary))
