"""Fixtures: a migrated SQLite store seeded by ``tests.reports.seed``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.reports.seed import seed
from zoom_brevo.store.engine import create_engine, migrate


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = create_engine(store_url)
    migrate(engine)
    seed(engine)
    yield engine
    engine.dispose()
