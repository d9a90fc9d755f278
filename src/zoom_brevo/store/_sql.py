"""Dialect helpers shared by the repository modules."""

from __future__ import annotations

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
