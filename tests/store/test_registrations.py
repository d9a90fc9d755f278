"""Registrations made by ``register``: one per meeting or webinar, occurrence and address."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.erasure import forget_person
from zoom_brevo.store import engine as store_engine
from zoom_brevo.store import registrations as store
from zoom_brevo.store.engine import reading, transaction


def _made(
    email: str, occurrence: str = "", registrant_id: str = "r1", kind: store.Kind = "webinar"
) -> store.Registration:
    return store.Registration(
        kind=kind,
        meeting_id=81_000_000_001,
        occurrence_id=occurrence,
        email=email,
        registrant_id=registrant_id,
        join_url=f"https://zoom.us/w/81000000001?tk={registrant_id}",
        status="approved",
    )


def test_registrations_are_kept_per_webinar_occurrence_and_lower_cased_address(
    engine: Engine,
) -> None:
    with transaction(engine) as conn:
        store.record(conn, _made("Ada@Example.com"), now=NOW)
        store.record(conn, _made("ada@example.com", occurrence="1648194360000"), now=NOW)
    with reading(engine) as conn:
        every = store.registered(conn, "webinar", 81_000_000_001)
        one = store.registered(conn, "webinar", 81_000_000_001, "1648194360000")
        other = store.registered(conn, "webinar", 81_000_000_002)
    assert list(every) == ["ada@example.com"]
    assert every["ada@example.com"].registrant_id == "r1"
    assert every["ada@example.com"].join_url == "https://zoom.us/w/81000000001?tk=r1"
    assert list(one) == ["ada@example.com"]
    assert other == {}


def test_recording_the_same_registration_again_keeps_the_first(engine: Engine) -> None:
    with transaction(engine) as conn:
        store.record(conn, _made("ada@example.com", registrant_id="first"), now=NOW)
    with transaction(engine) as conn:
        store.record(
            conn, _made("ada@example.com", registrant_id="second"), now=NOW + timedelta(hours=1)
        )
    with reading(engine) as conn:
        kept = store.registered(conn, "webinar", 81_000_000_001)
    assert [r.registrant_id for r in kept.values()] == ["first"]


def test_forgetting_a_person_erases_their_registrations_only(engine: Engine) -> None:
    with transaction(engine) as conn:
        store.record(conn, _made("ada@example.com"), now=NOW)
        store.record(conn, _made("bob@example.com", registrant_id="r2"), now=NOW)
    report = forget_person(engine, "Ada@Example.com", now=NOW)
    with reading(engine) as conn:
        left = store.registered(conn, "webinar", 81_000_000_001)
    assert list(left) == ["bob@example.com"]
    assert report.deleted["zoom_registrations"] == 1


def test_a_meeting_and_a_webinar_with_the_same_number_are_never_confused(engine: Engine) -> None:
    with transaction(engine) as conn:
        store.record(conn, _made("ada@example.com", registrant_id="w"), now=NOW)
        store.record(conn, _made("ada@example.com", registrant_id="m", kind="meeting"), now=NOW)
    with reading(engine) as conn:
        webinar = store.registered(conn, "webinar", 81_000_000_001)
        meeting = store.registered(conn, "meeting", 81_000_000_001)
        both = store.of_address(conn, "ADA@example.com")
    assert webinar["ada@example.com"].registrant_id == "w"
    assert meeting["ada@example.com"].registrant_id == "m"
    assert [(r.kind, r.registrant_id) for r in both] == [("meeting", "m"), ("webinar", "w")]


def test_registrations_stored_before_meetings_existed_are_webinar_ones(empty_url: str) -> None:
    engine = store_engine.create_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(store_engine.alembic_config(conn), "0008")
        conn.execute(
            sa.text(
                "INSERT INTO zoom_registrations (webinar_id, occurrence_id, email, "
                "registrant_id, status, registered_at) "
                "VALUES (81000000001, '', 'ada@example.com', 'old', 'approved', :at)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
    store_engine.migrate(engine)
    with reading(engine) as conn:
        webinar = store.registered(conn, "webinar", 81_000_000_001)
        meeting = store.registered(conn, "meeting", 81_000_000_001)
    engine.dispose()
    assert webinar["ada@example.com"].registrant_id == "old"
    assert meeting == {}
