"""``zoom_replay_watched`` over HTTP: the emulator's recording analytics, the client, the job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.errors import AuthError
from zoom_brevo.handlers.context import HandlerOptions, RecordingOptions
from zoom_brevo.handlers.replays import REPLAY_EVENT, REPLAY_JOB, watched_contacts
from zoom_brevo.pipeline.commands import SendEvent, UpsertContact
from zoom_brevo.pipeline.mapping import DEFAULT_FIELD_MAPPING
from zoom_brevo.sandbox.combined import (
    ZOOM_ACCOUNT_ID,
    ZOOM_CLIENT_ID,
    ZOOM_CLIENT_SECRET,
)  # fmt: skip
from zoom_brevo.sandbox.scenario import RecordingView, Scenario
from zoom_brevo.sandbox.zoom.auth import SCOPES

from .sandbox_env import BASE, MIN, Env, sandbox_env
from .test_handlers import all_jobs, commands

_NOW = datetime.now(UTC).replace(second=0, microsecond=0)
# The views below are minutes before NOW and must fall on NOW's date (ranges are by date).
NOW = _NOW - timedelta(minutes=15) if _NOW.hour == 0 and _NOW.minute < 10 else _NOW


def world() -> Scenario:
    """A recorded webinar: Ann attended; Ben and Cid stayed away; Ben watched the replay."""
    sc = Scenario(seed=9, anchor=NOW.replace(minute=0))
    host = sc.user(email="host@example.com")
    web = sc.webinar(host, topic="Launch", registrants=0, attendees=0, sources=0, recording=True)
    ann = web.add_registrant(sc.new_person("ann@example.com", "Ann", "A"))
    web.add_registrant(sc.new_person("ben@example.com", "Ben", "B"))
    web.add_registrant(sc.new_person("cid@example.com", "Cid", "C"))
    w = web.latest.start
    web.latest.add_attendee(ann.person, [(w, w + 30 * MIN)], ann)
    web.latest.views += [
        RecordingView("ben@example.com", "Ben B", NOW - 2 * MIN, duration_s=600),
        RecordingView("Ben@Example.com", "Ben B", NOW - MIN, duration_s=300),
        RecordingView("cid@example.com", "Cid C", NOW - MIN, kind="by_download"),
    ]
    return sc


@pytest.fixture
async def env(engine: Engine) -> AsyncIterator[Env]:
    async with sandbox_env(engine, world(), NOW, zoom_page_size=2) as env:
        yield env


def options(replay_days: int = 3) -> HandlerOptions:
    return HandlerOptions(
        collect_delay_s=0, reconcile_after_s=0, recordings=RecordingOptions(mode="event"),
        replay_days=replay_days,
    )  # fmt: skip


async def run_due(env: Env, opts: HandlerOptions) -> None:
    runner = env.runner(opts)
    for _ in range(6):
        while await runner.step():
            pass
        env.clock.now += timedelta(minutes=30)


def replay_events(env: Env) -> list[dict[str, object]]:
    return [p for k, p in commands(env.engine) if k == "event" and p["event_name"] == REPLAY_EVENT]


async def test_an_absentee_who_watched_gets_one_event_even_when_the_job_runs_again(
    env: Env,
) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options(replay_days=3)
    env.webhooks(opts, env.events.recording_completed(inst))
    await run_due(env, opts)
    env.clock.now += timedelta(days=1)  # the next day's look finds Ben again
    await run_due(env, opts)

    found = replay_events(env)
    assert [p["email"] for p in found] == ["ben@example.com"]
    props = found[0]["event_properties"]
    assert isinstance(props, dict)
    assert props["uuid"] == inst.uuid
    assert props["topic"] == "Launch"
    assert props["views"] == 2
    assert props["duration_s"] == 900
    assert props["watched_at"] == (NOW - 2 * MIN).isoformat().replace("+00:00", "Z")
    days = sorted(j.payload["day"] for j in all_jobs(env.engine) if j.kind == REPLAY_JOB)
    assert days == [0, 1, 2]  # replay_days looks, then no more


async def test_the_viewer_gets_the_day_first_watched_once_before_the_event(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options(replay_days=2)
    env.webhooks(opts, env.events.recording_completed(inst))
    await run_due(env, opts)
    env.clock.now += timedelta(days=1)  # the next look finds Ben again: nothing more
    await run_due(env, opts)

    found = [(k, p) for k, p in commands(env.engine) if p.get("email") == "ben@example.com"]
    kinds = [
        "replay_contact"
        if "ZOOM_REPLAY_WATCHED" in p.get("attributes", {})
        else p.get("event_name")
        for _, p in found
    ]
    assert kinds.count("replay_contact") == 1
    assert kinds.index("replay_contact") == kinds.index(REPLAY_EVENT) - 1  # just before it
    [contact] = [p for _, p in found if "ZOOM_REPLAY_WATCHED" in p.get("attributes", {})]
    assert contact["attributes"] == {"ZOOM_REPLAY_WATCHED": (NOW - 2 * MIN).date().isoformat()}


def test_the_attribute_follows_the_field_mapping_and_needs_a_first_view() -> None:
    base = {"uuid": "u1", "views": 1}
    events = [
        SendEvent(
            REPLAY_EVENT, "ann@example.com", "k1", base | {"watched_at": "2025-03-01T09:15:00Z"}
        ),
        SendEvent(REPLAY_EVENT, "bob@example.com", "k2", base),  # Zoom gave no view time
    ]
    mapping = {**DEFAULT_FIELD_MAPPING, "replay_watched": "CAUGHT_UP_ON"}
    opts = HandlerOptions(field_mapping=mapping)
    assert watched_contacts(events, opts) == [
        UpsertContact("ann@example.com", {"CAUGHT_UP_ON": "2025-03-01"})
    ]


async def test_replay_days_zero_queues_no_replay_job(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options(replay_days=0)
    env.webhooks(opts, env.events.recording_completed(inst))
    await run_due(env, opts)
    assert not [j for j in all_jobs(env.engine) if j.kind == REPLAY_JOB]
    assert replay_events(env) == []


async def test_the_client_pages_through_views_and_downloads_within_the_dates(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    inst.views += [
        RecordingView(f"v{i}@example.com", f"V {i}", NOW - timedelta(hours=i), 60) for i in range(5)
    ]
    inst.views.append(RecordingView("old@example.com", "Old", NOW - timedelta(days=40), 60))
    today = NOW.date()
    start = today - timedelta(days=30)
    views = [v async for v in env.zoom.recording_views(inst.uuid, from_=start, to=today)]
    assert len(views) == 7  # page_size 2: four pages; the 40-day-old view is out of range
    assert "old@example.com" not in {v.email for v in views}
    downloads = env.zoom.recording_views(inst.uuid, from_=start, to=today, type="by_download")
    assert [(v.email, v.duration) async for v in downloads] == [("cid@example.com", None)]


async def test_the_emulator_answers_with_zoom_paging_fields(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    token = await env.zoom.verify_credentials()
    assert "recording_analytics_details" in token.scope
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.box.app)) as http:
        auth = await http.post(
            f"{BASE}/zoom/oauth/token",
            params={"grant_type": "account_credentials", "account_id": ZOOM_ACCOUNT_ID},
            auth=(ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET),
        )
        headers = {"Authorization": f"Bearer {auth.json()['access_token']}"}
        url = f"{BASE}/zoom/v2/meetings/{inst.parent.id}/recordings/analytics_details"
        day = NOW.date().isoformat()
        query = {"type": "by_view", "page_size": "1", "from": day, "to": day}
        first = (await http.get(url, params=query, headers=headers)).json()
        bad = await http.get(url, params=query | {"type": "by_ear"}, headers=headers)
    assert first["total_records"] == 2
    assert first["from"] == day
    assert len(first["analytics_details"]) == 1
    assert set(first["analytics_details"][0]) == {"date_time", "name", "email", "duration"}
    assert first["next_page_token"]
    assert bad.status_code == 400


async def test_a_missing_scope_names_it(env: Env) -> None:
    env.box.zoom.oauth.scopes = SCOPES.replace(
        "cloud_recording:read:recording_analytics_details:admin", ""
    )
    inst = env.box.scenario.webinars[0].latest
    with pytest.raises(AuthError, match="recording_analytics_details"):
        async for _ in env.zoom.recording_views(inst.uuid, from_=NOW.date(), to=NOW.date()):
            pass


async def test_the_on_demand_registrants_are_listed_by_status_over_pages(env: Env) -> None:
    sc = env.box.scenario
    web = sc.webinars[0]
    for i in range(3):
        web.add_recording_registrant(sc.new_person(f"od{i}@example.com", "On", f"Demand{i}"))
    web.add_recording_registrant(sc.new_person("wait@example.com", "Wai", "T"), status="pending")
    approved = [r.email async for r in env.zoom.recording_registrants(web.id)]
    pending = [r.email async for r in env.zoom.recording_registrants(web.id, status="pending")]
    assert approved == ["od0@example.com", "od1@example.com", "od2@example.com"]  # 2 pages
    assert pending == ["wait@example.com"]


async def test_on_demand_registrants_without_the_recording_scope_name_it(env: Env) -> None:
    env.box.zoom.oauth.scopes = "meeting:read:admin webinar:read:admin"
    with pytest.raises(AuthError, match="recording:read:admin"):
        async for _ in env.zoom.recording_registrants(env.box.scenario.webinars[0].id):
            pass


async def test_the_replay_job_without_the_analytics_scope_stops_naming_it(env: Env) -> None:
    env.box.zoom.oauth.scopes = SCOPES.replace(
        "cloud_recording:read:recording_analytics_details:admin", ""
    )
    inst = env.box.scenario.webinars[0].latest
    opts = options(replay_days=2)
    env.webhooks(opts, env.events.recording_completed(inst))
    await run_due(env, opts)
    (job,) = [j for j in all_jobs(env.engine) if j.kind == REPLAY_JOB]
    assert job.state == "dead"
    assert "cloud_recording:read:recording_analytics_details:admin" in (job.last_error or "")
    assert replay_events(env) == []


async def test_generated_absentees_who_watched_get_the_event_over_several_pages(
    engine: Engine,
) -> None:
    sc = Scenario(seed=4, anchor=NOW.replace(minute=0) - timedelta(days=2))
    host = sc.user(email="host@example.com")
    web = sc.webinar(host, topic="Deep dive", registrants=12, attendees=4, recording=True)
    inst = web.latest
    watched = web.absentees_watch(inst, 5)  # page_size 2: three pages
    assert all(v.at <= NOW for v in watched)
    async with sandbox_env(engine, sc, NOW, zoom_page_size=2) as env:
        # the recording completed right after the webinar; the job looks from that day
        env.clock.now = inst.end + MIN
        env.webhooks(options(), env.events.recording_completed(inst))
        env.clock.now = NOW
        await run_due(env, options())
    emails = sorted(str(p["email"]) for p in replay_events(env))
    absent = {r.email for r in web.absentees()}
    assert emails == sorted(v.email for v in watched)
    assert set(emails) <= absent
    assert len(absent) > len(emails)  # the absentees who did not watch get nothing


async def test_the_summary_counts_people_per_day(env: Env) -> None:
    inst = env.box.scenario.webinars[0].latest
    today = NOW.date()
    summary = await env.zoom.recording_view_summary(inst.uuid, from_=today, to=today)
    assert summary.from_ == today.isoformat()
    assert [(d.date, d.views_total_count, d.downloads_total_count)
            for d in summary.analytics_summary] == [(today.isoformat(), 1, 1)]  # fmt: skip


async def test_a_deleted_recording_yields_no_event_and_the_looks_end_with_the_window(
    env: Env,
) -> None:
    inst = env.box.scenario.webinars[0].latest
    opts = options(replay_days=2)
    env.webhooks(opts, env.events.recording_completed(inst))
    inst.recording = None  # deleted in Zoom: analytics answer 404, code 3301
    await run_due(env, opts)
    env.clock.now += timedelta(days=1)
    await run_due(env, opts)
    found = [j for j in all_jobs(env.engine) if j.kind == REPLAY_JOB]
    assert sorted((j.payload["day"], j.state) for j in found) == [(0, "done"), (1, "done")]
    assert replay_events(env) == []
