"""A Brevo contact -> Zoom's registration body, or the required fields it lacks (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from zoom_brevo.config.settings import FieldMapping
from zoom_brevo.registration.form import Body, Missing, registration_body
from zoom_brevo.zoom.models import FormField, FormQuestion, RegistrationQuestions

LEARN = "What would you like to learn?"
MAPPING = FieldMapping(org="COMPANY", custom_questions={LEARN: "LEARNING_GOAL"})


def form(
    *fields: tuple[str, bool], questions: tuple[tuple[str, bool], ...] = ()
) -> RegistrationQuestions:
    return RegistrationQuestions(
        questions=[FormField(field_name=n, required=r) for n, r in fields],
        custom_questions=[FormQuestion(title=t, required=r) for t, r in questions],
    )


def body_of(attributes: dict[str, Any], asked: RegistrationQuestions) -> Body | tuple[Missing, ...]:
    return registration_body("ada@example.com", attributes, asked, MAPPING)


def test_sends_what_the_form_asks_from_the_mapped_attributes() -> None:
    attributes = {
        "FIRSTNAME": " Ada ",
        "LASTNAME": "Lovelace",
        "COMPANY": "Analytical Engines",
        "LEARNING_GOAL": "Automation",
        "JOB": "unasked",
    }
    asked = form(("last_name", True), ("org", False), questions=((LEARN, True),))
    assert body_of(attributes, asked) == Body(
        {
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "org": "Analytical Engines",
            "custom_questions": [{"title": LEARN, "value": "Automation"}],
        }
    )


@pytest.mark.parametrize(
    ("attributes", "asked", "missing"),
    [
        ({}, form(), [Missing("first_name", "FIRSTNAME")]),
        ({"FIRSTNAME": "Ada", "LASTNAME": " "}, form(("last_name", True)),
         [Missing("last_name", "LASTNAME")]),
        ({"FIRSTNAME": "Ada"}, form(("job_title", True)), [Missing("job_title", None)]),
        ({"FIRSTNAME": "Ada"}, form(questions=((LEARN, True),)),
         [Missing(f"custom question {LEARN!r}", "LEARNING_GOAL")]),
        ({"FIRSTNAME": "Ada"}, form(questions=(("Unmapped?", True),)),
         [Missing("custom question 'Unmapped?'", None)]),
        ({"FIRSTNAME": "Ada"}, form(("org", False), questions=((LEARN, False),)), []),
    ],
)  # fmt: skip
def test_required_fields_without_a_value_are_named(
    attributes: dict[str, Any], asked: RegistrationQuestions, missing: list[Missing]
) -> None:
    found = body_of(attributes, asked)
    assert (list(found) if isinstance(found, tuple) else []) == missing


def test_messages_name_the_field_and_the_attribute() -> None:
    assert Missing("last_name", "LASTNAME").describe() == "last_name (LASTNAME is empty)"
    assert Missing("org", None).describe() == "org (not mapped in field_mapping)"


def test_values_are_cut_to_zoom_limits_and_non_text_values_ignored() -> None:
    attributes = {"FIRSTNAME": "A" * 80, "LEARNING_GOAL": "x" * 200, "COMPANY": True}
    found = body_of(attributes, form(("org", False), questions=((LEARN, False),)))
    assert isinstance(found, Body)
    assert len(found.fields["first_name"]) == 64
    assert len(found.fields["custom_questions"][0]["value"]) == 128
    assert "org" not in found.fields
