"""Dashboard figures: presence per minute, minutes histogram, funnel, median."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from zoom_brevo.admin import stats
from zoom_brevo.engagement import Interval

T0 = datetime(2025, 3, 3, 10, tzinfo=UTC)


def span(start_min: float, end_min: float) -> Interval:
    return Interval(T0 + timedelta(minutes=start_min), T0 + timedelta(minutes=end_min))


def test_presence_counts_each_person_in_every_minute_they_touch() -> None:
    people = [[span(0, 3)], [span(1.5, 2.2)]]
    assert stats.presence_per_minute(people, span(0, 5)) == [1, 2, 2, 0, 0]


def test_presence_counts_a_person_once_when_two_intervals_share_a_minute() -> None:
    person = [span(0, 2.3), span(2.7, 4)]  # left and came back within minute 2
    assert stats.presence_per_minute([person], span(0, 4)) == [1, 1, 1, 1]


def test_presence_ignores_time_outside_the_span_and_counts_a_partial_last_minute() -> None:
    person = [span(-5, 1), span(3, 9)]
    assert stats.presence_per_minute([person], span(0, 4.5)) == [1, 0, 0, 1, 1]


def test_presence_of_an_empty_span_is_empty() -> None:
    assert stats.presence_per_minute([[span(0, 1)]], span(2, 2)) == []


@pytest.mark.parametrize(
    ("max_minutes", "width"), [(5, 1), (12, 1), (13, 2), (60, 5), (90, 10), (600, 60), (5000, 417)]
)
def test_bin_width_keeps_at_most_twelve_bins(max_minutes: float, width: int) -> None:
    assert stats.bin_width(max_minutes) == width


def test_histogram_bins_attendees_from_zero_to_the_meeting_length() -> None:
    bins = stats.histogram([0.0, 2, 4.9, 5, 59.9, 60, 75], upto_min=60)
    assert [(b.low_min, b.high_min) for b in bins][:2] == [(0, 5), (5, 10)]
    assert len(bins) == 12
    assert [b.count for b in bins] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]


def test_histogram_of_nobody_is_empty() -> None:
    assert stats.histogram([0.0]) == []


def test_funnel_starts_at_registrations_when_there_are_some() -> None:
    stages = stats.funnel(4, [1.0, 0.33, None, 0.0], [60, 20, 5, 0])
    assert stages == [("Registered", 4), ("Attended", 3), ("Stayed ≥ 50%", 1)]


def test_funnel_without_registration_starts_at_attendance() -> None:
    assert stats.funnel(0, [0.5], [30]) == [("Attended", 1), ("Stayed ≥ 50%", 1)]


def test_median_of_nothing_is_none() -> None:
    assert stats.median([]) is None
    assert stats.median([1, 3, 10]) == 3
