"""Which dates a backfill can reach, and the one-month windows it walks.

Pure: dates in, dates out; ``today`` (UTC) is passed in. Zoom keeps history for a limited
time (reference zoom.md 6.14):

- ``GET /report/users/{userId}/meetings`` answers one-month ranges within the last
  **6 months**: meetings held before that cannot be listed at all;
- past instances and participants (``/past_meetings/{id}/instances``,
  ``/past_webinars/{id}/instances``, ``.../participants``) reach back **15 months**, so
  older instances of recurring meetings and of webinars can still be collected.

A backfill therefore finds meetings through the report for the part of the range inside
6 months, and through the instance lists (recurring meetings, webinars) down to 15 months.
Anything older is skipped, with a warning naming the limit.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

REPORT_RETENTION_MONTHS = 6
PARTICIPANT_RETENTION_MONTHS = 15


@dataclass(frozen=True, slots=True, order=True)
class Window:
    """Dates ``start``..``end``, both included (Zoom's ``from``/``to`` are inclusive)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def label(self) -> str:
        """``2025-01-01..2025-01-31``."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True, slots=True)
class BackfillRange:
    """What a backfill of ``requested`` can reach, and why the rest is skipped.

    ``report_windows``: month windows to ask the user meeting report for (oldest first).
    ``instances``: dates whose instances may be collected from instance lists (``None``:
    none). ``older_than_report``: the part of ``instances`` the report cannot cover, found
    only through recurring meetings and webinars (``None``: none).
    """

    requested: Window
    report_windows: tuple[Window, ...]
    instances: Window | None
    older_than_report: Window | None
    warnings: tuple[str, ...] = field(default=())


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_windows(span: Window) -> tuple[Window, ...]:
    """``span`` cut at calendar month boundaries, oldest first (each at most one month)."""
    found: list[Window] = []
    start = span.start
    while start <= span.end:
        last_day = calendar.monthrange(start.year, start.month)[1]
        end = min(span.end, start.replace(day=last_day))
        found.append(Window(start, end))
        start = end + timedelta(days=1)
    return tuple(found)


def _clip(span: Window, floor: date) -> Window | None:
    start = max(span.start, floor)
    return Window(start, span.end) if start <= span.end else None


def plan_range(start: date, end: date | None, *, today: date) -> BackfillRange:
    """What a backfill from ``start`` to ``end`` (default ``today``) can reach.

    ``ValueError`` when the range is empty or lies in the future.
    """
    if start > today:
        raise ValueError(f"--from ({start}) is in the future (today is {today})")
    end = end or today
    if end < start:
        raise ValueError(f"--to ({end}) is before --from ({start})")
    requested = Window(start, min(end, today))
    report_floor = months_before(today, REPORT_RETENTION_MONTHS)
    participant_floor = months_before(today, PARTICIPANT_RETENTION_MONTHS)
    report_span = _clip(requested, report_floor)
    instances = _clip(requested, participant_floor)
    older = None
    if instances is not None and instances.start < report_floor:
        older = Window(instances.start, min(instances.end, report_floor - timedelta(days=1)))
    return BackfillRange(
        requested=requested,
        report_windows=month_windows(report_span) if report_span else (),
        instances=instances,
        older_than_report=older,
        warnings=_warnings(requested, report_floor, participant_floor),
    )


def _warnings(requested: Window, report_floor: date, participant_floor: date) -> tuple[str, ...]:
    found = []
    if requested.start < participant_floor:
        last = min(requested.end, participant_floor - timedelta(days=1))
        found.append(
            f"skipping {requested.start}..{last}: Zoom keeps meeting and webinar participants"
            f" for {PARTICIPANT_RETENTION_MONTHS} months (nothing before {participant_floor})"
        )
    if requested.start < report_floor and requested.end >= participant_floor:
        first = max(requested.start, participant_floor)
        last = min(requested.end, report_floor - timedelta(days=1))
        found.append(
            f"{first}..{last}: Zoom's meeting report covers only {REPORT_RETENTION_MONTHS}"
            f" months (since {report_floor}); only recurring meetings and webinars are"
            " collected for these dates"
        )
    return tuple(found)
