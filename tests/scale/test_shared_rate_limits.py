"""Three processes share Zoom's and Brevo's account-wide limits through PostgreSQL.

The emulators run in this process with their real limits (Zoom Pro, Brevo General); three
``tests.scale.caller`` processes, wired as ``worker`` is, all want to call faster than the
account allows. The emulator, not the clients, judges: no 429, and no one-second window
holding more calls of a category/family than its limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, SERIAL
from tests.scale.conftest import Recorder
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config, small_scenario
from zoom_brevo.sandbox.serving import serving

pytestmark = [pytest.mark.postgres, pytest.mark.slow, SERIAL]

PROCESSES = 3
ZOOM_CALLS = 12  # per process, per category (light, heavy)
BREVO_CALLS = 12  # per process, per family (contacts, events)
SATURATED = ("zoom:heavy", "brevo:contacts", "brevo:events")
LIMITS = {"zoom:light": 30, "zoom:heavy": 10, "brevo:contacts": 10, "brevo:events": 10}


@pytest.fixture
def sandbox() -> Iterator[tuple[Recorder, str, str, str]]:
    scenario = small_scenario()
    box = build_sandbox(scenario, zoom_plan="pro", brevo_plan="general", prepare_brevo=True)
    recorder = Recorder(box.app)
    meeting = scenario.meetings[0]
    with serving(recorder) as base:
        yield recorder, base, str(meeting.id), meeting.instances[0].uuid


def run_callers(config: Path, meeting_id: str, uuid: str, limiter: str = "shared") -> float:
    """Run the caller processes to their end; return when their measured run started."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.scale.caller",
                str(config),
                meeting_id,
                uuid,
                str(ZOOM_CALLS),
                str(BREVO_CALLS),
                str(n),
                limiter,
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    for proc in procs:  # every process warmed up: start them together
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    start_at = time.time()
    for proc in procs:
        out, err = proc.communicate("go\n", timeout=60)
        assert proc.returncode == 0, err[-3000:]
        assert json.loads(out.strip().splitlines()[-1])["elapsed_s"] > 0
    return start_at


def test_three_processes_stay_within_every_account_wide_limit_without_429(
    sandbox: tuple[Recorder, str, str, str], pg_schema_url: str, tmp_path: Path
) -> None:
    recorder, base, meeting_id, uuid = sandbox
    config = tmp_path / "zoom-brevo.yaml"
    config.write_text(sandbox_config(base, storage_url=pg_schema_url))

    start_at = run_callers(config, meeting_id, uuid)
    recorder.calls = [call for call in recorder.calls if call.at_s >= start_at]

    expected = {
        "zoom:light": PROCESSES * ZOOM_CALLS,
        "zoom:heavy": PROCESSES * ZOOM_CALLS,
        "brevo:contacts": PROCESSES * BREVO_CALLS,
        "brevo:events": PROCESSES * BREVO_CALLS,
    }
    rejected = {bucket: recorder.count(bucket, 429) for bucket in LIMITS}
    assert rejected == dict.fromkeys(LIMITS, 0)
    assert {bucket: recorder.count(bucket) for bucket in LIMITS} == expected
    peaks = {bucket: recorder.max_in_window(bucket) for bucket in LIMITS}
    assert all(peaks[bucket] <= limit for bucket, limit in LIMITS.items()), peaks
    # Not throttled far below the limit either: the three processes together use most of
    # one account's budget, not a third each. (Light calls are bounded by this machine's
    # two cores before the limit, so they are left out.)
    assert all(peaks[bucket] >= 0.6 * LIMITS[bucket] for bucket in SATURATED), peaks
