"""``zoom-brevo sync meeting|webinar ID_OR_UUID``: collect one past meeting and deliver it.

The work is ``usecases.sync``; this module parses, shows progress and prints the result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from zoom_brevo.cli.context import JsonSummaryOption as JsonOutput
from zoom_brevo.cli.context import counts_table, epilog, print_error, state_of, stderr, stdout
from zoom_brevo.errors import NotFound
from zoom_brevo.usecases.collect import Kind
from zoom_brevo.usecases.sync import (
    Outcome,
    Say,
    delivery_problem,
    sync_and_deliver,
    sync_options,
)
from zoom_brevo.wiring import open_store

EXIT_FAILED = 1

app = typer.Typer(
    help="Collect one past meeting or webinar and deliver it to Brevo.",
    no_args_is_help=True,
)

Target = Annotated[
    str,
    typer.Argument(
        metavar="ID_OR_UUID",
        help="Meeting/webinar number (every ended instance) or one instance's UUID.",
    ),
]
NoEvents = Annotated[
    bool,
    typer.Option("--no-events", help="Update contacts, attributes and lists only; send no events."),
]
EPILOG_MEETING = epilog(
    """
Waits until Brevo has everything (up to 10 minutes); exits 1 if Brevo refused something
(see `zoom-brevo status`). Running it again sends no event twice.
""",
    "zoom-brevo sync meeting 85746065432",
    "zoom-brevo sync meeting 'aBc123==' --no-events --json",
)
EPILOG_WEBINAR = epilog(
    """
Registrants who did not attend become absentees (the no-show list and event). Waits until
Brevo has everything (up to 10 minutes); running it again sends no event twice.
""",
    "zoom-brevo sync webinar 91234567890 --json",
)


@app.command("meeting", epilog=EPILOG_MEETING)
def meeting(
    ctx: typer.Context, target: Target, no_events: NoEvents = False, json_output: JsonOutput = False
) -> None:
    """Collect a past meeting's participants and deliver them to Brevo.

    A meeting number collects every ended instance of it; a UUID only that instance.
    Participants become contacts (with attendance attributes) on the meeting list, and
    each gets a `zoom_attended` event unless `--no-events`.
    """
    try:
        _main(ctx, "meeting", target, events=not no_events, json_output=json_output)
    except NotFound as exc:
        raise _with_other_kind(exc, target, "webinar") from None


@app.command("webinar", epilog=EPILOG_WEBINAR)
def webinar(
    ctx: typer.Context, target: Target, no_events: NoEvents = False, json_output: JsonOutput = False
) -> None:
    """Collect a past webinar's registrants and deliver them to Brevo.

    Registrants, attendees and absentees each become a Brevo contact on the matching
    list (registrants, attendees, absentees), with the matching event unless
    `--no-events`.
    """
    try:
        _main(ctx, "webinar", target, events=not no_events, json_output=json_output)
    except NotFound as exc:
        raise _with_other_kind(exc, target, "meeting") from None


def _with_other_kind(error: NotFound, target: str, other: str) -> NotFound:
    """``error`` with the hint that ``target`` may be a webinar (or a meeting) instead.

    Zoom answers 3001 to a meeting number asked for as a webinar, and the other way round.
    """
    if error.service != "zoom":
        return error
    hint = f"If {target} is a {other}, run 'zoom-brevo sync {other} {target}'."
    found = NotFound(f"{error} {hint}", service="zoom", status=error.status, code=error.code)
    found.user_input = error.user_input
    return found


def _main(ctx: typer.Context, kind: Kind, target: str, *, events: bool, json_output: bool) -> None:
    settings = state_of(ctx).settings()
    options = sync_options(settings, events=events)
    engine = open_store(settings)
    try:
        feedback = ConsoleFeedback(spinner=not json_output)
        outcome = asyncio.run(
            sync_and_deliver(settings, engine, kind, target, options, feedback=feedback)
        )
    finally:
        engine.dispose()
    show(outcome, json_output=json_output)
    problem = delivery_problem(outcome.delivery)
    if problem:
        print_error(problem)
        raise typer.Exit(EXIT_FAILED)


class ConsoleFeedback:
    """``usecases.sync.Feedback`` on standard error: transient spinners and notes."""

    def __init__(self, *, spinner: bool) -> None:
        self._spinner = spinner

    def phase(self, message: str) -> contextlib.AbstractContextManager[Say]:
        """A spinner while the phase runs (see :func:`phase`)."""
        return phase(message, enabled=self._spinner)

    def note(self, message: str) -> None:
        """Print ``message`` on standard error."""
        stderr().print(message)


@contextmanager
def phase(message: str, *, enabled: bool) -> Iterator[Say]:
    """A transient spinner on standard error; yields ``say(detail)`` to update its text.

    Disabled (``say`` does nothing) unless ``enabled`` and standard error is a terminal,
    so logs, pipes and ``--json`` runs get no control characters.
    """
    console = stderr()
    if not (enabled and console.is_terminal):
        yield lambda _detail: None
        return
    with console.status(f"{message}...") as status:
        yield lambda detail: status.update(f"{message}... {detail}")


def show(outcome: Outcome, *, json_output: bool) -> None:
    """Print what was done: a table, or the JSON document."""
    if json_output:
        typer.echo(json.dumps(outcome.to_json(), indent=2))
    else:
        stdout().print(summary_table(outcome))
    for note in outcome.sync.notes:
        typer.echo(f"Note: {note}", err=True)


def summary_table(outcome: Outcome) -> Table:
    """One row per counter."""
    sync, delivery = outcome.sync, outcome.delivery
    rows: list[tuple[str, int]] = [
        ("Instances", sync.instances),
        ("Participant rows", sync.participant_rows),
        ("Registrants", sync.registrants),
        ("Absentees", sync.absentees),
        ("People", sync.people),
        ("Contacts upserted", delivery.contacts_upserted),
        ("Contacts imported", delivery.contacts_imported),
        ("List additions", delivery.list_adds),
        ("Events sent", delivery.events_sent),
        ("Events already sent", sync.events_already_sent + delivery.skipped_already_sent),
        ("Guests skipped", sync.guests_skipped),
        *((f"  skipped: {reason}", n) for reason, n in sorted(sync.skipped_by_reason.items())),
        ("Zoom calls", outcome.zoom_calls),
        ("Brevo calls", delivery.brevo_calls),
    ]
    return counts_table(f"zoom-brevo sync {sync.kind} {sync.target}", rows)
