"""Reports as a terminal table, CSV or JSON, from one column description.

- **table**: Rich table; times in UTC as ``YYYY-MM-DD HH:MM``, minutes to 0.1, ratios as
  percentages, empty cells as ``-``.
- **CSV** (``csv`` module, a header row): spreadsheet-friendly plain values — times as
  ``YYYY-MM-DD HH:MM:SS`` in UTC (read as dates by Excel, LibreOffice and Google Sheets),
  numbers with a dot, ratios as fractions 0..1, unknown values as empty cells.
- **JSON**: times in ISO 8601 with offset, numbers as numbers, unknown as ``null``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rich.table import Table

Format = Literal["table", "csv", "json"]
ColumnKind = Literal["id", "text", "count", "minutes", "ratio", "score", "time"]
_DIGITS: Mapping[str, int] = {"minutes": 1, "ratio": 3, "score": 1}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the row key it shows, its header and how its values are formatted.

    ``id`` columns (e-mails, UUIDs) are text that the table, like times, never wraps.
    """

    key: str
    title: str
    kind: ColumnKind = "text"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def json_value(value: Any, kind: ColumnKind) -> Any:
    """A cell for the JSON document."""
    if value is None:
        return None
    if kind == "time":
        return _utc(value).isoformat()
    if kind in _DIGITS:
        return round(float(value), _DIGITS[kind])
    return value


def csv_value(value: Any, kind: ColumnKind) -> str:
    """A cell for the CSV file."""
    if value is None:
        return ""
    if kind == "time":
        return _utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if kind in _DIGITS:
        return f"{float(value):.{_DIGITS[kind]}f}"
    return str(value)


def table_value(value: Any, kind: ColumnKind) -> str:
    """A cell for the terminal table."""
    if value is None or value == "":
        return "-"
    if kind == "time":
        return _utc(value).strftime("%Y-%m-%d %H:%M")
    if kind == "ratio":
        return f"{float(value) * 100:.0f}%"
    if kind in _DIGITS:
        return f"{float(value):.{_DIGITS[kind]}f}"
    return str(value)


def to_csv(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as CSV text with a header row (RFC 4180 line endings)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.title for c in columns])
    for row in rows:
        writer.writerow([csv_value(row.get(c.key), c.kind) for c in columns])
    return buffer.getvalue()


def to_json(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], **header: Any) -> str:
    """A JSON document: ``header`` fields, then ``rows`` keyed by column key."""
    document = {
        **header,
        "rows": [{c.key: json_value(row.get(c.key), c.kind) for c in columns} for row in rows],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def to_table(title: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> Table:
    """A Rich table (numbers right-aligned)."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        justify: Literal["left", "right"] = (
            "left" if column.kind in ("id", "text", "time") else "right"
        )
        # Identifiers (e-mails, UUIDs) and times stay whole on one line (copyable).
        table.add_column(
            column.title, justify=justify, overflow="fold", no_wrap=column.kind in ("id", "time")
        )
    for row in rows:
        table.add_row(*(table_value(row.get(c.key), c.kind) for c in columns))
    return table
