"""One store, two databases: every test taking ``engine`` runs on SQLite and PostgreSQL.

SQLite tests get a copy of a file migrated once per session. PostgreSQL tests share one
schema per session, named uniquely (so that parallel runs by other people never meet) and
reached through ``search_path``; its tables are emptied before each test.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.store import engine as store_engine
from zoom_brevo.store.schema import metadata

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DIALECTS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


def schema_url(pg_url: str, schema: str) -> str:
    """``pg_url`` with every connection's ``search_path`` set to ``schema``."""
    url = sa.make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@contextlib.contextmanager
def pg_schema(pg_url: str) -> Iterator[str]:
    """A new, empty, uniquely named schema; yields a URL using it, drops it afterwards."""
    name = f"zb_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    try:
        yield schema_url(pg_url, name)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; tests copy it."""
    path = tmp_path_factory.mktemp("store") / "template.db"
    engine = store_engine.create_engine(f"sqlite:///{path}")
    store_engine.migrate(engine)
    engine.dispose()  # the last close checkpoints the WAL into the main file
    return path


@pytest.fixture(scope="session")
def pg_migrated_url(pg_url: str) -> Iterator[str]:
    """A session-wide schema migrated to head."""
    with pg_schema(pg_url) as url:
        engine = store_engine.create_engine(url)
        store_engine.migrate(engine)
        engine.dispose()
        yield url


@pytest.fixture(params=DIALECTS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database of each dialect."""
    if request.param == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_migrated_url")
    eng = store_engine.create_engine(url)
    if request.param == "postgresql":
        with eng.begin() as conn:  # DELETE: much faster than TRUNCATE on tiny tables
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    yield eng
    eng.dispose()


@pytest.fixture(params=DIALECTS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, never migrated database of each dialect."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with pg_schema(request.getfixturevalue("pg_url")) as url:
        yield url
