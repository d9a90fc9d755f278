"""Registration webhooks carry the form's answers to Brevo, as ``field_mapping`` says.

``registration_created`` carries the standard fields and ``custom_questions``;
``registration_approved`` carries neither, and must not erase what the first one gave.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.pipeline.mapping import resolve_field_mapping
from zoom_brevo.sandbox.scenario import LEARN_QUESTION, Scenario
from zoom_brevo.sandbox.webhook_sender import ZoomEvents
from zoom_brevo.store import facts
from zoom_brevo.store.engine import reading

from .conftest import LISTS
from .test_handlers import commands, run

MAPPING = resolve_field_mapping(
    {"org": "COMPANY", "job_title": "JOB_TITLE", f"question:{LEARN_QUESTION}": "LEARNING_GOAL"}
)
OPTIONS = HandlerOptions(lists=LISTS, field_mapping=MAPPING)
FIELDS = (("org", "Acme Corp"), ("job_title", "CTO"), ("country", "NL"))
QUESTIONS = ((LEARN_QUESTION, "Automation"),)


def _webinar() -> tuple[object, object, ZoomEvents]:
    sc = Scenario(seed=4, anchor=datetime(2026, 2, 1, 10, tzinfo=UTC))
    web = sc.webinar(sc.user(email="host@example.com"), topic="Launch", registrants=0,
                     attendees=0, sources=0)  # fmt: skip
    reg = web.add_registrant(sc.new_person("ann@example.com", "Ann", "A"), status="pending",
                             fields=FIELDS, questions=QUESTIONS)  # fmt: skip
    return web, reg, ZoomEvents(account_id="acct")


def test_created_then_approved_sends_the_mapped_answers_and_keeps_them(engine: Engine) -> None:
    web, reg, events = _webinar()
    run(engine, {**events.registration_created(web, reg), "event_ts": 1}, options=OPTIONS)  # type: ignore[arg-type]
    approved = events.registration_approved(web, reg)  # type: ignore[arg-type]
    assert "org" not in approved["payload"]["object"]["registrant"]  # as Zoom sends it
    run(engine, {**approved, "event_ts": 2}, options=OPTIONS)
    with reading(engine) as conn:
        (stored,) = facts.list_registrants(conn, "webinar", web.id)  # type: ignore[attr-defined]
    assert stored.status == "approved"
    assert stored.answers == {
        "org": "Acme Corp",
        "job_title": "CTO",
        "country": "NL",
        f"question:{LEARN_QUESTION}": "Automation",
    }
    (contact,) = [p for k, p in commands(engine) if k == "contact"]
    attributes = contact["attributes"]
    assert (attributes["COMPANY"], attributes["JOB_TITLE"]) == ("Acme Corp", "CTO")
    assert attributes["LEARNING_GOAL"] == "Automation"
    assert "NL" not in attributes.values()  # country is not mapped: not sent
