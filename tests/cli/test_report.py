"""``report engagement``: table, CSV and JSON from a store seeded through store.facts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from tests.reports.seed import LAUNCH, WEEKLY, seed
from zoom_brevo.sandbox.combined import sandbox_config
from zoom_brevo.store.engine import create_engine, migrate


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    migrate(engine)
    seed(engine)
    engine.dispose()
    path = tmp_path / "zoom-brevo.yaml"
    # Reports read only the store: the Zoom and Brevo URLs are never called.
    path.write_text(sandbox_config("http://127.0.0.1:9", storage_url=url), encoding="utf-8")
    return path


def _report(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Result:
    return invoke(capsys, ["--config", str(config), "report", "engagement", *args])


def test_default_table_ranks_people_by_score(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _report(capsys, config)
    assert result.code == 0, result.err
    out = result.out
    assert "People by engagement score (3)" in out
    assert out.index("alice@example.com") < out.index("bob@example.com") < out.index("dave@")
    assert result.err_lines == []


def test_csv_ranking_parses_with_a_header_row(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _report(capsys, config, "--format", "csv", "--limit", "2")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [r["Email"] for r in rows] == ["alice@example.com", "bob@example.com"]
    assert rows[0] == {
        "Email": "alice@example.com",
        "Name": "Alice Liddell",
        "Meetings attended": "2",
        "Total minutes": "110.0",
        "Last attended (UTC)": "2025-03-10 15:00:00",
        "Score": "80.0",
    }


def test_json_meeting_report_is_only_the_document(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    result = _report(capsys, config, "--meeting", WEEKLY, "--format", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["report"] == "meeting"
    assert document["meeting"]["uuid"] == WEEKLY
    assert document["meeting"]["start_time"] == "2025-03-03T10:00:00+00:00"
    first = document["rows"][0]
    assert first == {
        "email": "bob@example.com",
        "name": "Bob Stone",
        "minutes": 60.0,
        "ratio": 1.0,
        "rejoins": 0,
        "first_join": "2025-03-03T10:00:00+00:00",
        "last_leave": "2025-03-03T11:00:00+00:00",
        "score": 60.0,
    }
    assert [r["email"] for r in document["rows"]] == [
        "bob@example.com", "alice@example.com", None, "carol@example.com",
    ]  # fmt: skip


def test_csv_of_one_persons_meetings(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    result = _report(capsys, config, "--email", "alice@example.com", "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [(r["UUID"], r["Kind"], r["Minutes"], r["Rejoins"]) for r in rows] == [
        (LAUNCH, "webinar", "60.0", "0"),
        (WEEKLY, "meeting", "50.0", "1"),
    ]
    assert rows[1]["Ratio"] == "0.833"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--meeting", "unknown=="], 1, "no meeting instance"),
        (["--email", "zed@example.com"], 1, "nobody"),
        (["--meeting", WEEKLY, "--email", "a@example.com"], 2, "not both"),
        (["--format", "xml"], 2, "xml"),
        (["--limit", "-1"], 2, "--limit"),
    ],
)
def test_bad_requests_fail_with_one_line(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], code: int, message: str
) -> None:
    result = _report(capsys, config, *args)
    assert result.code == code
    assert len(result.err_lines) == 1
    assert message in result.err
