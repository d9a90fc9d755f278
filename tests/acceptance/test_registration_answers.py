"""Registration form answers reach Brevo through ``field_mapping``, end to end.

Real HTTP to the emulated Zoom and Brevo: ``setup-brevo`` creates the mapped attributes
(text), then ``sync webinar`` sends each registrant's answers from
``GET /webinars/{id}/registrants`` (standard fields and ``custom_questions``). Blank
answers are never sent (they would wipe a value Brevo holds); unmapped fields are not sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.helpers import invoke
from zoom_brevo.sandbox.combined import build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import LEARN_QUESTION, Scenario
from zoom_brevo.sandbox.serving import serving

pytestmark = pytest.mark.slow
MAPPED = {"org": "COMPANY", "job_title": "JOB_TITLE"}
QUESTION_ATTRIBUTE = "LEARNING_GOAL"
FIELD_MAPPING = (
    "field_mapping:\n  org: COMPANY\n  job_title: JOB_TITLE\n"
    f'  custom_questions:\n    "{LEARN_QUESTION}": {QUESTION_ATTRIBUTE}\n'
)


def test_sync_sends_the_mapped_answers_of_each_registrant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = Scenario(seed=22, anchor=datetime(2026, 11, 3, 16, tzinfo=UTC))
    web = sc.webinar(sc.user(email="host@example.com"), topic="Answers", registrants=40,
                     attendees=25, sources=1)  # fmt: skip
    expected: dict[str, dict[str, str]] = {}
    for reg in web.registrants:
        fields = dict(reg.fields)
        wanted = {MAPPED[k]: v for k, v in fields.items() if k in MAPPED and v}
        learn = dict(reg.questions).get(LEARN_QUESTION)
        if learn:
            wanted[QUESTION_ATTRIBUTE] = learn
        expected[reg.email.lower()] = wanted
    assert any(len(v) < 3 for v in expected.values())  # some left answers blank
    assert sum(len(v) == 3 for v in expected.values()) >= 5

    box = build_sandbox(sc, prepare_brevo=True)
    with serving(box.app) as url:
        text = sandbox_config(url, box.list_ids, storage_url=f"sqlite:///{tmp_path / 'zb.db'}")
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(text + FIELD_MAPPING, "utf-8")
        setup = invoke(capsys, ["--config", str(config), "setup-brevo", "--json"])
        assert setup.code == 0, setup.err
        result = invoke(capsys, ["--config", str(config), "sync", "webinar", web.latest.uuid])
        assert result.code == 0, result.err

    attributes = box.brevo.state.attributes
    for name in (*MAPPED.values(), QUESTION_ATTRIBUTE):
        assert attributes[name].type == "text"
    held = {c.email: dict(c.attributes) for c in box.brevo.state.contacts.values()}
    names = (*MAPPED.values(), QUESTION_ATTRIBUTE)
    sent = {e: {n: a[n] for n in names if n in a} for e, a in held.items() if e in expected}
    assert sent == expected
    assert all("country" not in str(a).lower() for a in attributes)  # unmapped: not created
