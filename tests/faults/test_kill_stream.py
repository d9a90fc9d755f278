"""kill -9 of servers, workers and a backfill while 10,000 webhooks stream in (issue 18).

The fleet, world and stream of ``tests.faults.stream_run``. 45 times, at random points of
the stream (seeded), a server, a worker or the backfill is killed with SIGKILL and started
again at once. Once everything is drained: every webhook acknowledged and processed,
nothing dead, no process crashed on a restart, and the emulated Brevo holds exactly the
contacts, list members and attributes computed from the scenario, each expected e-mail
exactly once and each expected event exactly once (a batch a killed worker had in flight is
looked up in Brevo's events listing before it is sent again); the store is idle within 15 s
of the last restart (issue 18; see ``IDLE_WITHIN_S``).

``-s`` prints the figures: kills, deliveries, what the sender saw, time to idle, and the
backlog (pending webhooks, jobs, commands) every 10 s.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import SERIAL
from tests.faults.event_clock import EventClock, calls_between
from tests.faults.fleet import Fleet, wait_healthy
from tests.faults.stream_run import (
    BREVO_PLAN,
    Chaos,
    Run,
    assert_contacts_and_lists,
    assert_each_email_and_event_once,
    assert_nothing_left_or_dead,
    backfill_range,
    config_text,
    play,
)
from tests.faults.stream_world import TOTAL_DELIVERIES, World, build_world, expected_state
from zoom_brevo.sandbox.combined import build_sandbox
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.store.engine import create_engine

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(900), SERIAL]

SERVERS, WORKERS = 2, 3
KILLS = 45
BACKFILL_KILLS = 2
# Issue 18: idle (as ``status --json`` says) within 15 s of the last restart. On the 2-core
# machine six runs took 6.0-7.1 s (docs/reliability.md; 11.0-19.2 s before a join woke its
# kept leave, a contact being sent was looked at again within a second, and a job that lost
# a deadlock ran again within a second instead of 30 s).
IDLE_WITHIN_S = 15.0


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_schema_url)
    yield engine
    engine.dispose()


def test_45_kill_9s_mid_stream_lose_nothing_repeat_nothing_and_the_store_goes_idle(
    world: World, store: Engine, pg_schema_url: str, tmp_path: Path
) -> None:
    box = build_sandbox(world.scenario, brevo_plan=BREVO_PLAN, prepare_brevo=True)
    clock = EventClock(box.app, box.brevo)
    with serving(clock) as sandbox_url:
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(config_text(sandbox_url, box, pg_schema_url), "utf-8")
        fleet = Fleet(config, tmp_path)
        ports = [free_port() for _ in range(SERVERS)]
        for n, port in enumerate(ports):
            fleet.add(f"server-{n}", "serve", "--no-worker", "--port", str(port))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        try:
            wait_healthy(urls)
            for n in range(WORKERS):
                fleet.add(f"worker-{n}", "worker")
            fleet.add("backfill", "backfill", *backfill_range(world), "--json")
            chaos = Chaos(fleet, store, random.Random(2024), time.monotonic(), "kill",
                          KILLS, backfill_kills=BACKFILL_KILLS)  # fmt: skip
            run: Run = play(world, chaos, urls)
            tail = chaos.began + max(run.stream_s, run.backfill_s), chaos.began + run.settled_s
            print("API calls from the end of the stream to idle:", calls_between(clock, *tail))  # noqa: T201
        finally:
            fleet.stop_all()

    tally = run.sender.tally
    assert tally.refused == []
    assert (tally.deliveries, tally.acknowledged) == (TOTAL_DELIVERIES, TOTAL_DELIVERIES)
    killed = Counter(s.role.split("-")[0] for s in chaos.stops)
    assert len(chaos.stops) == KILLS >= 40
    assert killed["server"] and killed["worker"] and killed["backfill"], killed
    assert fleet.tracebacks() == ""  # no process crashed on its restart
    assert_nothing_left_or_dead(store)
    want = expected_state(world)
    assert_contacts_and_lists(box, want)
    assert_each_email_and_event_once(box, want, clock, chaos.stops)
    assert run.idle_after_s <= IDLE_WITHIN_S, run.figures()
