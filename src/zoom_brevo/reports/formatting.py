"""Reports as a terminal table, CSV or JSON, from one column description.

- **table**: Rich table; times in UTC as ``YYYY-MM-DD HH:MM``, minutes to 0.1, ratios as
  percentages, empty cells as ``-``. It fits the terminal (80 columns when piped): short
  headers first, then the least useful columns left out (the caption names them); numbers,
  identifiers, times and headers are never split across lines.
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
_DIGITS: Mapping[str, int] = {"minutes": 1, "ratio": 3, "score": 0}  # scores: whole points


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the row key it shows, its header and how its values are formatted.

    ``id`` columns (e-mails, UUIDs) are text that the table, like times, never wraps.
    ``short`` is the header used when the table is narrow; ``priority`` orders the columns
    a narrow table leaves out (lowest first).
    """

    key: str
    title: str
    kind: ColumnKind = "text"
    short: str | None = None
    priority: int = 50


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


TEXT_MIN_WIDTH = 12  # names and topics wrap at word boundaries down to this width


@dataclass(frozen=True, slots=True)
class Fitted:
    """The columns a table of a given width shows, with their headers and minimum widths."""

    columns: tuple[Column, ...]
    headers: tuple[str, ...]
    min_widths: tuple[int, ...]
    left_out: tuple[Column, ...]


def fit_columns(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int) -> Fitted:
    """The columns to show in ``width`` characters: full headers, else short headers and
    the lowest-priority columns left out until the table fits (the first one always stays).

    ``cells`` are the table's rows of formatted cells, in the order of ``columns``.
    """
    for short in (False, True):
        kept = list(range(len(columns)))
        while True:
            fitted = _fitted(columns, cells, kept, short=short)
            if _table_width(fitted.min_widths) <= width or len(kept) == 1:
                break
            kept.remove(min(kept[1:], key=lambda i: (columns[i].priority, -i)))
        if not fitted.left_out or short:
            return fitted
    return fitted


def _fitted(
    columns: Sequence[Column], cells: Sequence[Sequence[str]], kept: list[int], *, short: bool
) -> Fitted:
    headers = tuple((columns[i].short if short else None) or columns[i].title for i in kept)
    widths = tuple(
        _min_width(columns[i], header, [row[i] for row in cells])
        for i, header in zip(kept, headers, strict=True)
    )
    return Fitted(
        columns=tuple(columns[i] for i in kept),
        headers=headers,
        min_widths=widths,
        left_out=tuple(c for i, c in enumerate(columns) if i not in kept),
    )


def _min_width(column: Column, header: str, cells: Sequence[str]) -> int:
    widest = max((len(cell) for cell in cells), default=0)
    if column.kind == "text":
        widest = min(widest, TEXT_MIN_WIDTH)
    return max(widest, len(header))


def _table_width(widths: Sequence[int]) -> int:
    return sum(widths) + 3 * len(widths) + 1  # one space each side, a rule between and around


def to_table(
    title: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], *, width: int = 80
) -> Table:
    """A Rich table fitting ``width`` characters (numbers right-aligned)."""
    cells = [[table_value(row.get(c.key), c.kind) for c in columns] for row in rows]
    fitted = fit_columns(columns, cells, width)
    caption = None
    if fitted.left_out:
        names = ", ".join(c.title for c in fitted.left_out)
        caption = f"Not shown at this width: {names}; --format csv has every column."
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for column, header, min_width in zip(
        fitted.columns, fitted.headers, fitted.min_widths, strict=True
    ):
        justify: Literal["left", "right"] = (
            "left" if column.kind in ("id", "text", "time") else "right"
        )
        # Only names and topics wrap; numbers, identifiers and times stay whole (copyable).
        table.add_column(
            header,
            justify=justify,
            min_width=min_width,
            overflow="fold" if column.kind == "text" else "ellipsis",
            no_wrap=column.kind != "text",
        )
    shown = [columns.index(c) for c in fitted.columns]
    for row in cells:
        table.add_row(*(row[i] for i in shown))
    return table
