"""``zoom-brevo setup-brevo``: create the Brevo attributes and lists the configuration needs."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from zoom_brevo.cli.context import JsonOption, epilog, print_error, state_of, stdout
from zoom_brevo.config import Settings
from zoom_brevo.pipeline.setup_brevo import SetupResult, config_snippet, describe, needs_of
from zoom_brevo.pipeline.setup_brevo import setup_brevo as run_setup
from zoom_brevo.wiring import brevo_client, command_limiter

EXIT_FAILED = 1
EPILOG = epilog(
    """
Safe to run again: what exists is found, not duplicated. Exits 1 when something remains
wrong (with `--dry-run`: also when something would be created).
""",
    "zoom-brevo setup-brevo --dry-run",
    "zoom-brevo setup-brevo",
)


def setup_brevo(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan only; change nothing in Brevo.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Create the Brevo attributes and lists the configuration needs.

    Missing attributes are created with the right types, lists in a Zoom folder. Lists
    configured as null are created (or found by name) and their ids printed as YAML to paste
    into connectors.zoom.lists. Attributes with a wrong type and configured list ids Brevo
    does not know are reported, never changed.
    """
    settings = state_of(ctx).settings()
    result = asyncio.run(_run(settings, dry_run=dry_run))
    if json_output:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        _print(result)
    if not result.ok:
        problems = result.plan.errors() or ["changes pending (run without --dry-run)"]
        print_error(f"setup-brevo: {'; '.join(problems)}")
        raise typer.Exit(EXIT_FAILED)


async def _run(settings: Settings, *, dry_run: bool) -> SetupResult:
    with command_limiter(settings) as limiter:
        async with brevo_client(settings, limiter) as brevo:
            return await run_setup(brevo, needs_of(settings), dry_run=dry_run)


def _print(result: SetupResult) -> None:
    console = stdout()
    title = "setup-brevo (dry run: nothing changed)" if not result.applied else "setup-brevo"
    console.print(title, markup=False)
    for line in describe(result):
        console.print(f"  {line}", markup=False)
    snippet = config_snippet(result.new_list_ids)
    if snippet:
        console.print("\nPut these list ids in your configuration:\n", markup=False)
        console.print(snippet, markup=False, end="")
