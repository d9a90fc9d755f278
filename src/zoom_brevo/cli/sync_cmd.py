"""``zoom-brevo sync meeting|webinar ID_OR_UUID``: collect one past meeting and deliver it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.engine import Engine

from zoom_brevo.cli.context import epilog, print_error, state_of, stderr, stdout
from zoom_brevo.config import Settings
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.delivery.worker import Deliverer, DeliveryReport
from zoom_brevo.errors import NotFound
from zoom_brevo.observe import CallCounter
from zoom_brevo.pipeline.mapping import resolve_field_mapping
from zoom_brevo.pipeline.sync import SyncOptions, SyncReport, sync_meeting, sync_webinar
from zoom_brevo.wiring import brevo_client, open_store, shared_limiter, zoom_client
from zoom_brevo.zoom.client import ZoomClient

EXIT_FAILED = 1
DELIVERY_DEADLINE_S = 600.0
# Outbox rows claimed at a time. A claimed row costs about 3 KB in memory (its decoded
# payload), so this bounds the peak RSS whatever the size of the sync: with the imports'
# own cap (delivery.bulk.IMPORT_MAX_CONTACTS) it keeps memory flat in N. It sets the size
# of /events/batch requests (one page each: 2,000 events, about 0.6 MB) but not of imports:
# contacts are delivered first and streamed into imports across pages, all followed with
# one process listing per round (docs/benchmarks.md, "Webinar sync").
DELIVERY_BATCH = 2_000

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
JsonOutput = Annotated[
    bool,
    typer.Option(
        "--json", help="Print only a JSON summary on standard output (messages on standard error)."
    ),
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
Sync = Callable[[ZoomClient, Engine, str, SyncOptions], Awaitable[SyncReport]]


@dataclass(frozen=True)
class Outcome:
    """The sync report, the delivery report and the Zoom requests made."""

    sync: SyncReport
    delivery: DeliveryReport
    zoom_calls: int

    def to_json(self) -> dict[str, Any]:
        """One JSON document for ``--json``."""
        return {
            **self.sync.to_json(),
            "zoom_calls": self.zoom_calls,
            "delivery": self.delivery.to_json(),
        }


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
        _main(ctx, collect_meeting, target, events=not no_events, json_output=json_output)
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
        _main(ctx, collect_webinar, target, events=not no_events, json_output=json_output)
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


async def collect_meeting(
    zoom: ZoomClient, engine: Engine, ident: str, options: SyncOptions
) -> SyncReport:
    """The collect phase of ``sync meeting`` (also run by the demo)."""
    return await sync_meeting(zoom, engine, ident, options, now=datetime.now(UTC))


async def collect_webinar(
    zoom: ZoomClient, engine: Engine, ident: str, options: SyncOptions
) -> SyncReport:
    """The collect phase of ``sync webinar`` (also run by the demo)."""
    return await sync_webinar(zoom, engine, ident, options, now=datetime.now(UTC))


def _main(ctx: typer.Context, sync: Sync, target: str, *, events: bool, json_output: bool) -> None:
    settings = state_of(ctx).settings()
    options = sync_options(settings, events=events)
    engine = open_store(settings)
    try:
        outcome = asyncio.run(
            sync_and_deliver(settings, engine, sync, target, options, spinner=not json_output)
        )
    finally:
        engine.dispose()
    show(outcome, json_output=json_output)
    problem = delivery_problem(outcome.delivery)
    if problem:
        print_error(problem)
        raise typer.Exit(EXIT_FAILED)


def sync_options(settings: Settings, *, events: bool) -> SyncOptions:
    """The sync options the configuration gives."""
    zoom = settings.connectors.zoom
    return SyncOptions(
        lists=zoom.lists.ids(),
        field_mapping=resolve_field_mapping(settings.field_mapping.attributes()),
        exclude_domains=tuple(zoom.exclude_domains),
        events=events,
        tiers=tuple(zoom.sync.attendance_tiers),
    )


async def sync_and_deliver(
    settings: Settings,
    engine: Engine,
    sync: Sync,
    target: str,
    options: SyncOptions,
    *,
    import_checks: CheckSchedule | None = None,
    spinner: bool = False,
) -> Outcome:
    """Collect ``target`` with ``sync``, then drain the outbox to Brevo (the whole command).

    ``import_checks``: when to read a started import's status (default: the worker's,
    spaced for Brevo's hourly limit; the demo's emulator imports at once). ``spinner``:
    show each phase as a transient spinner on standard error (only on a terminal).
    """
    with phase(f"Collecting {target} from Zoom", enabled=spinner) as say:
        counter = CallCounter(on_call=lambda _service, n: say(f"{n} Zoom request(s)"))
        report = await _collect(settings, engine, sync, target, options, counter=counter)
    stderr().print(f"Collected {report.instances} instance(s); delivering to Brevo...")
    with phase("Delivering to Brevo", enabled=spinner):
        async with brevo_client(settings, shared_limiter(settings, engine)) as brevo:
            owner = f"{socket.gethostname()}:{os.getpid()}"
            deliverer = Deliverer(
                engine,
                brevo,
                owner=owner,
                batch_size=DELIVERY_BATCH,
                import_checks=import_checks,
                lease_s=settings.delivery.lease_s,
                in_doubt=settings.delivery.in_doubt,
            )
            delivered = await deliverer.drain(
                DELIVERY_DEADLINE_S, wait_for_imports=True, contacts_first=True
            )
    return Outcome(report, delivered, counter.calls["zoom"])


async def _collect(
    settings: Settings,
    engine: Engine,
    sync: Sync,
    target: str,
    options: SyncOptions,
    *,
    counter: CallCounter,
) -> SyncReport:
    zoom = zoom_client(settings, shared_limiter(settings, engine), observer=counter)
    async with zoom:
        return await sync(zoom, engine, target, options)


@contextmanager
def phase(message: str, *, enabled: bool) -> Iterator[Callable[[str], None]]:
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


def delivery_problem(report: DeliveryReport) -> str | None:
    """Why the command must exit 1 although the sync itself worked, if it must."""
    if report.dead or report.rejected:
        return (
            f"Brevo refused {report.dead + report.rejected} command(s); see "
            "'zoom-brevo status' and 'zoom-brevo retry'."
        )
    if report.outstanding:
        return (
            f"{report.outstanding} command(s) are still waiting for delivery (Brevo busy?); "
            "'zoom-brevo worker' will finish them."
        )
    return None


def show(outcome: Outcome, *, json_output: bool) -> None:
    """Print what was done: a table, or the JSON document."""
    if json_output:
        typer.echo(json.dumps(outcome.to_json(), indent=2))
        return
    stdout().print(summary_table(outcome))


def summary_table(outcome: Outcome) -> Table:
    """One row per counter."""
    sync, delivery = outcome.sync, outcome.delivery
    table = Table(title=f"zoom-brevo sync {sync.kind} {sync.target}", title_justify="left")
    table.add_column("What")
    table.add_column("Count", justify="right")
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
    for label, count in rows:
        table.add_row(label, str(count))
    return table
