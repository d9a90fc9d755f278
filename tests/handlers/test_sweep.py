"""The sweep collects ended meetings and webinars that no webhook announced, and only those."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.jobs import JobDeps, JobRunner
from zoom_brevo.handlers.lifecycle import COLLECT_JOB
from zoom_brevo.handlers.sweep import SWEEP_JOB, sweep_tick, sweep_window
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.combined import (
    ZOOM_ACCOUNT_ID,
    ZOOM_CLIENT_ID,
    ZOOM_CLIENT_SECRET,
    Sandbox,
    build_sandbox,
)  # fmt: skip
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.store import facts
from zoom_brevo.store.engine import reading
from zoom_brevo.worker import scheduler_ticks
from zoom_brevo.zoom.categories import zoom_limits
from zoom_brevo.zoom.client import ZoomClient

from .test_handlers import all_jobs, events_of

BASE = "http://sandbox.test"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
OPTIONS = HandlerOptions(collect_delay_s=0, reconcile_after_s=0, sweep_days=2)


def world() -> Scenario:
    """Today: a meeting and a webinar; six days ago: a meeting outside a 2-day sweep."""
    sc = Scenario(seed=4, anchor=NOW - timedelta(hours=3))
    host = sc.user(email="host@example.com")
    sc.meeting(host, topic="Today", uuid="today+meeting==", participants=4)
    sc.meeting(host, topic="Old", uuid="old/meeting==", participants=4,
               start=NOW - timedelta(days=6))  # fmt: skip
    sc.webinar(host, topic="Launch", uuid="launch-webinar==", registrants=6, attendees=3,
               sources=0)  # fmt: skip
    return sc


@pytest.fixture
async def runner(engine: Engine) -> AsyncIterator[JobRunner]:
    box: Sandbox = build_sandbox(world(), enforce_rate_limits=False, prepare_brevo=True)
    transport = httpx.ASGITransport(app=box.app)
    zoom = ZoomClient.server_to_server(
        account_id=ZOOM_ACCOUNT_ID, client_id=ZOOM_CLIENT_ID, client_secret=ZOOM_CLIENT_SECRET,
        api_base_url=f"{BASE}/zoom/v2", oauth_base_url=f"{BASE}/zoom", transport=transport,
        limiter=LocalRateLimiter(zoom_limits("pro")),
    )  # fmt: skip
    async with zoom:
        yield JobRunner(JobDeps(engine, zoom, OPTIONS), owner="test", clock=lambda: NOW)


async def run_due(runner: JobRunner) -> None:
    while await runner.step():
        pass


def collect_uuids(engine: Engine) -> list[str]:
    return sorted(j.payload["uuid"] for j in all_jobs(engine) if j.kind == COLLECT_JOB)


def test_the_window_is_the_last_days_up_to_today() -> None:
    window = sweep_window(datetime(2026, 3, 2, 1, tzinfo=UTC), 2)
    assert (window.start.isoformat(), window.end.isoformat()) == ("2026-02-28", "2026-03-02")


def test_one_sweep_is_queued_per_interval_however_often_the_tick_runs(engine: Engine) -> None:
    tick = sweep_tick(3600)
    queued = [tick(engine, NOW + timedelta(minutes=m)) for m in (0, 1, 59, 60, 61)]
    assert queued == [1, 0, 0, 1, 0]
    assert sum(1 for j in all_jobs(engine) if j.kind == SWEEP_JOB) == 2


def test_the_worker_schedules_the_sweep_unless_it_is_off() -> None:
    on, off = scheduler_ticks(OPTIONS), scheduler_ticks(HandlerOptions(sweep_interval_s=0))
    assert len(on) == len(off) + 1


async def test_a_sweep_collects_recent_instances_no_webhook_announced(
    engine: Engine, runner: JobRunner
) -> None:
    sweep_tick(3600)(engine, NOW)
    await run_due(runner)  # the sweep, then the collect jobs it queued

    assert collect_uuids(engine) == ["launch-webinar==", "today+meeting=="]
    with reading(engine) as conn:
        states = {i.uuid: i.collect_state for i in facts.list_instances(conn)}
    assert states == {"launch-webinar==": "collected", "today+meeting==": "collected"}
    names = sorted({name for name, _ in events_of(engine)})
    assert names == ["zoom_absent", "zoom_attended"]


async def test_a_later_sweep_queues_nothing_already_collected_or_queued(
    engine: Engine, runner: JobRunner
) -> None:
    sweep_tick(3600)(engine, NOW)
    await run_due(runner)
    before = len(all_jobs(engine))

    sweep_tick(3600)(engine, NOW + timedelta(hours=1))
    await run_due(runner)

    jobs_now = all_jobs(engine)
    assert len(jobs_now) == before + 1  # only the second sweep itself
    assert collect_uuids(engine) == ["launch-webinar==", "today+meeting=="]
