"""Collecting into the store: participant rows in chunks, staged, switched in atomically."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.zoom.scripted import UUID as REPORT_UUID
from tests.zoom.scripted import Chunks, Zoom, report_body
from zoom_brevo.engagement import EngagementSummary, Participation
from zoom_brevo.errors import NotReady
from zoom_brevo.pipeline import collect, gather, rows, staging
from zoom_brevo.pipeline.derive import InstanceInfo, PersonOutcome
from zoom_brevo.pipeline.persist import store_people
from zoom_brevo.store import facts
from zoom_brevo.store.engine import create_engine, migrate, reading, transaction
from zoom_brevo.zoom.models import Participant
from zoom_brevo.zoom.models import Registrant as ZoomRegistrant

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
UUID = "/abc//def=="


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(eng)
    with transaction(eng) as conn:
        end = T0 + timedelta(hours=1)
        instance = facts.Instance(UUID, 42, "meeting", start_time=T0, end_time=end)
        facts.upsert_instance(conn, instance, now=NOW)
    yield eng
    eng.dispose()


def participant(
    email: str = "", start_min: int = 0, end_min: int = 30, **extra: str
) -> Participant:
    return Participant.model_validate(
        {
            "user_email": email,
            "name": "Ann Lee",
            "join_time": (T0 + timedelta(minutes=start_min)).isoformat(),
            "leave_time": (T0 + timedelta(minutes=end_min)).isoformat(),
            "duration": (end_min - start_min) * 60,
            "status": "in_meeting",
            **extra,
        }
    )


async def stream(items: list[Participant]) -> AsyncIterator[Participant]:
    for item in items:
        yield item


@pytest.mark.parametrize(
    ("row", "key"),
    [
        (participant("Ann@Example.com", id="zoom-user"), "email:ann@example.com"),
        (participant("", id="zoom-user"), "user:zoom-user"),
        (participant("", registrant_id="reg-1"), "registrant:reg-1"),
        (participant("", user_id="16778240"), "session:16778240"),
    ],
)
def test_person_key_prefers_the_email_then_user_registrant_and_session(
    row: Participant, key: str
) -> None:
    session = rows.session_from_participant(row)
    assert session is not None
    assert session.person_key == key


def test_registrant_source_comes_from_the_filtered_listing_or_the_row() -> None:
    row = ZoomRegistrant.model_validate({"id": "r1", "email": " A@B.com ", "first_name": "A"})
    by_listing = rows.registrant_fact(row, "webinar", 7, tracking_source="Newsletter")
    assert by_listing is not None
    assert (by_listing.email, by_listing.tracking_source) == ("a@b.com", "Newsletter")
    tagged = ZoomRegistrant.model_validate({"email": "a@b.com", "source_id": "s1"})
    found = rows.registrant_fact(tagged, "webinar", 7, sources={"s1": "LinkedIn"})
    assert found is not None
    assert found.tracking_source == "LinkedIn"
    assert rows.registrant_fact(ZoomRegistrant(email=""), "webinar", 7) is None


@pytest.mark.parametrize(
    ("create_time", "registered_at"),
    [
        ("2026-03-02T09:15:00Z", datetime(2026, 3, 2, 9, 15, tzinfo=UTC)),
        ("", None),  # Zoom sends "" for an unknown time
    ],
)
def test_a_registrant_was_registered_at_its_create_time(
    create_time: str, registered_at: datetime | None
) -> None:
    row = ZoomRegistrant.model_validate({"email": "a@b.com", "create_time": create_time})
    found = rows.registrant_fact(row, "webinar", 7)
    assert found is not None
    assert found.registered_at == registered_at


async def test_rows_are_staged_in_chunks_and_invisible_until_promoted(engine: Engine) -> None:
    items = [participant(f"p{i}@example.com") for i in range(7)]
    items.append(participant("P0@EXAMPLE.COM", 0, 45))  # same person, same join: longest kept
    count = await collect.collect_participants(engine, UUID, stream(items), now=NOW, chunk_size=3)
    assert count == 8
    with reading(engine) as conn:
        assert gather.people_of(conn, info(), after="", limit=100) == []
    with transaction(engine) as conn:
        assert staging.promote(conn, UUID) == 7
    with reading(engine) as conn:
        kept = [s for s in facts.sessions(conn, UUID) if s.email == "p0@example.com"]
        assert [s.leave_time for s in kept] == [T0 + timedelta(minutes=45)]
        assert len(gather.people_of(conn, info(), after="", limit=100)) == 7


async def test_a_new_collection_replaces_the_previous_one(engine: Engine) -> None:
    for emails in (["a@example.com", "b@example.com"], ["c@example.com"]):
        await collect.collect_participants(
            engine, UUID, stream([participant(e) for e in emails]), now=NOW
        )
        with transaction(engine) as conn:
            staging.promote(conn, UUID)
    with reading(engine) as conn:
        assert {s.email for s in facts.sessions(conn, UUID)} == {"c@example.com"}


async def test_rows_without_email_get_the_registration_address_by_registrant_id(
    engine: Engine,
) -> None:
    with transaction(engine) as conn:
        facts.upsert_registrant(
            conn, facts.Registrant("webinar", 42, "reg@example.com", "approved", "r-9"), now=NOW
        )
    items = [participant("", registrant_id="r-9"), participant("")]
    await collect.collect_participants(engine, UUID, stream(items), by_registrant_id=True, now=NOW)
    with transaction(engine) as conn:
        staging.promote(conn, UUID, registrations_of=("webinar", 42))
        assert gather.guests_without_email(conn, UUID) == 1
        assert {s.email for s in facts.sessions(conn, UUID)} == {"reg@example.com", None}


async def test_the_registration_address_is_found_when_switched_in_not_when_staged(
    engine: Engine,
) -> None:
    items = [
        participant("", 0, 20, registrant_id="r-9"),
        participant("", 0, 30, registrant_id="r-9"),  # same join, lasted longer: kept
        participant("REG@example.com", 40, 50),  # the same person, signed in
        participant("", 60, 70, registrant_id="r-unknown", participant_user_id="u-1"),
        participant("", 60, 80, participant_user_id="u-1"),  # same key without the e-mail
    ]
    await collect.collect_participants(engine, UUID, stream(items), by_registrant_id=True, now=NOW)
    with transaction(engine) as conn:  # registered after the report was staged
        facts.upsert_registrant(
            conn, facts.Registrant("webinar", 42, "reg@example.com", "approved", "r-9"), now=NOW
        )
    with transaction(engine) as conn:
        assert staging.promote(conn, UUID, registrations_of=("webinar", 42)) == 3
    with reading(engine) as conn:
        found = [
            (s.person_key, s.email, s.join_time, s.leave_time) for s in facts.sessions(conn, UUID)
        ]
    minutes = [T0 + timedelta(minutes=m) for m in (0, 30, 40, 50, 60, 80)]
    assert found == [
        ("email:reg@example.com", "reg@example.com", minutes[0], minutes[1]),
        ("email:reg@example.com", "reg@example.com", minutes[2], minutes[3]),
        ("user:u-1", None, minutes[4], minutes[5]),
    ]


async def test_all_zero_durations_mean_zoom_is_not_ready(engine: Engine) -> None:
    items = [participant("a@example.com", 0, 0), participant("b@example.com", 5, 5)]
    with pytest.raises(NotReady, match="try again"):
        await collect.collect_participants(engine, UUID, stream(items), now=NOW)


def info() -> InstanceInfo:
    return InstanceInfo("meeting", UUID, 42, "Weekly", T0, T0 + timedelta(hours=1))


def test_people_are_stored_with_their_aggregates_and_known_names_kept(engine: Engine) -> None:
    summary = EngagementSummary(2, 90.0, T0, 0.75, 1, 0, 61.5)
    named = PersonOutcome("ann@example.com", summary=summary, first_name="Ann", last_name="Lee")
    unnamed = PersonOutcome("ann@example.com", summary=summary)
    with transaction(engine) as conn:
        assert store_people(conn, [named], now=NOW) == 1
        assert store_people(conn, [unnamed, PersonOutcome("x@example.com")], now=NOW) == 1
        stored = facts.get_person(conn, "ann@example.com")
    assert stored == facts.Person("ann@example.com", "Ann", "Lee", 2, 90.0, T0, 61.5)


async def test_participation_counts_both_reports_and_restarts_one_cut_off_midway() -> None:
    qa = {
        "questions": [
            {
                "email": "Ann@Example.com",
                "question_details": [
                    {"question_id": "q1", "question_status": "default"},
                    {"question_id": "q2", "question_status": "deleted"},
                ],
            }
        ]
    }
    polls = report_body(300)  # person<n>@example.com answered poll p<n % 3>
    cut_off = Chunks(polls, cut=20)
    scripted = Zoom(Chunks(json.dumps(qa).encode()), cut_off, Chunks(polls))
    async with scripted.client() as zoom:
        got = await collect.participation(
            zoom.webinar_qa_report(REPORT_UUID), zoom.webinar_poll_report(REPORT_UUID)
        )
    assert scripted.api_calls == 3  # the poll report was read again from its start
    assert got["ann@example.com"] == Participation(questions=1, polls_answered=0)
    assert len(got) == 301
    assert {got[f"person{n}@example.com"] for n in range(300)} == {Participation(0, 1)}
