"""Attendance tiers end to end: ``sync webinar`` with ``attendance_tiers: [90, 50]``.

Real HTTP to the emulated Zoom and Brevo: an overrunning webinar (scheduled 60 minutes,
ran 72), so a tier computed on the schedule would differ from the tier of the actual span.
Every attendee gets ``ZOOM_ATTENDANCE_PERCENT`` (of the actual span) and exactly one
``zoom_attended_tier`` event with the highest tier reached; a second sync sends none.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.acceptance.test_facts import expected_visits
from tests.cli.helpers import invoke
from zoom_brevo.pipeline.derive import attendance_tier
from zoom_brevo.pipeline.mapping import attendance_percent
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import serving

pytestmark = pytest.mark.slow
TIERS = (90, 50)


def test_each_attendee_gets_the_percent_and_one_tier_of_the_actual_span(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = Scenario(seed=21, anchor=datetime(2026, 11, 3, 16, tzinfo=UTC))
    web = sc.webinar(sc.user(email="host@example.com"), topic="Tiers", registrants=60,
                     attendees=45, sources=1, duration_min=60, overrun_min=12)  # fmt: skip
    visits = expected_visits(web.latest)
    expected = {email: attendance_percent(ratio) for email, (_, ratio) in visits.items()}
    tiers = Counter(attendance_tier(p, TIERS) for p in expected.values() if p is not None)
    assert len(tiers) == 3, tiers  # the world has people in every tier: the case is there
    box = build_sandbox(sc, prepare_brevo=True)
    with serving(box.app) as url:
        text = sandbox_config(url, box.list_ids, storage_url=f"sqlite:///{tmp_path / 'zb.db'}")
        text = text.replace(
            "  zoom:\n", "  zoom:\n    sync:\n      attendance_tiers: [50, 90]\n", 1
        )
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(text, "utf-8")
        for _ in range(2):  # the second sync must send no tier event again
            result = invoke(capsys, ["--config", str(config), "sync", "webinar", web.latest.uuid])
            assert result.code == 0, result.err

    held = {c.email: dict(c.attributes) for c in box.brevo.state.contacts.values()}
    assert {e: held[e].get("ZOOM_ATTENDANCE_PERCENT") for e in expected} == expected
    sent = [e for e in box.brevo.state.events if e.event_name == "zoom_attended_tier"]
    by_email = {e.identifiers["email_id"]: e for e in sent}
    assert len(sent) == len(by_email) == len(expected)
    assert {m: e.event_properties["tier"] for m, e in by_email.items()} == {
        m: attendance_tier(p, TIERS) for m, p in expected.items() if p is not None
    }
