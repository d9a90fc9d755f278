"""Attendance of a person in one meeting: concrete cases and properties."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engagement.strategies import at, person_rows, span
from zoom_brevo.engagement import SessionRow, attendance, attended_intervals, meeting_attendance
from zoom_brevo.engagement.intervals import Interval

MEETING = span(0, 60)


def r(start: float, end: float | None, status: str = "in_meeting") -> SessionRow:
    return SessionRow(at(start), None if end is None else at(end), status=status, email="a@x.org")  # type: ignore[arg-type]


# (rows, expected minutes, ratio, rejoins, first join offset, last leave offset), meeting 0..60
CASES = [
    pytest.param([r(0, 30)], (30, 0.5, 0, 0, 30), id="one session"),
    pytest.param([r(0, 20), r(30, 60)], (50, 50 / 60, 1, 0, 60), id="rejoin after a gap"),
    pytest.param([r(0, 20), r(20, 40)], (40, 40 / 60, 0, 0, 40), id="reconnect without gap"),
    pytest.param([r(0, 40), r(10, 50)], (50, 50 / 60, 0, 0, 50), id="two devices overlap"),
    pytest.param(
        [r(0, 10, "in_waiting_room"), r(10, 40)],
        (30, 0.5, 0, 10, 40),
        id="waiting room not counted",
    ),
    pytest.param([r(0, 30, "in_waiting_room")], (0, 0.0, 0, None, None), id="only waiting room"),
    pytest.param([r(30, 50), r(0, 10)], (30, 0.5, 1, 0, 50), id="rows out of order"),
    pytest.param(
        [r(40, 20), r(0, 10)], (10, 10 / 60, 0, 0, 10), id="left before joined is ignored"
    ),
    pytest.param([r(15, 15), r(20, 30)], (10, 10 / 60, 0, 20, 30), id="zero-length row ignored"),
    pytest.param([r(50, 90)], (10, 10 / 60, 0, 50, 60), id="row past meeting end is cut"),
    pytest.param([r(-20, 10)], (10, 10 / 60, 0, 0, 10), id="row before meeting start is cut"),
    pytest.param([r(70, 90)], (0, 0.0, 0, None, None), id="row entirely after the meeting"),
    pytest.param(
        [r(0, 60), r(0, 60), r(0, 60)], (60, 1.0, 0, 0, 60), id="duplicate rows count once"
    ),
    pytest.param([], (0, 0.0, 0, None, None), id="no rows"),
]


Expected = tuple[float, float, int, int | None, int | None]


@pytest.mark.parametrize(("rows", "expected"), CASES)
def test_attendance_of_concrete_cases(rows: list[SessionRow], expected: Expected) -> None:
    mins, ratio, rejoins, first, last = expected
    got = attendance(rows, span=MEETING)
    assert got.minutes == pytest.approx(mins)
    assert got.ratio == pytest.approx(ratio)
    assert got.rejoins == rejoins
    assert got.first_join == (None if first is None else at(first))
    assert got.last_leave == (None if last is None else at(last))
    assert got.attended is (mins > 0)


def test_without_a_span_the_ratio_is_unknown_and_nothing_is_cut() -> None:
    got = attendance([r(50, 90)])
    assert (got.minutes, got.ratio) == (40, None)


def test_an_empty_span_gives_no_ratio() -> None:
    assert attendance([r(0, 10)], span=span(5, 5)).ratio is None


def test_short_gaps_are_not_rejoins_when_a_minimum_gap_is_set() -> None:
    rows = [r(0, 10), r(10.5, 20), r(30, 40)]
    assert attendance(rows, span=MEETING).rejoins == 2
    assert attendance(rows, span=MEETING, rejoin_min_gap=timedelta(minutes=1)).rejoins == 1


def test_an_open_session_ends_now_when_now_is_given() -> None:
    assert attendance([r(0, None)], span=MEETING, now=at(25)).minutes == 25


def test_an_open_session_ends_with_the_meeting_without_now() -> None:
    assert attendance([r(0, None)], span=MEETING).minutes == 60


def test_an_open_session_without_span_or_now_counts_nothing() -> None:
    assert attendance([r(0, None)]).minutes == 0


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown session status"):
        SessionRow(at(0), at(1), status="in_lobby")  # type: ignore[arg-type]


def test_meeting_attendance_merges_each_persons_rows_and_keeps_waiting_room_only_people() -> None:
    rows = [
        SessionRow(at(0), at(20), email="ann@x.org", session_id="1"),
        SessionRow(at(30), at(60), email="ANN@x.org", session_id="2"),
        SessionRow(at(0), at(60), participant_user_id="u-bob", session_id="3"),
        SessionRow(at(0), at(60), status="in_waiting_room", name="Waiting", session_id="4"),
    ]
    got = {p.person.key: p.attendance for p in meeting_attendance(rows, span=MEETING)}
    assert {k: (a.minutes, a.rejoins) for k, a in got.items()} == {
        "email:ann@x.org": (50, 1),
        "user:u-bob": (60, 0),
        "session:4": (0, 0),
    }


@given(person_rows(), st.builds(span, st.integers(0, 30), st.integers(31, 120)))
def test_minutes_never_exceed_the_sum_of_rows_nor_the_meeting(
    rows: list[SessionRow], meeting: Interval
) -> None:
    got = attendance(rows, span=meeting)
    row_sum = sum((i.duration for i in _row_intervals(rows)), timedelta(0))
    assert got.minutes * 60 <= row_sum.total_seconds() + 1e-6
    assert got.minutes * 60 <= meeting.duration.total_seconds() + 1e-6
    assert got.ratio is not None
    assert 0.0 <= got.ratio <= 1.0


@given(person_rows().flatmap(lambda rs: st.tuples(st.just(rs), st.permutations(rs))))
def test_attendance_does_not_depend_on_row_order(
    pair: tuple[list[SessionRow], list[SessionRow]],
) -> None:
    original, shuffled = pair
    assert attendance(original, span=MEETING) == attendance(shuffled, span=MEETING)


@given(person_rows())
def test_merging_twice_changes_nothing(rows: list[SessionRow]) -> None:
    once = attendance(rows, span=MEETING)
    merged_rows = [SessionRow(i.start, i.end, email="a@x.org") for i in _intervals(rows)]
    assert attendance(merged_rows, span=MEETING) == once


@given(person_rows())
def test_adding_a_row_never_lowers_the_minutes(rows: list[SessionRow]) -> None:
    assert (
        attendance([*rows, r(5, 25)], span=MEETING).minutes
        >= attendance(rows, span=MEETING).minutes
    )


def _intervals(rows: list[SessionRow]) -> tuple[Interval, ...]:
    return attended_intervals(rows, span=MEETING)


def _row_intervals(rows: list[SessionRow]) -> list[Interval]:
    return [Interval(x.join_time, x.leave_time) for x in rows if x.leave_time is not None]
