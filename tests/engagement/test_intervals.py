"""Interval union, clamp and gaps: properties and concrete cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.engagement.strategies import interval_lists, intervals, span
from zoom_brevo.engagement.intervals import Interval, clamp, gaps, total, union


def minutes(value: timedelta) -> float:
    return value.total_seconds() / 60


@given(interval_lists)
def test_union_is_never_longer_than_the_sum_of_its_parts(items: list[Interval]) -> None:
    assert total(items) <= sum((i.duration for i in items), timedelta(0))


@given(interval_lists, intervals)
def test_clamped_union_never_exceeds_the_bounds(items: list[Interval], bounds: Interval) -> None:
    assert total(clamp(items, bounds)) <= bounds.duration


@given(
    st.lists(intervals, max_size=12).flatmap(lambda xs: st.tuples(st.just(xs), st.permutations(xs)))
)
def test_union_does_not_depend_on_order(pair: tuple[list[Interval], list[Interval]]) -> None:
    original, shuffled = pair
    assert union(original) == union(shuffled)


@given(interval_lists)
def test_union_is_idempotent(items: list[Interval]) -> None:
    assert union(union(items)) == union(items)


@given(interval_lists)
def test_union_parts_are_disjoint_sorted_and_non_empty(items: list[Interval]) -> None:
    merged = union(items)
    assert all(not i.is_empty for i in merged)
    assert all(a.end < b.start for a, b in pairwise(merged))


@given(interval_lists)
def test_union_covers_every_input_interval(items: list[Interval]) -> None:
    merged = union(items)
    for item in items:
        if not item.is_empty:
            assert any(m.start <= item.start and item.end <= m.end for m in merged)


@pytest.mark.parametrize(
    ("parts", "expected_min"),
    [
        pytest.param([], 0, id="nothing"),
        pytest.param([(0, 10)], 10, id="one"),
        pytest.param([(0, 10), (5, 15)], 15, id="overlap counts once"),
        pytest.param([(0, 60), (10, 20)], 60, id="contained"),
        pytest.param([(0, 10), (10, 20)], 20, id="touching"),
        pytest.param([(0, 10), (20, 30)], 20, id="disjoint"),
        pytest.param([(5, 5)], 0, id="zero length"),
        pytest.param([(10, 0)], 0, id="reversed is empty"),
    ],
)
def test_total_of_concrete_cases(parts: list[tuple[int, int]], expected_min: float) -> None:
    assert minutes(total(span(a, b) for a, b in parts)) == expected_min


def test_touching_intervals_merge_into_one() -> None:
    assert union([span(10, 20), span(0, 10)]) == (span(0, 20),)


def test_clamp_cuts_and_drops_what_falls_outside() -> None:
    bounds = span(0, 60)
    assert clamp([span(-10, 5), span(50, 90), span(70, 80)], bounds) == (span(0, 5), span(50, 60))


def test_gaps_are_the_holes_between_merged_parts() -> None:
    assert gaps([span(0, 10), span(5, 12), span(20, 30), span(35, 40)]) == (
        timedelta(minutes=8),
        timedelta(minutes=5),
    )


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(datetime(2026, 1, 1), datetime(2026, 1, 2))
