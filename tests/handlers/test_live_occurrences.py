"""The occurrence of a live instance: ``webinar.started`` / ``.ended`` name none (reference
zoom.md 4.4), so the instance takes the stored occurrence (listed by a registration
webhook's ``occurrences``) whose scheduled start is nearest its actual start; the started
events then carry ``occurrence_id``. Nothing is guessed without stored occurrences.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.sandbox.scenario import Registrant, Scenario, Webinar
from zoom_brevo.sandbox.webhook_sender import ZoomEvents
from zoom_brevo.store import facts
from zoom_brevo.store.engine import reading, transaction

from .conftest import LISTS, NOW
from .test_handlers import commands, run

MINUTE = timedelta(minutes=1)
OPTIONS = HandlerOptions(lists=LISTS)
EVENTS = ZoomEvents(account_id="acct")


def occurrence_id(scheduled: datetime) -> str:
    """Zoom's occurrence id: the scheduled start in milliseconds since the epoch (official
    spec, ``GET /webinars/{webinarId}``: ``"1648194360000"`` for ``2022-03-25T07:46:00Z``)."""
    return str(round(scheduled.timestamp() * 1000))


def weekly(instances: int = 3) -> tuple[Webinar, Registrant]:
    sc = Scenario(seed=5, anchor=datetime(2025, 2, 1, 10, tzinfo=UTC))
    host = sc.user(email="host@example.com")
    web = sc.webinar(host, topic="Weekly", registrants=0, attendees=0, instances=instances)
    ann = web.add_registrant(sc.new_person("ann@example.com", "Ann", "A"))
    latest = web.latest
    latest.scheduled = latest.start - 7 * MINUTE  # the host started it seven minutes late
    return web, ann


def started_props(engine: Engine) -> list[dict[str, Any]]:
    return [
        p["event_properties"]
        for _, p in commands(engine)
        if p.get("event_name") == "zoom_webinar_started"
    ]


def stored_occurrence(engine: Engine, uuid: str) -> str | None:
    with reading(engine) as conn:
        instance = facts.get_instance(conn, uuid)
    assert instance is not None
    return instance.occurrence_id


def test_a_started_recurring_webinar_carries_the_occurrence_its_registration_listed(
    engine: Engine,
) -> None:
    web, ann = weekly()
    created = EVENTS.registration_created(web, ann)
    assert len(created["payload"]["object"]["occurrences"]) == 3
    run(engine, created, EVENTS.started(web.latest), options=OPTIONS)
    expected = occurrence_id(web.latest.scheduled_start)
    assert [p.get("occurrence_id") for p in started_props(engine)] == [expected]
    assert stored_occurrence(engine, web.latest.uuid) == expected


def test_without_stored_occurrences_the_started_event_has_no_occurrence_id(
    engine: Engine,
) -> None:
    web, ann = weekly()
    with transaction(engine) as conn:
        facts.upsert_registrant(
            conn,
            facts.Registrant(kind="webinar", meeting_id=web.id, email=ann.email, status="approved"),
            now=NOW,
        )
    run(engine, EVENTS.started(web.latest), options=OPTIONS)
    assert [("occurrence_id" in p) for p in started_props(engine)] == [False]
    assert stored_occurrence(engine, web.latest.uuid) is None


def test_a_one_off_webinar_lists_no_occurrence_and_its_events_name_none(engine: Engine) -> None:
    web, ann = weekly(instances=1)
    created = EVENTS.registration_created(web, ann)
    assert "occurrences" not in created["payload"]["object"]
    run(engine, created, EVENTS.started(web.latest), options=OPTIONS)
    assert [("occurrence_id" in p) for p in started_props(engine)] == [False]


def test_an_instance_far_from_every_scheduled_start_gets_no_occurrence(engine: Engine) -> None:
    web, ann = weekly()
    web.latest.scheduled = web.latest.start - timedelta(hours=13)  # beyond MAX_DRIFT
    run(
        engine,
        EVENTS.registration_created(web, ann),
        EVENTS.started(web.latest),
        options=OPTIONS,
    )
    assert [("occurrence_id" in p) for p in started_props(engine)] == [False]


def test_the_ended_event_alone_also_finds_the_occurrence(engine: Engine) -> None:
    web, ann = weekly()
    run(
        engine,
        EVENTS.registration_created(web, ann),
        EVENTS.ended(web.instances[1]),
        options=OPTIONS,
    )
    expected = occurrence_id(web.instances[1].scheduled_start)
    assert stored_occurrence(engine, web.instances[1].uuid) == expected
