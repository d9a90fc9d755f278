"""The backfill walk against the Zoom emulator over loopback, with a recording sync."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.pipeline.backfill import (
    Backfill,
    Found,
    Position,
    ReadOnlyCursor,
    StoreCursor,
    resume_position,
    units_for,
)
from zoom_brevo.pipeline.windows import BackfillRange, months_before, plan_range
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.errors import BeyondRetention

TODAY = datetime.now(UTC).date()
FROM = TODAY - timedelta(days=300)


def build_scenario() -> Scenario:
    sc = Scenario(seed=11)
    anchor = sc.anchor
    one = sc.user(email="host1@example.com")
    two = sc.user(email="host2@example.com")
    sc.meeting(one, topic="Single", participants=3, start=anchor - timedelta(days=10))
    sc.meeting(one, topic="Alone", participants=1, start=anchor - timedelta(days=12))
    # weekly for 40 weeks: the oldest ones lie beyond the 6-month report
    sc.meeting(one, topic="Weekly", participants=4, instances=40, start=anchor - timedelta(days=2))
    sc.webinar(one, topic="Launch", registrants=6, attendees=3, start=anchor - timedelta(days=20))
    sc.meeting(two, topic="Other host", participants=5, start=anchor - timedelta(days=40))
    sc.meeting(two, topic="Too old", participants=5, start=anchor - timedelta(days=330))
    return sc


def expected(sc: Scenario, start: date) -> dict[str, str]:
    """uuid -> kind, computed from the scenario independently of the walk."""
    floor = months_before(TODAY, 6)
    found: dict[str, str] = {}
    for meeting in sc.meetings:
        for inst in meeting.instances:
            day = inst.start.date()
            report = day >= floor and inst.attendee_count >= 2
            older_recurring = start <= day < floor and meeting.type == 8
            if day >= start and (report or older_recurring):
                found[inst.uuid] = "meeting"
    for webinar in sc.webinars:
        found.update({i.uuid: "webinar" for i in webinar.instances if i.start.date() >= start})
    return found


@dataclass
class World:
    sc: Scenario
    base: str
    engine: Engine

    def zoom(self) -> ZoomClient:
        return ZoomClient.server_to_server(
            account_id="acct",
            client_id="cid",
            client_secret="csecret",
            api_base_url=f"{self.base}/v2",
            oauth_base_url=self.base,
            limiter=LocalRateLimiter({}),  # rate limits are not what these tests are about
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    sc = build_scenario()
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    emu = ZoomEmulator(scenario=sc, enforce_rate_limits=False)
    with serving(emu.app) as base:
        yield World(sc, base, engine)
    engine.dispose()


@dataclass
class Recorder:
    """A sync that records what it was given; ``fail_at`` raises on that call (1-based)."""

    synced: list[Found] = field(default_factory=list)
    calls: int = 0
    fail_at: int | None = None
    missing: set[str] = field(default_factory=set)

    async def __call__(self, instance: Found) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("injected crash")
        if instance.uuid in self.missing:
            raise BeyondRetention("Can not access meeting a year ago.", service="zoom", code=12702)
        self.synced.append(instance)


@dataclass
class Counts:
    """A Progress that counts totals and advances."""

    totals: Counter[str] = field(default_factory=Counter)
    done: Counter[str] = field(default_factory=Counter)

    def add_users(self, count: int) -> None:
        self.totals["users"] += count

    def add_units(self, count: int) -> None:
        self.totals["units"] += count

    def add_instances(self, count: int) -> None:
        self.totals["instances"] += count

    def advance(self, what: Literal["users", "units", "instances"]) -> None:
        self.done[what] += 1


async def _walk(
    world: World, sync: Recorder, *, start: date = FROM, progress: Counts | None = None
) -> Backfill:
    span = plan_range(start, None, today=TODAY)
    async with world.zoom() as zoom:
        walk = Backfill(zoom, span, sync, StoreCursor(world.engine), progress=progress or Counts())
        await walk.run()
    return walk


async def test_every_reachable_instance_is_synced_once_with_its_kind(world: World) -> None:
    sync = Recorder()
    walk = await _walk(world, sync)
    want = expected(world.sc, FROM)
    assert {f.uuid: f.kind for f in sync.synced} == want
    assert len(sync.synced) == len(want)
    weekly = next(m for m in world.sc.meetings if m.topic == "Weekly")
    assert sum(1 for f in sync.synced if f.meeting_id == weekly.id) == sum(
        1 for i in weekly.instances if i.start.date() >= FROM
    )  # report instances and older ones from the instance list, none twice
    topics = {f.topic for f in sync.synced}
    assert "Alone" not in topics  # one-person meetings are not in Zoom's report
    assert "Too old" not in topics  # a single meeting older than 6 months cannot be found
    assert walk.report.synced == len(want)
    assert len(walk.report.warnings) == 1 and "6 months" in walk.report.warnings[0]


async def test_progress_totals_match_what_was_walked(world: World) -> None:
    counts = Counts()
    await _walk(world, Recorder(), progress=counts)
    units = units_for(plan_range(FROM, None, today=TODAY), webinars=True)
    assert counts.totals["users"] == counts.done["users"] == 2
    assert counts.totals["units"] == counts.done["units"] == 2 * len(units)
    assert counts.totals["instances"] == counts.done["instances"] == len(expected(world.sc, FROM))


@pytest.mark.parametrize("crash_at", [1, 5, 23, 42])
async def test_a_crashed_walk_resumes_and_syncs_every_instance_exactly_once(
    world: World, crash_at: int
) -> None:
    first = Recorder(fail_at=crash_at)
    with pytest.raises(RuntimeError, match="injected crash"):
        await _walk(world, first)
    assert len(first.synced) == crash_at - 1
    second = Recorder()
    walk = await _walk(world, second)
    assert walk.report.resumed is (crash_at > 1)  # nothing to resume before one finished
    counts = Counter(f.uuid for f in [*first.synced, *second.synced])
    assert set(counts) == set(expected(world.sc, FROM))
    assert set(counts.values()) == {1}


async def test_a_finished_walk_clears_its_cursor_so_the_next_run_starts_over(
    world: World,
) -> None:
    await _walk(world, Recorder())
    assert StoreCursor(world.engine).load() is None
    again = Recorder()
    walk = await _walk(world, again)
    assert walk.report.resumed is False
    assert len(again.synced) == len(expected(world.sc, FROM))


async def test_a_cursor_of_another_range_is_not_resumed(world: World) -> None:
    with pytest.raises(RuntimeError):
        await _walk(world, Recorder(fail_at=3))
    later = TODAY - timedelta(days=30)
    sync = Recorder()
    walk = await _walk(world, sync, start=later)
    assert walk.report.resumed is False
    assert {f.uuid for f in sync.synced} == set(expected(world.sc, later))


async def test_an_instance_past_retention_is_reported_and_the_walk_goes_on(world: World) -> None:
    want = sorted(expected(world.sc, FROM))
    sync = Recorder(missing={want[0]})
    walk = await _walk(world, sync)
    assert walk.report.unavailable == [want[0]]
    assert len(sync.synced) == len(want) - 1


async def test_a_read_only_cursor_never_saves(world: World) -> None:
    cursor = ReadOnlyCursor()
    span = plan_range(TODAY - timedelta(days=20), None, today=TODAY)
    async with world.zoom() as zoom:
        await Backfill(zoom, span, Recorder(), cursor).run()
    assert cursor.load() is None
    assert StoreCursor(world.engine).load() is None


def _span(start: str, today: str) -> BackfillRange:
    return plan_range(date.fromisoformat(start), None, today=date.fromisoformat(today))


@pytest.mark.parametrize(
    ("start", "webinars", "units"),
    [
        ("2025-06-01", True, ["report:2025-06-01:2025-06-15", "webinars"]),
        ("2025-06-01", False, ["report:2025-06-01:2025-06-15"]),
        ("2024-11-20", True, ["report:2024-12-15:2024-12-31", "report:2025-01-01:2025-01-31",
                              "report:2025-02-01:2025-02-28", "report:2025-03-01:2025-03-31",
                              "report:2025-04-01:2025-04-30", "report:2025-05-01:2025-05-31",
                              "report:2025-06-01:2025-06-15", "recurring", "webinars"]),
        ("2020-01-01", False, [*(f"report:{m}" for m in (
            "2024-12-15:2024-12-31", "2025-01-01:2025-01-31", "2025-02-01:2025-02-28",
            "2025-03-01:2025-03-31", "2025-04-01:2025-04-30", "2025-05-01:2025-05-31",
            "2025-06-01:2025-06-15")), "recurring"]),
    ],
)  # fmt: skip
def test_units_are_report_months_then_older_recurring_then_webinars(
    start: str, webinars: bool, units: list[str]
) -> None:
    assert units_for(_span(start, "2025-06-15"), webinars=webinars) == units


@pytest.mark.parametrize(
    ("saved_from", "saved_to", "start", "end", "resumes"),
    [
        ("2025-01-01", "2025-03-01", "2025-01-01", None, True),  # --to omitted: any end
        ("2025-01-01", "2025-03-01", "2025-01-01", "2025-03-01", True),
        ("2025-01-01", "2025-03-01", "2025-01-01", "2025-04-01", False),
        ("2025-01-01", "2025-03-01", "2025-01-02", None, False),
    ],
)
def test_a_saved_position_resumes_only_the_same_range(
    saved_from: str, saved_to: str, start: str, end: str | None, resumes: bool
) -> None:
    saved = Position(start=saved_from, end=saved_to)
    found = resume_position(
        saved, date.fromisoformat(start), date.fromisoformat(end) if end else None
    )
    assert (found is saved) is resumes
    assert resume_position(None, date.fromisoformat(start), None) is None


def test_positions_round_trip_through_json_and_garbage_is_no_position() -> None:
    position = Position("2025-01-01", "2025-02-01", ["u1"], "u2", ["report:x"], ["t", "uuid"])
    assert Position.from_json(position.to_json()) == position
    assert Position.from_json({"nonsense": 1}) is None
    assert Position.from_json("text") is None
