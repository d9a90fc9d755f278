"""``zoom-brevo backfill``: every past meeting and webinar in a date range, resumable."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Annotated, Any, Literal, Self

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from zoom_brevo.cli.context import (
    JsonSummaryOption,
    counts_table,
    epilog,
    print_error,
    state_of,
    stderr,
    stdout,
)
from zoom_brevo.config import Settings
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.pipeline.backfill import BackfillReport, Found
from zoom_brevo.pipeline.windows import BackfillRange, plan_range
from zoom_brevo.usecases import backfill as usecase
from zoom_brevo.usecases.sync import deliver, delivery_problem
from zoom_brevo.wiring import open_store

EXIT_FAILED = 1
EPILOG = epilog(
    """
Progress bars (users, windows, instances) go to standard error. Sends no Brevo events
unless `--events`, so months of history never trigger "thanks for attending" mails.
""",
    "zoom-brevo backfill --from 2025-01-01 --dry-run",
    "zoom-brevo backfill --from 2025-01-01 --to 2025-03-31 --json",
)


def backfill(  # every option is a keyword: Typer passes them by name
    ctx: typer.Context,
    *,
    from_: Annotated[
        str,
        typer.Option("--from", metavar="DATE", help="First day, included (YYYY-MM-DD, UTC)."),
    ],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="DATE", help="Last day, included (YYYY-MM-DD, UTC; default: today)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List what would be synced; write nothing anywhere."),
    ] = False,
    events: Annotated[
        bool,
        typer.Option("--events", help="Also send Brevo events (default: contacts and lists only)."),
    ] = False,
    json_output: JsonSummaryOption = False,
) -> None:
    """Sync every past meeting and webinar between two dates.

    Collects each ended instance from Zoom, then delivers to Brevo. Resumable: after Ctrl-C
    or a crash, the same command continues where it stopped. Zoom keeps 6 months of meeting
    reports and 15 months of participants; older dates are skipped with a warning.
    """
    today = datetime.now(UTC).date()
    start, end = _date(from_, "--from"), _date(to, "--to") if to else None
    try:
        span = plan_range(start, end, today=today)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = state_of(ctx).settings()
    for warning in span.warnings:
        stderr().print(f"warning: {warning}", markup=False)
    try:
        if dry_run:
            asyncio.run(_dry_run(settings, span, end, json_output=json_output))
        else:
            asyncio.run(_backfill(settings, span, end, events=events, json_output=json_output))
    except KeyboardInterrupt:
        print_error("backfill interrupted; run the same command again to continue")
        raise


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{option} expects a date like 2025-01-31, got {text!r}") from None


async def _backfill(
    settings: Settings, span: BackfillRange, end: date | None, *, events: bool, json_output: bool
) -> None:
    engine = open_store(settings)
    try:
        report = await usecase.walk(
            settings, engine, span, end, events=events, progress=RichProgress()
        )
        stderr().print("delivering to Brevo ...", markup=False)
        delivered = await deliver(settings, engine, deadline_s=usecase.DELIVERY_DEADLINE_S)
    finally:
        engine.dispose()
    if json_output:
        typer.echo(json.dumps(summary_json(report, delivered), indent=2))
    else:
        stdout().print(summary_table(report, delivered))
    problem = delivery_problem(delivered)
    if problem:
        print_error(problem)
        raise typer.Exit(EXIT_FAILED)


async def _dry_run(
    settings: Settings, span: BackfillRange, end: date | None, *, json_output: bool
) -> None:
    found, report = await usecase.dry_run(settings, span, end, progress=RichProgress())
    if json_output:
        typer.echo(json.dumps(dry_run_json(found, report), indent=2))
        return
    console = stdout()
    for line in dry_run_lines(found, report):
        console.print(line, markup=False)


class RichProgress:
    """Three progress bars on standard error: users, windows and instances."""

    def __init__(self) -> None:
        self._bars = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=stderr(),
        )
        self._tasks: dict[str, TaskID] = {
            name: self._bars.add_task(name, total=0) for name in ("users", "windows", "instances")
        }

    def __enter__(self) -> Self:
        self._bars.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bars.stop()

    def _grow(self, name: str, count: int) -> None:
        task = self._tasks[name]
        total = self._bars.tasks[task].total or 0
        self._bars.update(task, total=total + count)

    def add_users(self, count: int) -> None:
        """More users to walk."""
        self._grow("users", count)

    def add_units(self, count: int) -> None:
        """More windows to walk."""
        self._grow("windows", count)

    def add_instances(self, count: int) -> None:
        """More instances found."""
        self._grow("instances", count)

    def advance(self, what: Literal["users", "units", "instances"]) -> None:
        """One more done."""
        self._bars.advance(self._tasks["windows" if what == "units" else what])


def summary_table(report: BackfillReport, delivered: DeliveryReport) -> Table:
    """What the walk and the delivery did."""
    rows = [
        ("users", report.users),
        ("windows", report.units),
        ("instances found", report.found),
        ("instances synced", report.synced),
        ("done by an earlier run", report.resumed_past),
        ("no longer available at Zoom", len(report.unavailable)),
        ("contacts upserted", delivered.contacts_upserted + delivered.contacts_imported),
        ("list additions", delivered.list_adds),
        ("events sent", delivered.events_sent),
        ("rejected by Brevo", delivered.rejected),
        ("dead letters", delivered.dead),
        ("still queued", delivered.outstanding),
    ]
    return counts_table("zoom-brevo backfill", rows)


def summary_json(report: BackfillReport, delivered: DeliveryReport) -> dict[str, Any]:
    """What the walk and the delivery did, as the ``--json`` document."""
    return {
        "dry_run": False,
        "walk": _walk_json(report),
        "delivery": delivered.to_json(),
    }


def dry_run_json(found: list[Found], report: BackfillReport) -> dict[str, Any]:
    """The instances a real run would sync, as the ``--json`` document of ``--dry-run``."""
    return {
        "dry_run": True,
        "walk": _walk_json(report),
        "would_sync": [
            {
                "kind": item.kind,
                "uuid": item.uuid,
                "meeting_id": item.meeting_id,
                "topic": item.topic,
                "start_time": item.start_time.astimezone(UTC).isoformat()
                if item.start_time
                else None,
            }
            for item in found
        ],
    }


def _walk_json(report: BackfillReport) -> dict[str, Any]:
    return {
        "users": report.users,
        "windows": report.units,
        "found": report.found,
        "synced": report.synced,
        "done_by_earlier_run": report.resumed_past,
        "unavailable": list(report.unavailable),
        "warnings": list(report.warnings),
    }


def dry_run_lines(found: list[Found], report: BackfillReport) -> list[str]:
    """The instances a real run would sync, one line each (kind, start, id, uuid, topic)."""
    title = f"backfill dry run: {len(found)} instances would be synced (nothing written)"
    if report.resumed_past:
        title += f"; {report.resumed_past} done by an earlier run"
    lines = [title]
    for item in found:
        start = (
            item.start_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if item.start_time else "-"
        )
        lines.append(
            f"  {item.kind:<8} {start}  {item.meeting_id or '-'}  {item.uuid}  {item.topic}"
        )
    return lines
