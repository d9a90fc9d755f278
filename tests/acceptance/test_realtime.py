"""Real time, end to end: webhooks in, Brevo contacts, events and e-mails out.

``zoom-brevo serve --no-worker`` and ``zoom-brevo worker`` run as separate processes over
one SQLite store, against the combined sandbox served by this test. A meeting and a webinar
are played through signed webhooks as Zoom would send them: registrations (one delivery
retried byte for byte, one approval repeated, one cancellation), the starts, joins and
leaves with duplicates and out-of-order deliveries, the ends, and every
``recording.completed`` twice (the second differing only in its download token, as Zoom
does). Once the worker has nothing left to do, the emulated Brevo must hold exactly the
contacts, list members, events and e-mails computed here from the scenario, each event
once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.delivery.imports import pending_imports
from zoom_brevo.sandbox.combined import WEBHOOK_SECRET, Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Attendance, Instance, Registrant, Scenario, Session
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.webhook_sender import Delivery, WebhookSender, ZoomEvents
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.store import activity, inbox, jobs, outbox
from zoom_brevo.store.engine import create_engine, reading

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-c", "from zoom_brevo.cli import main; main()"]
SETTLE_WITHIN_S = 45.0
MIN = timedelta(minutes=1)


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    """The scenario, its two instances and the people the expectations name."""

    scenario: Scenario
    meeting: Instance
    webinar: Instance
    registrants: dict[str, Registrant]  # by first name
    cancelled: Registrant


def build_world() -> World:
    sc = Scenario(seed=5, anchor=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    host = sc.user(email="host@example.com")
    meeting = sc.meeting(host, topic="Realtime meeting", participants=0, recording=True).latest
    t = meeting.start
    meeting.add_attendee(sc.new_person("alice@example.com", "Alice", "Archer"), [(t, t + 30 * MIN)])
    meeting.add_attendee(
        sc.new_person("bob@example.org", "Bob", "Baker"),
        [(t + 5 * MIN, t + 15 * MIN), (t + 20 * MIN, t + 45 * MIN)],
    )
    meeting.add_attendee(sc.new_person("", "iPhone", ""), [(t, t + 10 * MIN)])

    web = sc.webinar(host, topic="Realtime webinar", registrants=0, attendees=0, sources=2,
                     recording=True)  # fmt: skip
    inst = web.latest
    w = inst.start
    people = {
        name: sc.new_person(f"{name.lower()}@example.com", name, "Webinar")
        for name in ("Carol", "Dave", "Erin", "Frank")
    }
    regs = {
        "Carol": web.add_registrant(people["Carol"], source=web.sources[0]),
        "Dave": web.add_registrant(people["Dave"]),
        "Erin": web.add_registrant(people["Erin"], source=web.sources[1]),
    }
    cancelled = web.add_registrant(people["Frank"], status="cancelled")
    inst.add_attendee(people["Carol"], [(w, w + 50 * MIN)], regs["Carol"])
    inst.add_attendee(
        people["Dave"], [(w + 2 * MIN, w + 10 * MIN), (w + 12 * MIN, w + 40 * MIN)], regs["Dave"]
    )
    inst.add_attendee(sc.new_person("gina@example.com", "Gina", "Guest"), [(w, w + 20 * MIN)])
    return World(sc, meeting, inst, regs, cancelled)


# --- the expected Brevo state, computed from the scenario ------------------------------------


def union_minutes(sessions: tuple[Session, ...]) -> float:
    spans = sorted((s.join, s.leave) for s in sessions if s.status == "in_meeting")
    total, (start, end) = 0.0, spans[0]
    for a, b in spans[1:]:
        if a > end:
            total += (end - start).total_seconds()
            start, end = a, b
        end = max(end, b)
    return round((total + (end - start).total_seconds()) / 60, 1)


def attendee_email(att: Attendance) -> str:
    return (att.registrant.email if att.registrant else att.person.email).lower()


@dataclass
class Expected:
    contacts: set[str]
    lists: dict[str, set[str]]
    events: Counter[tuple[str, str, str]]  # (event, email, uuid)
    minutes: dict[str, float]
    status: dict[str, str]
    source: dict[str, str]


def expected(world: World) -> Expected:
    m, w = world.meeting, world.webinar
    m_people = {attendee_email(a): a for a in m.attendances() if attendee_email(a)}
    w_people = {attendee_email(a): a for a in w.attendances() if attendee_email(a)}
    approved = {r.email for r in world.registrants.values()}
    absent = approved - set(w_people)
    ever_registered = approved | {world.cancelled.email}
    events: Counter[tuple[str, str, str]] = Counter()
    for email in ever_registered:
        events[("zoom_registered", email, "")] += 1
    for email in approved:
        events[("zoom_webinar_started", email, w.uuid)] += 1
    for email in m_people:
        events[("zoom_attended", email, m.uuid)] += 1
        events[("zoom_recording_ready", email, m.uuid)] += 1
    for email in w_people:
        events[("zoom_attended", email, w.uuid)] += 1
    for email in absent:
        events[("zoom_absent", email, w.uuid)] += 1
    for email in set(w_people) | absent:
        events[("zoom_recording_ready", email, w.uuid)] += 1
    status = dict.fromkeys(w_people, "attended") | dict.fromkeys(absent, "absent")
    status[world.cancelled.email] = "registered"
    return Expected(
        contacts=set(m_people) | set(w_people) | ever_registered,
        lists={
            "meeting_participants": set(m_people),
            "webinar_attendees": set(w_people),
            "webinar_registrants": ever_registered,
            "webinar_absentees": absent,
        },
        events=events,
        minutes={e: union_minutes(a.sessions) for e, a in {**m_people, **w_people}.items()},
        status=status,
        source={
            r.email: r.tracking_source.source_name
            for r in world.registrants.values()
            if r.tracking_source
        },
    )


# --- processes ------------------------------------------------------------------------------


@dataclass
class Running:
    box: Sandbox
    url: str
    store: Path
    logs: Path


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([*CLI, *args], stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.terminate()
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


STARTUP_WITHIN_S = 60.0  # start-up time is not what is tested; a loaded machine is slow


def wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_WITHIN_S
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"serve did not become healthy:\n{log.read_text()}")


@contextlib.contextmanager
def connector(
    tmp_path: Path, world: World, *, brevo_yaml: str = "", wrap: Callable[[Any], Any] | None = None
) -> Iterator[Running]:
    """``serve --no-worker`` and ``worker`` over the sandbox (optionally wrapped) until exit."""
    box = build_sandbox(world.scenario, prepare_brevo=True)
    with serving(wrap(box.app) if wrap else box.app) as sandbox_url:
        store = tmp_path / "store.db"
        text = sandbox_config(sandbox_url, box.list_ids, storage_url=f"sqlite:///{store}")
        # No sweep: it would collect instances the scenario has already ended before their
        # webhooks are in (tests/handlers/test_sweep.py covers it).
        text = text.replace(
            "  zoom:\n",
            "  zoom:\n    collect:\n      delay_s: 1\n      reconcile_after_s: 0\n"
            "      sweep_interval_s: 0\n",
            1,
        )
        text = text.replace("brevo:\n", "brevo:\n" + brevo_yaml, 1)
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(text, "utf-8")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve_log, worker_log = tmp_path / "serve.log", tmp_path / "worker.log"
        server = start(["--config", str(config), "serve", "--no-worker", "--port", str(port)],
                       serve_log)  # fmt: skip
        worker = None
        try:
            wait_healthy(server, url, serve_log)
            worker = start(["--config", str(config), "worker"], worker_log)
            yield Running(box, url, store, worker_log)
        finally:
            codes = [stop(p) for p in (server, worker) if p is not None]
        assert codes == [0] * len(codes), serve_log.read_text() + worker_log.read_text()
        assert "Traceback" not in worker_log.read_text(), worker_log.read_text()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[World, Running]]:
    world = build_world()
    with connector(tmp_path, world) as run:
        yield world, run


# --- playing the webhooks -------------------------------------------------------------------


async def play(world: World, sender: WebhookSender) -> list[Delivery]:
    """Every webhook of both instances, with Zoom's duplicates, retries and reordering."""
    events = ZoomEvents(account_id="sandbox-account")
    web = world.webinar.parent
    regs = world.registrants
    sent: list[Delivery] = []

    async def send(payload: dict[str, Any]) -> Delivery:
        delivery = await sender.send(payload)
        sent.append(delivery)
        return delivery

    first = await send(events.registration_created(web, regs["Carol"]))  # type: ignore[arg-type]
    sent.append(await sender.resend(first, same_headers=True))  # a retried delivery
    for name in ("Dave", "Erin"):
        await send(events.registration_created(web, regs[name]))  # type: ignore[arg-type]
    await send(events.registration_approved(web, regs["Carol"]))  # type: ignore[arg-type]
    frank = dataclasses.replace(world.cancelled, status="approved")
    await send(events.registration_created(web, frank))  # type: ignore[arg-type]
    await send(events.registration_cancelled(web, world.cancelled))  # type: ignore[arg-type]

    for inst in (world.meeting, world.webinar):
        await send(events.started(inst))
        await send(events.started(inst))  # duplicate
        rows = [(att, s) for att in inst.attendances() for s in att.sessions]
        for att, session in rows[::2]:  # every other person: leave before join (reordered)
            await send(events.left(inst, att, session))
            await send(events.joined(inst, att, session))
        for att, session in rows[1::2]:
            joined = await send(events.joined(inst, att, session))
            sent.append(await sender.resend(joined))  # duplicate, re-signed
            await send(events.left(inst, att, session))
        await send(events.ended(inst))
    for inst in (world.meeting, world.webinar):
        await send(events.recording_completed(inst, download_token="first-token"))
        await send(events.recording_completed(inst, download_token="second-token"))
    return sent


def settled(engine: Engine) -> bool:
    """Idle as ``status --json`` says: jobs scheduled for later (the daily replay look-ups)
    do not count."""
    with reading(engine) as conn:
        waiting = len(pending_imports(conn))
        return activity.busy(conn, now=datetime.now(UTC), pending_imports=waiting) == []


def wait_settled(store: Path, log: Path) -> None:
    engine = create_engine(f"sqlite:///{store}")
    try:
        deadline = time.monotonic() + SETTLE_WITHIN_S
        calm = 0
        while time.monotonic() < deadline:
            calm = calm + 1 if settled(engine) else 0
            if calm >= 3:
                return
            time.sleep(0.5)
    finally:
        engine.dispose()
    pytest.fail(f"the worker did not finish within {SETTLE_WITHIN_S} s:\n{log.read_text()}")


def dead_work(store: Path) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{store}")
    try:
        with reading(engine) as conn:
            return {
                "failed_webhooks": inbox.counts(conn).get("failed", 0),
                "dead_jobs": jobs.counts(conn)["dead"],
                "dead_commands": outbox.counts(conn)["dead"],
            }
    finally:
        engine.dispose()


# --- the test -------------------------------------------------------------------------------


async def test_a_live_meeting_and_webinar_reach_brevo_exactly_once(
    running: tuple[World, Running],
) -> None:
    world, run = running
    async with httpx.AsyncClient(base_url=run.url) as http:
        sender = WebhookSender(WEBHOOK_PATH, WEBHOOK_SECRET, client=http)
        deliveries = await play(world, sender)
    assert {d.status for d in deliveries} == {200}

    wait_settled(run.store, run.logs)
    assert dead_work(run.store) == {"failed_webhooks": 0, "dead_jobs": 0, "dead_commands": 0}

    want = expected(world)
    state = run.box.brevo.state
    contacts = {c.email: c for c in state.contacts.values() if c.email}
    assert set(contacts) == want.contacts
    for role, members in want.lists.items():
        listed = state.lists[run.box.list_ids[role]].members
        assert {state.contacts[i].email for i in listed} == members, role

    got: Counter[tuple[str, str, str]] = Counter()
    for event in state.events:
        props = event.event_properties or {}
        uuid = "" if event.event_name == "zoom_registered" else str(props.get("uuid"))
        got[(event.event_name, event.identifiers["email_id"], uuid)] += 1
    assert got == want.events
    assert state.emails == []

    for email, minutes in want.minutes.items():
        assert contacts[email].attributes.get("MEETING_DURATION") == minutes, email
    for email, status in want.status.items():
        assert contacts[email].attributes.get("ATTENDANCE_STATUS") == status, email
    for email, source in want.source.items():
        assert contacts[email].attributes.get("UTM_SOURCE") == source, email

    by_name = {(e.event_name, e.identifiers["email_id"]): e for e in state.events}
    carol = world.registrants["Carol"]
    started = by_name[("zoom_webinar_started", carol.email)].event_properties or {}
    assert started["join_url"] == carol.join_url
    rec = world.meeting.recording
    assert rec is not None
    ready = by_name[("zoom_recording_ready", "alice@example.com")].event_properties or {}
    assert (ready["share_url"], ready["passcode"]) == (rec.share_url, rec.passcode)


# --- recording links as transactional e-mails -------------------------------------------------

TEMPLATE_ID = 7
RECORDINGS_BY_EMAIL = f"  recordings:\n    mode: transactional\n    template_id: {TEMPLATE_ID}\n"
SMTP_PATH = "/brevo/v3/smtp/email"


class LoseFirstEmailAnswer:
    """ASGI wrapper: Brevo takes the first ``POST /smtp/email`` but its answer is lost (502).

    The connector must send it again (same idempotency key); Brevo refuses the replay as a
    duplicate, so nobody gets the e-mail twice (reference brevo.md 4.1).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lost = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            self.lost
            or scope["type"] != "http"
            or (scope["method"], scope["path"])
            != (
                "POST",
                SMTP_PATH,
            )
        ):
            await self.app(scope, receive, send)
            return
        self.lost += 1

        async def swallow(_message: Any) -> None:
            return None

        await self.app(scope, receive, swallow)
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b"bad gateway"})


@pytest.fixture
def running_transactional(
    tmp_path: Path,
) -> Iterator[tuple[World, Running, LoseFirstEmailAnswer]]:
    world = build_world()
    wrappers: list[LoseFirstEmailAnswer] = []

    def wrap(app: Any) -> LoseFirstEmailAnswer:
        wrappers.append(LoseFirstEmailAnswer(app))
        return wrappers[0]

    with connector(tmp_path, world, brevo_yaml=RECORDINGS_BY_EMAIL, wrap=wrap) as run:
        yield world, run, wrappers[0]


async def test_recording_emails_reach_each_person_once_despite_duplicates_and_a_lost_answer(
    running_transactional: tuple[World, Running, LoseFirstEmailAnswer],
) -> None:
    world, run, lossy = running_transactional
    async with httpx.AsyncClient(base_url=run.url) as http:
        sender = WebhookSender(WEBHOOK_PATH, WEBHOOK_SECRET, client=http)
        deliveries = await play(world, sender)  # every recording.completed twice
    assert {d.status for d in deliveries} == {200}

    wait_settled(run.store, run.logs)
    assert dead_work(run.store) == {"failed_webhooks": 0, "dead_jobs": 0, "dead_commands": 0}

    want = expected(world)
    state = run.box.brevo.state
    wanted_emails = Counter(
        {
            (email, uuid): n
            for (name, email, uuid), n in want.events.items()
            if name == "zoom_recording_ready"
        }
    )
    got_emails: Counter[tuple[str, str]] = Counter()
    for email in state.emails:
        assert email.template_id == TEMPLATE_ID
        for to in email.to:
            got_emails[(to, str(email.params.get("UUID")))] += 1
    assert got_emails == wanted_emails
    assert set(got_emails.values()) == {1}

    assert lossy.lost == 1  # the first e-mail request was taken but its answer lost ...
    replays = [r for r in run.box.brevo.stats.log if r.path == "/smtp/email" and r.status == 400]
    assert len(replays) == 1  # ... and its replay refused by Brevo as a duplicate

    rec = world.meeting.recording
    assert rec is not None
    alice = next(e for e in state.emails if e.to == ["alice@example.com"])
    assert (alice.params["SHARE_URL"], alice.params["PASSCODE"]) == (rec.share_url, rec.passcode)
    names = Counter(e.event_name for e in state.events)
    assert "zoom_recording_ready" not in names
    assert names["zoom_attended"] == sum(
        n for (name, _, _), n in want.events.items() if name == "zoom_attended"
    )
