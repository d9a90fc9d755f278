"""Engagement report queries over a seeded store."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.reports.seed import LAUNCH, WEEKLY, at
from zoom_brevo.reports.engagement import (
    ReportError,
    find_instances,
    meeting_attendees,
    person_meetings,
    ranked_people,
)
from zoom_brevo.store.engine import reading


def test_people_are_ranked_by_score_with_their_aggregates(engine: Engine) -> None:
    with reading(engine) as conn:
        ranked = ranked_people(conn)
    assert [p.email for p in ranked] == [
        "alice@example.com",
        "bob@example.com",
        "dave@example.com",
    ]
    alice = ranked[0]
    assert (alice.name, alice.meetings_attended, alice.total_minutes) == ("Alice Liddell", 2, 110)
    assert alice.last_attended == at(10, 15)
    assert ranked[2].name == "Dave"
    assert ranked[2].last_attended is None


def test_limit_keeps_the_top_of_the_ranking(engine: Engine) -> None:
    with reading(engine) as conn:
        assert [p.score for p in ranked_people(conn, limit=2)] == [80.0, 60.0]


def test_meeting_attendees_use_the_union_of_sessions_most_minutes_first(engine: Engine) -> None:
    with reading(engine) as conn:
        instance, rows = meeting_attendees(conn, WEEKLY)
    assert instance.topic == "Weekly sync"
    got = [(r.email, round(r.minutes, 1), r.rejoins) for r in rows]
    assert got == [
        ("bob@example.com", 60.0, 0),  # two devices at once count once
        ("alice@example.com", 50.0, 1),  # left for 10 minutes and came back
        (None, 10.0, 0),  # a guest without e-mail is listed, not scored
        ("carol@example.com", 0.0, 0),  # waiting room only
    ]
    bob, alice, guest, carol = rows
    assert bob.ratio == 1.0
    assert alice.ratio == pytest.approx(50 / 60)
    assert (alice.first_join, alice.last_leave) == (at(3, 10), at(3, 11))
    assert (alice.score, bob.score, guest.score, carol.score) == (80.0, 60.0, None, None)
    assert guest.name == "iPhone"
    assert carol.first_join is None


def test_an_unknown_meeting_is_a_report_error_saying_what_to_do(engine: Engine) -> None:
    with reading(engine) as conn:
        with pytest.raises(ReportError, match="'zoom-brevo sync meeting 999'"):
            find_instances(conn, "999")
        with pytest.raises(ReportError, match="give a UUID"):
            find_instances(conn, "nope==")
        with pytest.raises(ReportError, match="no meeting instance"):
            meeting_attendees(conn, "nope==")


def test_a_meeting_number_finds_its_instances_as_zoom_prints_it(engine: Engine) -> None:
    with reading(engine) as conn:
        assert [i.uuid for i in find_instances(conn, "811")] == [WEEKLY]
        assert [i.uuid for i in find_instances(conn, "9 22")] == [LAUNCH]
        assert [i.uuid for i in find_instances(conn, WEEKLY)] == [WEEKLY]


def test_a_persons_meetings_newest_first_any_letter_case(engine: Engine) -> None:
    with reading(engine) as conn:
        person, rows = person_meetings(conn, "ALICE@example.com")
    assert person is not None and person.score == 80.0
    assert [(r.uuid, r.kind, round(r.minutes)) for r in rows] == [
        (LAUNCH, "webinar", 60),
        (WEEKLY, "meeting", 50),
    ]
    assert rows[0].ratio == 1.0
    assert rows[1].rejoins == 1


def test_a_person_known_without_meetings_has_an_empty_list(engine: Engine) -> None:
    with reading(engine) as conn:
        person, rows = person_meetings(conn, "dave@example.com")
    assert person is not None
    assert rows == []


def test_an_unknown_person_is_a_report_error(engine: Engine) -> None:
    with reading(engine) as conn, pytest.raises(ReportError, match="nobody"):
        person_meetings(conn, "zed@example.com")
