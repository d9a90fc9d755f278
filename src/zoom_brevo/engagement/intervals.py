"""Time intervals on aware datetimes: union, clamp, length, gaps.

Attendance time is the length of the *union* of a person's in-meeting intervals, never a
plain sum of row durations: two devices in the meeting at once count once, and a rejoin
that overlaps the previous session is not counted twice (reference zoom.md 2.3).

Intervals are half-open ``[start, end)``. Empty and reversed intervals (``end <= start``)
carry no time and vanish from every result. Intervals that touch (``a.end == b.start``)
merge into one, so a hand-over between two devices is not a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise


def require_aware(value: datetime, what: str) -> None:
    """Raise ``ValueError`` unless ``value`` carries a time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class Interval:
    """The half-open span ``[start, end)``; both ends timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "interval start")
        require_aware(self.end, "interval end")

    @property
    def is_empty(self) -> bool:
        """True when the interval holds no time (zero length or reversed)."""
        return self.end <= self.start

    @property
    def duration(self) -> timedelta:
        """Length of the interval; zero when empty."""
        return max(self.end - self.start, timedelta(0))


def union(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """The union as disjoint, non-touching intervals sorted by start; empties dropped.

    The result does not depend on input order, and ``union(union(x)) == union(x)``.
    """
    ordered = sorted((i for i in intervals if not i.is_empty), key=lambda i: (i.start, i.end))
    merged: list[Interval] = []
    for current in ordered:
        if merged and current.start <= merged[-1].end:
            last = merged[-1]
            if current.end > last.end:
                merged[-1] = Interval(last.start, current.end)
        else:
            merged.append(current)
    return tuple(merged)


def clamp(intervals: Iterable[Interval], bounds: Interval) -> tuple[Interval, ...]:
    """Each interval cut to ``bounds``; what falls outside (or becomes empty) is dropped."""
    cut = (
        Interval(max(i.start, bounds.start), min(i.end, bounds.end))
        for i in intervals
        if not i.is_empty
    )
    return tuple(i for i in cut if not i.is_empty)


def total(intervals: Iterable[Interval]) -> timedelta:
    """Time covered by the intervals (overlaps counted once)."""
    return sum((i.duration for i in union(intervals)), timedelta(0))


def gaps(intervals: Iterable[Interval]) -> tuple[timedelta, ...]:
    """Lengths of the holes between consecutive intervals of the union (all > 0)."""
    merged = union(intervals)
    return tuple(b.start - a.end for a, b in pairwise(merged))
