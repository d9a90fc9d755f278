"""A registration form's answers: Zoom's standard fields and the webinar's own questions.

Zoom returns both on a registrant (``GET /webinars|meetings/{id}/registrants``) and in
``*.registration_created`` webhooks: the standard fields as top-level keys (``org``,
``job_title``, ``country`` ...; empty strings when the form did not ask), the host's own
questions as ``custom_questions[{title, value}]``. ``registration_approved`` and
``registration_cancelled`` carry neither (../shared/reference/zoom.md, webhooks section),
so "no answers" must never erase answers already known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

STANDARD_FIELDS: tuple[str, ...] = (
    "address",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "industry",
    "org",
    "job_title",
    "purchasing_time_frame",
    "role_in_purchase_process",
    "no_of_employees",
    "comments",
)
QUESTION_PREFIX = "question:"
# A poll's or a survey's question answered in the webinar (not the registration form): the
# same title-keyed answers, read from the poll and survey reports.
POLL_PREFIX = "poll:"
SURVEY_PREFIX = "survey:"
ANSWER_PREFIXES: tuple[str, ...] = (QUESTION_PREFIX, POLL_PREFIX, SURVEY_PREFIX)


def question_key(title: str, prefix: str = QUESTION_PREFIX) -> str:
    """The key a question's answer is kept under (its title, whitespace folded)."""
    return prefix + " ".join(title.split())


def answers_of(
    fields: Mapping[str, object], questions: Iterable[tuple[str, str]]
) -> dict[str, str] | None:
    """The non-empty answers by key; ``None`` when the source carried none at all."""
    found = {name: _clean(value) for name in STANDARD_FIELDS if (value := fields.get(name))}
    for title, value in questions:
        if title.strip():
            found[question_key(title)] = _clean(value)
    answers = {k: v for k, v in found.items() if v}
    return answers or None


def _clean(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
