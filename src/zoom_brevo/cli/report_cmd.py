"""``zoom-brevo report engagement``: who engages most, who attended a meeting, and how."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Engine

from zoom_brevo.cli.context import epilog, state_of, stderr, stdout
from zoom_brevo.reports.engagement import (
    find_instances,
    full_name,
    meeting_attendees,
    person_meetings,
    ranked_people,
)
from zoom_brevo.reports.formatting import Column, Format, to_csv, to_json, to_table
from zoom_brevo.store.engine import reading
from zoom_brevo.store.facts import Instance
from zoom_brevo.wiring import open_store

DEFAULT_LIMIT = 50

# Narrow terminals: short headers first, then the lowest ``priority`` columns go.
PEOPLE_COLUMNS = (
    Column("email", "Email", "id", priority=100),
    Column("name", "Name", priority=60),
    Column("meetings_attended", "Meetings attended", "count", short="Meetings", priority=80),
    Column("total_minutes", "Total minutes", "minutes", short="Minutes", priority=70),
    Column("last_attended", "Last attended (UTC)", "time", short="Last (UTC)", priority=40),
    Column("score", "Score", "score", priority=90),
)
# One person in one meeting: the tail of both the attendee and the meeting tables.
ATTENDANCE_COLUMNS = (
    Column("minutes", "Minutes", "minutes", short="Min", priority=80),
    Column("ratio", "Ratio", "ratio", priority=70),
    Column("rejoins", "Rejoins", "count", priority=40),
    Column("first_join", "First join (UTC)", "time", short="Joined (UTC)", priority=30),
    Column("last_leave", "Last leave (UTC)", "time", short="Left (UTC)", priority=20),
)
ATTENDEE_COLUMNS = (
    Column("email", "Email", "id", priority=100),
    Column("name", "Name", priority=60),
    *ATTENDANCE_COLUMNS,
    Column("score", "Score", "score", priority=65),
)
MEETING_COLUMNS = (
    Column("start_time", "Start (UTC)", "time", priority=100),
    Column("kind", "Kind", priority=50),
    Column("topic", "Topic", priority=85),
    Column("uuid", "UUID", "id", priority=95),
    Column("occurrence_id", "Occurrence", "id", short="Occ.", priority=45),
    *ATTENDANCE_COLUMNS,
)

app = typer.Typer(
    help="Report on what the store knows (no Zoom or Brevo call).", no_args_is_help=True
)
ENGAGEMENT_EPILOG = epilog(
    """
Times are UTC; minutes count each person once, even when they joined from two devices.
""",
    "zoom-brevo report engagement --limit 10",
    "zoom-brevo report engagement --format csv --limit 0 > engagement.csv",
    "zoom-brevo report engagement --meeting 'aBc123==' --format json",
    "zoom-brevo report engagement --meeting 85746065432",
    "zoom-brevo report engagement --email ada@example.com",
)


@app.command("engagement", epilog=ENGAGEMENT_EPILOG)
def engagement(
    ctx: typer.Context,
    meeting: Annotated[
        str | None,
        typer.Option(
            "--meeting",
            metavar="ID_OR_UUID",
            help="List the attendees of this meeting instance (a meeting number: its latest).",
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option("--email", metavar="ADDRESS", help="List the meetings this person attended."),
    ] = None,
    output: Annotated[
        Format,
        typer.Option(
            "--format", help="table (terminal), csv (spreadsheets, with a header row) or json."
        ),
    ] = "table",
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", min=0, help="Show at most N rows (0: all).")
    ] = DEFAULT_LIMIT,
) -> None:
    """Rank people by engagement, or list attendees or meetings.

    Without options: everyone, highest engagement score first. `--meeting UUID`: that
    meeting instance's attendees (a meeting number: its latest instance in the store).
    `--email ADDRESS`: the meetings that person attended.
    """
    if meeting and email:
        raise typer.BadParameter("give either --meeting or --email, not both")
    settings = state_of(ctx).settings()
    engine = open_store(settings)
    try:
        title, columns, rows, header = _query(engine, meeting, email, limit or None)
    finally:
        engine.dispose()
    if output == "csv":
        typer.echo(to_csv(columns, rows), nl=False)
    elif output == "json":
        typer.echo(to_json(columns, rows, **header))
    else:
        console = stdout()
        console.print(to_table(title, columns, rows, width=console.width), soft_wrap=False)


Query = tuple[str, tuple[Column, ...], list[dict[str, Any]], dict[str, Any]]


def _query(engine: Engine, meeting: str | None, email: str | None, limit: int | None) -> Query:
    with reading(engine) as conn:
        if meeting:
            instances = find_instances(conn, meeting)
            _note_other_instances(instances)
            instance, attendees = meeting_attendees(conn, instances[0].uuid, limit=limit)
            header = {
                "report": "meeting",
                "meeting": {
                    "uuid": instance.uuid,
                    "id": instance.meeting_id,
                    "kind": instance.kind,
                    "topic": instance.topic,
                    "start_time": _iso(instance.start_time),
                    "end_time": _iso(instance.end_time),
                    "occurrence_id": instance.occurrence_id,
                },
            }
            title = f"Attendees of {instance.topic or instance.uuid} ({len(attendees)})"
            return title, ATTENDEE_COLUMNS, [asdict(a) for a in attendees], header
        if email:
            person, meetings = person_meetings(conn, email, limit=limit)
            name = full_name(person.first_name, person.last_name) if person else None
            header = {
                "report": "person",
                "person": {
                    "email": email.lower(),
                    "name": name,
                    "meetings_attended": person.meetings_attended if person else None,
                    "total_minutes": person.total_minutes if person else None,
                    "score": person.score if person else None,
                },
            }
            title = f"Meetings of {email.lower()} ({len(meetings)})"
            return title, MEETING_COLUMNS, [asdict(m) for m in meetings], header
        ranked = ranked_people(conn, limit=limit)
        title = f"People by engagement score ({len(ranked)})"
        return title, PEOPLE_COLUMNS, [asdict(p) for p in ranked], {"report": "people"}


SHOWN_INSTANCES = 5


def _note_other_instances(instances: list[Instance]) -> None:
    """On standard error: a meeting number with several instances shows the latest."""
    if len(instances) < 2:
        return
    latest, others = instances[0], instances[1:]
    console = stderr()
    console.print(
        f"Meeting {latest.meeting_id} has {len(instances)} instances in the store; showing "
        f"the latest ({_when(latest)}). For another, pass its UUID to --meeting:"
    )
    for other in others[:SHOWN_INSTANCES]:
        console.print(f"  {_when(other)}  {other.uuid}")
    if len(others) > SHOWN_INSTANCES:
        console.print(f"  ... and {len(others) - SHOWN_INSTANCES} older")


def _when(instance: Instance) -> str:
    start = instance.start_time
    when = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if start else "start unknown"
    occurrence = instance.occurrence_id
    return f"{when}, occurrence {occurrence}" if occurrence else when


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
