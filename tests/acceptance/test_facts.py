"""Facts that match what happened, through ``serve`` and through ``sync``, on both databases.

One world shaped like a real account: a webinar scheduled for 60 minutes that ran 72
(people stayed to the end), a meeting that ended 15 minutes early, and registrations that
arrive just before a signed ``app_deauthorized`` of another account (Zoom's documentation
sample account ``AAAAAABBBB``). The same world is collected twice, into two emulated Brevo
accounts: once by a real ``zoom-brevo serve`` process fed signed webhooks, once by
``zoom-brevo sync``. The expected values are computed here from the scenario:

- minutes are the union of each person's sessions, never cut at the scheduled end, and the
  attendance ratio is over the actual span (issue: minutes were cut at the schedule);
- meeting participants get ``ATTENDANCE_STATUS`` ``attended``, as the connector spec sets;
- both paths give every person the same minutes and ratio;
- a later ``participant_joined`` whose ``object.start_time`` is not the real start leaves
  the stored span and everyone's minutes as the report established them;
- another account's deauthorization erases nothing and drops no webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.acceptance.test_realtime import settled, start, stop, wait_healthy
from tests.cli.helpers import invoke
from tests.store.conftest import pg_schema
from zoom_brevo.reports.engagement import meeting_attendees
from zoom_brevo.sandbox.combined import WEBHOOK_SECRET, Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Instance, Scenario
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.webhook_sender import WebhookSender, ZoomEvents
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.store import deauthorizations, facts, inbox
from zoom_brevo.store.engine import create_engine, reading

pytestmark = pytest.mark.slow
MIN = timedelta(minutes=1)
SCHEDULED_MIN, OVERRUN_MIN, EARLY_MIN = 60, 12, -15
SANDBOX_ACCOUNT = "sandbox-account"  # the account sandbox_config serves
SETTLE_WITHIN_S = 60.0


@dataclass
class World:
    scenario: Scenario
    webinar: Instance
    meeting: Instance
    late_registrants: int


def build_world() -> World:
    sc = Scenario(seed=16, anchor=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    host = sc.user(email="host@example.com")
    web = sc.webinar(host, topic="Overrunning webinar", registrants=40, attendees=30,
                     sources=2, duration_min=SCHEDULED_MIN, overrun_min=OVERRUN_MIN)  # fmt: skip
    inst = web.latest
    w = inst.start
    stayed = sc.new_person("stayed.late@example.com", "Stella", "Late")
    inst.add_attendee(stayed, [(w + 12 * MIN, inst.end)])  # 60 minutes, 12 past the schedule
    meeting = sc.meeting(host, topic="Short sync", participants=15, people_offset=200,
                         duration_min=SCHEDULED_MIN, overrun_min=EARLY_MIN).latest  # fmt: skip
    upcoming = sc.webinar(host, topic="Next webinar", registrants=8, attendees=0, sources=0,
                          people_offset=400, start=sc.anchor + timedelta(days=3))  # fmt: skip
    return World(sc, inst, meeting, len(upcoming.registrants))


# --- expected, from the scenario ----------------------------------------------------------


def expected_visits(inst: Instance) -> dict[str, tuple[float, float]]:
    """Per address: minutes (union of in-meeting sessions) and ratio of the actual span."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for att, session in inst.sessions():
        email = (att.registrant.email if att.registrant else att.person.email).lower()
        if email and session.status == "in_meeting":
            spans.setdefault(email, []).append((session.join, session.leave))
    actual = (inst.end - inst.start).total_seconds()
    found = {}
    for email, intervals in spans.items():
        seconds = _union_seconds(intervals)
        if seconds > 0:
            found[email] = (round(seconds / 60, 1), round(min(1.0, seconds / actual), 3))
    return found


def _union_seconds(intervals: list[tuple[datetime, datetime]]) -> float:
    total, end = 0.0, datetime.min.replace(tzinfo=UTC)
    for a, b in sorted(intervals):
        if b > end:
            total += (b - max(a, end)).total_seconds()
            end = b
    return total


# --- the two paths --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty stores of one dialect: one for the ``serve`` path, one for ``sync``."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'serve.db'}", f"sqlite:///{tmp_path / 'sync.db'}"
        return
    pg_url = request.getfixturevalue("pg_url")
    with pg_schema(pg_url) as serve_url, pg_schema(pg_url) as sync_url:
        yield serve_url, sync_url


def write_config(path: Path, base_url: str, box: Sandbox, store_url: str) -> Path:
    text = sandbox_config(base_url, box.list_ids, storage_url=store_url)
    text = text.replace(
        "  zoom:\n",
        "  zoom:\n    collect:\n      delay_s: 0\n      reconcile_after_s: 0\n"
        "      sweep_interval_s: 0\n",
        1,
    )
    path.write_text(text, "utf-8")
    return path


def wait_settled(engine: Engine, log: Path) -> None:
    deadline, calm = time.monotonic() + SETTLE_WITHIN_S, 0
    while time.monotonic() < deadline:
        calm = calm + 1 if settled(engine) else 0
        if calm >= 3:
            return
        time.sleep(0.3)
    pytest.fail(f"the worker did not finish within {SETTLE_WITHIN_S} s:\n{log.read_text()}")


@contextlib.contextmanager
def served(tmp_path: Path, config: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = start(["--config", str(config), "serve", "--port", str(port)], log)
    try:
        wait_healthy(process, url, log)
        yield url
    finally:
        code = stop(process)
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def contacts(box: Sandbox) -> dict[str, dict[str, Any]]:
    return {c.email: dict(c.attributes) for c in box.brevo.state.contacts.values()}


def visits_in_brevo(box: Sandbox, emails: set[str]) -> dict[str, tuple[float, float]]:
    held = contacts(box)
    return {e: (held[e]["MEETING_DURATION"], held[e]["ZOOM_ATTENDANCE_RATIO"]) for e in emails}


@dataclass
class Collected:
    box: Sandbox
    engine: Engine


async def collect_by_serve(tmp_path: Path, world: World, store_url: str) -> Collected:
    """``serve`` with its worker: ended webhooks, then the Zoom-like late webhooks."""
    box = build_sandbox(world.scenario, prepare_brevo=True)
    engine = create_engine(store_url)
    with serving(box.app) as sandbox_url:
        config = write_config(tmp_path / "serve.yaml", sandbox_url, box, store_url)
        with served(tmp_path, config) as url:
            async with httpx.AsyncClient(base_url=url) as http:
                sender = WebhookSender(WEBHOOK_PATH, WEBHOOK_SECRET, client=http)
                events = ZoomEvents(account_id=SANDBOX_ACCOUNT)
                for inst in (world.webinar, world.meeting):
                    assert (await sender.send(events.ended(inst))).status == 200
                wait_settled(engine, tmp_path / "serve.log")
                await _late_webhooks(sender, events, world)
                wait_settled(engine, tmp_path / "serve.log")
    return Collected(box, engine)


async def _late_webhooks(sender: WebhookSender, events: ZoomEvents, world: World) -> None:
    """A join echoing a start that is not the real one; registrations; a foreign deauth."""
    att = next(world.meeting.attendances())
    joined = events.joined(world.meeting, att, att.sessions[0])
    joined["payload"]["object"]["start_time"] = (world.meeting.start + timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert (await sender.send(joined)).status == 200
    upcoming = world.scenario.webinars[-1]
    for reg in upcoming.registrants:
        assert (await sender.send(events.registration_created(upcoming, reg))).status == 200
    foreign = events.app_deauthorized(account_id="AAAAAABBBB")
    assert (await sender.send(foreign)).status == 200


def collect_by_sync(
    tmp_path: Path, world: World, store_url: str, capsys: pytest.CaptureFixture[str]
) -> Collected:
    box = build_sandbox(world.scenario, prepare_brevo=True)
    with serving(box.app) as sandbox_url:
        config = write_config(tmp_path / "sync.yaml", sandbox_url, box, store_url)
        for kind, inst in (("webinar", world.webinar), ("meeting", world.meeting)):
            result = invoke(capsys, ["--config", str(config), "sync", kind, inst.uuid, "--json"])
            assert result.code == 0, result.err
    return Collected(box, create_engine(store_url))


# --- the test ---------------------------------------------------------------------------------


async def test_serve_and_sync_agree_on_real_spans_statuses_and_ownership(
    tmp_path: Path, stores: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    serve_url, sync_url = stores
    world = build_world()
    webinar_visits, meeting_visits = expected_visits(world.webinar), expected_visits(world.meeting)
    assert webinar_visits["stayed.late@example.com"] == (60.0, round(60 / 72, 3))
    late = [v for v in webinar_visits.values() if v[1] > SCHEDULED_MIN / 72]
    assert len(late) >= 5  # many stayed past the scheduled end: the case under test is there

    everyone = set(webinar_visits) | set(meeting_visits)
    by_serve = await collect_by_serve(tmp_path, world, serve_url)
    by_sync = await asyncio.to_thread(collect_by_sync, tmp_path, world, sync_url, capsys)
    _check_sync(by_sync, world, webinar_visits, meeting_visits)
    sync_values = visits_in_brevo(by_sync.box, everyone)
    by_sync.engine.dispose()

    # 1. The real span, on both paths, identical.
    serve_values = visits_in_brevo(by_serve.box, everyone)
    assert serve_values == {**webinar_visits, **meeting_visits}
    assert serve_values == sync_values
    # 2. Meeting participants carry ATTENDANCE_STATUS (meeting people are not in the webinar).
    held = contacts(by_serve.box)
    assert {held[e].get("ATTENDANCE_STATUS") for e in meeting_visits} == {"attended"}
    # 4. The late join echoing another start changed neither the span nor anyone's minutes.
    with reading(by_serve.engine) as conn:
        stored = facts.get_instance(conn, world.meeting.uuid)
        _, rows = meeting_attendees(conn, world.meeting.uuid)
        found = deauthorizations.read(conn)
        registrants = facts.list_registrants(conn, "webinar", world.scenario.webinars[-1].id)
        webhooks = inbox.counts(conn)
    assert stored is not None
    assert (stored.start_time, stored.end_time) == (world.meeting.start, world.meeting.end)
    assert stored.span_source == "report"
    report = {r.email: round(r.minutes, 1) for r in rows if r.email}
    assert report == {e: m for e, (m, _) in meeting_visits.items()}
    # 3. Another account's deauthorization: counted, nothing erased, no webhook dropped.
    assert found.counts == {"erased": 0, "ignored": 1} and not found.deauthorized
    assert len(registrants) == world.late_registrants
    assert set(webhooks) == {"processed"}
    registered = [e for e, a in contacts(by_serve.box).items() if a.get("ATTENDANCE_STATUS") ==
                  "registered"]  # fmt: skip
    assert len(registered) == world.late_registrants
    by_serve.engine.dispose()


def _check_sync(
    by_sync: Collected,
    world: World,
    webinar_visits: dict[str, tuple[float, float]],
    meeting_visits: dict[str, tuple[float, float]],
) -> None:
    held = contacts(by_sync.box)
    assert {held[e].get("ATTENDANCE_STATUS") for e in meeting_visits} == {"attended"}
    assert {held[e].get("ATTENDANCE_STATUS") for e in webinar_visits} == {"attended"}
    with reading(by_sync.engine) as conn:
        for inst in (world.webinar, world.meeting):
            stored = facts.get_instance(conn, inst.uuid)
            assert stored is not None
            assert (stored.start_time, stored.end_time, stored.span_source) == (
                inst.start,
                inst.end,
                "report",
            )
