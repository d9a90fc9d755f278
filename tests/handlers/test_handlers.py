"""Each handler: what a webhook (or a sequence of them) leaves in facts, outbox and jobs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.handlers.context import Context, HandlerOptions, RecordingOptions
from zoom_brevo.handlers.participants import pair_leave
from zoom_brevo.sandbox.scenario import Instance, Registrant, Scenario, Webinar
from zoom_brevo.sandbox.webhook_sender import ZoomEvents
from zoom_brevo.store import facts, jobs
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.schema import outbox

from .conftest import LISTS, NOW, processor, put

MIN = timedelta(minutes=1)


@dataclass
class World:
    meeting: Instance
    webinar: Instance
    regs: dict[str, Registrant]
    events: ZoomEvents

    @property
    def web(self) -> Webinar:
        parent = self.webinar.parent
        assert isinstance(parent, Webinar)
        return parent


@pytest.fixture
def world() -> World:
    sc = Scenario(seed=3, anchor=datetime(2025, 2, 1, 10, tzinfo=UTC))
    host = sc.user(email="host@example.com")
    meeting = sc.meeting(host, topic="Standup", participants=0, recording=True).latest
    t = meeting.start
    meeting.add_attendee(sc.new_person("ann@example.com", "Ann", "A"), [(t, t + 20 * MIN)])
    web = sc.webinar(host, topic="Launch", registrants=0, attendees=0, sources=1, recording=True)
    regs = {
        "ann": web.add_registrant(sc.new_person("ann@example.com", "Ann", "A"),
                                  source=web.sources[0]),
        "ben": web.add_registrant(sc.new_person("ben@example.com", "Ben", "B")),
        "out": web.add_registrant(sc.new_person("out@skip.example", "Out", "O")),
    }  # fmt: skip
    w = web.latest.start
    web.latest.add_attendee(regs["ann"].person, [(w, w + 30 * MIN)], regs["ann"])
    return World(meeting, web.latest, regs, ZoomEvents(account_id="acct"))


def run(engine: Engine, *payloads: dict[str, Any], options: HandlerOptions | None = None) -> None:
    for payload in payloads:
        put(engine, payload)
    outcome = processor(engine, options).process_all()
    assert outcome.failed == 0


def commands(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    with reading(engine) as conn:
        rows = conn.execute(sa.select(outbox.c.kind, outbox.c.payload).order_by(outbox.c.id))
        return [(row.kind, row.payload) for row in rows]


def events_of(engine: Engine) -> list[tuple[str, str]]:
    return [(p["event_name"], p["email"]) for k, p in commands(engine) if k == "event"]


def all_jobs(engine: Engine) -> list[jobs.Job]:
    with reading(engine) as conn:
        return [j for i in range(1, 50) if (j := jobs.get(conn, i)) is not None]


OPTIONS = HandlerOptions(lists=LISTS, exclude_domains=("skip.example",), collect_delay_s=120)


# --- registrations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (["created"], ("approved", 1, 1)),
        (["created", "approved"], ("approved", 2, 1)),  # the event once
        (["created", "cancelled"], ("cancelled", 1, 1)),
        (["created_pending"], ("pending", 0, 0)),
        (["created_pending", "approved"], ("approved", 1, 1)),
        (["created_pending", "denied"], ("denied", 0, 0)),
    ],
)
def test_a_registration_is_stored_and_an_approved_one_becomes_a_contact_and_one_event(
    engine: Engine, world: World, steps: list[str], expected: tuple[str, int, int]
) -> None:
    status, contacts, events = expected
    web, reg = world.web, world.regs["ann"]
    build = {
        "created": lambda: world.events.registration_created(web, reg),
        "created_pending": lambda: world.events.registration_created(
            web,
            dataclasses.replace(reg, status="pending"),
        ),
        "approved": lambda: world.events.registration_approved(web, reg),
        "cancelled": lambda: world.events.registration_cancelled(web, reg),
        "denied": lambda: {
            **world.events.registration_cancelled(web, reg),
            "event": "webinar.registration_denied",
        },
    }
    for n, step in enumerate(steps):
        run(engine, {**build[step](), "event_ts": n}, options=OPTIONS)
    with reading(engine) as conn:
        stored = facts.list_registrants(conn, "webinar", web.id)
    assert [(r.email, r.status) for r in stored] == [("ann@example.com", status)]
    found = commands(engine)
    assert sum(k == "contact" for k, _ in found) == contacts
    assert events_of(engine) == [("zoom_registered", "ann@example.com")] * events
    if contacts:
        contact = next(p for k, p in found if k == "contact")
        assert contact["list_ids"] == [LISTS["webinar_registrants"]]
        assert contact["attributes"]["ATTENDANCE_STATUS"] == "registered"
        assert contact["attributes"]["UTM_SOURCE"] == reg.tracking_source.source_name  # type: ignore[union-attr]


def test_once_the_host_approves_the_contact_gets_the_join_link_and_registrant_id(
    engine: Engine, world: World
) -> None:
    """Manual approval: ``register`` left ``ZOOM_JOIN_URL`` out while pending; the approval
    webhook carries the link (reference zoom.md 4.4) and the contact gets it then."""
    web, reg = world.web, world.regs["ann"]
    pending = dataclasses.replace(reg, status="pending", join_url="")
    run(engine, world.events.registration_created(web, pending), options=OPTIONS)
    assert commands(engine) == []  # nothing while pending: no link that would not let in
    run(engine, world.events.registration_approved(web, reg), options=OPTIONS)
    [contact] = [p for k, p in commands(engine) if k == "contact"]
    attributes = contact["attributes"]
    assert (attributes["ZOOM_JOIN_URL"], attributes["ZOOM_REGISTRANT_ID"]) == (reg.join_url, reg.id)
    assert events_of(engine) == [("zoom_registered", "ann@example.com")]


def test_a_meeting_registration_leaves_the_webinar_join_link_alone(
    engine: Engine, world: World
) -> None:
    approved = world.events.registration_approved(world.web, world.regs["ann"])
    run(engine, {**approved, "event": "meeting.registration_approved"}, options=OPTIONS)
    [contact] = [p for k, p in commands(engine) if k == "contact"]
    assert not {"ZOOM_JOIN_URL", "ZOOM_REGISTRANT_ID"} & set(contact["attributes"])


@pytest.mark.parametrize(
    ("event_ts", "registered_at"),
    [
        (1_772_442_900_000, datetime(2026, 3, 2, 9, 15, tzinfo=UTC)),
        ("1772442900000", datetime(2026, 3, 2, 9, 15, tzinfo=UTC)),
        (None, NOW),  # no time in the event: when it was handled
        ("soon", NOW),
    ],
)
def test_a_registration_was_made_when_its_event_occurred(
    engine: Engine, world: World, event_ts: object, registered_at: datetime
) -> None:
    payload = {**world.events.registration_created(world.web, world.regs["ann"])}
    payload["event_ts"] = event_ts
    run(engine, payload, options=OPTIONS)
    with reading(engine) as conn:
        [stored] = facts.list_registrants(conn, "webinar", world.web.id)
    assert stored.registered_at == registered_at


def test_a_registrant_of_an_excluded_domain_is_stored_but_never_sent(
    engine: Engine, world: World
) -> None:
    web = world.web
    run(engine, world.events.registration_created(web, world.regs["out"]), options=OPTIONS)
    assert commands(engine) == []
    with reading(engine) as conn:
        assert len(facts.list_registrants(conn, "webinar", web.id)) == 1


# --- started / ended ---------------------------------------------------------------------


def test_webinar_started_tells_each_approved_registrant_once_with_their_join_link(
    engine: Engine, world: World
) -> None:
    web = world.web
    cancelled = dataclasses.replace(world.regs["ben"], status="approved")
    run(
        engine,
        world.events.registration_created(web, world.regs["ann"]),
        world.events.registration_created(web, cancelled),
        world.events.registration_cancelled(web, world.regs["ben"]),
        world.events.registration_created(web, world.regs["out"]),
        options=OPTIONS,
    )
    started = world.events.started(world.webinar)
    run(engine, started, options=OPTIONS)
    run(engine, {**started, "event_ts": 2}, options=OPTIONS)  # a replay with another key
    sent = [(k, p) for k, p in commands(engine) if p.get("event_name") == "zoom_webinar_started"]
    assert [p["email"] for _, p in sent] == ["ann@example.com"]
    props = sent[0][1]["event_properties"]
    assert props["join_url"] == world.regs["ann"].join_url
    assert (props["uuid"], props["webinar_id"]) == (world.webinar.uuid, str(web.id))
    assert sent[0][1]["ledger_key"] == f"zoom_webinar_started:{world.webinar.uuid}:ann@example.com"


def test_ended_stores_the_end_and_schedules_one_collection_after_the_delay(
    engine: Engine, world: World
) -> None:
    ended = world.events.ended(world.meeting)
    run(engine, ended, {**ended, "event_ts": 5}, options=OPTIONS)
    found = all_jobs(engine)
    assert [(j.kind, j.unique_key, j.run_at) for j in found] == [
        ("collect", f"collect:{world.meeting.uuid}", NOW + timedelta(seconds=120))
    ]
    assert found[0].payload == {
        "uuid": world.meeting.uuid, "kind": "meeting", "meeting_id": world.meeting.parent.id,
    }  # fmt: skip
    with reading(engine) as conn:
        instance = facts.get_instance(conn, world.meeting.uuid)
    assert instance is not None
    assert (instance.end_time, instance.topic) == (world.meeting.end, "Standup")


# --- participants ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        ["j1", "l1", "j2", "l2"],
        ["j1", "j2", "l1", "l2"],  # a late leave arrives after the rejoin
        ["l2", "j2", "j1", "l1"],
        ["j2", "l2", "l1", "j1"],
        ["j1", "j1", "l1", "l1", "j2", "l2", "l2"],  # duplicates
    ],
)
def test_joins_and_leaves_pair_by_time_whatever_the_arrival_order(
    engine: Engine, world: World, order: list[str]
) -> None:
    inst = world.meeting
    t = inst.start
    person = world.meeting.extra[0].person
    att = inst.add_attendee(person, [(t, t + 10 * MIN), (t + 15 * MIN, t + 30 * MIN)])
    s1, s2 = att.sessions
    build = {
        "j1": world.events.joined(inst, att, s1), "l1": world.events.left(inst, att, s1),
        "j2": world.events.joined(inst, att, s2), "l2": world.events.left(inst, att, s2),
    }  # fmt: skip
    for name in order:
        run(engine, build[name], options=OPTIONS)
    for job in [j for j in all_jobs(engine) if j.kind == "pair_leave"]:
        run_job(engine, job)
    with reading(engine) as conn:
        got = [(s.join_time, s.leave_time, s.source) for s in facts.sessions(conn, inst.uuid)]
    assert got == [(s1.join, s1.leave, "provisional"), (s2.join, s2.leave, "provisional")]


def run_job(engine: Engine, job: jobs.Job) -> None:

    with transaction(engine) as conn:
        assert pair_leave(Context(conn, OPTIONS, NOW), job.payload)


def test_a_leave_before_its_join_is_kept_as_a_pair_leave_job(engine: Engine, world: World) -> None:
    inst = world.meeting
    att = inst.extra[0]
    run(engine, world.events.left(inst, att, att.sessions[0]), options=OPTIONS)
    [job] = all_jobs(engine)
    assert job.kind == "pair_leave"
    assert job.payload["person_key"] == "email:ann@example.com"
    assert job.run_at > NOW


def test_the_join_of_a_kept_leave_makes_its_pair_leave_job_due_at_once(
    engine: Engine, world: World
) -> None:
    inst = world.meeting
    att = inst.extra[0]
    session = att.sessions[0]
    run(engine, world.events.left(inst, att, session), options=OPTIONS)
    someone_else = world.events.joined(inst, att, session)
    someone_else["payload"]["object"]["participant"]["email"] = "bob@example.com"
    run(engine, someone_else, options=OPTIONS)
    [kept] = [j for j in all_jobs(engine) if j.kind == "pair_leave"]
    assert kept.run_at > NOW  # another person's join: still waiting for its next try

    run(engine, world.events.joined(inst, att, session), options=OPTIONS)
    [kept] = [j for j in all_jobs(engine) if j.kind == "pair_leave"]
    assert (kept.state, kept.run_at) == ("queued", NOW)  # its own join: due now


def test_a_webinar_attendee_without_email_is_known_by_their_registration(
    engine: Engine, world: World
) -> None:
    inst, web = world.webinar, world.web
    run(engine, world.events.registration_created(web, world.regs["ann"]), options=OPTIONS)
    joined = world.events.joined(inst, inst.extra[0], inst.extra[0].sessions[0])
    joined["payload"]["object"]["participant"]["email"] = ""
    run(engine, joined, options=OPTIONS)
    with reading(engine) as conn:
        assert [s.email for s in facts.sessions(conn, inst.uuid)] == ["ann@example.com"]


# --- recordings --------------------------------------------------------------------------


def test_duplicate_recording_completed_store_one_recording_and_one_follow_up(
    engine: Engine, world: World
) -> None:
    first = world.events.recording_completed(world.meeting, download_token="one")
    second = world.events.recording_completed(world.meeting, download_token="two")
    second["event_ts"] += 1  # stored as a separate row on purpose
    second["payload"]["object"]["recording_files"][0]["download_url"] += "?again"
    run(engine, first, second, options=OPTIONS)
    kinds = sorted(j.kind for j in all_jobs(engine))
    # collect in case *.ended never comes; replay looks who watched the recording later
    assert kinds == ["collect", "recording", "replay"]
    with reading(engine) as conn:
        rec = facts.get_recording(conn, world.meeting.uuid)
    assert rec is not None
    assert (rec.share_url, rec.passcode) == (
        world.meeting.recording.share_url, world.meeting.recording.passcode,  # type: ignore[union-attr]
    )  # fmt: skip
    assert all("download_url" not in f for f in rec.files)


def test_recordings_mode_off_stores_the_recording_and_queues_nothing(
    engine: Engine, world: World
) -> None:
    off = dataclasses.replace(OPTIONS, recordings=RecordingOptions(mode="off"))
    run(engine, world.events.recording_completed(world.meeting), options=off)
    assert all_jobs(engine) == []
