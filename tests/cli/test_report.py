"""``report engagement``: table, CSV and JSON from a store seeded through store.facts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from tests.reports.seed import LAUNCH, NOW, WEEKLY, at, seed
from zoom_brevo.cli.report_cmd import ATTENDEE_COLUMNS, MEETING_COLUMNS, PEOPLE_COLUMNS
from zoom_brevo.reports.formatting import table_value
from zoom_brevo.sandbox.combined import sandbox_config
from zoom_brevo.store import facts
from zoom_brevo.store.engine import create_engine, migrate, transaction


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
        "Score": "80",
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


# --- at 80 columns (a pipe, or COLUMNS=80) -----------------------------------------------

LONG_EMAIL = "maximilian.alexander-longname@subsidiary.example.com"
PLANNING = "pLaNnInG/Uuid+Quarterly3=="


@pytest.fixture
def crowded(config: Path) -> Path:
    """The seeded store plus a long address, name and topic: a third meeting, two people."""
    crowd(f"sqlite:///{config.parent / 'store.db'}")
    return config


def crowd(url: str) -> None:
    """Add a meeting with a long topic and a person with a long address and name."""
    engine = create_engine(url)
    topic = "Quarterly planning: sales, marketing and product together"
    with transaction(engine) as conn:
        facts.upsert_instance(
            conn,
            facts.Instance(PLANNING, 987654321, "meeting", topic, start_time=at(17, 9),
                           end_time=at(17, 11, 30)),
            now=NOW,
        )  # fmt: skip
        facts.replace_final(
            conn,
            PLANNING,
            [
                facts.Session("user:m", at(17, 9), at(17, 11, 17), LONG_EMAIL,
                              "Maximilian Alexander Longname-Hohenberg"),
                facts.Session("user:a", at(17, 9, 3), at(17, 11, 30), "alice@example.com",
                              "Alice Liddell"),
            ],
            now=NOW,
        )  # fmt: skip
        facts.upsert_person(
            conn, LONG_EMAIL, first_name="Maximilian Alexander", last_name="Longname-Hohenberg",
            now=NOW,
        )  # fmt: skip
        facts.set_engagement(
            conn, LONG_EMAIL, meetings_attended=12, total_minutes=1234.5,
            last_attended=at(17, 11, 17), score=99.0, now=NOW,
        )  # fmt: skip
    engine.dispose()


COLUMNS = {"default": PEOPLE_COLUMNS, "meeting": ATTENDEE_COLUMNS, "email": MEETING_COLUMNS}
VIEWS = {
    "default": [],
    "meeting": ["--meeting", PLANNING],
    "email": ["--email", "alice@example.com"],
}


def _table_at(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, config: Path,
    columns: int, *args: str,
) -> list[str]:  # fmt: skip
    monkeypatch.setenv("COLUMNS", str(columns))
    result = _report(capsys, config, *args)
    assert result.code == 0, result.err
    return result.out.splitlines()


@pytest.mark.parametrize("view", VIEWS)
def test_at_80_columns_no_header_and_no_number_is_split(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, crowded: Path,
    view: str,
) -> None:  # fmt: skip
    lines = _table_at(capsys, monkeypatch, crowded, 80, *VIEWS[view])
    document = json.loads(_report(capsys, crowded, *VIEWS[view], "--format", "json").out)

    assert max(len(line) for line in lines) <= 80
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    assert lines[top + 2].startswith("┡"), "the header row takes one line"
    headers = [cell.strip() for cell in lines[top + 1].strip("┃").split("┃")]
    by_header = {h: c for c in COLUMNS[view] for h in (c.title, c.short) if h}
    assert len(headers) >= 3 and set(headers) <= set(by_header), headers
    numbers = [by_header[h] for h in headers if by_header[h].kind not in ("id", "text", "time")]
    assert numbers
    for row in document["rows"]:
        key = row.get("email") or row.get("uuid")
        if key is None:
            continue
        line = next(line for line in lines if f" {key} " in line)  # whole, on one line
        for column in numbers:
            cell = table_value(row[column.key], column.kind)  # JSON's value, as the table shows it
            assert f" {cell} │" in line, (column.key, line)


@pytest.mark.parametrize("view", VIEWS)
def test_csv_and_json_do_not_depend_on_the_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, crowded: Path,
    view: str,
) -> None:  # fmt: skip
    for output in ("csv", "json"):
        narrow = _table_at(capsys, monkeypatch, crowded, 40, *VIEWS[view], "--format", output)
        wide = _table_at(capsys, monkeypatch, crowded, 250, *VIEWS[view], "--format", output)
        assert narrow == wide
        if output == "csv":  # every column, whatever the width
            assert next(csv.reader(narrow)) == [c.title for c in COLUMNS[view]]


def test_a_narrow_table_names_the_columns_it_leaves_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, crowded: Path
) -> None:
    text = " ".join(
        " ".join(_table_at(capsys, monkeypatch, crowded, 80, *VIEWS["meeting"])).split()
    )

    assert "Not shown at this width: " in text
    assert "Last leave (UTC)" in text
    assert "--format csv has every column." in text


def test_a_wide_terminal_shows_every_column(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, crowded: Path
) -> None:
    lines = _table_at(capsys, monkeypatch, crowded, 200, *VIEWS["meeting"])

    header = next(line for line in lines if line.startswith("┃"))
    for title in ("Email", "Name", "Minutes", "Ratio", "Rejoins", "First join (UTC)",
                  "Last leave (UTC)", "Score"):  # fmt: skip
        assert f" {title} " in header
    assert not any("Not shown" in line for line in lines)
