"""A Brevo contact -> the body of Zoom's "Add a webinar (or meeting) registrant", or what it
lacks.

Pure. The contact's attributes are read through ``field_mapping`` (the same mapping that
writes Zoom's answers to Brevo, read the other way): ``name`` -> ``first_name``,
``last_name``, the standard form fields mapped to an attribute (``org``, ``job_title``, ...)
and ``custom_questions`` (question title -> attribute). Only what the webinar's or
meeting's form asks is sent. A required field with no value, or not mapped at all, is
reported by its name and the contact is not sent: Zoom would refuse it (official spec,
webinarRegistrantCreate and meetingRegistrantCreate: ``email`` and ``first_name`` are
always required; the form's ``required`` flags the rest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zoom_brevo.config.settings import FieldMapping
from zoom_brevo.zoom.models import RegistrationQuestions
from zoom_brevo.zoom.registration_form import STANDARD_FIELDS

MAX_ANSWER_CHARS = 128  # custom question values (official spec, custom_questions.value)
_FIELD_CHARS = {"first_name": 64, "last_name": 64}


@dataclass(frozen=True, slots=True)
class Missing:
    """A required field the contact cannot fill; ``attribute`` is None when not mapped."""

    field: str
    attribute: str | None

    def describe(self) -> str:
        """``last_name (LASTNAME is empty)`` or ``org (not mapped in field_mapping)``."""
        if self.attribute is None:
            return f"{self.field} (not mapped in field_mapping)"
        return f"{self.field} ({self.attribute} is empty)"


@dataclass(frozen=True, slots=True)
class Body:
    """The registration body to send."""

    fields: Mapping[str, Any]


def registration_body(
    email: str,
    attributes: Mapping[str, Any],
    form: RegistrationQuestions,
    mapping: FieldMapping,
) -> Body | tuple[Missing, ...]:
    """The body for ``email``, or the required fields it lacks (in the form's order)."""
    missing: list[Missing] = []
    body: dict[str, Any] = {"email": email}
    asked = {"first_name": True} | {q.field_name: q.required for q in form.questions}
    for field, required in asked.items():
        attribute = _attribute_of(field, mapping)
        value = _text(attributes, attribute, _FIELD_CHARS.get(field))
        if value:
            body[field] = value
        elif required:
            missing.append(Missing(field, attribute))
    answers = []
    for question in form.custom_questions:
        attribute = mapping.custom_questions.get(question.title)
        value = _text(attributes, attribute, MAX_ANSWER_CHARS)
        if value:
            answers.append({"title": question.title, "value": value})
        elif question.required:
            missing.append(Missing(f"custom question {question.title!r}", attribute))
    if answers:
        body["custom_questions"] = answers
    return tuple(missing) if missing else Body(body)


def _attribute_of(field: str, mapping: FieldMapping) -> str | None:
    if field == "first_name":
        return mapping.name
    if field == "last_name":
        return mapping.last_name
    if field in STANDARD_FIELDS:
        found = getattr(mapping, field, None)
        return found if isinstance(found, str) and found else None
    return None


def _text(attributes: Mapping[str, Any], name: str | None, limit: int | None) -> str:
    if name is None:
        return ""
    value = attributes.get(name.upper())
    if value is None or isinstance(value, bool | dict | list):
        return ""
    text = " ".join(str(value).split())
    return text[:limit] if limit else text
