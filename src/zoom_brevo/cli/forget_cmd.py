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
from sqlalchemy.engine import Engine

from zoom_brevo.cli.context import JsonOption, epilog, print_error, state_of, stderr, stdout
from zoom_brevo.config import Settings
from zoom_brevo.erasure import ErasureReport, forget_person, normalize_address
from zoom_brevo.errors import ApiError
from zoom_brevo.logging import mask_email, scrub
from zoom_brevo.ratelimit import RateLimiter
from zoom_brevo.wiring import brevo_client, open_store, shared_limiter, zoom_client
from zoom_brevo.zoom_erasure import (
    ZOOM_KEEPS,
    ZoomErasure,
    delete_registrations,
    stored_registrations,
)

EXIT_FAILED = 1
MAX_IN_FLIGHT_WAIT_S = 300.0
EPILOG = epilog(
    """
Cannot be undone. Asks for confirmation unless `--yes` (required without a terminal).
Output names the person by a masked address, never the address itself.
""",
    "zoom-brevo forget ada@example.com --zoom --brevo --yes --json",
)

BrevoOutcome = Literal["deleted", "not_found", "failed"]


@dataclass(frozen=True, slots=True)
class BrevoResult:
    """What happened to the Brevo contact."""

    outcome: BrevoOutcome
    error: str | None = None


def forget(  # every option is a keyword: Typer passes them by name
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(metavar="ADDRESS", help="The person's e-mail address.")],
    *,
    brevo: Annotated[
        bool, typer.Option("--brevo", help="Also delete the person's contact in Brevo.")
    ] = False,
    zoom: Annotated[
        bool,
        typer.Option(
            "--zoom",
            help="Also delete the person's meeting and webinar registrations in Zoom (and "
            "list what Zoom keeps).",
        ),
    ] = False,
    json_output: JsonOption = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> int:
    """Erase what is stored about a person (and in Zoom, Brevo).

    Removes their attendance facts, queued Brevo commands, stored webhooks and sent-event
    ledger entries. With --zoom, their registrations in Zoom are deleted first; if one
    cannot be, nothing is erased (exit 1: run it again). Exits 1 if the local erasure
    worked but Brevo could not delete the contact (run it again).
    """
    try:
        email = normalize_address(address)[0]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="ADDRESS") from None
    _confirm(email, brevo=brevo, zoom=zoom, yes=yes)
    settings = state_of(ctx).settings()
    engine = open_store(settings)
    try:
        limiter = shared_limiter(settings, engine)
        in_zoom = asyncio.run(_delete_in_zoom(settings, limiter, engine, email)) if zoom else None
        if in_zoom is not None and in_zoom.failed:
            _show_zoom_failure(email, in_zoom, json_output=json_output)
            return EXIT_FAILED
        report = forget_person(engine, email, now=datetime.now(UTC))
        result = asyncio.run(_delete_in_brevo(settings, limiter, email, report)) if brevo else None
    finally:
        engine.dispose()
    _show(email, report, result, in_zoom, json_output=json_output)
    return EXIT_FAILED if result is not None and result.outcome == "failed" else 0


def _confirm(email: str, *, brevo: bool, zoom: bool, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise typer.BadParameter("add --yes to erase without being asked (no terminal to ask)")
    where = ", ".join(["locally", *(["in Zoom"] if zoom else []), *(["in Brevo"] if brevo else [])])
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


async def _delete_in_zoom(
    settings: Settings, limiter: RateLimiter, engine: Engine, email: str
) -> ZoomErasure:
    registrations = stored_registrations(engine, email)
    if not registrations:
        return ZoomErasure(())
    async with zoom_client(settings, limiter) as client:
        return await delete_registrations(client, registrations)


def _show_zoom_failure(email: str, in_zoom: ZoomErasure, *, json_output: bool) -> None:
    if json_output:
        document = {"person": mask_email(email), "local": None, "zoom": in_zoom.to_json()}
        typer.echo(json.dumps(document | {"brevo": None}, indent=2))
    else:
        _print_zoom(in_zoom)
    first = next(d.error for d in in_zoom.deletions if d.outcome == "failed")
    print_error(
        f"nothing was erased: Zoom did not delete {in_zoom.counts()['failed']} registration(s) "
        f"({first}); run the command again"
    )


async def _wait_for_in_flight_sends(report: ErasureReport) -> None:
    """A worker may be sending one of the erased commands: let its lease run out first."""
    if report.in_flight_until is None:
        return
    wait_s = (report.in_flight_until - datetime.now(UTC)).total_seconds()
    if wait_s > 0:
        stderr().print(f"waiting {wait_s:.1f} s for a send in progress to finish")
        await asyncio.sleep(min(wait_s, MAX_IN_FLIGHT_WAIT_S))


def _show(
    email: str,
    report: ErasureReport,
    result: BrevoResult | None,
    in_zoom: ZoomErasure | None,
    *,
    json_output: bool,
) -> None:
    if json_output:
        document = _document(email, report, result)
        document["zoom"] = None if in_zoom is None else in_zoom.to_json()
        typer.echo(json.dumps(document, indent=2))
    else:
        _print(email, report, result)
        _print_zoom(in_zoom)
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


_ZOOM_OUTCOMES = {
    "deleted": "deleted",
    "not_found": "already gone",
    "no_registrant_id": "without a Zoom registrant id (delete them in Zoom)",
    "failed": "NOT deleted",
}


def _print_zoom(in_zoom: ZoomErasure | None) -> None:
    console = stdout()
    if in_zoom is None:
        console.print("Zoom registrations: kept (add --zoom to delete them)")
        return
    counts = in_zoom.counts()
    parts = [f"{counts[o]} {label}" for o, label in _ZOOM_OUTCOMES.items() if counts.get(o)]
    console.print(f"Zoom registrations: {', '.join(parts) or 'none stored'}")
    console.print("Zoom keeps, and its API cannot delete (ask Zoom to remove them):")
    for item in ZOOM_KEEPS:
        console.print(f"  {item}")


def _brevo_line(result: BrevoResult | None) -> str:
    if result is None:
        return "kept (add --brevo to delete it)"
    return {
        "deleted": "deleted",
        "not_found": "not found (nothing to delete)",
        "failed": "NOT deleted (see the error below; run again)",
    }[result.outcome]
