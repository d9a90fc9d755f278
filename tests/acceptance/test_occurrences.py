"""Occurrences of a recurring webinar end to end: ``sync webinar ID`` over real HTTP.

A weekly webinar with three occurrences, each its own past instance (own UUID and start);
the second started four minutes after its schedule, as hosts do. Each instance is stored
with the id of the occurrence it was, its events carry that id, and ``ZOOM_LAST_OCCURRENCE``
names the last occurrence each person attended. A one-off webinar has no occurrence.
The expected ids are computed here from the scenario's schedule (the official spec's
example: ``"occurrence_id": "1648194360000"`` for ``"start_time": "2022-03-25T07:46:00Z"``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.helpers import invoke
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.combined import (
    ZOOM_ACCOUNT_ID,
    ZOOM_CLIENT_ID,
    ZOOM_CLIENT_SECRET,
    Sandbox,
    build_sandbox,
    sandbox_config,
)
from zoom_brevo.sandbox.scenario import Instance, Person, Scenario, Webinar
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import facts, occurrences
from zoom_brevo.store.engine import create_engine, reading
from zoom_brevo.zoom.client import ZoomClient

ANCHOR = datetime(2026, 11, 3, 16, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def occurrence_id(scheduled: datetime) -> str:
    """Zoom's occurrence id: the scheduled start in milliseconds since the epoch."""
    return str(round((scheduled - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000))


@dataclass
class World:
    scenario: Scenario
    recurring: Webinar
    one_off: Webinar
    skipper: Person  # attended the first two occurrences, not the third


def build_world() -> World:
    sc = Scenario(seed=11, anchor=ANCHOR)
    host = sc.user(email="host@example.com")
    recurring = sc.webinar(host, topic="Weekly demo", registrants=10, attendees=6, sources=1,
                           instances=3, start=ANCHOR - timedelta(days=1))  # fmt: skip
    late = recurring.instances[1]
    late.scheduled = late.start - 4 * MINUTE  # the host started it four minutes late
    skipper = sc.new_person("skip.per@example.com", "Sky", "Per")
    reg = recurring.add_registrant(skipper)
    for inst in recurring.instances[:2]:
        t = inst.start
        inst.add_attendee(skipper, [(t + MINUTE, t + 30 * MINUTE)], registrant=reg)
    one_off = sc.webinar(host, topic="Launch", registrants=6, attendees=4, sources=1,
                         people_offset=30, start=ANCHOR - timedelta(hours=5))  # fmt: skip
    return World(sc, recurring, one_off, skipper)


def _sync(box: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], *ids: int) -> str:
    store = f"sqlite:///{tmp_path / 'zb.db'}"
    with serving(box.app) as url:
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(sandbox_config(url, box.list_ids, storage_url=store), "utf-8")
        for ident in ids:
            result = invoke(capsys, ["--config", str(config), "sync", "webinar", str(ident)])
            assert result.code == 0, result.err
    return config


def _expected(inst: Instance) -> str:
    return occurrence_id(inst.scheduled_start)


def test_each_occurrence_is_its_own_instance_in_store_events_and_attributes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world()
    box = build_sandbox(world.scenario, prepare_brevo=True)
    config = _sync(box, tmp_path, capsys, world.recurring.id, world.one_off.id)
    store = f"sqlite:///{tmp_path / 'zb.db'}"

    wanted = {i.uuid: _expected(i) for i in world.recurring.instances}
    assert len(set(wanted.values())) == 3
    with reading(create_engine(store)) as conn:
        stored = {i.uuid: i.occurrence_id for i in facts.list_instances(conn)}
    assert stored == wanted | {world.one_off.latest.uuid: None}

    attended = [e for e in box.brevo.state.events if e.event_name == "zoom_attended"]
    by_uuid = {e.event_properties["uuid"]: e for e in attended}
    assert set(by_uuid) == set(stored)  # every instance had attendees
    for event in attended:
        props = event.event_properties
        assert props.get("occurrence_id") == stored[props["uuid"]], props
    absent = [e for e in box.brevo.state.events if e.event_name == "zoom_absent"]
    assert absent  # registrants who stayed away: their events name the occurrence too
    assert all(e.event_properties.get("occurrence_id") == stored[e.event_properties["uuid"]]
               for e in absent)  # fmt: skip

    held = {c.email: dict(c.attributes) for c in box.brevo.state.contacts.values()}
    second = _expected(world.recurring.instances[1])
    assert held[world.skipper.email]["ZOOM_LAST_OCCURRENCE"] == second
    latest = _expected(world.recurring.latest)
    # The generated attendees come to every occurrence (those Brevo may receive).
    regulars = {a.person.email.lower() for a in world.recurring.latest.attendances()} & set(held)
    assert len(regulars) > 1
    assert {held[e].get("ZOOM_LAST_OCCURRENCE") for e in regulars} == {latest}
    one_off_only = {a.person.email.lower() for a in world.one_off.latest.attendances()}
    one_off_only = (one_off_only & set(held)) - regulars
    assert one_off_only
    assert all("ZOOM_LAST_OCCURRENCE" not in held[e] for e in one_off_only)

    # The report lists each occurrence the person attended as its own row.
    args = ["report", "engagement", "--email", world.skipper.email, "--format", "json"]
    result = invoke(capsys, ["--config", str(config), *args])
    assert result.code == 0, result.err
    rows = json.loads(result.out)["rows"]
    first, second_inst = world.recurring.instances[:2]
    assert [(r["uuid"], r["occurrence_id"]) for r in rows] == [
        (second_inst.uuid, _expected(second_inst)),
        (first.uuid, _expected(first)),
    ]


def test_get_webinar_lists_past_occurrences_only_when_asked() -> None:
    world = build_world()
    box = build_sandbox(world.scenario, prepare_brevo=False)

    async def fetch(url: str, *, previous: bool) -> list[str]:
        async with ZoomClient.server_to_server(
            account_id=ZOOM_ACCOUNT_ID, client_id=ZOOM_CLIENT_ID, client_secret=ZOOM_CLIENT_SECRET,
            api_base_url=f"{url}/zoom/v2", oauth_base_url=f"{url}/zoom",
            limiter=LocalRateLimiter({}),
        ) as client:  # fmt: skip
            webinar = await client.webinar(world.recurring.id, previous_occurrences=previous)
        return [o.occurrence_id for o in webinar.occurrences]

    with serving(box.app) as url:
        upcoming = asyncio.run(fetch(url, previous=False))
        every = asyncio.run(fetch(url, previous=True))
    assert upcoming == []  # all three are over
    assert every == [_expected(i) for i in world.recurring.instances]


def test_syncing_one_instance_by_uuid_finds_its_occurrence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ``collect`` job's path: one UUID, a webinar that started four minutes late."""
    world = build_world()
    late = world.recurring.instances[1]
    box = build_sandbox(world.scenario, prepare_brevo=True)
    store = f"sqlite:///{tmp_path / 'zb.db'}"
    with serving(box.app) as url:
        config = tmp_path / "zoom-brevo.yaml"
        config.write_text(sandbox_config(url, box.list_ids, storage_url=store), "utf-8")
        result = invoke(capsys, ["--config", str(config), "sync", "webinar", late.uuid])
        assert result.code == 0, result.err
    with reading(create_engine(store)) as conn:
        stored = facts.get_instance(conn, late.uuid)
    assert stored is not None
    assert stored.start_time == late.start != late.scheduled_start
    assert stored.occurrence_id == _expected(late)


def test_sync_keeps_the_listed_occurrences_for_the_live_instances_to_come(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The started webhook names no occurrence: the store keeps those Zoom listed."""
    world = build_world()
    box = build_sandbox(world.scenario, prepare_brevo=True)
    _sync(box, tmp_path, capsys, world.recurring.id, world.one_off.id)
    with reading(create_engine(f"sqlite:///{tmp_path / 'zb.db'}")) as conn:
        kept = occurrences.known(conn, "webinar", world.recurring.id)
        assert occurrences.known(conn, "webinar", world.one_off.id) == []
    expected = [(_expected(i), i.scheduled_start) for i in world.recurring.instances]
    assert kept == expected
