"""``zoom-brevo demo``: the whole connector against the built-in sandbox, no accounts needed.

The emulated Zoom and Brevo are served on a free loopback port (in a thread) over
:func:`demo_scenario`; a fresh Brevo account (no attributes, no lists) and a SQLite store
live in a temporary directory. The demo then runs what a user would: ``setup-brevo`` (its
list ids written into the configuration, as the user would paste them), ``sync meeting``
and ``sync webinar``, through the same use case as those commands (``usecases.sync``).
:class:`DemoSummary` is read afterwards from the emulators (contacts per list, events,
calls) and the store (engagement ranking).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.config import Settings, load_settings
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.errors import ConfigError
from zoom_brevo.pipeline.setup_brevo import SetupResult, needs_of, setup_brevo
from zoom_brevo.reports.engagement import PersonRow, ranked_people
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.zoom import routes
from zoom_brevo.sandbox.zoom.faults import Stats as ZoomStats
from zoom_brevo.store import facts
from zoom_brevo.store.engine import reading
from zoom_brevo.usecases.sync import Feedback, Outcome, sync_and_deliver, sync_options
from zoom_brevo.wiring import brevo_client, command_limiter, open_store

DEFAULT_SEED = 7
TOP = 10
WEBINAR_REGISTRANTS = 500
WEBINAR_ATTENDEES = 320
MEETING_PARTICIPANTS = 40
WEBINAR_SCHEDULED_MIN = 60
WEBINAR_OVERRUN_MIN = 14  # webinars overrun: minutes count to the real end, not the schedule
STATUS_ATTRIBUTE = "ATTENDANCE_STATUS"
# The emulated Brevo finishes an import at once: read its status after 0.2 s, not the
# worker's 10 s (spaced for Brevo's 100 calls an hour to GET /processes, brevo.md 5).
IMPORT_CHECKS = CheckSchedule(start_s=0.2, cap_s=2.0)


@dataclass(frozen=True)
class DemoWorld:
    """The demo scenario and the two things it syncs."""

    scenario: Scenario
    meeting_id: int
    webinar_id: int


def demo_scenario(seed: int = DEFAULT_SEED) -> DemoWorld:
    """A recurring team meeting and a 500-registrant webinar, sharing some people.

    The meeting's generated attendees already include rejoins, two devices at once and
    guests without e-mail (see ``sandbox.scenario``); three hand-made attendees make sure
    each case is present whatever the seed. The webinar has two tracking sources, Q&A and
    polls; its first registrants are people from the meeting (cross-meeting aggregates).
    It was scheduled for an hour and ran ``WEBINAR_OVERRUN_MIN`` minutes longer, with
    people staying to the end.
    """
    sc = Scenario(seed=seed)
    host = sc.user(email="host@example.com", first_name="Demo", last_name="Host")
    meeting = sc.meeting(host, topic="Weekly team sync", participants=MEETING_PARTICIPANTS)
    inst = meeting.latest
    quarter = (inst.end - inst.start) / 4
    rejoiner = sc.new_person("rejoin.demo@example.com", "Rita", "Rejoin")
    inst.add_attendee(
        rejoiner, [(inst.start, inst.start + quarter), (inst.end - quarter, inst.end)]
    )
    laptop_and_phone = sc.new_person("two.devices@example.com", "Tom", "Twodevices", "zu-demo-2d")
    inst.add_attendee(
        laptop_and_phone,
        [(inst.start, inst.end), (inst.start + quarter, inst.end - quarter)],
    )
    guest = sc.new_person("", "Guest", "Phone")
    inst.add_attendee(guest, [(inst.start + quarter, inst.end)])
    webinar = sc.webinar(
        host,
        topic="Product launch webinar",
        registrants=WEBINAR_REGISTRANTS,
        attendees=WEBINAR_ATTENDEES,
        sources=2,
        qa=True,
        polls=True,
        people_offset=MEETING_PARTICIPANTS // 2,
        duration_min=WEBINAR_SCHEDULED_MIN,
        overrun_min=WEBINAR_OVERRUN_MIN,
    )
    return DemoWorld(sc, meeting.id, webinar.id)


@dataclass(frozen=True)
class Span:
    """One collected instance: its schedule and how long it actually ran."""

    kind: str
    topic: str
    scheduled_min: int
    actual_min: float | None
    source: str | None


@dataclass(frozen=True)
class ListCount:
    """One Brevo list and how many contacts it holds."""

    role: str
    list_id: int
    name: str
    contacts: int


@dataclass
class DemoSummary:
    """What the demo did and what Brevo holds afterwards (sandbox data: nothing is real)."""

    setup: SetupResult
    meeting: Outcome
    webinar: Outcome
    lists: list[ListCount]
    statuses: Mapping[str, Mapping[str, int]]
    spans: list[Span]
    events: Mapping[str, int]
    contacts: int
    top: list[PersonRow]
    skipped: Mapping[str, int]
    zoom_calls: Mapping[str, int]
    zoom_token_requests: int
    brevo_calls: Mapping[str, int]
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The summary as one JSON document (``demo --json``)."""
        return {
            "setup": {
                "attributes_created": list(self.setup.attributes_created),
                "lists_created": dict(self.setup.lists_created),
            },
            "lists": {
                c.role: {"id": c.list_id, "name": c.name, "contacts": c.contacts}
                for c in self.lists
            },
            "contacts": self.contacts,
            "attendance_status_by_list": {k: dict(v) for k, v in self.statuses.items()},
            "spans": [
                {
                    "kind": s.kind,
                    "topic": s.topic,
                    "scheduled_min": s.scheduled_min,
                    "actual_min": s.actual_min,
                    "source": s.source,
                }
                for s in self.spans
            ],
            "events": dict(self.events),
            "top_engagement": [
                {
                    "email": p.email,
                    "name": p.name,
                    "score": p.score,
                    "meetings_attended": p.meetings_attended,
                    "total_minutes": round(p.total_minutes, 1),
                }
                for p in self.top
            ],
            "guests_skipped": dict(self.skipped),
            "zoom_calls": {
                "total": sum(self.zoom_calls.values()),
                "token_requests": self.zoom_token_requests,
                "by_endpoint": dict(self.zoom_calls),
            },
            "brevo_calls": {"total": sum(self.brevo_calls.values()), **self.brevo_calls},
            "sync": {"meeting": self.meeting.to_json(), "webinar": self.webinar.to_json()},
            "wall_s": round(self.wall_s, 2),
        }


def run_demo(
    workdir: Path, *, seed: int = DEFAULT_SEED, feedback: Feedback | None = None
) -> DemoSummary:
    """Build the sandbox over :func:`demo_scenario` and run the demo in ``workdir``."""
    world = demo_scenario(seed)
    return run_in_sandbox(build_sandbox(world.scenario), world, workdir, feedback=feedback)


def run_in_sandbox(
    box: Sandbox, world: DemoWorld, workdir: Path, *, feedback: Feedback | None = None
) -> DemoSummary:
    """Serve ``box``, run setup-brevo and both syncs with ``workdir`` as home, summarize.

    ``feedback``: what to show while the syncs run (the CLI's notes; default nothing).
    """
    started = time.monotonic()
    with serving(box.app) as base_url:
        config = workdir / "zoom-brevo.yaml"
        storage = f"sqlite:///{workdir / 'zoom-brevo.db'}"
        config.write_text(sandbox_config(base_url, storage_url=storage), "utf-8")
        setup = asyncio.run(_setup(load_settings(config, {})))
        if not setup.ok:
            raise ConfigError(f"setup-brevo failed in the sandbox: {setup.plan.errors()}")
        # As the user would: paste the created list ids into the configuration.
        config.write_text(sandbox_config(base_url, setup.new_list_ids, storage_url=storage))
        settings = load_settings(config, {})
        engine = open_store(settings)
        try:
            meeting, webinar = asyncio.run(_syncs(settings, engine, world, feedback))
            with reading(engine) as conn:
                top = ranked_people(conn, limit=TOP)
                spans = spans_of(conn, box.scenario)
        finally:
            engine.dispose()
    summary = summarize(box, setup, meeting, webinar, top, spans=spans)
    summary.wall_s = time.monotonic() - started
    return summary


async def _setup(settings: Settings) -> SetupResult:
    with command_limiter(settings) as limiter:
        async with brevo_client(settings, limiter) as brevo:
            return await setup_brevo(brevo, needs_of(settings), dry_run=False)


async def _syncs(
    settings: Settings, engine: Engine, world: DemoWorld, feedback: Feedback | None
) -> tuple[Outcome, Outcome]:
    options = sync_options(settings, events=True)
    meeting = await sync_and_deliver(
        settings, engine, "meeting", str(world.meeting_id), options,
        import_checks=IMPORT_CHECKS, feedback=feedback,
    )  # fmt: skip
    webinar = await sync_and_deliver(
        settings, engine, "webinar", str(world.webinar_id), options,
        import_checks=IMPORT_CHECKS, feedback=feedback,
    )  # fmt: skip
    return meeting, webinar


def spans_of(conn: Connection, scenario: Scenario) -> list[Span]:
    """Every collected instance with its schedule and the span the store holds."""
    found = []
    for instance in facts.list_instances(conn):
        parent = scenario.find(instance.meeting_id)
        start, end = instance.start_time, instance.end_time
        actual = None if start is None or end is None else (end - start).total_seconds() / 60
        found.append(Span(instance.kind, instance.topic or "", parent.duration_min if parent
                          else 0, actual, instance.span_source))  # fmt: skip
    return found


def summarize(
    box: Sandbox,
    setup: SetupResult,
    meeting: Outcome,
    webinar: Outcome,
    top: list[PersonRow],
    *,
    spans: list[Span] | None = None,
) -> DemoSummary:
    """Read the summary off the emulators' state and statistics."""
    state = box.brevo.state
    roles = {list_id: role for role, list_id in setup.new_list_ids.items()}
    lists = [
        ListCount(roles.get(list_id, "other"), list_id, entry.name, len(entry.members))
        for list_id, entry in sorted(state.lists.items())
    ]
    statuses = {entry.name: _status_counts(state.members(list_id))
                for list_id, entry in sorted(state.lists.items()) if entry.members}  # fmt: skip
    skipped = meeting.sync.skipped_by_reason + webinar.sync.skipped_by_reason
    return DemoSummary(
        setup=setup,
        meeting=meeting,
        webinar=webinar,
        lists=lists,
        statuses=statuses,
        spans=spans or [],
        events=dict(sorted(Counter(e.event_name for e in state.events).items())),
        contacts=len(state.contacts),
        top=top,
        skipped=dict(sorted(skipped.items())),
        zoom_calls=zoom_calls_by_endpoint(box.zoom.stats),
        zoom_token_requests=box.zoom.stats.token_requests,
        brevo_calls=dict(sorted(box.brevo.stats.requests.items())),
    )


def _status_counts(contacts: Iterable[Any]) -> dict[str, int]:
    counts = Counter(str(c.attributes.get(STATUS_ATTRIBUTE, "(not set)")) for c in contacts)
    return dict(sorted(counts.items()))


def zoom_calls_by_endpoint(stats: ZoomStats) -> dict[str, int]:
    """Zoom API calls per endpoint template (``/past_webinars/{webinarId}/absentees``...)."""
    counts: Counter[str] = Counter()
    for request in stats.api_calls():
        counts[endpoint_of(request.raw_path, request.query)] += 1
    return dict(sorted(counts.items()))


def endpoint_of(raw_path: str, query: Mapping[str, str]) -> str:
    """The endpoint template of a recorded call; a tracking-source filter is shown."""
    below = raw_path.split("/v2/", 1)[-1]
    found = routes.match(below.strip("/").split("/"))
    label = found[0].template if found else "/" + below
    return f"{label}?tracking_source_id" if "tracking_source_id" in query else label


# --- rendering ---------------------------------------------------------------------------


def render(summary: DemoSummary) -> RenderableType:
    """Rich tables for the terminal."""
    return Group(
        _counts("Brevo lists", ((f"{c.name} (id {c.list_id})", c.contacts) for c in summary.lists)),
        _statuses(summary.statuses),
        _spans(summary.spans),
        _counts("Brevo events", summary.events.items()),
        _top(summary.top),
        _counts("Guests skipped (by reason)", summary.skipped.items()),
        _counts("Zoom API calls", summary.zoom_calls.items(), total=True),
        _counts("Brevo API calls (by family)", summary.brevo_calls.items(), total=True),
        f"Contacts in Brevo: {summary.contacts}. Zoom token requests:"
        f" {summary.zoom_token_requests}. Wall time: {summary.wall_s:.1f} s.",
    )


def _counts(title: str, rows: Iterable[tuple[str, int]], *, total: bool = False) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("What")
    table.add_column("Count", justify="right")
    listed = list(rows)
    for label, count in listed:
        table.add_row(label, str(count))
    if not listed:
        table.add_row("(none)", "0")
    if total:
        table.add_row("total", str(sum(n for _, n in listed)), style="bold")
    return table


def _statuses(statuses: Mapping[str, Mapping[str, int]]) -> Table:
    table = Table(title=f"{STATUS_ATTRIBUTE} of the contacts, by list", title_justify="left")
    table.add_column("List")
    table.add_column(STATUS_ATTRIBUTE)
    table.add_column("Contacts", justify="right")
    for name, counts in statuses.items():
        for status, count in counts.items():
            table.add_row(name, status, str(count))
    return table


def _spans(spans: list[Span]) -> Table:
    table = Table(title="Instances: scheduled and actual length", title_justify="left")
    for name, justify in (("Kind", "left"), ("Topic", "left"), ("Scheduled min", "right"),
                          ("Actual min", "right"), ("From", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for s in spans:
        actual = "unknown" if s.actual_min is None else f"{s.actual_min:.0f}"
        table.add_row(s.kind, s.topic, str(s.scheduled_min), actual, s.source or "")
    return table


def _top(people: list[PersonRow]) -> Table:
    table = Table(title=f"Top {TOP} by engagement score", title_justify="left")
    for name, justify in (("E-mail", "left"), ("Name", "left"), ("Score", "right"),
                          ("Meetings", "right"), ("Minutes", "right")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for p in people:
        table.add_row(
            p.email, p.name or "", f"{p.score:g}", str(p.meetings_attended),
            f"{p.total_minutes:.0f}",
        )  # fmt: skip
    return table


__all__ = [
    "DemoSummary",
    "DemoWorld",
    "demo_scenario",
    "render",
    "run_demo",
    "run_in_sandbox",
    "summarize",
]
