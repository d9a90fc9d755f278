"""A failed job is settled by the one retry decision (``retrying.decide``): the server's
wait is a floor, the budget is the job's, a permanent error is buried at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.errors import NotFound, RateLimited
from zoom_brevo.handlers import jobs as job_kinds
from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.jobs import JobDeps, JobRunner
from zoom_brevo.store import jobs
from zoom_brevo.store.engine import reading, transaction

from .conftest import NOW


def failing_with(error: Exception) -> Any:
    async def collect(_deps: JobDeps, _job: jobs.Job, _now: object) -> job_kinds.Result:
        raise error

    return collect


async def run_once(engine: Engine, max_attempts: int) -> jobs.Job:
    with transaction(engine) as conn:
        job_id = jobs.enqueue(conn, "collect", {"uuid": "u1=="}, now=NOW,
                              max_attempts=max_attempts)  # fmt: skip
        [job] = jobs.claim(conn, owner="w1", lease_s=60, now=NOW, kinds=("collect",))
    runner = JobRunner(JobDeps(engine, cast(Any, None), HandlerOptions()), owner="w1",
                       clock=lambda: NOW)  # fmt: skip
    await runner.run(job)
    with reading(engine) as conn:
        settled = jobs.get(conn, cast(int, job_id))
    assert settled is not None
    return settled


async def test_a_rate_limited_job_waits_at_least_what_zoom_asked(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    daily = RateLimited("daily limit", service="zoom", status=429, retry_after_s=6 * 3600)
    monkeypatch.setattr(job_kinds, "collect", failing_with(daily))
    job = await run_once(engine, max_attempts=3)
    assert job.state == "queued"
    assert job.run_at >= NOW + timedelta(hours=6)


async def test_the_last_attempt_buries_the_job_and_a_permanent_error_the_first(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = RateLimited("busy", service="zoom", status=429, retry_after_s=1)
    monkeypatch.setattr(job_kinds, "collect", failing_with(busy))
    assert (await run_once(engine, max_attempts=1)).state == "dead"
    gone = NotFound("no such meeting", service="zoom", status=404)
    monkeypatch.setattr(job_kinds, "collect", failing_with(gone))
    job = await run_once(engine, max_attempts=5)
    assert (job.state, job.attempts) == ("dead", 1)
    assert "NotFound" in (job.last_error or "")
