"""``status`` for people (issue 20, item 6): no empty "Inbox: ", no tables of bare headers,
Zoom's limits in numbers like Brevo's, the last sync as a readable time and how long ago."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.cli.status_view import ago, inbox_line, number, when
from zoom_brevo.sandbox.combined import sandbox_config
from zoom_brevo.store import facts
from zoom_brevo.store.engine import create_engine, migrate, transaction

T = datetime(2026, 12, 5, 21, 42, 12, 815577, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "1 minute ago"),
        (12 * 60 + 30, "12 minutes ago"),
        (3_600, "1 hour ago"),
        (5 * 3_600 + 59 * 60, "5 hours ago"),
        (86_400 * 3 + 5, "3 days ago"),
        (-120, "in the future (check this machine's clock)"),
    ],
)
def test_ago_counts_the_largest_whole_unit(seconds: int, expected: str) -> None:
    assert ago(T, T + timedelta(seconds=seconds)) == expected


def test_a_time_reads_as_minutes_in_utc_and_how_long_ago() -> None:
    paris = T.astimezone(ZoneInfo("Europe/Paris"))
    assert when(paris.isoformat(), T + timedelta(minutes=12)) == (
        "2026-12-05 21:42 UTC (12 minutes ago)"
    )
    assert when(None, T) == "never"


def test_the_inbox_line_is_never_empty() -> None:
    assert inbox_line({}) == "empty (no webhook received yet)"
    assert inbox_line({"processed": 1200, "pending": 1, "failed": 0}) == (
        "pending 1, processed 1,200"
    )


def test_numbers_have_thousands_separators_and_a_dash_for_none() -> None:
    assert [number(36000), number(10), number(None), number(0.5)] == ["36,000", "10", "-", "0.5"]


# --- the command ----------------------------------------------------------------------------


def _store(tmp_path: Path, *, synced_ago: timedelta | None = None) -> Path:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    migrate(engine)
    if synced_ago is not None:
        now = datetime.now(UTC)
        with transaction(engine) as conn:
            facts.upsert_instance(conn, facts.Instance("u==", 811, "meeting"), now=now)
            facts.set_collected(conn, "u==", "collected", now=now - synced_ago)
    engine.dispose()
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(sandbox_config("http://127.0.0.1:9", storage_url=url), encoding="utf-8")
    return path


def _status(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Result:
    result = invoke(capsys, ["--config", str(config), "status", *args])
    assert result.code == 0, result.err
    return result


def test_an_empty_store_says_none_instead_of_drawing_bare_headers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = _status(capsys, _store(tmp_path)).out.splitlines()

    assert "Inbox: empty (no webhook received yet)" in lines
    assert "Last sync: never" in lines
    for section in ("Dead letters", "Import rejections", "Webhooks received, not processed"):
        assert f"{section}: none" in lines
    for i, line in enumerate(lines):  # every table drawn has at least one row
        if line.startswith("┡"):
            assert lines[i + 1].startswith("│"), lines[i - 2]


def test_zoom_limits_are_shown_in_numbers_like_brevos(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = _status(capsys, _store(tmp_path)).out

    assert "Zoom limits (plan pro)" in out
    rows = {line.split("│")[1].strip(): line.split("│")[2:5] for line in out.splitlines()
            if line.startswith("│")}  # fmt: skip
    assert [c.strip() for c in rows["light"]] == ["30", "-", "-"]
    assert [c.strip() for c in rows["heavy"]] == ["10", "-", "30,000"]
    assert [c.strip() for c in rows["resource-intensive"]] == ["-", "10", "30,000"]
    assert [c.strip() for c in rows["contacts"]][:2] == ["10", "36,000"]
    assert "share one allowance of 30,000 a day" in out
    assert "zoom:heavy" not in out


def test_the_last_sync_reads_as_a_time_and_how_long_ago(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = _status(capsys, _store(tmp_path, synced_ago=timedelta(minutes=12, seconds=5))).out

    [line] = [line for line in out.splitlines() if line.startswith("Last sync: ")]
    assert re.fullmatch(r"Last sync: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(12 minutes ago\)", line)


def test_the_json_document_keeps_its_fields_and_adds_zoom_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = json.loads(_status(capsys, _store(tmp_path), "--json").out)

    zoom = document["limits"]["zoom"]
    assert set(zoom["buckets"]) >= {"zoom:light", "zoom:heavy", "zoom:daily-heavy"}
    assert zoom["categories"]["medium"] == {"per_second": 20, "per_minute": None, "per_day": None}
    assert document["inbox"] == {} and document["last_sync"] is None
