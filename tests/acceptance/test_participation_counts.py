"""Q&A questions and polls reach Brevo per webinar, end to end (issue 21, part 2).

Real HTTP to the emulated Zoom and Brevo: ``sync webinar`` reads the webinar's Q&A and poll
reports; each attendee's ``zoom_attended`` event carries ``questions_asked`` and
``polls_answered`` (0 for an attendee the reports do not name), and the attributes mapped
in ``field_mapping`` hold the same numbers.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.acceptance.test_facts import expected_visits
from tests.cli.helpers import invoke
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import serving

pytestmark = pytest.mark.slow
FIELD_MAPPING = "field_mapping:\n  questions_asked: QUESTIONS\n  polls_answered: POLLS\n"


def test_each_attendee_gets_the_questions_and_polls_of_the_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = Scenario(seed=23, anchor=datetime(2026, 11, 3, 16, tzinfo=UTC))
    web = sc.webinar(sc.user(email="host@example.com"), topic="Q&A", registrants=60,
                     attendees=42, sources=0, qa=True, polls=True)  # fmt: skip
    inst = web.latest
    attendees = set(expected_visits(inst))
    asked = Counter(p.email.lower() for p, items in inst.qa() for _ in items)
    polled = {p.email.lower() for p, _ in inst.poll_answers()}  # one poll in the scenario
    expected = {e: (asked.get(e, 0), int(e in polled)) for e in attendees}
    assert any(q > 0 for q, _ in expected.values()) and any(q == 0 for q, _ in expected.values())

    box = build_sandbox(sc, prepare_brevo=True)
    with serving(box.app) as url:
        text = sandbox_config(url, box.list_ids, storage_url=f"sqlite:///{tmp_path / 'zb.db'}")
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(text + FIELD_MAPPING, "utf-8")
        assert invoke(capsys, ["--config", str(config), "setup-brevo"]).code == 0
        result = invoke(capsys, ["--config", str(config), "sync", "webinar", inst.uuid])
        assert result.code == 0, result.err

    events = {
        e.identifiers["email_id"]: e.event_properties or {}
        for e in box.brevo.state.events
        if e.event_name == "zoom_attended"
    }
    assert {e: (p["questions_asked"], p["polls_answered"]) for e, p in events.items()} == expected
    held = {c.email: c.attributes for c in box.brevo.state.contacts.values()}
    assert {e: (held[e]["QUESTIONS"], held[e]["POLLS"]) for e in attendees} == expected
