"""Pure figures for the dashboard: presence per minute, minutes histogram, funnel, median.

Inputs are already-merged attendance (``engagement.attended_intervals``: one person's
union of in-meeting intervals), so a person on two devices counts once per minute.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from zoom_brevo.engagement import Interval

MINUTE = timedelta(minutes=1)
# Bin widths a reader takes in at a glance, in minutes.
NICE_WIDTHS_MIN = (1, 2, 5, 10, 15, 20, 30, 60, 120, 240)
MAX_BINS = 12
STAYED_RATIO = 0.5


@dataclass(frozen=True, slots=True)
class Bin:
    """Attendees who stayed at least ``low_min`` and less than ``high_min`` minutes."""

    low_min: float
    high_min: float
    count: int


def minute_count(span: Interval) -> int:
    """How many minute slots cover ``span`` (a partial last minute counts)."""
    return max(0, math.ceil(span.duration / MINUTE))


def _slots(interval: Interval, start: datetime, slots: int) -> range:
    first = math.floor((interval.start - start) / MINUTE)
    last = math.ceil((interval.end - start) / MINUTE)  # exclusive
    return range(max(first, 0), min(last, slots))


def presence_per_minute(people: Iterable[Sequence[Interval]], span: Interval) -> list[int]:
    """People present during each minute of ``span`` (present = any time in that minute).

    Each item of ``people`` is one person's union of intervals, sorted; a person counts at
    most once per minute even when two of their intervals touch the same minute.
    """
    slots = minute_count(span)
    delta = [0] * (slots + 1)
    for intervals in people:
        covered_until = 0  # slots below this are already counted for this person
        for interval in intervals:
            minutes = _slots(interval, span.start, slots)
            begin = max(minutes.start, covered_until)
            if begin < minutes.stop:
                delta[begin] += 1
                delta[minutes.stop] -= 1
                covered_until = minutes.stop
    counts, running = [], 0
    for change in delta[:slots]:
        running += change
        counts.append(running)
    return counts


def bin_width(max_minutes: float) -> int:
    """The smallest nice width that fits ``max_minutes`` in at most ``MAX_BINS`` bins."""
    for width in NICE_WIDTHS_MIN:
        if max_minutes <= width * MAX_BINS:
            return width
    return math.ceil(max_minutes / MAX_BINS)


def histogram(minutes: Iterable[float], *, upto_min: float | None = None) -> list[Bin]:
    """Attendees by minutes attended, in equal nice-width bins from 0 (zeros excluded).

    ``upto_min`` (the meeting's length) sets the range so that every meeting of the same
    length gets the same bins; values beyond it still land in the last bin.
    """
    values = [m for m in minutes if m > 0]
    if not values:
        return []
    top = upto_min if upto_min else max(values)
    width = bin_width(top)
    count = max(1, math.ceil(top / width))
    counts = [0] * count
    for value in values:
        counts[min(int(value // width), count - 1)] += 1
    return [Bin(i * width, (i + 1) * width, n) for i, n in enumerate(counts)]


def median(values: Iterable[float]) -> float | None:
    """The median, or ``None`` for no values."""
    found = list(values)
    return statistics.median(found) if found else None


def funnel(
    registered: int | None, ratios: Iterable[float | None], minutes: Iterable[float]
) -> list[tuple[str, int]]:
    """Registered (when registration exists) -> attended -> stayed at least half the meeting.

    ``ratios`` and ``minutes`` are the attendees' attendance ratio and minutes, in the same
    order; a person with no known ratio never counts as having stayed.
    """
    attended_ratios = [r for r, m in zip(ratios, minutes, strict=True) if m > 0]
    stayed = sum(1 for r in attended_ratios if r is not None and r >= STAYED_RATIO)
    stages = [] if not registered else [("Registered", registered)]
    return [*stages, ("Attended", len(attended_ratios)), ("Stayed ≥ 50%", stayed)]
