"""``zoom-brevo demo``: the connector against the built-in sandbox, no accounts needed."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import typer

from zoom_brevo.cli.check_cmd import show_report
from zoom_brevo.cli.checks import run_check
from zoom_brevo.cli.context import print_error, stderr
from zoom_brevo.config import load_settings

EXIT_FAILED = 1


def demo() -> None:
    """Run `check` against the built-in sandbox (the full sync demo comes later).

    Starts the emulated Zoom and Brevo in-process and verifies the connector's set-up
    against them. For now this shows the set-up checks only: the full sync demo arrives
    with the sync pipeline.
    """
    from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config  # noqa: PLC0415 (keeps CLI start-up fast)
    from zoom_brevo.sandbox.serving import serving  # noqa: PLC0415 (keeps CLI start-up fast)

    box = build_sandbox()
    with serving(box.app) as base_url, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "zoom-brevo.yaml"
        storage = f"sqlite:///{Path(tmp) / 'zoom-brevo.db'}"
        path.write_text(sandbox_config(base_url, box.list_ids, storage_url=storage), "utf-8")
        stderr().print(f"Sandbox on {base_url}; checking the connector's set-up against it.")
        report = asyncio.run(run_check(load_settings(path, {})))
    show_report(report, json_output=False)
    if not report.ok:
        print_error(f"demo check failed: {'; '.join(report.problems())}")
        raise typer.Exit(EXIT_FAILED)
    stderr().print("All set-up checks pass. (The full sync demo arrives with the sync pipeline.)")
