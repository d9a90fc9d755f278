"""``zoom-brevo check``: validate the configuration and the credentials it holds."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from rich.table import Table

from zoom_brevo.cli.context import JsonOption, epilog, print_error, state_of, stdout
from zoom_brevo.errors import ConfigError
from zoom_brevo.logging import scrub
from zoom_brevo.usecases.checks import CheckReport, run_check
from zoom_brevo.wiring import command_limiter

EXIT_FAILED = 1
EPILOG = epilog(
    """
Exit codes: 0 all is well; 1 a credential fails, an attribute or list is missing, or a
registration.from_lists entry cannot work (the message says what to fix; `zoom-brevo
setup-brevo` creates missing attributes and lists); 2 the configuration itself is wrong.
""",
    "zoom-brevo check",
    "zoom-brevo --config /etc/zoom-brevo.yaml check --json",
)


def check(
    ctx: typer.Context,
    json_output: JsonOption = False,
) -> None:
    """Check the configuration, both credentials and Brevo's lists.

    Loads the configuration, fetches a Zoom Server-to-Server token (and shows its scopes),
    calls Brevo with the API key, and compares the attributes and lists the configuration
    names with those in the Brevo account; checks each registration.from_lists entry's
    list and webinar. Changes nothing.
    """
    state = state_of(ctx)
    try:
        settings = state.settings()
    except ConfigError as exc:
        if json_output:  # a script reading stdout gets a document, not nothing
            typer.echo(json.dumps(config_error_json(exc, str(state.config_path)), indent=2))
        raise
    with command_limiter(settings) as limiter:
        report = asyncio.run(run_check(settings, limiter))
    show_report(report, json_output=json_output)
    if not report.ok:
        print_error(f"check failed: {'; '.join(report.problems())}")
        raise typer.Exit(EXIT_FAILED)


def config_error_json(error: ConfigError, path: str) -> dict[str, Any]:
    """The ``--json`` document when the configuration itself is wrong (exit code 2)."""
    problems = [scrub(problem) for problem in error.problems]
    return {"ok": False, "config": {"ok": False, "path": path}, "problems": problems}


def show_report(report: CheckReport, *, json_output: bool) -> None:
    """Print ``report`` on standard output, as a table or as JSON."""
    if json_output:
        typer.echo(json.dumps(report.to_json(), indent=2))
        return
    stdout().print(report_table(report))


def report_table(report: CheckReport) -> Table:
    """What was verified, one row per check."""
    table = Table(title="zoom-brevo check", title_justify="left")
    table.add_column("Check")
    table.add_column("Result")
    table.add_column("Detail", overflow="fold")
    zoom_detail = report.zoom.detail
    if report.zoom_scopes:
        zoom_detail += f"; scopes: {' '.join(report.zoom_scopes)}"
    table.add_row("Zoom credentials", _status(report.zoom.ok, report.zoom.skipped), zoom_detail)
    table.add_row("Brevo API key", _status(report.brevo.ok), report.brevo.detail)
    needs = report.needs
    if needs is None:
        table.add_row("Brevo attributes", "not checked", "needs a working API key")
        table.add_row("Brevo lists", "not checked", "needs a working API key")
        _registration_row(table, report)
        return table
    missing = ", ".join(needs.attributes_missing)
    attr_detail = f"{len(needs.attributes_present)} present" + (
        f"; missing: {missing}" if missing else ""
    )
    table.add_row("Brevo attributes", _status(not missing), attr_detail)
    table.add_row("Brevo lists", _status(not needs.lists_missing), _lists_detail(report))
    _registration_row(table, report)
    return table


def _registration_row(table: Table, report: CheckReport) -> None:
    """The ``registration.from_lists`` entries, when any is configured."""
    count = report.registration_entries
    if count:
        detail = "; ".join(report.registration) or f"{count} list(s) and webinar(s) ready"
        table.add_row("Registration from lists", _status(not report.registration), detail)


def _lists_detail(report: CheckReport) -> str:
    assert report.needs is not None
    present = ", ".join(f"{i} ({role})" for role, i in report.needs.lists_present.items())
    missing = ", ".join(f"{i} ({role})" for role, i in report.needs.lists_missing.items())
    text = f"present: {present or 'none configured'}"
    return text + (f"; missing: {missing}" if missing else "")


def _status(ok: bool, skipped: bool = False) -> str:
    if skipped:
        return "skipped"
    return "OK" if ok else "FAILED"
