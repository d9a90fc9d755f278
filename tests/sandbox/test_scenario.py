"""The scenario is deterministic, cheap, and models the cases the connector must handle."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from zoom_brevo.sandbox.scenario import Scenario

ANCHOR = datetime(2026, 6, 1, 12, tzinfo=UTC)


def build(seed: int = 1) -> Scenario:
    sc = Scenario(seed=seed, anchor=ANCHOR)
    host = sc.user(email="host@example.com")
    sc.meeting(host, uuid="/abc//d==", participants=2_000, instances=3)
    sc.webinar(host, registrants=1_000, attendees=400, guests=5)
    return sc


def test_same_seed_same_world_other_seed_other_people() -> None:
    a, b, c = build(1), build(1), build(2)
    rows = [(att.person, s) for att, s in a.meetings[0].latest.sessions()]
    assert rows == [(att.person, s) for att, s in b.meetings[0].latest.sessions()]
    assert [a.person(i) for i in range(50)] != [c.person(i) for i in range(50)]


def test_people_include_guests_and_mixed_case_duplicate_addresses() -> None:
    sc = build()
    people = [sc.person(i) for i in range(2_000)]
    assert any(p.is_guest for p in people)
    lowered = [p.email.lower() for p in people if p.email]
    assert len(set(lowered)) < len(lowered)
    assert any(p.email != p.email.lower() for p in people)


def test_sessions_cover_rejoins_overlaps_and_waiting_room() -> None:
    inst = build().meetings[0].latest
    atts = list(inst.attendances())
    multi = [a for a in atts if len(a.sessions) == 2]
    assert any(a.sessions[0].leave < a.sessions[1].join for a in multi)  # rejoin after a gap
    assert any(
        a.sessions[1].join < a.sessions[0].leave and a.sessions[1].status == "in_meeting"
        for a in multi
    )
    assert any(a.sessions[0].status == "in_waiting_room" for a in multi)
    assert all(s.join <= s.leave for a in atts for s in a.sessions)
    assert inst.row_count() == sum(len(a.sessions) for a in atts)


def test_recurring_meeting_has_weekly_instances_with_the_chosen_uuid_last() -> None:
    meeting = build().meetings[0]
    starts = [i.start for i in meeting.instances]
    assert [b - a for a, b in itertools.pairwise(starts)] == [timedelta(days=7)] * 2
    assert meeting.latest.uuid == "/abc//d=="
    assert meeting.type == 8


def test_webinar_attendees_absentees_and_guests() -> None:
    webinar = build().webinars[0]
    inst = webinar.latest
    registered = [a.registrant.id for a in inst.attendances() if a.registrant]
    assert len(registered) == len(set(registered)) == 400
    assert inst.attendee_count == 405
    absent = [r.id for r in webinar.absentees()]
    assert len(absent) == webinar.absentee_count() == 600
    assert set(absent).isdisjoint(registered)
    assert {r.tracking_source for r in webinar.registrants} >= set(webinar.sources)


def test_hand_made_attendance_and_registrants() -> None:
    sc = build()
    webinar = sc.webinars[0]
    ann = sc.new_person("Ann@Example.com", "Ann", "Lee")
    reg = webinar.add_registrant(ann)
    assert reg.id in {r.id for r in webinar.absentees()}
    start = webinar.latest.start
    webinar.latest.add_attendee(ann, [(start, start + timedelta(minutes=5))], registrant=reg)
    assert reg.id not in {r.id for r in webinar.absentees()}
    assert webinar.latest.attendance(webinar.latest.attendee_count - 1).registrant == reg


def test_attendees_cannot_exceed_registrants() -> None:
    sc = Scenario(anchor=ANCHOR)
    with pytest.raises(ValueError, match="exceed"):
        sc.webinar(sc.user(), registrants=5, attendees=6)


def test_a_hundred_thousand_attendees_cost_nothing_until_read() -> None:
    sc = Scenario(anchor=ANCHOR)
    webinar = sc.webinar(sc.user(), registrants=200_000, attendees=100_000)
    assert webinar.absentee_count() == 100_000
    assert webinar.latest.attendance(99_999).registrant is not None
