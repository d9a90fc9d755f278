"""Migrations produce exactly the declared schema, on both dialects."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from zoom_brevo.errors import StoreError
from zoom_brevo.store import engine as store_engine
from zoom_brevo.store.schema import POSTGRESQL_ONLY_INDEXES, metadata


def schema_diffs(engine: Engine, target: sa.MetaData) -> list[object]:
    """What differs, leaving out what is declared for the other dialect only."""

    def declared_here(obj: object, name: str | None, kind: str, reflected: bool, _: object) -> bool:
        postgresql = engine.dialect.name == "postgresql"
        return postgresql or reflected or name not in POSTGRESQL_ONLY_INDEXES

    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": declared_here}
        context = MigrationContext.configure(conn, opts=opts)
        return list(compare_metadata(context, target))


def test_migrating_an_empty_database_gives_exactly_the_declared_schema(empty_url: str) -> None:
    engine = store_engine.create_engine(empty_url)
    store_engine.migrate(engine)
    assert schema_diffs(engine, metadata) == []
    engine.dispose()


def test_the_schema_comparison_notices_a_difference(empty_url: str) -> None:
    engine = store_engine.create_engine(empty_url)
    store_engine.migrate(engine)
    altered = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(altered)
    altered.tables["ledger"].append_column(sa.Column("extra", sa.Integer))
    diffs = schema_diffs(engine, altered)
    assert [d[0] for d in diffs if isinstance(d, tuple)] == ["add_column"]
    engine.dispose()


def test_readiness_follows_the_migration_state_and_migrating_twice_is_harmless(
    empty_url: str,
) -> None:
    engine = store_engine.create_engine(empty_url)
    assert not store_engine.is_current(engine)
    store_engine.migrate(engine)
    store_engine.migrate(engine)
    assert store_engine.is_current(engine)
    with engine.connect() as conn:
        assert store_engine.current_revision(conn) == store_engine.head_revision()
    engine.dispose()


def test_downgrading_to_base_removes_every_table(empty_url: str) -> None:
    engine = store_engine.create_engine(empty_url)
    store_engine.migrate(engine)
    with engine.begin() as conn:
        command.downgrade(store_engine.alembic_config(conn), "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = store_engine.create_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=1234)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u@h/db", "unsupported database"),
        ("sqlite://", "not memory"),
    ],
)
def test_unusable_storage_urls_are_refused_with_a_store_error(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store_engine.create_engine(url)


def test_a_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    engine = store_engine.create_engine("postgresql://u@127.0.0.1/db")
    assert engine.dialect.driver == "psycopg"
