"""``zoom-brevo register ID --list N [--meeting]``: register a Brevo list's members into a
Zoom webinar, or with ``--meeting`` into a Zoom meeting.

A flag rather than a guess: a Zoom meeting and a Zoom webinar are different objects whose
numbers look alike, an app may hold the scopes of only one, and the registrations stored
are keyed by the kind. A number of the other kind is named as such (``registration.target``).

Output names people by the same masked address the logs use and by their Brevo contact id
(to find them in Brevo), never by their address.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from zoom_brevo.cli.context import JsonSummaryOption, epilog, print_error, state_of, stdout
from zoom_brevo.config import Settings
from zoom_brevo.logging import mask_email
from zoom_brevo.registration.run import ContactResult, RegisterReport, register_list
from zoom_brevo.registration.target import Target
from zoom_brevo.wiring import brevo_client, open_store, shared_limiter, zoom_client
from zoom_brevo.zoom.categories import Kind

EXIT_FAILED = 1
EPILOG = epilog(
    """
Reads the list's members, skips those registered by an earlier run (no Zoom call), reports
anyone missing a required field (by its name) or blocked by the host, registers the rest
and writes ZOOM_JOIN_URL, ZOOM_REGISTRANT_ID and ZOOM_NEXT_START on their Brevo contact
(run `zoom-brevo setup-brevo` once to create them). Exits 1 if a registration failed in a
way running it again may fix (e.g. Zoom's 3 registrations per person a day). Without
--meeting, ID is a webinar's; with it, a meeting's (scheduled or recurring with a fixed
time, with Registration required).
""",
    "zoom-brevo register 91234567890 --list 12",
    "zoom-brevo register 81234567890 --list 14 --meeting",
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
    zoom_id: Annotated[
        int,
        typer.Argument(
            metavar="ID", help="The webinar's number (its ID in Zoom), or the meeting's."
        ),
    ],
    *,
    list_id: Annotated[
        int,
        typer.Option(
            "--list", metavar="N", help="The Brevo list whose members to register (its ID)."
        ),
    ],
    meeting: Annotated[
        bool,
        typer.Option("--meeting", help="ID is a Zoom meeting's, not a webinar's (the default)."),
    ] = False,
    occurrence: Annotated[
        str | None,
        typer.Option(
            "--occurrence",
            metavar="ID",
            help="Register for this occurrence only of a recurring webinar or meeting "
            "(default: all).",
        ),
    ] = None,
    json_output: JsonSummaryOption = False,
) -> int:
    """Register a Brevo list's members into a Zoom webinar or meeting.

    Each person is registered once per webinar or meeting (and occurrence), across runs.
    """
    kind: Kind = "meeting" if meeting else "webinar"
    if zoom_id <= 0:
        raise typer.BadParameter(f"must be a {kind} number such as 91234567890", param_hint="ID")
    if list_id <= 0:
        raise typer.BadParameter("must be a Brevo list ID such as 12", param_hint="--list")
    settings = state_of(ctx).settings()
    target = Target(zoom_id, list_id, occurrence, kind)
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
        f"Brevo list {target.list_id} -> Zoom {target.name} "
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
        "kind": target.kind,
        f"{target.kind}_id": target.zoom_id,
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
