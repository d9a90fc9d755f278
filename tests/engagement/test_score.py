"""Engagement across meetings and the 0..100 score."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engagement.strategies import T0
from zoom_brevo.engagement import (
    Interval,
    MeetingEngagement,
    Participation,
    ScoreWeights,
    SessionRow,
    attendance,
    engagement_score,
    meeting_engagement,
    summarize,
)

NOW = T0 + timedelta(days=100)


def meeting(
    n: int, minutes: float = 30, ratio: float | None = 0.5, days_ago: float = 10, **kw: int
) -> MeetingEngagement:
    return MeetingEngagement(f"m{n}", minutes, ratio, NOW - timedelta(days=days_ago), **kw)


def test_summary_aggregates_attended_meetings() -> None:
    got = summarize(
        [
            meeting(1, 30, 0.5, days_ago=20, questions=1),
            meeting(2, 45, 0.75, days_ago=5, polls_answered=2),
            meeting(3, 0, 0.0, days_ago=1),
        ],
        now=NOW,
    )
    assert got.meetings_attended == 2
    assert got.total_minutes == 75
    assert got.last_attended == NOW - timedelta(days=5)
    assert got.average_ratio == pytest.approx((0.5 + 0.75 + 0.0) / 3)
    assert (got.questions, got.polls_answered) == (1, 2)


def test_nobody_with_no_meetings_scores_zero() -> None:
    got = summarize([], now=NOW)
    assert (got.meetings_attended, got.total_minutes, got.last_attended, got.score) == (
        0,
        0,
        None,
        0,
    )


def test_a_duplicate_meeting_counts_once_keeping_the_most_minutes() -> None:
    got = summarize([meeting(1, 10), meeting(1, 40), meeting(1, 20)], now=NOW)
    assert (got.meetings_attended, got.total_minutes) == (1, 40)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        pytest.param((1.0, 10**9, 0.0, 10**9), 100.0, id="perfect in every part approaches 100"),
        pytest.param((None, 0, None, 0), 0.0, id="nothing"),
        # 40*0.5 + 25*(3/6) + 20*0.5 + 15*(2/4) = 20 + 12.5 + 10 + 7.5 = 50
        pytest.param((0.5, 3, 30.0, 2), 50.0, id="each part at its half point"),
    ],
)
def test_score_formula_with_default_weights(
    inputs: tuple[float | None, int, float | None, int], expected: float
) -> None:
    ratio, attended, days_ago, participations = inputs
    last = None if days_ago is None else NOW - timedelta(days=days_ago)
    score = engagement_score(
        average_ratio=ratio,
        meetings_attended=attended,
        last_attended=last,
        participations=participations,
        now=NOW,
    )
    assert score == pytest.approx(expected, abs=1e-6)


def test_weights_are_configurable() -> None:
    only_recency = ScoreWeights(
        attendance=0, frequency=0, recency=1, participation=0, recency_half_life_days=7
    )
    score = engagement_score(
        average_ratio=1.0,
        meetings_attended=9,
        last_attended=NOW - timedelta(days=7),
        participations=9,
        now=NOW,
        weights=only_recency,
    )
    assert score == pytest.approx(50.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"attendance": -1},
        {"frequency": math.nan},
        {"attendance": 0, "frequency": 0, "recency": 0, "participation": 0},
        {"recency_half_life_days": 0},
        {"frequency_half_point": 0},
    ],
)
def test_invalid_weights_are_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="score weight"):
        ScoreWeights(**bad)


@pytest.mark.parametrize(
    "bad",
    [{"minutes": -1}, {"minutes": math.inf}, {"ratio": 1.5}, {"questions": -1}],
)
def test_invalid_meeting_records_are_rejected(bad: dict[str, float]) -> None:
    fields: dict[str, float] = {"minutes": 10, **bad}
    with pytest.raises(ValueError, match="must"):
        MeetingEngagement("m", **fields)  # type: ignore[arg-type]


ratios = st.one_of(st.none(), st.floats(0, 1))
counts = st.integers(0, 1000)
ages = st.one_of(st.none(), st.floats(-10, 3650))


def score(ratio: float | None, attended: int, days_ago: float | None, participations: int) -> float:
    last = None if days_ago is None else NOW - timedelta(days=days_ago)
    return engagement_score(
        average_ratio=ratio,
        meetings_attended=attended,
        last_attended=last,
        participations=participations,
        now=NOW,
    )


@given(ratios, counts, ages, counts)
def test_score_lies_between_0_and_100(
    ratio: float | None, attended: int, days: float | None, part: int
) -> None:
    assert 0.0 <= score(ratio, attended, days, part) <= 100.0


@given(st.floats(0, 1), st.floats(0, 1), counts, ages, counts)
def test_score_grows_with_the_attendance_ratio(
    a: float, b: float, attended: int, days: float | None, part: int
) -> None:
    low, high = sorted((a, b))
    assert score(low, attended, days, part) <= score(high, attended, days, part)


@given(ratios, counts, counts, ages, counts)
def test_score_grows_with_meetings_attended(
    ratio: float | None, a: int, b: int, days: float | None, part: int
) -> None:
    low, high = sorted((a, b))
    assert score(ratio, low, days, part) <= score(ratio, high, days, part)


@given(ratios, counts, st.floats(-10, 3650), st.floats(-10, 3650), counts)
def test_score_grows_when_the_last_attendance_is_more_recent(
    ratio: float | None, attended: int, a: float, b: float, part: int
) -> None:
    recent, old = sorted((a, b))
    assert score(ratio, attended, old, part) <= score(ratio, attended, recent, part)
    assert score(ratio, attended, None, part) <= score(ratio, attended, old, part)


@given(ratios, counts, ages, counts, counts)
def test_score_grows_with_participation(
    ratio: float | None, attended: int, days: float | None, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    assert score(ratio, attended, days, low) <= score(ratio, attended, days, high)


@given(
    st.lists(
        st.builds(
            meeting, st.integers(0, 5), st.floats(0, 120), st.floats(0, 1), st.floats(0, 400)
        ),
        max_size=6,
    )
)
def test_summary_score_lies_between_0_and_100(records: list[MeetingEngagement]) -> None:
    assert 0.0 <= summarize(records, now=NOW).score <= 100.0


@given(
    st.lists(st.builds(meeting, st.integers(0, 50), st.floats(1, 120), st.just(0.5)), max_size=6)
)
def test_attending_one_more_meeting_like_the_others_never_lowers_the_score(
    records: list[MeetingEngagement],
) -> None:
    before = summarize(records, now=NOW).score
    after = summarize([*records, meeting(99, 30, 0.5, days_ago=0)], now=NOW).score
    assert after >= before


def test_a_meeting_record_is_built_from_attendance_and_participation() -> None:
    rows = [SessionRow(T0, T0 + timedelta(minutes=30), email="a@x.org")]
    attended = attendance(rows, span=Interval(T0, T0 + timedelta(minutes=60)))
    record = meeting_engagement("m1", attended, Participation(questions=2, polls_answered=1))
    assert record == MeetingEngagement("m1", 30.0, 0.5, T0 + timedelta(minutes=30), 2, 1)
    assert meeting_engagement("m1", attended).questions == 0


# --- whole points, stable through the day (docs/engagement.md 4) ----------------------------


@given(ratios, counts, ages, counts)
def test_the_score_is_whole_points(
    ratio: float | None, attended: int, days: float | None, part: int
) -> None:
    value = score(ratio, attended, days, part)
    assert value == int(value)


def test_two_runs_of_the_same_day_give_the_same_score() -> None:
    # 10 days and a few hours after the last meeting: the unrounded score moves every second.
    records = [meeting(1, 30, 0.5, days_ago=10.2, questions=1), meeting(2, 20, 0.63, days_ago=11)]
    morning = NOW.replace(hour=0, minute=1)
    scores = {
        summarize(records, now=morning + timedelta(minutes=m)).score for m in (0, 1, 60, 1438)
    }
    assert len(scores) == 1


def test_recency_counts_utc_calendar_days() -> None:
    only_recency = ScoreWeights(
        attendance=0, frequency=0, recency=1, participation=0, recency_half_life_days=1
    )
    midnight = NOW.replace(hour=0, minute=0, second=0, microsecond=0)

    def scored(last: timedelta, now: timedelta) -> float:
        return engagement_score(
            average_ratio=None, meetings_attended=1, last_attended=midnight - last,
            participations=0, now=midnight + now, weights=only_recency,
        )  # fmt: skip

    assert scored(timedelta(minutes=1), timedelta(minutes=1)) == 50.0  # yesterday: 1 day
    assert scored(-timedelta(minutes=1), timedelta(hours=23)) == 100.0  # today: 0 days
    assert scored(timedelta(days=1, minutes=1), timedelta(0)) == 25.0  # 2 days


def test_a_score_rounds_half_up() -> None:
    # 40*A with A = 0.0125: 0.5 points exactly (Python's round() would give 0).
    assert engagement_score(
        average_ratio=0.0125, meetings_attended=0, last_attended=None, participations=0, now=NOW
    ) == 1.0  # fmt: skip
