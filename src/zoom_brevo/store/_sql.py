"""Dialect helpers shared by the repository modules."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect


def is_postgres(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL (else SQLite)."""
    return conn.dialect.name == "postgresql"


def upsert_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that accepts ``ON CONFLICT`` clauses, for ``conn``'s dialect."""
    if is_postgres(conn):
        return postgresql.insert(table)
    return sqlite.insert(table)


def starts_with(conn: Connection, column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``: a range in byte order, which a btree index serves.

    ``LIKE 'prefix%'`` cannot use an index on PostgreSQL under a collation other than C
    (and is case-insensitive on SQLite), so it scans the table. In byte order (SQLite's
    ``BINARY``; PostgreSQL's ``~>=~`` / ``~<~``, served by a ``text_pattern_ops`` index)
    the strings starting with ``prefix`` are exactly those from ``prefix`` up to,
    excluded, ``prefix`` with its last character incremented. The database's own order
    would not do: a linguistic collation may sort ``:`` after ``;``.
    """
    at_least, below = ("~>=~", "~<~") if is_postgres(conn) else (">=", "<")
    upper = prefix_upper(prefix)
    lower = column.op(at_least, is_comparison=True)(prefix)
    return lower if upper is None else and_(lower, column.op(below, is_comparison=True)(upper))


def prefix_upper(prefix: str) -> str | None:
    """The least string above every string starting with ``prefix``, in code point (and
    UTF-8 byte) order; ``None`` if there is none (``prefix`` is empty or all U+10FFFF)."""
    stem = prefix.rstrip(chr(0x10FFFF))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters: skip them
        following = 0xE000
    return stem[:-1] + chr(following)


def shallow_fields(instance: Any) -> dict[str, Any]:
    """A dataclass instance's fields by name, values as they are.

    ``dataclasses.asdict`` deep-copies every value (dicts, datetimes); for the rows of a
    bulk write, copied only to be bound and dropped, that copy was the largest cost in the
    profile of a webinar sync (docs/benchmarks.md, "CPU per contact").
    """
    return {name: getattr(instance, name) for name in type(instance).__dataclass_fields__}


Row = Sequence[Any]


def insert_rows(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[Row]
) -> None:
    """``INSERT INTO table (columns)`` of ``rows`` (values in ``columns`` order) through the
    driver's ``executemany``, each value passed through its column's bind processor, so the
    stored values are those SQLAlchemy's own insert stores. No column defaults are applied:
    ``columns`` must name every column that needs a value.

    SQLAlchemy's executemany processes every parameter of every row by name; for the tens of
    thousands of rows a webinar sync queues that was about a tenth of its CPU
    (docs/benchmarks.md, "Sync: no wait for the registrants").
    """
    if not rows:
        return
    sql, bind = _raw_insert(conn.dialect, table, columns)
    conn.exec_driver_sql(sql, [bind(row) for row in rows])


Processor = Callable[[Any], Any]


@functools.lru_cache(maxsize=64)
def _raw_insert(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[str, Callable[[Row], tuple[Any, ...]]]:
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(columns))
    # Constant table and column names and placeholders only: no value is part of the text.
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    steps = [(i, p) for i, p in enumerate(processors) if p is not None]

    def bind(row: Row) -> tuple[Any, ...]:
        values = list(row)
        for index, process in steps:
            values[index] = process(values[index])
        return tuple(values)

    return sql, bind
