"""Attendance of one person (and of everyone) in one meeting instance.

Definitions, for a person's rows in one meeting:

- **attended intervals**: the ``in_meeting`` rows as ``[join_time, leave_time)``; rows in
  the waiting room are ignored, as are rows whose leave precedes their join (bad data) and
  zero-length rows. A row still open (``leave_time`` is ``None``) ends at ``now`` when
  given, else at the meeting's end when the span is given, else it is ignored. When the
  meeting's actual ``span`` is given, every interval is cut to it.
- **minutes**: the length of the *union* of the attended intervals, in minutes. Devices in
  the meeting at the same time count once.
- **ratio**: minutes divided by the length of the span (0..1); ``None`` when no span (or
  an empty one) is given.
- **rejoins**: the number of times the person came back after having been absent, i.e. the
  number of holes in the union longer than ``rejoin_min_gap`` (default: any hole). A second
  device joining while the first is still in, a session that starts exactly when the
  previous one ends, and moving from the waiting room into the meeting are not rejoins.
- **first_join** / **last_leave**: start of the first and end of the last attended
  interval (after clamping); ``None`` when the person attended no time at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from zoom_brevo.engagement.identity import Person, group_by_person
from zoom_brevo.engagement.intervals import Interval, clamp, gaps, require_aware, total, union
from zoom_brevo.engagement.session import SessionRow


@dataclass(frozen=True, slots=True)
class Attendance:
    """How long and how one person attended one meeting instance."""

    minutes: float
    ratio: float | None
    rejoins: int
    first_join: datetime | None
    last_leave: datetime | None

    @property
    def attended(self) -> bool:
        """True when the person spent any time in the meeting (waiting room excluded)."""
        return self.minutes > 0


@dataclass(frozen=True, slots=True)
class PersonAttendance:
    """A person and their attendance."""

    person: Person
    attendance: Attendance


def _row_interval(row: SessionRow, span: Interval | None, now: datetime | None) -> Interval | None:
    end = row.leave_time
    if end is None:
        end = now if now is not None else (span.end if span is not None else None)
    return None if end is None else Interval(row.join_time, end)


def attended_intervals(
    rows: Iterable[SessionRow], *, span: Interval | None = None, now: datetime | None = None
) -> tuple[Interval, ...]:
    """The union of the in-meeting intervals of ``rows``, cut to ``span`` when given."""
    if now is not None:
        require_aware(now, "now")
    found = (_row_interval(r, span, now) for r in rows if r.counts_as_attendance)
    intervals = [i for i in found if i is not None]
    return union(clamp(intervals, span) if span is not None else intervals)


def attendance(
    rows: Iterable[SessionRow],
    *,
    span: Interval | None = None,
    now: datetime | None = None,
    rejoin_min_gap: timedelta = timedelta(0),
) -> Attendance:
    """Attendance of one person from their rows (see the module docstring)."""
    merged = attended_intervals(rows, span=span, now=now)
    if not merged:
        return Attendance(0.0, _ratio(0.0, span), rejoins=0, first_join=None, last_leave=None)
    seconds = total(merged).total_seconds()
    return Attendance(
        minutes=seconds / 60.0,
        ratio=_ratio(seconds, span),
        rejoins=sum(1 for gap in gaps(merged) if gap > rejoin_min_gap),
        first_join=merged[0].start,
        last_leave=merged[-1].end,
    )


def _ratio(seconds: float, span: Interval | None) -> float | None:
    if span is None or span.is_empty:
        return None
    return min(1.0, seconds / span.duration.total_seconds())


def meeting_attendance(
    rows: Iterable[SessionRow],
    *,
    span: Interval | None = None,
    now: datetime | None = None,
    rejoin_min_gap: timedelta = timedelta(0),
) -> tuple[PersonAttendance, ...]:
    """Attendance of every person found in one meeting's rows, sorted by person key.

    People who only sat in the waiting room are included with zero minutes.
    """
    return tuple(
        PersonAttendance(
            group.person,
            attendance(group.rows, span=span, now=now, rejoin_min_gap=rejoin_min_gap),
        )
        for group in group_by_person(rows)
    )
