"""Jobs against the emulators: collect (retried while Zoom is not ready), then the follow-ups."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tests.faults.gate import Gate
from zoom_brevo.delivery.worker import Deliverer
from zoom_brevo.errors import StoreConflict, StoreError
from zoom_brevo.handlers.context import HandlerOptions, RecordingOptions
from zoom_brevo.handlers.jobs import DEFAULT_LEASE_S
from zoom_brevo.handlers.participants import PAIR_LEAVE_JOB
from zoom_brevo.handlers.recordings import CAMPAIGN_SENT_KEY, RECORDING_JOB
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.store import deadletters, facts, jobs, ledger, outbox
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.schema import jobs as job_rows
from zoom_brevo.zoom.paths import encode_segment

from .sandbox_env import MIN, Env, sandbox_env
from .test_handlers import all_jobs, commands


def world() -> Scenario:
    sc = Scenario(seed=9, anchor=datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    host = sc.user(email="host@example.com")
    web = sc.webinar(host, topic="Launch", registrants=0, attendees=0, sources=0, recording=True)
    ann = web.add_registrant(sc.new_person("ann@example.com", "Ann", "A"))
    web.add_registrant(sc.new_person("ben@example.com", "Ben", "B"))
    w = web.latest.start
    web.latest.add_attendee(ann.person, [(w, w + 30 * MIN)], ann)
    return sc


@pytest.fixture
async def env(engine: Engine) -> AsyncIterator[Env]:
    async with sandbox_env(engine, world(), datetime.now(UTC)) as env:
        yield env


def options(mode: str = "event", **recording: Any) -> HandlerOptions:
    return HandlerOptions(
        collect_delay_s=0, reconcile_after_s=3600,
        recordings=RecordingOptions(mode=mode, **recording),  # type: ignore[arg-type]
    )  # fmt: skip


async def settle(env: Env, opts: HandlerOptions, rounds: int = 6) -> None:
    """Run due jobs, moving the clock past each retry, until none is left due soon."""
    runner = env.runner(opts)
    for _ in range(rounds):
        while await runner.step():
            pass
        env.clock.now += timedelta(minutes=30)


async def test_collect_retries_while_zoom_is_not_ready_then_queues_events_and_a_reconcile(
    env: Env,
) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options()
    env.webhooks(opts, env.events.ended(inst))
    env.box.zoom.report_delay_s = 10**8  # 3001 for every report
    assert await env.runner(opts).step()
    [job] = all_jobs(env.engine)
    assert (job.kind, job.state, job.attempts) == ("collect", "queued", 1)
    assert job.last_error is not None and job.last_error.startswith("NotReady")
    assert job.run_at >= env.clock.now + timedelta(seconds=2.5)

    env.box.zoom.report_delay_s = 0
    env.clock.now = job.run_at
    assert await env.runner(opts).step()
    with reading(env.engine) as conn:
        assert jobs.get(conn, job.id).state == "done"  # type: ignore[union-attr]
        reconcile = jobs.get_by_key(conn, f"reconcile:{inst.uuid}")
        assert facts.get_instance(conn, inst.uuid).collect_state == "collected"  # type: ignore[union-attr]
    assert reconcile is not None
    assert reconcile.run_at == env.clock.now + timedelta(seconds=3600)
    sent = {(p["event_name"], p["email"]) for k, p in commands(env.engine) if k == "event"}
    assert sent == {("zoom_attended", "ann@example.com"), ("zoom_absent", "ben@example.com")}


async def test_a_reconcile_sends_no_event_twice(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options()
    env.webhooks(opts, env.events.ended(inst))
    await settle(env, dataclasses.replace(opts, reconcile_after_s=60))
    with reading(env.engine) as conn:
        assert facts.get_instance(conn, inst.uuid).collect_state == "reconciled"  # type: ignore[union-attr]
    names = [p["event_name"] for k, p in commands(env.engine) if k == "event"]
    assert sorted(names) == ["zoom_absent", "zoom_attended"]


async def test_a_reconcile_leaves_the_registration_for_the_next_webinar_in_brevo(
    env: Env,
) -> None:
    launch = env.box.scenario.webinars[0].latest
    opts = dataclasses.replace(options(), reconcile_after_s=60)
    deliverer = Deliverer(env.engine, env.brevo, owner="test", clock=env.clock)
    env.webhooks(opts, env.events.ended(launch))
    await settle(env, opts, rounds=1)  # collected: Ann attended the launch
    await deliverer.drain(deadline_s=5)
    ann = env.box.brevo.state.contact("ann@example.com")
    assert ann is not None
    assert (ann.attributes["ATTENDANCE_STATUS"], ann.attributes["WEBINAR_NAME"]) == (
        "attended",
        "Launch",
    )

    # After the launch, Ann registers for the next webinar (not held yet)...
    later = Scenario(seed=10, anchor=launch.start + timedelta(days=7))
    nxt = later.webinar(later.user(email="host@example.com"), topic="Next", registrants=0,
                        attendees=0, sources=1, webinar_id=98_765_432_101)  # fmt: skip
    reg = nxt.add_registrant(later.new_person("ann@example.com", "Ann", "A"), source=nxt.sources[0])
    made = dataclasses.replace(reg, create_time=launch.start + 2 * timedelta(hours=1))
    env.webhooks(opts, env.events.registration_created(nxt, made))
    # ...then the launch is reconciled: derived again, with the same attendance.
    await settle(env, opts)
    await deliverer.drain(deadline_s=5)
    with reading(env.engine) as conn:
        assert facts.get_instance(conn, launch.uuid).collect_state == "reconciled"  # type: ignore[union-attr]
    ann = env.box.brevo.state.contact("ann@example.com")
    assert ann is not None
    attributes = ann.attributes
    assert (attributes["ATTENDANCE_STATUS"], attributes["WEBINAR_NAME"]) == ("registered", "Next")
    assert attributes["UTM_SOURCE"] == nxt.sources[0].source_name
    assert attributes["MEETING_DURATION"] == 30  # the launch's attendance stays


@pytest.mark.parametrize(
    ("mode", "kind", "extra"),
    [("event", "event", {}), ("transactional", "email", {"template_id": 7})],
)
async def test_the_recording_link_goes_to_attendees_and_webinar_absentees_once_collected(
    env: Env, mode: str, kind: str, extra: dict[str, Any]
) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options(mode, **extra)
    env.webhooks(opts, env.events.recording_completed(inst))
    env.webhooks(opts, env.events.recording_completed(inst, download_token="again"))
    await settle(env, opts)
    found = [
        p for k, p in commands(env.engine)
        if k == kind and p.get("event_name", "zoom_recording_ready") == "zoom_recording_ready"
    ]  # fmt: skip
    assert sorted(p["email"] for p in found) == ["ann@example.com", "ben@example.com"]
    rec = inst.recording
    assert rec is not None
    if kind == "event":
        assert found[0]["event_properties"]["share_url"] == rec.share_url
    else:
        assert {p["template_id"] for p in found} == {7}
        assert found[0]["params"]["SHARE_URL"] == rec.share_url
        assert found[0]["params"]["PASSCODE"] == rec.passcode


async def test_transactional_mode_without_a_template_dead_letters_the_follow_up(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options("transactional")
    env.webhooks(opts, env.events.recording_completed(inst))
    await settle(env, opts)
    dead = [j for j in all_jobs(env.engine) if j.state == "dead"]
    assert [j.kind for j in dead] == ["recording"]
    assert "template_id" in (dead[0].last_error or "")


async def test_campaign_mode_creates_the_list_and_sends_one_campaign(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options("campaign", template_id=3, sender_email="team@example.com")
    env.webhooks(opts, env.events.recording_completed(inst))
    deliverer = Deliverer(env.engine, env.brevo, owner="test", clock=env.clock)
    for _ in range(4):
        await settle(env, opts, rounds=2)
        await deliverer.drain(deadline_s=5)
    state = env.box.brevo.state
    [campaign] = state.campaigns.values()
    assert campaign.status == "sent"
    assert sorted(campaign.sent_to) == ["ann@example.com", "ben@example.com"]
    [listed] = [lst for lst in state.lists.values() if lst.name.startswith("Zoom recording - ")]
    assert listed.name == f"Zoom recording - Launch {inst.start.date().isoformat()}"
    assert campaign.list_ids == [listed.id]


def campaign_rows(env: Env) -> list[outbox.Command]:
    with reading(env.engine) as conn:
        ids = [i for i in range(1, 200) if (c := outbox.get(conn, i)) and c.kind.startswith("c")]
        found = [outbox.get(conn, i) for i in ids]
    return [c for c in found if c is not None and c.kind in ("campaign_list", "campaign")]


def rerun_recording_job(env: Env) -> None:
    """A second run of the follow-up (as after a crash before it was settled)."""
    uuid = env.box.scenario.webinars[0].latest.uuid
    with transaction(env.engine) as conn:
        jobs.enqueue(conn, RECORDING_JOB, {"uuid": uuid}, now=env.clock.now)


async def campaign_until_queued(env: Env, opts: HandlerOptions, deliverer: Deliverer) -> None:
    """Run the follow-up and deliver the list and its members, until the send is queued."""
    for _ in range(4):
        await settle(env, opts, rounds=2)
        if any(c.kind == "campaign" for c in campaign_rows(env)):
            return
        await deliverer.drain(deadline_s=5)
    raise AssertionError("the campaign was never queued")


async def test_campaign_steps_go_through_the_outbox_and_a_second_job_run_adds_nothing(
    env: Env,
) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options("campaign", template_id=3, sender_email="team@example.com")
    env.webhooks(opts, env.events.recording_completed(inst))
    deliverer = Deliverer(env.engine, env.brevo, owner="test", clock=env.clock)
    await settle(env, opts, rounds=2)
    [list_command] = campaign_rows(env)
    assert list_command.kind == "campaign_list"
    state = env.box.brevo.state
    assert not state.campaigns  # the job itself never calls Brevo
    rerun_recording_job(env)
    await settle(env, opts, rounds=2)
    assert len(campaign_rows(env)) == 1  # the list is queued once, not per job run

    await deliverer.drain(deadline_s=5)
    await campaign_until_queued(env, opts, deliverer)
    rerun_recording_job(env)
    await settle(env, opts, rounds=2)
    kinds = [c.kind for c in campaign_rows(env)]
    assert kinds == ["campaign_list", "campaign"]  # the second run queued no second send

    await deliverer.drain(deadline_s=5)
    rerun_recording_job(env)  # after the send: nothing left to do
    await settle(env, opts, rounds=2)
    await deliverer.drain(deadline_s=5)
    [campaign] = state.campaigns.values()
    assert campaign.status == "sent"
    assert sorted(campaign.sent_to) == ["ann@example.com", "ben@example.com"]
    assert len([x for x in state.lists.values() if x.name.startswith("Zoom recording")]) == 1
    assert {c.state for c in campaign_rows(env)} == {"done"}
    assert len(campaign_rows(env)) == 2
    with reading(env.engine) as conn:
        sent = ledger.detail(conn, f"{CAMPAIGN_SENT_KEY}:{inst.uuid}")
    assert sent == {"campaign_id": campaign.id}


async def test_a_brevo_5xx_on_the_campaign_is_retried_by_the_outbox(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options("campaign", template_id=3, sender_email="team@example.com")
    env.webhooks(opts, env.events.recording_completed(inst))
    deliverer = Deliverer(env.engine, env.brevo, owner="test", clock=env.clock)
    await campaign_until_queued(env, opts, deliverer)
    state = env.box.brevo.state
    env.box.brevo.faults.fail_next(1, status=503, path_contains="/emailCampaigns")
    await deliverer.drain(deadline_s=0)  # the clock stands still
    assert not state.campaigns
    send = next(c for c in campaign_rows(env) if c.kind == "campaign")
    assert (send.state, send.attempts) == ("queued", 1)
    assert "503" in (send.last_error or "")

    env.clock.now += timedelta(minutes=30)
    env.box.brevo.faults.fail_next(1, status=503, path_contains="sendNow")
    await deliverer.drain(deadline_s=0)  # the clock stands still
    [created] = state.campaigns.values()
    assert created.status != "sent"
    send = next(c for c in campaign_rows(env) if c.kind == "campaign")
    assert (send.state, send.attempts) == ("queued", 2)

    env.clock.now += timedelta(minutes=30)
    await deliverer.drain(deadline_s=0)  # the clock stands still
    [campaign] = state.campaigns.values()  # the retry sent the campaign created before
    assert campaign.id == created.id
    assert campaign.status == "sent"
    assert {c.state for c in campaign_rows(env)} == {"done"}


async def test_a_campaign_brevo_refuses_is_a_dead_letter_that_retry_sends_once(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options("campaign", template_id=3, sender_email="team@example.com")
    env.webhooks(opts, env.events.recording_completed(inst))
    deliverer = Deliverer(env.engine, env.brevo, owner="test", clock=env.clock)
    await campaign_until_queued(env, opts, deliverer)
    env.box.brevo.faults.fail_next(1, status=400, path_contains="/emailCampaigns")
    await deliverer.drain(deadline_s=0)
    with reading(env.engine) as conn:
        [letter] = deadletters.list_dead(conn)
    assert (letter.source, letter.kind) == ("outbox", "campaign")
    assert not env.box.brevo.state.campaigns

    with transaction(env.engine) as conn:  # what `zoom-brevo retry outbox:N` does
        assert deadletters.requeue(conn, [letter.ref], now=env.clock.now) == 1
    await deliverer.drain(deadline_s=0)
    [campaign] = env.box.brevo.state.campaigns.values()
    assert campaign.status == "sent"
    assert sorted(campaign.sent_to) == ["ann@example.com", "ben@example.com"]


async def test_a_send_brevo_says_went_out_already_counts_as_sent(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options("campaign", template_id=3, sender_email="team@example.com")
    env.webhooks(opts, env.events.recording_completed(inst))
    deliverer = Deliverer(env.engine, env.brevo, owner="test", clock=env.clock)
    await campaign_until_queued(env, opts, deliverer)
    await deliverer.drain(deadline_s=5)
    send = next(c for c in campaign_rows(env) if c.kind == "campaign")
    key = f"{CAMPAIGN_SENT_KEY}:{inst.uuid}"
    with transaction(env.engine) as conn:  # as if the record of the send had been lost
        assert ledger.forget(conn, key)
        outbox.add(conn, outbox.NewCommand("campaign", send.payload, "again"), now=env.clock.now)
    report = await deliverer.drain(deadline_s=5)
    assert report.dead == 0
    [campaign] = env.box.brevo.state.campaigns.values()
    assert campaign.status == "sent"
    with reading(env.engine) as conn:
        assert ledger.detail(conn, key) == {"campaign_id": campaign.id}
        assert outbox.counts(conn)["dead"] == 0


async def test_the_collect_ends_the_instances_kept_leaves_at_once(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options()
    person = inst.extra[0]
    leave = env.events.left(inst, person, person.sessions[0])  # its join never comes
    env.webhooks(opts, leave)
    other = {"uuid": "another-instance", "person_key": "k", "leave_time": "2026-01-01T00:00:00"}
    with transaction(env.engine) as conn:
        later = env.clock.now + timedelta(hours=1)
        jobs.enqueue(
            conn,
            PAIR_LEAVE_JOB,
            other,
            now=env.clock.now,
            run_at=later,
            unique_key="pair_leave:x:k",
        )
    [kept] = [j for j in all_jobs(env.engine) if j.payload.get("uuid") == inst.uuid]
    assert (kept.kind, kept.state) == (PAIR_LEAVE_JOB, "queued")

    env.webhooks(opts, env.events.ended(inst))
    collect = next(j for j in all_jobs(env.engine) if j.kind == "collect")
    runner = env.runner(opts)
    while await runner.step():  # the collect, due now; the kept leave is due in seconds
        pass

    by_id = {j.id: j for j in all_jobs(env.engine)}
    assert by_id[collect.id].state == "done"
    assert by_id[kept.id].state == "done"
    assert by_id[kept.id].attempts == 0  # ended by the collect, not tried
    [unrelated] = [j for j in by_id.values() if j.payload.get("uuid") == "another-instance"]
    assert unrelated.state == "queued"


async def test_a_collect_wakes_the_recording_follow_up_waiting_for_it(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options()
    env.webhooks(opts, env.events.recording_completed(inst))
    later = env.clock.now + timedelta(hours=1)  # its next look, had nothing woken it
    with transaction(env.engine) as conn:
        key = f"{RECORDING_JOB}:{inst.uuid}"
        conn.execute(sa.update(job_rows).where(job_rows.c.unique_key == key).values(run_at=later))
    env.webhooks(opts, env.events.ended(inst))
    runner = env.runner(opts)
    while await runner.step():  # the clock stands still: only what is due now runs
        pass
    states = {j.kind: j.state for j in all_jobs(env.engine)}
    assert states[RECORDING_JOB] == states["collect"] == "done"
    assert any(k == "event" and p["event_name"] == "zoom_recording_ready"
               for k, p in commands(env.engine))  # fmt: skip


async def test_campaign_mode_without_a_sender_dead_letters_the_job_before_creating_anything(
    env: Env,
) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options("campaign", template_id=3)
    env.webhooks(opts, env.events.recording_completed(inst))
    await settle(env, opts)
    dead = [j for j in all_jobs(env.engine) if j.state == "dead"]
    assert [j.kind for j in dead] == ["recording"]
    assert "sender" in (dead[0].last_error or "")
    assert campaign_rows(env) == []


async def test_a_job_the_database_could_not_settle_is_settled_when_it_is_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without this the job would stay "running" until its 15-minute lease expired.
    payload = {"uuid": "gone", "person_key": "k", "leave_time": env.clock.now.isoformat()}
    with transaction(env.engine) as conn:
        jobs.enqueue(conn, PAIR_LEAVE_JOB, payload, now=env.clock.now)
        [job] = jobs.claim(conn, owner="test", lease_s=DEFAULT_LEASE_S, now=env.clock.now)
    runner = env.runner(options())
    down = True

    @contextlib.contextmanager
    def flaky(engine: Engine) -> Iterator[Connection]:
        if down:
            raise StoreError("database unavailable: connection refused")
        with transaction(engine) as conn:
            yield conn

    monkeypatch.setattr("zoom_brevo.handlers.jobs.transaction", flaky)
    with pytest.raises(StoreError):
        await runner.run(job)  # the job's transaction and its settlement both fail
    with pytest.raises(StoreError):
        await runner.step()  # still down: nothing is claimed, the settlement is kept
    with reading(env.engine) as conn:
        assert jobs.get(conn, job.id).state == "running"  # type: ignore[union-attr]

    down = False
    assert await runner.step() is False  # settled: given back, due again shortly
    with reading(env.engine) as conn:
        settled = jobs.get(conn, job.id)
    assert settled is not None
    assert (settled.state, settled.lease_owner) == ("queued", None)
    assert (settled.last_error or "").startswith("StoreError: database unavailable")
    assert settled.run_at <= env.clock.now + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("error", "within_s"),
    [
        (StoreConflict("database conflict: deadlock detected"), 1.0),
        (StoreError("database unavailable: connection refused"), 30.0),
    ],
)
async def test_a_collect_that_lost_to_another_transaction_runs_again_within_a_second(
    env: Env, monkeypatch: pytest.MonkeyPatch, error: StoreError, within_s: float
) -> None:
    # A deadlock or serialization failure is over when the other transaction ends; the
    # 30 s wait for a database that is down would keep the end of a stream busy for it.
    inst = env.box.scenario.webinars[0].latest
    opts = options()
    env.webhooks(opts, env.events.ended(inst))

    async def lose(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr("zoom_brevo.handlers.jobs.collect_instance", lose)
    assert await env.runner(opts).step()
    [job] = all_jobs(env.engine)
    assert (job.kind, job.state, job.attempts) == ("collect", "queued", 1)
    assert job.run_at <= env.clock.now + timedelta(seconds=within_s)
    assert job.run_at >= env.clock.now + timedelta(seconds=within_s / 2)


async def test_a_job_cancelled_by_a_stopping_worker_is_handed_back_untried(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options()
    env.webhooks(opts, env.events.ended(inst))
    gate = Gate(env.box.app, "/zoom/v2/")  # Zoom does not answer while the worker stops
    env.zoom._http._transport = httpx.ASGITransport(app=gate)  # type: ignore[attr-defined]
    running = asyncio.create_task(env.runner(opts).step())
    while not gate.arrived.is_set():  # noqa: ASYNC110 (a threading.Event)
        await asyncio.sleep(0.01)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    gate.open()
    [job] = all_jobs(env.engine)
    assert (job.kind, job.state, job.lease_owner, job.attempts) == ("collect", "queued", None, 0)
    assert job.run_at <= datetime.now(UTC)


async def test_a_webinars_collect_reads_each_zoom_report_once_and_its_follow_ups_none(
    env: Env,
) -> None:
    web = env.box.scenario.webinars[0]
    inst = web.latest
    opts = options()
    env.webhooks(opts, env.events.ended(inst), env.events.recording_completed(inst))
    runner = env.runner(opts)
    while await runner.step():  # collect, recording follow-up, first replay look-up
        pass

    done = sorted(j.kind for j in all_jobs(env.engine) if j.state == "done")
    assert done == ["collect", "recording", "replay"]
    paths = [r.raw_path.split("/v2", 1)[1] for r in env.box.zoom.stats.api_calls()]
    heavy = [p for p in paths if p.startswith("/report/") or p.endswith("/absentees")]
    # Zoom's Heavy category (Pro: 10/s), one call each (UUIDs are sent percent-encoded).
    details = f"/report/webinars/{encode_segment(inst.uuid)}"
    named = sorted("details" if p == details else p.rsplit("/", 1)[1] for p in heavy)
    assert named == ["absentees", "details", "participants", "polls", "qa"]
    assert paths.count(f"/webinars/{web.id}") == 1  # the webinar itself, by the collect only
    assert sum("/recordings/analytics_details" in p for p in paths) == 1  # the replay's look-up
