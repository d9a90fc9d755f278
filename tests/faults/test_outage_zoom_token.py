"""Zoom's token endpoint down for 30 s while collections wait for it: they finish afterwards.

Two ``zoom-brevo worker`` processes on PostgreSQL hold the ``*.ended`` webhooks of four
meetings and a webinar; each collection (the participants report) needs an access token,
and the token endpoint answers 500, or refuses connections, for the first 30 s. The jobs
retry with backoff and complete once it is back; Brevo then holds exactly what a run without
faults delivers (the control run), each event once, and nothing is dead.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from tests.conftest import SERIAL
from tests.faults.outage import (
    Held,
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
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import free_port, serving

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(400), SERIAL]

OUTAGE_S = 30.0
SETTLE_WITHIN_S = 240.0


def world() -> Scenario:
    return build_world(meetings=4, participants=25, webinar_registrants=30)


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> Held:
    return control_run(tmp_path_factory.mktemp("control"), world())


@pytest.mark.parametrize("failure", ["500", "refused"])
def test_collections_wait_out_a_token_endpoint_outage_and_brevo_ends_exact(
    tmp_path: Path, pg_schema_url: str, expected: Held, failure: str
) -> None:
    token_port = free_port()  # "refused": nothing listens there until the outage ends
    oauth_url = f"http://127.0.0.1:{token_port}/zoom" if failure == "refused" else ""

    def token_endpoint_down(run: Run) -> None:
        run.notes["outage_end"] = until = time.time() + OUTAGE_S
        if failure != "refused":
            run.box.zoom.faults.token_endpoint_down_until(until, status=int(failure))

    with (
        worker_run(
            tmp_path,
            world(),
            pg_schema_url,
            workers=2,
            prepare=token_endpoint_down,
            oauth_url=oauth_url,
        ) as run,  # fmt: skip
        contextlib.ExitStack() as token_endpoint,
    ):
        outage_end = run.notes["outage_end"]
        if failure == "refused":
            time.sleep(max(0.0, outage_end - time.time()))
            token_endpoint.enter_context(serving(run.recorder, port=token_port))
        settled_at = wait_settled(run.engine, SETTLE_WITHIN_S, tmp_path)
        dead = dead_work(run.engine)
        done = commands_done(run.engine)
        attempts = most_attempts(run.engine)
        got = held(run.box)

    token = run.statuses("zoom-token")
    figures = {
        "failure": failure,
        "commands": done,
        "contacts": len(got.contacts),
        "events": sum(got.events.values()),
        **got.compare(expected),
        "token_5xx": sum(n for status, n in token.items() if status >= 500),
        "first_zoom_2xx_after_outage_s": round(run.first_success_after("zoom:", outage_end), 1),
        "settled_after_outage_s": round(settled_at - outage_end, 1),
        "most_attempts": attempts,
    }
    print(f"\nzoom token outage figures: {figures}")  # noqa: T201 (the figures of the docs)

    assert dead == {"failed_webhooks": 0, "dead_jobs": 0, "dead_commands": 0}
    assert differences(got, expected) == []
    assert got == expected
    assert got.compare(expected)["lost"] == 0
    assert set(got.events.values()) == {1}
    assert len(expected.contacts) >= 100
    # The outage was felt: no Zoom API call before it ended, and the collections retried.
    assert not [c for c in run.calls("zoom:") if c.at_s < outage_end]
    if failure == "refused":
        assert attempts["job"] >= 2
    else:
        # Retried by the job, or within one attempt by the client's own token retries
        # (which of the two depends on how fast the workers start on a loaded machine).
        assert attempts["job"] >= 2 or figures["token_5xx"] >= 2
        assert figures["token_5xx"] > 0
