"""Fixtures shared by the whole suite.

Tests that need ``../shared`` (official specs and samples) or the PostgreSQL server skip
with a reason where those are absent; with ``ZOOM_BREVO_STRICT=1`` (set by ``.ci/run``) the
same absence is a failure, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

SERIAL = pytest.mark.xdist_group("serial")
"""Tests that must not share the machine with other tests: process fleets, kill -9 and
outage scenarios, wall-clock bounds. ``scripts/test`` runs the rest over pytest-xdist
workers first, then these alone, one after another (``-m serial``); given other arguments,
it keeps them on one worker of the parallel run (``--dist loadgroup``)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the ``SERIAL`` group ``serial``, so ``-m serial`` / ``-m "not serial"`` select it."""
    for item in items:
        group = item.get_closest_marker("xdist_group")
        if group is not None and group.args == ("serial",):
            item.add_marker(pytest.mark.serial)


def require(condition: bool, reason: str) -> None:
    """Skip the test unless ``condition``; under ZOOM_BREVO_STRICT=1 fail instead."""
    if condition:
        return
    if os.environ.get("ZOOM_BREVO_STRICT") == "1":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared/`` folder beside the clone (or ``$ZOOM_BREVO_SHARED``)."""
    path = Path(os.environ.get("ZOOM_BREVO_SHARED", REPO_ROOT.parent / "shared"))
    require((path / "specs").is_dir(), f"official specs not found at {path} (../shared absent)")
    return path


@pytest.fixture(scope="session")
def pg_url() -> str:
    """SQLAlchemy URL of a reachable PostgreSQL server (``$ZOOM_BREVO_TEST_PG`` or local)."""
    url = os.environ.get("ZOOM_BREVO_TEST_PG", DEFAULT_PG_URL)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        require(condition=False, reason=f"PostgreSQL not reachable at {dsn}: {exc}")
    return url
