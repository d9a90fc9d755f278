"""Cell formats of the three outputs (pure)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rich.console import Console

from zoom_brevo.reports.formatting import (
    Column,
    ColumnKind,
    csv_value,
    fit_columns,
    json_value,
    table_value,
    to_csv,
    to_json,
    to_table,
)

PARIS = timezone(timedelta(hours=1))
T = datetime(2025, 3, 3, 11, 5, 9, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("value", "kind", "table", "csv_text", "json_out"),
    [
        (T, "time", "2025-03-03 10:05", "2025-03-03 10:05:09", "2025-03-03T10:05:09+00:00"),
        (50.04, "minutes", "50.0", "50.0", 50.0),
        (0.83333, "ratio", "83%", "0.833", 0.833),
        (71.26, "score", "71", "71", 71.0),  # whole points
        (3, "count", "3", "3", 3),
        ("Ünïcode, \"quoted\"", "text", "Ünïcode, \"quoted\"", "Ünïcode, \"quoted\"",
         "Ünïcode, \"quoted\""),
        (None, "time", "-", "", None),
        (None, "ratio", "-", "", None),
    ],
)  # fmt: skip
def test_each_output_formats_a_cell_its_own_way(
    value: Any, kind: ColumnKind, table: str, csv_text: str, json_out: Any
) -> None:
    assert table_value(value, kind) == table
    assert csv_value(value, kind) == csv_text
    assert json_value(value, kind) == json_out


COLUMNS = (Column("email", "Email"), Column("minutes", "Minutes", "minutes"))
ROWS: list[dict[str, Any]] = [
    {"email": "a@example.com", "minutes": 12.34},
    {"email": "b,c@example.com", "minutes": None},
]


def test_csv_has_a_header_row_and_quotes_what_needs_quoting() -> None:
    text = to_csv(COLUMNS, ROWS)
    assert text.splitlines()[0] == "Email,Minutes"
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed == [
        {"Email": "a@example.com", "Minutes": "12.3"},
        {"Email": "b,c@example.com", "Minutes": ""},
    ]


def test_json_is_one_document_with_header_fields_and_rows() -> None:
    document = json.loads(to_json(COLUMNS, ROWS, report="people"))
    assert document == {
        "report": "people",
        "rows": [
            {"email": "a@example.com", "minutes": 12.3},
            {"email": "b,c@example.com", "minutes": None},
        ],
    }


def test_table_shows_titles_and_cells() -> None:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(to_table("People", COLUMNS, ROWS))
    text = console.export_text()
    for expected in ("People", "Email", "Minutes", "a@example.com", "12.3", "-"):
        assert expected in text


# --- fitting the terminal ----------------------------------------------------------------

WIDE = (
    Column("email", "Email", "id", priority=100),
    Column("name", "Name", priority=60),
    Column("count", "Meetings attended", "count", short="Meetings", priority=80),
    Column("when", "Last attended (UTC)", "time", short="Last (UTC)", priority=40),
)
CELLS = [["ada@example.com", "Ada Lovelace-Byron", "12", "2025-03-03 10:00"]]


def _fit(width: int) -> tuple[list[str], list[str]]:
    fitted = fit_columns(WIDE, CELLS, width)
    return list(fitted.headers), [c.key for c in fitted.left_out]


def test_a_wide_table_keeps_every_column_and_full_headers() -> None:
    assert _fit(100) == (["Email", "Name", "Meetings attended", "Last attended (UTC)"], [])


def test_headers_shorten_before_any_column_goes() -> None:
    # full headers: 15+12+17+19 + 13 = 76; short: 15+12+8+16 + 13 = 64
    assert _fit(70) == (["Email", "Name", "Meetings", "Last (UTC)"], [])


def test_the_lowest_priority_columns_go_first_and_the_first_column_stays() -> None:
    assert _fit(50) == (["Email", "Name", "Meetings"], ["when"])
    assert _fit(30) == (["Email", "Meetings"], ["name", "when"])
    assert _fit(5) == (["Email"], ["name", "count", "when"])


def test_a_narrow_table_never_splits_a_number_or_a_header() -> None:
    console = Console(width=50, record=True, file=io.StringIO())
    console.print(to_table("People", WIDE, [
        {"email": "ada@example.com", "name": "Ada Lovelace-Byron", "count": 12345678,
         "when": T},
    ], width=50))  # fmt: skip
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 50
    assert "┃ Email " in lines[2] and "┃ Meetings ┃" in lines[2]
    assert "12345678" in lines[4]
    caption = " ".join(" ".join(lines[-2:]).split())
    assert caption.startswith("Not shown at this width: Last attended (UTC);")
