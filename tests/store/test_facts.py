"""Facts: instances, sessions (provisional then final), registrants, people, recordings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import facts, ledger
from zoom_brevo.store.facts import Instance, Registrant, Session

UUID = "4444AAAiAAAAAAAAAAAAAA=="
T = [NOW + timedelta(minutes=m) for m in range(0, 121, 10)]


def meeting(engine: Engine, **fields: object) -> None:
    with engine.begin() as conn:
        facts.upsert_instance(conn, Instance(UUID, 85746065, "meeting", **fields), now=NOW)  # type: ignore[arg-type]


def test_an_instance_merges_what_each_observation_knows(engine: Engine) -> None:
    meeting(engine, topic="Launch", start_time=T[0], details={"type": 2})
    meeting(engine, end_time=T[6], host_email="h@x.io")
    with engine.connect() as conn:
        got = facts.get_instance(conn, UUID)
    assert got == Instance(
        UUID,
        85746065,
        "meeting",
        topic="Launch",
        host_email="h@x.io",
        start_time=T[0],
        end_time=T[6],
        details={"type": 2},
    )


def test_times_in_any_zone_come_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=1))
    meeting(engine, start_time=T[1].astimezone(paris))
    with engine.connect() as conn:
        got = facts.get_instance(conn, UUID)
    assert got is not None and got.start_time == T[1]
    assert got.start_time.utcoffset() == timedelta(0)


def test_collection_state_is_recorded_and_listing_filters_instances(engine: Engine) -> None:
    meeting(engine, start_time=T[0])
    with engine.begin() as conn:
        facts.upsert_instance(conn, Instance("other", 1, "webinar", start_time=T[3]), now=NOW)
        assert facts.set_collected(conn, UUID, "collected", now=T[2])
        assert not facts.set_collected(conn, "unknown", "collected", now=T[2])
        got = facts.get_instance(conn, UUID)
        assert [i.uuid for i in facts.list_instances(conn)] == [UUID, "other"]
        assert [i.uuid for i in facts.list_instances(conn, since=T[1])] == ["other"]
        assert [i.uuid for i in facts.list_instances(conn, meeting_id=1)] == ["other"]
    assert got is not None and (got.collect_state, got.collected_at) == ("collected", T[2])


def test_live_joins_are_stored_once_and_leaves_close_the_matching_session(engine: Engine) -> None:
    meeting(engine)
    join_1 = Session("email:a@x.io", T[0], email="A@X.io", name="Ann")
    join_2 = Session("email:a@x.io", T[3], email="a@x.io")
    with engine.begin() as conn:
        assert facts.record_join(conn, UUID, join_1, now=NOW)
        assert not facts.record_join(conn, UUID, join_1, now=NOW)  # redelivered webhook
        assert facts.record_join(conn, UUID, join_2, now=NOW)
        # reordered: the second leave arrives first, each finds its own session by time
        assert facts.record_leave(conn, UUID, "email:a@x.io", T[5])
        assert facts.record_leave(conn, UUID, "email:a@x.io", T[2])
        assert not facts.record_leave(conn, UUID, "email:b@x.io", T[2])
        got = facts.sessions(conn, UUID)
    assert [(s.join_time, s.leave_time, s.email, s.source) for s in got] == [
        (T[0], T[2], "a@x.io", "provisional"),
        (T[3], T[5], "a@x.io", "provisional"),
    ]


def test_the_final_report_replaces_provisional_sessions_at_once(engine: Engine) -> None:
    meeting(engine)
    final = [
        Session("id:1", T[0], T[4], email="a@x.io"),
        Session("id:1", T[0], T[5], email="a@x.io"),  # same row twice: the longest is kept
        Session("id:2", T[1], T[2], status="in_waiting_room"),
    ]
    with engine.begin() as conn:
        facts.record_join(conn, UUID, Session("email:a@x.io", T[0]), now=NOW)
        assert facts.replace_final(conn, UUID, final, now=T[8]) == 2
        got = facts.sessions(conn, UUID)
        assert facts.replace_final(conn, UUID, final[:1], now=T[9]) == 1  # second pass
        again = facts.sessions(conn, UUID)
    assert [(s.person_key, s.leave_time, s.status, s.source) for s in got] == [
        ("id:1", T[5], "in_meeting", "final"),
        ("id:2", T[2], "in_waiting_room", "final"),
    ]
    assert [(s.person_key, s.leave_time) for s in again] == [("id:1", T[4])]


def test_a_failed_replacement_leaves_the_provisional_sessions(engine: Engine) -> None:
    meeting(engine)
    with engine.begin() as conn:
        facts.record_join(conn, UUID, Session("email:a@x.io", T[0]), now=NOW)
    with pytest.raises(sa.exc.StatementError, match="naive"), engine.begin() as conn:
        facts.replace_final(conn, UUID, [Session("id:1", T[0].replace(tzinfo=None))], now=NOW)
    with engine.connect() as conn:
        assert [s.source for s in facts.sessions(conn, UUID)] == ["provisional"]


def test_sessions_need_their_instance(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        facts.record_join(conn, "no-such-instance", Session("k", T[0]), now=NOW)


def test_a_persons_sessions_are_gathered_across_instances(engine: Engine) -> None:
    meeting(engine)
    with engine.begin() as conn:
        facts.upsert_instance(conn, Instance("u2", 2, "webinar"), now=NOW)
        facts.record_join(conn, UUID, Session("e", T[0], email="a@x.io"), now=NOW)
        facts.replace_final(conn, "u2", [Session("p", T[1], T[2], email="a@x.io")], now=NOW)
        facts.record_join(conn, "u2", Session("e", T[9], email="a@x.io"), now=NOW)
        got = facts.sessions_of(conn, "A@x.io")
    assert {uuid: [s.source for s in rows] for uuid, rows in got.items()} == {
        UUID: ["provisional"],
        "u2": ["final"],
    }


def test_a_registration_keeps_known_fields_and_takes_the_newest_status(engine: Engine) -> None:
    first = Registrant(
        "webinar",
        9,
        "Bo@X.io",
        "approved",
        first_name="Bo",
        join_url="https://z/j",
        tracking_source="linkedin",
    )
    with engine.begin() as conn:
        facts.upsert_registrant(conn, first, now=NOW)
        facts.upsert_registrant(conn, Registrant("webinar", 9, "bo@x.io", "cancelled"), now=T[1])
        facts.upsert_registrant(conn, Registrant("webinar", 10, "c@x.io", "pending"), now=T[1])
        got = facts.list_registrants(conn, "webinar", 9)
        assert facts.list_registrants(conn, "webinar", 9, status="approved") == []
    assert got == [
        Registrant(
            "webinar",
            9,
            "bo@x.io",
            "cancelled",
            first_name="Bo",
            join_url="https://z/j",
            tracking_source="linkedin",
        )
    ]


def test_a_registration_keeps_the_first_time_it_was_made(engine: Engine) -> None:
    made = Registrant("webinar", 9, "bo@x.io", "approved", registered_at=T[0])
    with engine.begin() as conn:
        facts.upsert_registrant(conn, Registrant("webinar", 9, "bo@x.io", "approved"), now=NOW)
        facts.upsert_registrant(conn, made, now=NOW)  # learnt later: filled in
        facts.upsert_registrant(conn, replace(made, registered_at=T[1]), now=T[1])  # kept
        facts.upsert_registrant(conn, replace(made, status="cancelled"), now=T[1])
        [got] = facts.list_registrants(conn, "webinar", 9)
    assert (got.status, got.registered_at) == ("cancelled", T[0])


def test_people_keep_names_and_store_engagement_aggregates(engine: Engine) -> None:
    with engine.begin() as conn:
        facts.upsert_person(conn, "Ann@X.io", first_name="Ann", last_name="Lee", now=NOW)
        facts.upsert_person(conn, "ann@x.io", now=T[1])
        facts.set_engagement(
            conn,
            "ann@x.io",
            meetings_attended=3,
            total_minutes=95.5,
            last_attended=T[2],
            score=41.0,
            now=T[2],
        )
        facts.set_engagement(
            conn,
            "new@x.io",
            meetings_attended=1,
            total_minutes=5.0,
            last_attended=None,
            score=2.0,
            now=T[2],
        )
        ann = facts.get_person(conn, "ANN@x.io")
        page = facts.list_people(conn, limit=1)
        assert [p.email for p in facts.list_people(conn, after_email=page[-1].email)] == [
            "new@x.io"
        ]
    assert ann == facts.Person("ann@x.io", "Ann", "Lee", 3, 95.5, T[2], 41.0)
    assert [p.email for p in page] == ["ann@x.io"]


def test_forgetting_a_person_erases_them_everywhere(engine: Engine) -> None:
    meeting(engine)
    with engine.begin() as conn:
        facts.upsert_person(conn, "a@x.io", first_name="A", now=NOW)
        facts.upsert_person(conn, "b@x.io", now=NOW)
        facts.record_join(conn, UUID, Session("k", T[0], email="a@x.io"), now=NOW)
        facts.upsert_registrant(conn, Registrant("webinar", 9, "a@x.io", "approved"), now=NOW)
        facts.add_rejections(conn, [facts.Rejection(5, "a@x.io", "invalid")], now=NOW)
        ledger.record_if_new(conn, f"event:zoom_attended:{UUID}:a@x.io", now=NOW)
        ledger.record_if_new(conn, f"event:zoom_attended:{UUID}:ba@x.io", now=NOW)
        assert facts.forget_person(conn, "A@x.io") == 5
        assert facts.get_person(conn, "a@x.io") is None
        assert facts.get_person(conn, "b@x.io") is not None
        assert facts.sessions(conn, UUID) == []
        assert ledger.already_sent(conn, [f"event:zoom_attended:{UUID}:ba@x.io"])


def test_a_recording_is_replaced_by_a_duplicate_notification(engine: Engine) -> None:
    first = facts.Recording(
        UUID,
        85746065,
        T[7],
        [{"id": "f1", "download_url": "u1"}],
        topic="Launch",
        share_url="https://z/rec/share/1",
        passcode="p",
    )
    second = facts.Recording(UUID, 85746065, T[7], [{"id": "f1", "download_url": "u2"}])
    with engine.begin() as conn:
        facts.upsert_recording(conn, first, now=NOW)
        facts.upsert_recording(conn, second, now=T[8])
        got = facts.get_recording(conn, UUID)
    assert got is not None
    assert got.files == [{"id": "f1", "download_url": "u2"}]
    assert (got.topic, got.share_url, got.passcode) == ("Launch", "https://z/rec/share/1", "p")


def test_import_rejections_are_listed_per_process(engine: Engine) -> None:
    with engine.begin() as conn:
        facts.add_rejections(conn, [facts.Rejection(5, "A@x.io", "invalid email")], now=NOW)
        facts.add_rejections(conn, [facts.Rejection(6, "b@x.io", "blocklisted")], now=NOW)
        assert facts.add_rejections(conn, [], now=NOW) == 0
        assert facts.list_rejections(conn, process_id=5) == [
            facts.Rejection(5, "a@x.io", "invalid email")
        ]
        assert len(facts.list_rejections(conn)) == 2
