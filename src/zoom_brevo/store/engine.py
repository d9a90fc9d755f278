"""Open the database and bring its schema to the current migration.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on. Every
transaction on SQLite starts with ``BEGIN IMMEDIATE``: it takes the write lock up front, so
a transaction that reads and then writes (a claim) never fails half-way with "database is
locked"; it waits up to the busy timeout instead. Read-only work can ask for a deferred
``BEGIN`` with ``reading(engine)``. PostgreSQL is reached with ``postgresql+psycopg://``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.errors import StoreConflict, StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFERRED_OPTION = "zoom_brevo_deferred"
# Any constant works; it only has to be the same in every process sharing the database.
MIGRATION_LOCK_ID = 0x5A42_0001
# A transaction that lost to another (PostgreSQL docs, Appendix A "Error Codes":
# 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available).
CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def create_engine(url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///file.db`` or ``postgresql+psycopg://...``)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"storage.url is not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StoreError("storage.url: use a SQLite file (sqlite:///path.db), not memory")
        engine = sa.create_engine(parsed, echo=echo)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, echo=echo, pool_pre_ping=True)
    raise StoreError(f"storage.url: unsupported database {backend!r} (use sqlite or postgresql)")


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    # The driver's own transaction handling is switched off so that we can emit BEGIN
    # IMMEDIATE ourselves (SQLAlchemy docs, "Serializable isolation / Savepoints /
    # Transactional DDL" for pysqlite).
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed webhook survives power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        deferred = conn.get_execution_options().get(DEFERRED_OPTION, False)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """Database failures become ``StoreError`` (a server down: "database unavailable"), a
    transaction that lost to another ``StoreConflict``."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if _lost_to_another(exc.orig):
            raise StoreConflict(f"database conflict: {exc.orig}") from exc
        raise _store_error(exc) from exc


def _lost_to_another(orig: BaseException | None) -> bool:
    """A deadlock, serialization failure or lock timeout; on SQLite, the write lock still
    held by another writer when the busy timeout ran out."""
    if getattr(orig, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    return isinstance(orig, sqlite3.OperationalError) and "database is locked" in str(orig)


def _store_error(exc: sa.exc.DBAPIError) -> StoreError:
    if isinstance(exc, sa.exc.OperationalError):
        return StoreError(f"database unavailable: {exc.orig or exc}")
    return StoreError(f"database refused the operation: {exc.orig or exc}")


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction, committed on success; database failures become StoreError."""
    with _store_errors(), engine.begin() as conn:
        yield conn


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only (a deferred transaction on SQLite: no write lock).

    Database failures become ``StoreError``, as in :func:`transaction`.
    """
    with _store_errors(), engine.connect() as raw:
        conn = raw.execution_options(**{DEFERRED_OPTION: True})
        with conn.begin():
            yield conn


def alembic_config(conn: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision``; safe to run from several processes at once."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        command.upgrade(alembic_config(conn), revision)


def head_revision() -> str | None:
    """The newest migration shipped with this version."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    """The migration the database is at (``None`` for an empty database)."""
    return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Whether the database is reachable and at the newest migration (for ``/readyz``)."""
    try:
        with reading(engine) as conn:
            return current_revision(conn) == head_revision()
    except StoreError:
        return False
