"""Exactly one scheduler among many processes; another takes over when it dies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import REPO_ROOT, SERIAL
from zoom_brevo import scheduler as scheduler_module
from zoom_brevo.oauth_tokens import STATE_PREFIX
from zoom_brevo.scheduler import Scheduler, purge_expired_oauth_states, register_tick
from zoom_brevo.store import tokens
from zoom_brevo.store.engine import create_engine

pytestmark = SERIAL  # a take-over is timed in wall-clock seconds

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def lock_id() -> int:
    """A lock of this test's own (advisory locks are per database, not per schema)."""
    return random.randrange(1 << 40, 1 << 50)


@pytest.fixture
def pg_engine(pg_schema_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_schema_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE sched_log (pid integer, at_s double precision)"))
    yield engine
    engine.dispose()


def tickers_since(engine: Engine, since_s: float) -> set[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT DISTINCT pid FROM sched_log WHERE at_s >= :t"), {"t": since_s}
        )
        return {row.pid for row in rows}


def wait_for(condition: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.postgres
@pytest.mark.slow
def test_of_three_processes_one_schedules_and_another_takes_over_after_kill_9(
    pg_engine: Engine, pg_schema_url: str, lock_id: int
) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.scale.scheduled", pg_schema_url, str(lock_id)],
            cwd=REPO_ROOT,
        )
        for _ in range(3)
    ]
    try:
        begun = time.time()
        wait_for(lambda: tickers_since(pg_engine, begun), 20.0)
        time.sleep(1.5)  # every process has started and competed by now
        leaders = tickers_since(pg_engine, begun)
        assert len(leaders) == 1
        (leader,) = leaders

        os.kill(leader, signal.SIGKILL)
        killed_at = time.time()
        wait_for(lambda: tickers_since(pg_engine, killed_at) - {leader}, 10.0)
        takeover_s = time.time() - killed_at
        time.sleep(1.0)
        successors = tickers_since(pg_engine, killed_at) - {leader}
        assert len(successors) == 1
        assert takeover_s < 5.0
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.postgres
def test_in_one_database_only_one_scheduler_leads_until_it_steps_down(
    pg_engine: Engine, lock_id: int
) -> None:
    first = Scheduler(pg_engine, [], lock_id=lock_id)
    second = Scheduler(pg_engine, [], lock_id=lock_id)
    try:
        assert first.try_lead()
        assert not second.try_lead()
        assert first.try_lead()  # still leading: its session is alive
        first.step_down()
        assert not first.is_leader
        assert second.try_lead()
    finally:
        first.step_down()
        second.step_down()


def test_on_sqlite_the_one_process_simply_runs_every_tick_and_a_broken_one_is_skipped(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    ran: list[datetime] = []

    def broken(_engine: Engine, _now: datetime) -> None:
        raise RuntimeError("boom")

    def chore(_engine: Engine, now: datetime) -> int:
        ran.append(now)
        return 3

    try:
        results = Scheduler(engine, [broken, chore]).round(NOW)
    finally:
        engine.dispose()
    assert ran == [NOW]
    assert results["chore"] == 3
    assert isinstance(results["broken"], RuntimeError)


def test_expired_oauth_states_are_purged_and_fresh_ones_kept(engine: Engine) -> None:
    with engine.begin() as conn:
        tokens.save(conn, STATE_PREFIX + "old", b"x", now=NOW - timedelta(hours=1))
        tokens.save(conn, STATE_PREFIX + "new", b"x", now=NOW)
        tokens.save(conn, "zoom:user:1", b"x", now=NOW - timedelta(days=9))
    assert purge_expired_oauth_states(engine, NOW) == 1
    with engine.connect() as conn:
        assert tokens.load(conn, STATE_PREFIX + "new") is not None
        assert tokens.load(conn, "zoom:user:1") is not None


def test_registered_ticks_join_the_default_round_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "DEFAULT_TICKS", [purge_expired_oauth_states])

    def reconcile_due(_engine: Engine, _now: datetime) -> None:
        return None

    register_tick(reconcile_due)
    register_tick(reconcile_due)
    assert [purge_expired_oauth_states, reconcile_due] == scheduler_module.DEFAULT_TICKS
