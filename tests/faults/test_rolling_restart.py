"""A rolling restart (SIGTERM) of every server and worker while 10,000 webhooks stream in.

The fleet, world and stream of ``tests.faults.stream_run`` (issue 18). At 15 random points
of the stream the next server or worker in turn gets SIGTERM; the test waits for it to exit
and starts it again (every process is restarted three times). A stopping server answers what
it received and stops listening (the sender goes to the other); a stopping worker finishes
its batch or hands it back. Then: every process exited 0 on SIGTERM, every webhook was
acknowledged and processed, nothing is dead, and Brevo holds exactly the scenario's
contacts, lists and attributes, each expected e-mail and event exactly once.
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
from tests.faults.event_clock import EventClock
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
ROUNDS = 3  # every process restarted at least this often


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_schema_url)
    yield engine
    engine.dispose()


def test_a_rolling_sigterm_restart_under_the_stream_loses_and_repeats_nothing(
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
            chaos = Chaos(fleet, store, random.Random(7), time.monotonic(), "term",
                          ROUNDS * (SERVERS + WORKERS))  # fmt: skip
            run: Run = play(world, chaos, urls)
        finally:
            fleet.stop_all()

    tally = run.sender.tally
    assert tally.refused == []
    assert (tally.deliveries, tally.acknowledged) == (TOTAL_DELIVERIES, TOTAL_DELIVERIES)
    restarted = Counter(s.role for s in chaos.stops)
    assert set(restarted) == {*(f"server-{n}" for n in range(SERVERS)),
                              *(f"worker-{n}" for n in range(WORKERS))}  # fmt: skip
    assert min(restarted.values()) >= ROUNDS, restarted
    assert {s.exit_code for s in chaos.stops} == {0}, run.figures()
    assert fleet.tracebacks() == ""
    assert_nothing_left_or_dead(store)
    want = expected_state(world)
    assert_contacts_and_lists(box, want)
    assert_each_email_and_event_once(box, want, clock, chaos.stops)
