"""``zoom-brevo forget ADDRESS``: erase what is stored about a person (and the Brevo contact).

The local erasure runs first: it removes the person's queued commands, so that no worker
re-creates the contact after Brevo deleted it. Output never repeats the address; it names
the person by the same digest the logs use.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer

from zoom_brevo.cli.context import epilog, print_error, state_of, stderr, stdout
from zoom_brevo.config import Settings
from zoom_brevo.erasure import ErasureReport, forget_person, normalize_address
from zoom_brevo.errors import ApiError
from zoom_brevo.logging import mask_email, scrub
from zoom_brevo.ratelimit import RateLimiter
from zoom_brevo.wiring import brevo_client, open_store, shared_limiter

EXIT_FAILED = 1
MAX_IN_FLIGHT_WAIT_S = 300.0
EPILOG = epilog(
    """
Cannot be undone. Asks for confirmation unless `--yes` (required without a terminal).
Output names the person by a masked address, never the address itself.
""",
    "zoom-brevo forget ada@example.com --brevo --yes --json",
)

BrevoOutcome = Literal["deleted", "not_found", "failed"]


@dataclass(frozen=True, slots=True)
class BrevoResult:
    """What happened to the Brevo contact."""

    outcome: BrevoOutcome
    error: str | None = None


def forget(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(metavar="ADDRESS", help="The person's e-mail address.")],
    brevo: Annotated[
        bool, typer.Option("--brevo", help="Also delete the person's contact in Brevo.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print only a JSON document on standard output.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> int:
    """Erase what is stored about a person (optionally in Brevo too).

    Removes their attendance facts, queued Brevo commands, stored webhooks and sent-event
    ledger entries. Exits 1 if the local erasure worked but Brevo could not delete the
    contact (run it again).
    """
    try:
        email = normalize_address(address)[0]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="ADDRESS") from None
    _confirm(email, brevo=brevo, yes=yes)
    settings = state_of(ctx).settings()
    engine = open_store(settings)
    try:
        report = forget_person(engine, email, now=datetime.now(UTC))
        limiter = shared_limiter(settings, engine)
        result = asyncio.run(_delete_in_brevo(settings, limiter, email, report)) if brevo else None
    finally:
        engine.dispose()
    _show(email, report, result, json_output=json_output)
    return EXIT_FAILED if result is not None and result.outcome == "failed" else 0


def _confirm(email: str, *, brevo: bool, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise typer.BadParameter("add --yes to erase without being asked (no terminal to ask)")
    where = "locally and in Brevo" if brevo else "locally"
    question = f"Erase everything about {mask_email(email)} {where}? This cannot be undone."
    if not typer.confirm(question, err=True):
        raise typer.Abort


async def _delete_in_brevo(
    settings: Settings, limiter: RateLimiter, email: str, report: ErasureReport
) -> BrevoResult:
    await _wait_for_in_flight_sends(report)
    try:
        async with brevo_client(settings, limiter) as client:
            deleted = await client.delete_contact(email)
    except ApiError as exc:
        return BrevoResult("failed", scrub(str(exc)))
    return BrevoResult("deleted" if deleted else "not_found")


async def _wait_for_in_flight_sends(report: ErasureReport) -> None:
    """A worker may be sending one of the erased commands: let its lease run out first."""
    if report.in_flight_until is None:
        return
    wait_s = (report.in_flight_until - datetime.now(UTC)).total_seconds()
    if wait_s > 0:
        stderr().print(f"waiting {wait_s:.1f} s for a send in progress to finish")
        await asyncio.sleep(min(wait_s, MAX_IN_FLIGHT_WAIT_S))


def _show(
    email: str, report: ErasureReport, result: BrevoResult | None, *, json_output: bool
) -> None:
    if json_output:
        typer.echo(json.dumps(_document(email, report, result), indent=2))
    else:
        _print(email, report, result)
    if result is not None and result.outcome == "failed":
        print_error(f"erased locally, but the Brevo contact was not deleted: {result.error}")


def _document(email: str, report: ErasureReport, result: BrevoResult | None) -> dict[str, Any]:
    brevo = None if result is None else {"outcome": result.outcome, "error": result.error}
    return {"person": mask_email(email), "local": report.to_json(), "brevo": brevo}


def _print(email: str, report: ErasureReport, result: BrevoResult | None) -> None:
    console = stdout()
    if report.total == 0:
        console.print(f"Nothing was stored about {mask_email(email)}.")
    else:
        console.print(f"Erased what was stored about {mask_email(email)}:")
        for label, counts in (("deleted", report.deleted), ("redacted", report.redacted)):
            for table, count in sorted(counts.items()):
                console.print(f"  {table}: {count} {label}")
    console.print(f"Brevo contact: {_brevo_line(result)}")


def _brevo_line(result: BrevoResult | None) -> str:
    if result is None:
        return "kept (add --brevo to delete it)"
    return {
        "deleted": "deleted",
        "not_found": "not found (nothing to delete)",
        "failed": "NOT deleted (see the error below; run again)",
    }[result.outcome]
