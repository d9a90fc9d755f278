"""Roster: an instance's people, a page at a time, and their facts for a chunk of them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import facts, roster
from zoom_brevo.store.facts import Instance, Registrant, Session

T = [NOW + timedelta(minutes=m) for m in range(0, 121, 10)]


def seed(engine: Engine) -> None:
    """Webinar 7 held twice (``w1`` collected, ``w2`` not), meeting 9 once (``m1``)."""
    with engine.begin() as conn:
        for inst in (
            Instance("w1", 7, "webinar", start_time=T[0], end_time=T[6], collect_state="collected"),
            Instance("w2", 7, "webinar", start_time=T[8]),
            Instance("m1", 9, "meeting"),
        ):
            facts.upsert_instance(conn, inst, now=NOW)
        final = [
            Session("p1", T[0], T[2], email="b@x.io", name="Bea", source="final"),
            Session("p1", T[3], T[4], email="b@x.io", name="Bea", source="final"),
            Session("p2", T[1], T[5], email="d@x.io", source="final"),
            Session("g1", T[1], T[2], name="Guest", source="final"),
            Session("g2", T[1], T[2], name="Guest 2", source="final"),
        ]
        facts.replace_final(conn, "w1", final, now=NOW)
        facts.record_join(conn, "m1", Session("p1", T[9], email="b@x.io"), now=NOW)
        for email, status, meeting_id in (
            ("a@x.io", "approved", 7),
            ("b@x.io", "approved", 7),
            ("c@x.io", "denied", 7),
            ("e@x.io", "approved", 7),
            ("b@x.io", "approved", 8),
        ):
            reg = Registrant("webinar", meeting_id, email, status, first_name=email[0])
            facts.upsert_registrant(conn, reg, now=NOW)


def test_people_pages_final_attendees_and_approved_registrants_in_order(engine: Engine) -> None:
    seed(engine)
    pages = []
    with engine.connect() as conn:
        after = ""
        while page := roster.people_page(
            conn, uuid="w1", kind="webinar", meeting_id=7, after=after, limit=2
        ):
            pages.append(page)
            after = page[-1]
        meeting = roster.people_page(
            conn, uuid="m1", kind="meeting", meeting_id=9, after="", limit=9
        )
    assert pages == [["a@x.io", "b@x.io"], ["d@x.io", "e@x.io"]]  # c@ was denied
    assert meeting == []  # provisional sessions only: nobody is final yet


def test_sessions_registrations_and_instances_of_a_chunk_of_people(engine: Engine) -> None:
    seed(engine)
    with engine.connect() as conn:
        sessions = roster.sessions_of_people(conn, ["b@x.io", "d@x.io"], except_source="none")
        finals = roster.sessions_of_people(conn, ["b@x.io"], except_source="provisional")
        regs = roster.registrations_of_people(conn, ["b@x.io", "c@x.io"])
        insts = roster.instances_involved(conn, ["m1"], [7])
        nothing = roster.instances_involved(conn, [], [])
    assert [(s.email, s.instance_uuid, s.source, s.join_time) for s in sessions] == [
        ("b@x.io", "m1", "provisional", T[9]),
        ("b@x.io", "w1", "final", T[0]),
        ("b@x.io", "w1", "final", T[3]),
        ("d@x.io", "w1", "final", T[1]),
    ]
    assert sessions[1] == roster.SessionFact(
        "b@x.io", "w1", "final", "Bea", T[0], T[2], "in_meeting"
    )
    assert [s.instance_uuid for s in finals] == ["w1", "w1"]
    assert sorted((r.email, r.meeting_id, r.status, r.first_name) for r in regs) == [
        ("b@x.io", 7, "approved", "b"),
        ("b@x.io", 8, "approved", "b"),
        ("c@x.io", 7, "denied", "c"),
    ]
    assert all(r.answers == {} for r in regs)  # no answers stored: an empty mapping
    assert sorted((i.uuid, i.kind, i.meeting_id, i.collect_state) for i in insts) == [
        ("m1", "meeting", 9, "pending"),
        ("w1", "webinar", 7, "collected"),
        ("w2", "webinar", 7, "pending"),
    ]
    assert next(i for i in insts if i.uuid == "w1").end_time == T[6]
    assert nothing == []


def test_guests_without_email_counts_distinct_people(engine: Engine) -> None:
    seed(engine)
    with engine.connect() as conn:
        assert roster.guests_without_email(conn, "w1") == 2
        assert roster.guests_without_email(conn, "m1") == 0
