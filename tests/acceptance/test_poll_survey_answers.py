"""Poll and survey answers reach Brevo as attributes, end to end (issue 21, part 2).

Real HTTP to the emulated Zoom and Brevo: ``setup-brevo`` creates the attributes that
``field_mapping.poll_questions`` and ``survey_questions`` map (text); ``sync webinar`` reads
the poll report and, when a survey question is mapped, the survey report, and writes each
attendee's last answer (by ``date_time``, not by the report's order) to the mapped
attribute. Unmapped questions are ignored; a plan without survey reports (code 200) is
noted once and the sync still succeeds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.acceptance.test_facts import expected_visits
from tests.cli.helpers import invoke
from zoom_brevo.sandbox.combined import Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import SURVEY_QUESTIONS, Instance, QuestionAnswer, Scenario
from zoom_brevo.sandbox.serving import serving

pytestmark = pytest.mark.slow
POLL_MAPPED, POLL_UNMAPPED = "Poll question 1", "Poll question 2"
RATING, NEXT_TOPIC = SURVEY_QUESTIONS
POLL_MAPPING = f'field_mapping:\n  poll_questions:\n    "{POLL_MAPPED}": ZOOM_POLL_ONE\n'
SURVEY_MAPPING = f'  survey_questions:\n    "{RATING}": ZOOM_RATING\n'


def _last(answers: list[QuestionAnswer], question: str) -> str | None:
    """The latest answer to ``question`` (computed here from the scenario, not the code)."""
    given = sorted((a.at, a.answer) for a in answers if a.question == question)
    return given[-1][1] if given else None


def _expected(inst: Instance, question: str, *, survey: bool = False) -> dict[str, str]:
    attendees = set(expected_visits(inst))
    source = inst.survey_answers() if survey else inst.poll_answers()
    found = {p.email.lower(): _last(items, question) for p, items in source}
    return {e: a for e, a in found.items() if a is not None and e in attendees}


def _sync(box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: str,
          target: str) -> str:  # fmt: skip
    with serving(box.app) as url:
        text = sandbox_config(url, box.list_ids, storage_url=f"sqlite:///{tmp_path / 'zb.db'}")
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(text + mapping, "utf-8")
        setup = invoke(capsys, ["--config", str(config), "setup-brevo"])
        assert setup.code == 0, setup.err
        result = invoke(capsys, ["--config", str(config), "sync", "webinar", target])
        assert result.code == 0, result.err
    return result.err


def _held(box: Sandbox, attribute: str) -> dict[str, str]:
    contacts = box.brevo.state.contacts.values()
    return {c.email: str(c.attributes[attribute]) for c in contacts if attribute in c.attributes}


def test_mapped_poll_and_survey_questions_hold_each_attendees_last_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = Scenario(seed=31, anchor=datetime(2026, 11, 3, 16, tzinfo=UTC))
    web = sc.webinar(sc.user(email="host@example.com"), topic="Polls", registrants=90,
                     attendees=70, sources=0, polls=True, survey=True)  # fmt: skip
    web.poll_changes = True
    inst = web.latest
    polled = _expected(inst, POLL_MAPPED)
    rated = _expected(inst, RATING, survey=True)
    # The scenario has what the rules are about: answers given twice, listed out of order,
    # and people who answered only the unmapped question.
    assert "Earlier answer" not in polled.values() and len(polled) >= 3
    assert any("revised" in a for a in rated.values()) and len(rated) >= 10
    unmapped = set(_expected(inst, POLL_UNMAPPED)) - set(polled)
    assert unmapped

    box = build_sandbox(sc, prepare_brevo=True)
    _sync(box, tmp_path, capsys, POLL_MAPPING + SURVEY_MAPPING, inst.uuid)

    assert box.brevo.state.attributes["ZOOM_POLL_ONE"].type == "text"
    assert box.brevo.state.attributes["ZOOM_RATING"].type == "text"
    assert _held(box, "ZOOM_POLL_ONE") == polled
    assert _held(box, "ZOOM_RATING") == rated
    # Unmapped questions (the second survey question, the other poll questions) go nowhere.
    held = {c.email: c.attributes for c in box.brevo.state.contacts.values()}
    sent = {str(v) for e in unmapped for v in held[e].values()}
    unmapped_answers = {_last(items, POLL_UNMAPPED) for _, items in inst.poll_answers()}
    assert not sent & (unmapped_answers - {None})
    topics = {_last(items, NEXT_TOPIC) for _, items in inst.survey_answers()}
    assert not {str(v) for a in held.values() for v in a.values()} & topics


def test_a_plan_without_surveys_is_noted_once_and_the_sync_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = Scenario(seed=32, anchor=datetime(2026, 11, 3, 16, tzinfo=UTC))
    web = sc.webinar(sc.user(email="host@example.com"), topic="Plan", registrants=60,
                     attendees=45, sources=0, instances=2, polls=True,
                     survey=True)  # fmt: skip
    web.survey_on_plan = False
    polled = _expected(web.latest, POLL_MAPPED)
    assert polled

    box = build_sandbox(sc, prepare_brevo=True)
    err = _sync(box, tmp_path, capsys, POLL_MAPPING + SURVEY_MAPPING, str(web.id))

    assert err.count("survey reports (code 200)") == 1, err
    assert "field_mapping.survey_questions skipped" in err
    assert _held(box, "ZOOM_RATING") == {}
    assert _held(box, "ZOOM_POLL_ONE") == polled


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ('field_mapping:\n  poll_questions:\n    "Which plan?": "not an attribute"\n',
         "field_mapping.poll_questions.Which plan?"),
        (f'{POLL_MAPPING}  survey_questions:\n    "{RATING}": ZOOM_POLL_ONE\n',
         f"field_mapping.survey_questions.{RATING}"),
    ],
)  # fmt: skip
def test_config_errors_name_the_question_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: str, named: str
) -> None:
    sc = Scenario(seed=33, anchor=datetime(2026, 11, 3, 16, tzinfo=UTC))
    sc.webinar(sc.user(email="host@example.com"), registrants=2, attendees=1, sources=0)
    box = build_sandbox(sc, prepare_brevo=True)
    with serving(box.app) as url:
        text = sandbox_config(url, box.list_ids, storage_url=f"sqlite:///{tmp_path / 'zb.db'}")
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(text + mapping, "utf-8")
        result = invoke(capsys, ["--config", str(config), "setup-brevo"])
    assert result.code != 0
    assert named in result.err, result.err
    assert "Traceback" not in result.err
