"""``load_people``: which registrations count as upcoming (no collected instance yet)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.pipeline.derive import InstanceInfo, Upcoming
from zoom_brevo.pipeline.gather import load_people
from zoom_brevo.store import facts
from zoom_brevo.store.engine import create_engine, migrate, reading, transaction
from zoom_brevo.store.facts import Instance, Registrant, Session

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
ANN = "ann@example.com"
SYNCED = InstanceInfo("webinar", "uuid-synced", 100, "Launch", T0, T0 + H)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(eng)
    with transaction(eng) as conn:
        held = Instance(SYNCED.uuid, 100, "webinar", "Launch", start_time=T0, end_time=T0 + H)
        facts.upsert_instance(conn, held, now=T0 + H)
        facts.set_collected(conn, SYNCED.uuid, "collected", now=T0 + H)
        session = Session("ann", T0, T0 + H, email=ANN, source="final")
        facts.replace_final(conn, SYNCED.uuid, [session], now=T0 + H)
    yield eng
    eng.dispose()


def register(engine: Engine, meeting_id: int, **fields: object) -> None:
    values: dict[str, object] = {"status": "approved", "registered_at": T0 + 2 * H, **fields}
    with transaction(engine) as conn:
        reg = Registrant("webinar", meeting_id, ANN, **values)  # type: ignore[arg-type]
        facts.upsert_registrant(conn, reg, now=T0 + 2 * H)


def hold(engine: Engine, meeting_id: int, state: facts.CollectState) -> None:
    with transaction(engine) as conn:
        uuid = f"uuid-{meeting_id}"
        facts.upsert_instance(conn, Instance(uuid, meeting_id, "webinar"), now=T0)
        facts.set_collected(conn, uuid, state, now=T0)


def upcoming(engine: Engine) -> tuple[Upcoming, ...]:
    with reading(engine) as conn:
        [person] = load_people(conn, SYNCED, [ANN])
    return person.upcoming


def test_a_registration_to_a_webinar_not_yet_collected_is_upcoming_from_when_it_was_made(
    engine: Engine,
) -> None:
    register(engine, 200, tracking_source="Partner")
    hold(engine, 300, "collected")
    register(engine, 300)  # its webinar is held and collected: part of the history instead
    hold(engine, 400, "provisional")
    register(engine, 400, registered_at=T0 + 3 * H)  # live, not collected yet: still upcoming
    assert upcoming(engine) == (
        Upcoming("webinar", T0 + 2 * H, "Partner"),
        Upcoming("webinar", T0 + 3 * H),
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "cancelled"},
        {"status": "pending"},
        {"registered_at": None},  # stored before registered_at was kept: never later
    ],
    ids=["cancelled", "pending", "time-unknown"],
)
def test_a_registration_that_is_not_approved_or_has_no_time_is_not_upcoming(
    engine: Engine, fields: dict[str, object]
) -> None:
    register(engine, 200, **fields)
    assert upcoming(engine) == ()


def test_the_synced_webinars_own_registration_is_not_upcoming(engine: Engine) -> None:
    register(engine, SYNCED.meeting_id)
    assert upcoming(engine) == ()
