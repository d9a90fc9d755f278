"""Dialect helpers shared by the repository modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def is_postgres(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL (else SQLite)."""
    return conn.dialect.name == "postgresql"


def upsert_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that accepts ``ON CONFLICT`` clauses, for ``conn``'s dialect."""
    if is_postgres(conn):
        return postgresql.insert(table)
    return sqlite.insert(table)


def shallow_fields(instance: Any) -> dict[str, Any]:
    """A dataclass instance's fields by name, values as they are.

    ``dataclasses.asdict`` deep-copies every value (dicts, datetimes); for the rows of a
    bulk write, copied only to be bound and dropped, that copy was the largest cost in the
    profile of a webinar sync (docs/benchmarks.md, "CPU per contact").
    """
    return {name: getattr(instance, name) for name in type(instance).__dataclass_fields__}
