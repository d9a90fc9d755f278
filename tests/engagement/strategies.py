"""Hypothesis strategies and helpers shared by the engagement tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from zoom_brevo.engagement import Interval, SessionRow
from zoom_brevo.engagement.session import SessionStatus

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """The instant ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def span(start_min: float, end_min: float) -> Interval:
    """The interval between two offsets from T0, in minutes."""
    return Interval(at(start_min), at(end_min))


offsets = st.integers(min_value=-30, max_value=150)
intervals = st.builds(span, offsets, offsets)
interval_lists = st.lists(intervals, max_size=12)


@st.composite
def person_rows(draw: st.DrawFn) -> list[SessionRow]:
    """Rows of one person (same email), with waiting-room and reversed rows mixed in."""
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        join, leave = draw(offsets), draw(offsets)
        status: SessionStatus = draw(
            st.sampled_from(["in_meeting", "in_meeting", "in_waiting_room"])
        )
        rows.append(SessionRow(at(join), at(leave), status=status, email="ann@example.com"))
    return rows
