"""Rows by table name, for erasing a person: find, read, delete and update them by key.

``zoom_brevo.erasure`` decides what to do with each row; this module runs the statements.
Tables are named as in ``schema`` and must have a single-column primary key. Rows come
back as plain dicts of column name to value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from zoom_brevo.store._sql import is_postgres
from zoom_brevo.store.schema import metadata


@dataclass(frozen=True, slots=True)
class TextColumn:
    """A column that can hold an address: text, JSON or binary."""

    name: str
    nullable: bool


def _table(name: str) -> Table:
    return metadata.tables[name]


def _key(table: Table) -> sa.Column[Any]:
    (column,) = table.primary_key.columns
    return column


def _searchable(table: Table) -> list[sa.Column[Any]]:
    kinds = (sa.String, sa.JSON, sa.LargeBinary)
    return [c for c in table.columns if isinstance(c.type, kinds)]


def key_column(table: str) -> str:
    """The name of the table's single-column primary key."""
    return _key(_table(table)).name


def searchable_columns(table: str) -> tuple[TextColumn, ...]:
    """The table's columns that can hold an address: text, JSON and binary ones."""
    return tuple(TextColumn(c.name, bool(c.nullable)) for c in _searchable(_table(table)))


def rows_mentioning(
    conn: Connection, table: str, fragments: Sequence[str] | None, *, batch: int
) -> Iterator[dict[str, Any]]:
    """Rows that may mention an address: a superset of those whose searchable columns,
    lower-cased, contain one of the lower-case ``fragments``.

    ``None``: no pre-filter is possible, every row is read, ``batch`` at a time in key
    order (the caller searches them itself).
    """
    found, key = _table(table), _key(_table(table))
    if fragments is not None:
        columns = _searchable(found)
        tests = [_as_text(conn, c).contains(f, autoescape=True) for c in columns for f in fragments]
        stmt = sa.select(found).where(sa.or_(*tests))
        yield from (row._asdict() for row in conn.execute(stmt))
        return
    after: Any = None
    while True:
        page = sa.select(found).order_by(key).limit(batch)
        if after is not None:
            page = page.where(key > after)
        rows = [row._asdict() for row in conn.execute(page)]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1][key.name]


def _as_text(conn: Connection, column: sa.Column[Any]) -> sa.ColumnElement[str]:
    """``lower(column)`` as text, whatever its type (ASCII case folding on SQLite)."""
    if isinstance(column.type, sa.LargeBinary):
        text: sa.ColumnElement[Any] = (
            sa.func.encode(column, "escape") if is_postgres(conn) else sa.cast(column, sa.Text)
        )
    elif isinstance(column.type, sa.JSON):
        text = sa.cast(column, sa.Text)
    else:
        text = column
    return sa.func.lower(text, type_=sa.Text)


def rows_by_key(conn: Connection, table: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows whose primary key is one of ``keys`` (keep the list short: one IN list)."""
    found = _table(table)
    stmt = sa.select(found).where(_key(found).in_(list(keys)))
    return [row._asdict() for row in conn.execute(stmt)]


def delete_by_key(conn: Connection, table: str, keys: Sequence[Any]) -> int:
    """Delete the rows whose primary key is one of ``keys``; how many were deleted."""
    found = _table(table)
    return int(conn.execute(sa.delete(found).where(_key(found).in_(list(keys)))).rowcount)


def update_by_key(conn: Connection, table: str, key: Any, values: Mapping[str, Any]) -> int:
    """Set ``values`` on the row whose primary key is ``key``; 1 if it exists, else 0."""
    found = _table(table)
    stmt = sa.update(found).where(_key(found) == key).values(dict(values))
    return int(conn.execute(stmt).rowcount)


def delete_all(conn: Connection, table: str) -> int:
    """Delete every row of the table; how many were deleted."""
    return int(conn.execute(sa.delete(_table(table))).rowcount)
