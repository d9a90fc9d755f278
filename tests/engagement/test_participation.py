"""Questions asked and polls answered, per lower-cased email."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from zoom_brevo.engagement import (
    LastAnswers,
    Participation,
    PollAnswer,
    QuestionAsked,
    combine,
    count_participation,
)


def test_questions_and_polls_are_counted_per_lower_cased_email() -> None:
    got = count_participation(
        [QuestionAsked("Ann@X.org", "q1"), QuestionAsked(" ann@x.org", "q2")],
        [PollAnswer("ann@x.org", "p1"), PollAnswer("bob@x.org", "p1")],
    )
    assert got == {
        "ann@x.org": Participation(questions=2, polls_answered=1),
        "bob@x.org": Participation(questions=0, polls_answered=1),
    }


def test_answering_several_questions_of_one_poll_is_one_poll_answered() -> None:
    answers = [
        PollAnswer("ann@x.org", "p1"),
        PollAnswer("ann@x.org", "p1"),
        PollAnswer("ann@x.org", "p2"),
    ]
    assert count_participation(poll_answers=answers)["ann@x.org"].polls_answered == 2


def test_reading_the_same_report_twice_counts_each_question_once() -> None:
    questions = [QuestionAsked("ann@x.org", "q1")] * 2
    assert count_participation(questions)["ann@x.org"].questions == 1


def test_records_without_an_id_count_one_each() -> None:
    questions = [QuestionAsked("ann@x.org"), QuestionAsked("ann@x.org", "")]
    assert count_participation(questions)["ann@x.org"].total == 2


@pytest.mark.parametrize("email", [None, "", "   "])
def test_records_without_an_email_are_not_attributed(email: str | None) -> None:
    assert count_participation([QuestionAsked(email, "q1")], [PollAnswer(email, "p1")]) == {}


def _example(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """Build the response example from the spec's per-property examples (one level of arrays)."""

    def build(schema: dict[str, Any]) -> Any:
        if schema.get("type") == "array":
            return [build(schema["items"])]
        if schema.get("type") == "object":
            return {k: build(v) for k, v in schema.get("properties", {}).items()}
        return schema.get("example")

    get = spec["paths"][path]["get"]
    result: dict[str, Any] = build(get["responses"]["200"]["content"]["application/json"]["schema"])
    return result


def test_flattening_zoom_report_shapes_from_the_official_spec(shared_dir: Path) -> None:
    spec = json.loads((shared_dir / "specs/zoom/zoom-meeting-open-api-spec.json").read_text())
    qa = _example(spec, "/report/webinars/{webinarId}/qa")
    polls = _example(spec, "/report/webinars/{webinarId}/polls")
    questions = [
        QuestionAsked(person["email"], item["question_id"])
        for person in qa["questions"]
        for item in person["question_details"]
        if item["question_status"] != "deleted"
    ]
    answers = [
        PollAnswer(person["email"], item["polling_id"])
        for person in polls["questions"]
        for item in person["question_details"]
    ]
    got = count_participation(questions, answers)
    assert got[qa["questions"][0]["email"].lower()].questions == 1
    assert got[polls["questions"][0]["email"].lower()].polls_answered == 1


def test_the_last_answer_is_the_latest_by_time_not_by_order() -> None:
    at = [datetime(2026, 5, 1, 10, m, tzinfo=UTC) for m in range(3)]
    last = LastAnswers()
    last.add("A@x.com", "poll:Plan?", "Pro", at[2])
    last.add("a@x.com ", "poll:Plan?", "Free", at[0])  # earlier, listed later
    last.add("a@x.com", "poll:Size?", "10", None)
    last.add("a@x.com", "poll:Size?", "20", at[1])  # a time beats none
    last.add("a@x.com", "poll:Blank?", "  ", at[1])  # blank: no answer
    last.add(None, "poll:Plan?", "Anonymous", at[2])  # not attributable
    assert last.answers() == {"a@x.com": {"poll:Plan?": "Pro", "poll:Size?": "20"}}


def test_combine_carries_answers_of_people_who_were_not_counted() -> None:
    found = combine({"a@x.com": 1}, {}, {"b@x.com": {"survey:Rate?": "5"}})
    assert found["a@x.com"] == Participation(1, 0)
    assert found["b@x.com"].answers == {"survey:Rate?": "5"}
