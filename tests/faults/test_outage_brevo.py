"""Brevo down for a minute, then storms of 429: nothing is lost, no event is sent twice.

Two ``zoom-brevo worker`` processes on PostgreSQL collect three ended meetings and a
webinar (their ``*.ended`` webhooks are in the inbox) and deliver the contacts and events
to Brevo, which answers every call 503 for the first 60 s and then 429 in bursts (with
``x-sib-ratelimit-reset``). Retries must ride the outage out: afterwards Brevo holds
exactly what a run without faults delivers (the control run), each event once, and
nothing is dead-lettered.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import SERIAL
from tests.faults.outage import (
    Run,
    build_world,
    commands_done,
    control_run,
    dead_work,
    differences,
    held,
    most_attempts,
    wait_settled,
    worker_run,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600), SERIAL]

OUTAGE_S = 60.0
BURSTS, BURST_S, CALM_S, RESET_S = 6, 4.0, 3.0, 1.0
SETTLE_WITHIN_S = 420.0


def brevo_outage_then_storms(run: Run) -> None:
    now = time.time()
    faults = run.box.brevo.faults
    faults.fail_during(now, now + OUTAGE_S, status=503)
    storm_end = faults.rate_limit_storm(
        now + OUTAGE_S, bursts=BURSTS, burst_s=BURST_S, calm_s=CALM_S, reset_s=RESET_S
    )
    run.notes.update(outage_end=now + OUTAGE_S, storm_end=storm_end)


def test_a_minute_of_503s_then_429_storms_lose_nothing_and_repeat_no_event(
    tmp_path: Path, pg_schema_url: str
) -> None:
    world = build_world(meetings=3, participants=60, webinar_registrants=60)
    expected = control_run(tmp_path, world)
    (tmp_path / "outage").mkdir()
    with worker_run(tmp_path / "outage", world, pg_schema_url, workers=2,
                    prepare=brevo_outage_then_storms) as run:  # fmt: skip
        settled_at = wait_settled(run.engine, SETTLE_WITHIN_S, tmp_path / "outage")
        dead = dead_work(run.engine)
        done = commands_done(run.engine)
        attempts = most_attempts(run.engine)
        got = held(run.box)

    outage_end, storm_end = run.notes["outage_end"], run.notes["storm_end"]
    statuses = run.statuses("brevo:")
    figures = {
        "commands": done,
        "contacts": len(got.contacts),
        "events": sum(got.events.values()),
        **got.compare(expected),
        "brevo_503": statuses[503],
        "brevo_429": statuses[429],
        "first_2xx_after_outage_s": round(run.first_success_after("brevo:", outage_end), 1),
        "settled_after_outage_s": round(settled_at - outage_end, 1),
        "settled_after_storms_s": round(settled_at - storm_end, 1),  # < 0: between bursts
        "total_s": round(settled_at - run.started_at, 1),
        "most_attempts": attempts,
    }
    print(f"\nbrevo outage figures: {figures}")  # noqa: T201 (the figures of the docs)

    assert dead == {"failed_webhooks": 0, "dead_jobs": 0, "dead_commands": 0}
    assert got.compare(expected) == {
        "lost": 0, "duplicated": 0, "unexpected_contacts": 0, "changed_contacts": 0,
    }  # fmt: skip
    assert differences(got, expected) == []
    assert got == expected
    assert len(expected.contacts) >= 150 and sum(expected.events.values()) >= 150
    assert set(got.events.values()) == {1}
    # A minute of outage leaves a quarter of the attempt budget (8) unspent.
    assert attempts["command"] <= 6
    # The faults were felt: calls were refused in the outage and in the storms.
    assert statuses[503] > 0 and statuses[429] > 0
