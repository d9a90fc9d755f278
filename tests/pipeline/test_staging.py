"""Staged rows waiting for a registration's e-mail get it at the switch-in, on both dialects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import DIALECTS, pg_schema
from zoom_brevo.pipeline import staging
from zoom_brevo.store import facts
from zoom_brevo.store.engine import create_engine, migrate, reading, transaction
from zoom_brevo.store.facts import Registrant, Session

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UUID = "w-instance"


@pytest.fixture(params=DIALECTS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        place: AbstractContextManager[str] = pg_schema(request.getfixturevalue("pg_url"))
    else:
        place = nullcontext(f"sqlite:///{tmp_path / 'store.db'}")
    with place as url:
        eng = create_engine(url)
        migrate(eng)
        with transaction(eng) as conn:
            facts.upsert_instance(conn, facts.Instance(UUID, 42, "webinar", start_time=T0), now=T0)
        yield eng
        eng.dispose()


def session(key: str, join_min: int, leave_min: int) -> Session:
    join, leave = T0 + timedelta(minutes=join_min), T0 + timedelta(minutes=leave_min)
    return Session(key, join, leave, name="Ann", source="final")


def test_two_ids_of_one_registration_merge_and_an_unknown_id_keeps_its_own_key(
    engine: Engine,
) -> None:
    with transaction(engine) as conn:
        rows = [session("user:u1", 0, 10), session("user:u2", 0, 30), session("user:u3", 5, 9)]
        staging.stage(conn, UUID, rows, now=T0, registrant_ids=["r-1", "r-1b", "r-x"])
        staging.stage(conn, UUID, [session("user:u3", 5, 12)], now=T0)  # not waiting
    with transaction(engine) as conn:
        for email, rid in (("ann@x.io", "r-1"), ("ANN@X.IO ", "r-1b")):
            facts.upsert_registrant(conn, Registrant("webinar", 42, email, "approved", rid), now=T0)
    with transaction(engine) as conn:
        assert staging.promote(conn, UUID, registrations_of=("webinar", 42)) == 2
    with reading(engine) as conn:
        found = [(s.person_key, s.email, s.leave_time) for s in facts.sessions(conn, UUID)]
    assert found == [
        ("email:ann@x.io", "ann@x.io", T0 + timedelta(minutes=30)),  # the longer one kept
        ("user:u3", None, T0 + timedelta(minutes=12)),
    ]
