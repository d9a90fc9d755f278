"""``zoom-brevo register WEBINAR_ID --list N``: register a Brevo list's members into a webinar.

Output names people by the same masked address the logs use and by their Brevo contact id
(to find them in Brevo), never by their address.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from zoom_brevo.cli.context import epilog, print_error, state_of, stdout
from zoom_brevo.config import Settings
from zoom_brevo.logging import mask_email
from zoom_brevo.registration.run import ContactResult, RegisterReport, Target, register_list
from zoom_brevo.wiring import brevo_client, open_store, shared_limiter, zoom_client

EXIT_FAILED = 1
EPILOG = epilog(
    """
Reads the list's members, skips those registered by an earlier run (no Zoom call), reports
anyone missing a required field (by its name) or blocked by the host, registers the rest
and writes ZOOM_JOIN_URL, ZOOM_REGISTRANT_ID and ZOOM_NEXT_START on their Brevo contact
(run `zoom-brevo setup-brevo` once to create them). Exits 1 if a registration failed in a
way running it again may fix (e.g. Zoom's 3 registrations per person a day).
""",
    "zoom-brevo register 91234567890 --list 12",
    "zoom-brevo register 91234567890 --list 12 --occurrence 1648194360000 --json",
)
_LABELS = {
    "registered": "registered",
    "pending": "registered, awaiting the host's approval",
    "already_registered": "already registered (no Zoom call)",
    "missing_fields": "not sent: a required field is missing",
    "blocked": "not sent: denied or cancelled in Zoom (the host must approve them there)",
    "no_email": "skipped: no e-mail address",
    "failed": "FAILED",
}


def register(  # every option is a keyword: Typer passes them by name
    ctx: typer.Context,
    webinar_id: Annotated[
        int, typer.Argument(metavar="WEBINAR_ID", help="The webinar's number (its ID in Zoom).")
    ],
    *,
    list_id: Annotated[
        int,
        typer.Option(
            "--list", metavar="N", help="The Brevo list whose members to register (its ID)."
        ),
    ],
    occurrence: Annotated[
        str | None,
        typer.Option(
            "--occurrence",
            metavar="ID",
            help="Register for this occurrence only of a recurring webinar (default: all).",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print only a JSON summary on standard output (messages on stderr)."
        ),
    ] = False,
) -> int:
    """Register the members of a Brevo list into a Zoom webinar.

    Each person is registered once per webinar (and occurrence), across runs.
    """
    if webinar_id <= 0:
        raise typer.BadParameter(
            "must be a webinar number such as 91234567890", param_hint="WEBINAR_ID"
        )
    if list_id <= 0:
        raise typer.BadParameter("must be a Brevo list ID such as 12", param_hint="--list")
    settings = state_of(ctx).settings()
    target = Target(webinar_id, list_id, occurrence)
    report = asyncio.run(_run(settings, target))
    _show(report, json_output=json_output)
    if report.failed:
        failed = report.counts()["failed"]
        print_error(f"{failed} registration(s) failed (see above); run the command again later")
        return EXIT_FAILED
    return 0


async def _run(settings: Settings, target: Target) -> RegisterReport:
    engine = open_store(settings)
    try:
        limiter = shared_limiter(settings, engine)
        async with zoom_client(settings, limiter) as zoom, brevo_client(settings, limiter) as brevo:
            return await register_list(
                zoom, brevo, engine, target, settings.field_mapping, now=lambda: datetime.now(UTC)
            )
    finally:
        engine.dispose()


def _show(report: RegisterReport, *, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(_document(report), indent=2))
        return
    console = stdout()
    target = report.target
    where = f" (occurrence {target.occurrence_id})" if target.occurrence_id else ""
    console.print(
        f"Brevo list {target.list_id} -> Zoom webinar {target.webinar_id} "
        f"{report.topic!r}{where}: {len(report.results)} member(s)"
    )
    for outcome, count in report.counts().items():
        if count:
            console.print(f"  {count} {_LABELS[outcome]}")
    for result in report.results:
        if result.outcome in ("missing_fields", "blocked", "failed"):
            console.print(f"  contact {result.contact_id} {_person(result)}: {_detail(result)}")


def _detail(result: ContactResult) -> str:
    if result.outcome == "missing_fields":
        return "missing " + ", ".join(result.missing)
    if result.outcome == "failed":
        return result.error or "failed"
    return _LABELS[result.outcome]


def _person(result: ContactResult) -> str:
    return mask_email(result.email) if result.email else "(no e-mail)"


def _document(report: RegisterReport) -> dict[str, Any]:
    target = report.target
    return {
        "webinar_id": target.webinar_id,
        "occurrence_id": target.occurrence_id,
        "list_id": target.list_id,
        "topic": report.topic,
        "approval_required": report.approval_required,
        "zoom_registrations_sent": report.zoom_posts,
        "counts": report.counts(),
        "contacts": [
            {
                "contact_id": r.contact_id,
                "person": _person(r),
                "outcome": r.outcome,
                "missing": list(r.missing),
                "registrant_id": r.registrant_id,
                "error": r.error,
            }
            for r in report.results
        ],
    }
