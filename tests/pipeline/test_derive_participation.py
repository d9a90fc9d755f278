"""Questions asked and polls answered: per webinar, as event properties and (mapped) attributes.

Known only where the webinar's Q&A and poll reports were read; then someone who is not in
them asked 0 questions. Unknown (no reports: a meeting, a plan without them) is left out,
never sent as 0.
"""

from __future__ import annotations

from dataclasses import replace

from tests.pipeline.test_derive import LISTS, NOW, WEBINAR, contact_of, person, rows
from zoom_brevo.engagement import Participation
from zoom_brevo.pipeline.commands import SendEvent
from zoom_brevo.pipeline.derive import DeriveOptions, derive_person
from zoom_brevo.pipeline.mapping import resolve_field_mapping

MAPPED = DeriveOptions(
    lists=LISTS,
    field_mapping=resolve_field_mapping(
        {"questions_asked": "QUESTIONS", "polls_answered": "POLLS"}
    ),
)
READ = replace(WEBINAR, participation_known=True)


def attended(commands: tuple[object, ...]) -> SendEvent:
    (event,) = [c for c in commands if isinstance(c, SendEvent) and c.event_name == "zoom_attended"]
    return event


def test_counts_from_the_reports_go_to_the_event_and_the_mapped_attributes() -> None:
    someone = replace(person(READ, rows((0, 50))), participation=Participation(3, 2))
    outcome = derive_person(READ, someone, MAPPED, now=NOW)
    props = attended(outcome.commands).event_properties
    assert (props["questions_asked"], props["polls_answered"]) == (3, 2)
    attributes = contact_of(outcome.commands).attributes
    assert (attributes["QUESTIONS"], attributes["POLLS"]) == (3, 2)


def test_absent_from_reports_that_were_read_means_zero() -> None:
    outcome = derive_person(READ, person(READ, rows((0, 50))), MAPPED, now=NOW)
    props = attended(outcome.commands).event_properties
    assert (props["questions_asked"], props["polls_answered"]) == (0, 0)
    assert contact_of(outcome.commands).attributes["QUESTIONS"] == 0


def test_without_the_reports_the_counts_are_left_out_not_zero() -> None:
    outcome = derive_person(WEBINAR, person(WEBINAR, rows((0, 50))), MAPPED, now=NOW)
    assert "questions_asked" not in attended(outcome.commands).event_properties
    assert "QUESTIONS" not in contact_of(outcome.commands).attributes


def test_unmapped_counts_are_not_attributes() -> None:
    someone = replace(person(READ, rows((0, 50))), participation=Participation(1, 0))
    outcome = derive_person(READ, someone, DeriveOptions(lists=LISTS), now=NOW)
    assert attended(outcome.commands).event_properties["questions_asked"] == 1
    assert "QUESTIONS" not in contact_of(outcome.commands).attributes
