"""Backfill windows: month cuts and Zoom's retention limits (reference zoom.md 6.14)."""

from __future__ import annotations

from datetime import date

import pytest

from zoom_brevo.pipeline.windows import Window, month_windows, months_before, plan_range

D = date.fromisoformat
TODAY = D("2025-06-15")


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2025-06-15", 6, "2024-12-15"),
        ("2025-06-15", 15, "2024-03-15"),
        ("2025-08-31", 6, "2025-02-28"),  # clamped to the month's last day
        ("2024-08-31", 6, "2024-02-29"),  # leap year
        ("2025-01-10", 1, "2024-12-10"),
        ("2025-03-01", 0, "2025-03-01"),
    ],
)
def test_months_before_moves_calendar_months_and_clamps_the_day(
    day: str, months: int, expected: str
) -> None:
    assert months_before(D(day), months) == D(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-01-01", "2025-01-31", ["2025-01-01..2025-01-31"]),
        ("2025-01-20", "2025-03-05", ["2025-01-20..2025-01-31", "2025-02-01..2025-02-28",
                                      "2025-03-01..2025-03-05"]),
        ("2024-12-31", "2025-01-01", ["2024-12-31..2024-12-31", "2025-01-01..2025-01-01"]),
        ("2025-05-05", "2025-05-05", ["2025-05-05..2025-05-05"]),
    ],
)  # fmt: skip
def test_month_windows_cut_at_month_boundaries_oldest_first(
    start: str, end: str, expected: list[str]
) -> None:
    windows = month_windows(Window(D(start), D(end)))
    assert [w.label for w in windows] == expected
    assert all((w.end - w.start).days <= 31 for w in windows)  # Zoom's one-month range


def test_a_window_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Window(D("2025-02-02"), D("2025-02-01"))


def test_range_within_six_months_uses_only_the_report() -> None:
    plan = plan_range(D("2025-03-10"), D("2025-04-20"), today=TODAY)
    assert [w.label for w in plan.report_windows] == [
        "2025-03-10..2025-03-31",
        "2025-04-01..2025-04-20",
    ]
    assert plan.instances == Window(D("2025-03-10"), D("2025-04-20"))
    assert plan.older_than_report is None
    assert plan.warnings == ()


def test_to_defaults_to_today_and_is_capped_at_today() -> None:
    assert plan_range(D("2025-06-01"), None, today=TODAY).requested.end == TODAY
    assert plan_range(D("2025-06-01"), D("2025-12-31"), today=TODAY).requested.end == TODAY


def test_dates_older_than_the_report_are_left_to_instance_lists_with_a_warning() -> None:
    plan = plan_range(D("2024-10-01"), D("2025-01-31"), today=TODAY)
    assert [w.label for w in plan.report_windows] == [
        "2024-12-15..2024-12-31",
        "2025-01-01..2025-01-31",
    ]
    assert plan.older_than_report == Window(D("2024-10-01"), D("2024-12-14"))
    assert plan.instances == Window(D("2024-10-01"), D("2025-01-31"))
    assert len(plan.warnings) == 1
    assert "6 months" in plan.warnings[0]
    assert "2024-10-01..2024-12-14" in plan.warnings[0]


def test_dates_beyond_fifteen_months_are_skipped_with_a_warning_naming_the_limit() -> None:
    plan = plan_range(D("2023-01-01"), D("2025-06-15"), today=TODAY)
    assert plan.instances == Window(D("2024-03-15"), TODAY)
    assert plan.report_windows[0].start == D("2024-12-15")
    assert plan.report_windows[-1].end == TODAY
    skipped = [w for w in plan.warnings if "15 months" in w]
    assert skipped == [
        (
            "skipping 2023-01-01..2024-03-14: Zoom keeps meeting and webinar participants for"
            " 15 months (nothing before 2024-03-15)"
        )
    ]


def test_a_range_entirely_beyond_retention_reaches_nothing() -> None:
    plan = plan_range(D("2023-01-01"), D("2023-12-31"), today=TODAY)
    assert plan.report_windows == ()
    assert plan.instances is None
    assert plan.older_than_report is None
    assert len(plan.warnings) == 1
    assert "15 months" in plan.warnings[0]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2025-05-01", "2025-04-01", "before --from"),
        ("2025-07-01", None, "in the future"),
    ],
)
def test_impossible_ranges_are_refused(start: str, end: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_range(D(start), D(end) if end else None, today=TODAY)
