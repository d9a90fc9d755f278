"""Attendance tiers: ``ZOOM_ATTENDANCE_PERCENT`` and one ``zoom_attended_tier`` per attendee.

Marketers segment on the share of the meeting someone stayed, not on minutes; with
``connectors.zoom.sync.attendance_tiers: [90, 50]`` a "left before half-time" follow-up is
an automation on ``zoom_attended_tier`` with ``tier = 0``, no code.
"""

from __future__ import annotations

import pytest

from tests.pipeline.test_derive import (
    LISTS,
    MEETING,
    NOW,
    OPTIONS,
    WEBINAR,
    contact_of,
    events_of,
    person,
    rows,
)
from zoom_brevo.pipeline.commands import SendEvent
from zoom_brevo.pipeline.derive import (
    DeriveOptions,
    InstanceInfo,
    Registration,
    attendance_tier,
    derive_person,
    event_key,
)
from zoom_brevo.pipeline.mapping import attendance_percent

TIERED = DeriveOptions(lists=LISTS, tiers=(90, 50))


def tier_event(commands: tuple[object, ...]) -> SendEvent:
    found = [
        c for c in commands if isinstance(c, SendEvent) and c.event_name == "zoom_attended_tier"
    ]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("ratio", "percent"),
    [(0.0, 0), (0.004, 0), (0.005, 1), (0.4995, 50), (0.895, 90), (0.8944, 89), (1.0, 100),
     (1.7, 100), (None, None)],
)  # fmt: skip
def test_percent_is_the_sent_ratio_rounded_half_up(
    ratio: float | None, percent: int | None
) -> None:
    assert attendance_percent(ratio) == percent


@pytest.mark.parametrize(
    ("percent", "tier"), [(100, 90), (90, 90), (89, 50), (50, 50), (49, 0), (0, 0)]
)
def test_the_tier_is_the_highest_threshold_reached(percent: int, tier: int) -> None:
    assert attendance_tier(percent, (90, 50)) == tier


@pytest.mark.parametrize(
    ("minutes", "percent", "tier"), [(60, 100, 90), (54, 90, 90), (53, 88, 50), (29, 48, 0)]
)
def test_an_attendee_gets_the_percent_and_one_tier_event(
    minutes: int, percent: int, tier: int
) -> None:
    outcome = derive_person(WEBINAR, person(WEBINAR, rows((0, minutes))), TIERED, now=NOW)
    assert contact_of(outcome.commands).attributes["ZOOM_ATTENDANCE_PERCENT"] == percent
    assert events_of(outcome.commands) == ["zoom_attended", "zoom_attended_tier"]
    event = tier_event(outcome.commands)
    assert event.event_properties["tier"] == tier
    assert event.event_properties["attendance_percent"] == percent
    assert event.event_properties["uuid"] == WEBINAR.uuid
    assert event.ledger_key == event_key("zoom_attended_tier", WEBINAR.uuid, "ann@example.com")


def test_the_percent_is_of_the_actual_span_not_the_schedule() -> None:
    overran = InstanceInfo("webinar", "uuid-o", 333, "Overran", WEBINAR.start_time,
                           WEBINAR.start_time + (WEBINAR.end_time - WEBINAR.start_time) * 70 / 60)  # type: ignore[operator]  # fmt: skip
    outcome = derive_person(overran, person(overran, rows((0, 60))), TIERED, now=NOW)
    assert contact_of(outcome.commands).attributes["ZOOM_ATTENDANCE_PERCENT"] == 86
    assert tier_event(outcome.commands).event_properties["tier"] == 50


def test_without_tiers_the_percent_is_set_and_no_tier_event_is_sent() -> None:
    outcome = derive_person(MEETING, person(MEETING, rows((0, 30))), OPTIONS, now=NOW)
    assert contact_of(outcome.commands).attributes["ZOOM_ATTENDANCE_PERCENT"] == 50
    assert events_of(outcome.commands) == ["zoom_attended"]


def test_an_unknown_span_gives_no_percent_and_no_tier() -> None:
    unknown = InstanceInfo("meeting", "uuid-u", 444, "Unknown end", MEETING.start_time, None)
    outcome = derive_person(unknown, person(unknown, rows((0, 30))), TIERED, now=NOW)
    assert "ZOOM_ATTENDANCE_PERCENT" not in contact_of(outcome.commands).attributes
    assert events_of(outcome.commands) == ["zoom_attended"]


def test_absentees_get_no_tier() -> None:
    reg = Registration()
    outcome = derive_person(WEBINAR, person(WEBINAR, registration=reg), TIERED, now=NOW)
    assert events_of(outcome.commands) == ["zoom_absent"]


def test_a_tier_already_sent_is_not_sent_again() -> None:
    sent = {event_key("zoom_attended_tier", WEBINAR.uuid, "ann@example.com")}
    outcome = derive_person(WEBINAR, person(WEBINAR, rows((0, 60))), TIERED, already=sent, now=NOW)
    assert events_of(outcome.commands) == ["zoom_attended"]
    assert outcome.events_already_sent == 1
