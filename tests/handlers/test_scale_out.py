"""Several workers on one PostgreSQL database: the inbox is shared, not queued on, and a
job's lease is held while it runs and freed soon after its worker is gone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.store.conftest import pg_schema
from zoom_brevo.handlers import jobs as job_handlers
from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.dispatch import InboxProcessor
from zoom_brevo.handlers.jobs import Done, JobDeps, JobRunner
from zoom_brevo.store import engine as store_engine
from zoom_brevo.store import jobs
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.schema import inbox as inbox_table

from .conftest import put

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]
LEASE_S = 0.4


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    with pg_schema(pg_url) as url:
        engine = store_engine.create_engine(url)
        store_engine.migrate(engine)
        yield engine
        engine.dispose()


def utc_now() -> datetime:
    return datetime.now(UTC)


def status_of(engine: Engine, event_id: int) -> str:
    with reading(engine) as conn:
        stmt = sa.select(inbox_table.c.status).where(inbox_table.c.id == event_id)
        return str(conn.execute(stmt).scalar_one())


def test_a_worker_skips_the_webhook_another_worker_is_handling_instead_of_waiting(
    pg: Engine,
) -> None:
    busy = put(pg, {"event": "meeting.chat_message_sent", "event_ts": 1, "payload": {}})
    free = put(pg, {"event": "meeting.chat_message_sent", "event_ts": 2, "payload": {}})
    assert busy is not None and free is not None
    other = pg.connect()
    handling = other.begin()  # another worker has taken ``busy`` and not committed yet
    other.execute(sa.update(inbox_table).where(inbox_table.c.id == busy).values(status="processed"))
    worker = InboxProcessor(pg, HandlerOptions(), utc_now)
    passed = threading.Thread(target=worker.process_batch)
    passed.start()
    passed.join(timeout=10)
    try:
        assert not passed.is_alive()  # did not wait for the other worker's transaction
        assert status_of(pg, free) == "ignored"
    finally:
        handling.rollback()  # the other worker died: its row is pending again ...
        other.close()
        passed.join()
    assert worker.process_batch().ignored == 1  # ... and taken by the next pass
    assert status_of(pg, busy) == "ignored"


def runner(engine: Engine, owner: str) -> JobRunner:
    deps = JobDeps(engine, cast(Any, None), HandlerOptions())
    return JobRunner(deps, owner=owner, clock=utc_now, lease_s=LEASE_S)


def claim_as(engine: Engine, owner: str) -> list[jobs.Job]:
    with transaction(engine) as conn:
        return jobs.claim(conn, owner=owner, lease_s=LEASE_S, now=utc_now())


async def test_a_running_job_keeps_its_lease_and_a_dead_workers_job_is_free_within_one(
    pg: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(pg) as conn:
        job_id = jobs.enqueue(conn, "collect", {"uuid": "u1", "kind": "meeting"}, now=utc_now())
    started, finish = asyncio.Event(), asyncio.Event()

    async def long_collect(_deps: JobDeps, _job: jobs.Job, _now: datetime) -> Done:
        started.set()
        await finish.wait()
        return Done()

    monkeypatch.setattr(job_handlers, "collect", long_collect)
    # A killed worker runs no code: not even the hand-back of a stopping one.
    monkeypatch.setattr(job_handlers.JobRunner, "_hand_back", lambda _self, _job: None)
    first = asyncio.create_task(runner(pg, "w1").step())
    await started.wait()
    await asyncio.sleep(3 * LEASE_S)  # three leases: renewed all along
    assert claim_as(pg, "w2") == []
    first.cancel()  # the worker dies mid-job: nobody renews or settles
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.sleep(LEASE_S)
    [taken] = claim_as(pg, "w2")
    assert (taken.id, taken.attempts) == (job_id, 2)
