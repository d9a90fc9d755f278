"""derive_person: one person's facts -> contact, lists and events (pure, table-driven)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from zoom_brevo.engagement import Interval, Participation, SessionRow
from zoom_brevo.pipeline.commands import SendEvent, UpsertContact
from zoom_brevo.pipeline.derive import (
    DeriveOptions,
    InstanceInfo,
    InstanceRecord,
    Kind,
    PersonInput,
    Registration,
    Upcoming,
    derive_person,
    event_key,
)
from zoom_brevo.pipeline.mapping import SkipReason

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)
NOW = T0 + timedelta(days=1)
LISTS = {
    "meeting_participants": 1,
    "webinar_attendees": 2,
    "webinar_registrants": 3,
    "webinar_absentees": 4,
}
OPTIONS = DeriveOptions(lists=LISTS, exclude_domains=("internal.example",))
MEETING = InstanceInfo("meeting", "uuid-m", 111, "Weekly", T0, T0 + 60 * M)
WEBINAR = InstanceInfo("webinar", "uuid-w", 222, "Launch", T0, T0 + 60 * M)


def rows(*spans: tuple[int, int], status: str = "in_meeting") -> tuple[SessionRow, ...]:
    return tuple(
        SessionRow(T0 + a * M, T0 + b * M, status=status)  # type: ignore[arg-type]
        for a, b in spans
    )


def person(
    instance: InstanceInfo,
    sessions: tuple[SessionRow, ...] = (),
    *,
    email: str = "ann@example.com",
    registration: Registration | None = None,
    history: tuple[InstanceRecord, ...] = (),
    participation: Participation | None = None,
) -> PersonInput:
    current = InstanceRecord(
        instance.uuid, instance.span, sessions, registered=registration is not None
    )
    return PersonInput(
        email=email,
        display_name="Ann Lee",
        registration=registration,
        history=(current, *history),
        participation=participation,
    )


def contact_of(commands: tuple[object, ...]) -> UpsertContact:
    found = [c for c in commands if isinstance(c, UpsertContact)]
    assert len(found) == 1
    return found[0]


def events_of(commands: tuple[object, ...]) -> list[str]:
    return [c.event_name for c in commands if isinstance(c, SendEvent)]


@pytest.mark.parametrize(
    ("sessions", "minutes", "ratio"),
    [
        (rows((0, 30)), 30.0, 0.5),
        (rows((0, 10), (20, 30)), 20.0, 0.333),  # rejoin: the gap is not counted
        (rows((0, 30), (10, 40)), 40.0, 0.667),  # two devices: overlap counted once
        (rows((-5, 70)), 60.0, 1.0),  # cut to the meeting's span
    ],
)
def test_meeting_attendee_gets_union_minutes_ratio_join_date_list_and_event(
    sessions: tuple[SessionRow, ...], minutes: float, ratio: float
) -> None:
    outcome = derive_person(MEETING, person(MEETING, sessions), OPTIONS, now=NOW)
    contact = contact_of(outcome.commands)
    assert contact.attributes["MEETING_DURATION"] == minutes
    assert contact.attributes["ZOOM_ATTENDANCE_RATIO"] == ratio
    assert contact.attributes["MEETING_JOIN_DATE"] == "2026-03-02"
    assert contact.attributes["FIRSTNAME"] == "Ann"
    assert contact.list_ids == (1,)
    assert events_of(outcome.commands) == ["zoom_attended"]
    assert outcome.attended


def test_waiting_room_only_without_registration_produces_nothing() -> None:
    sessions = rows((0, 20), status="in_waiting_room")
    outcome = derive_person(MEETING, person(MEETING, sessions), OPTIONS, now=NOW)
    assert outcome.commands == ()
    assert not outcome.attended


@pytest.mark.parametrize(
    ("sessions", "registration", "status", "lists", "events"),
    [
        (rows((0, 45)), Registration(tracking_source="Newsletter"), "attended", (3, 2),
         ["zoom_attended"]),
        ((), Registration(tracking_source="Newsletter"), "absent", (3, 4), ["zoom_absent"]),
        (rows((0, 45)), None, "attended", (2,), ["zoom_attended"]),  # came without registering
        ((), Registration(status="pending"), None, None, []),  # not expected: nothing
    ],
)  # fmt: skip
def test_webinar_status_lists_and_events(
    sessions: tuple[SessionRow, ...],
    registration: Registration | None,
    status: str | None,
    lists: tuple[int, ...] | None,
    events: list[str],
) -> None:
    subject = person(WEBINAR, sessions, registration=registration)
    outcome = derive_person(WEBINAR, subject, OPTIONS, now=NOW)
    if lists is None:
        assert outcome.commands == ()
        return
    contact = contact_of(outcome.commands)
    assert contact.attributes["ATTENDANCE_STATUS"] == status
    assert contact.attributes["WEBINAR_NAME"] == "Launch"
    assert contact.list_ids == lists
    assert events_of(outcome.commands) == events
    if registration is not None:
        assert contact.attributes["UTM_SOURCE"] == "Newsletter"


def test_absentee_gets_no_duration_and_lowers_the_average_ratio() -> None:
    week = 7 * 24 * 60
    span = Interval(T0 - week * M, T0 - week * M + 60 * M)
    earlier = InstanceRecord("uuid-old", span, rows((-week, -week + 60)))
    subject = person(WEBINAR, (), registration=Registration(), history=(earlier,))
    outcome = derive_person(WEBINAR, subject, OPTIONS, now=NOW)
    attributes = contact_of(outcome.commands).attributes
    assert "MEETING_DURATION" not in attributes
    assert attributes["ZOOM_MEETINGS_ATTENDED"] == 1
    assert outcome.summary is not None
    assert outcome.summary.average_ratio == 0.5  # (1.0 + 0 for the absence) / 2


def test_aggregates_cover_every_instance_and_participation_raises_the_score() -> None:
    other = InstanceRecord("uuid-2", Interval(T0 + 2 * 60 * M, T0 + 3 * 60 * M), rows((120, 150)))
    quiet = person(MEETING, rows((0, 30)), history=(other,))
    asked = person(MEETING, rows((0, 30)), history=(other,), participation=Participation(2, 1))
    a = derive_person(MEETING, quiet, OPTIONS, now=NOW)
    b = derive_person(MEETING, asked, OPTIONS, now=NOW)
    attributes = contact_of(a.commands).attributes
    assert attributes["ZOOM_MEETINGS_ATTENDED"] == 2
    assert attributes["ZOOM_TOTAL_MINUTES"] == 60.0
    assert attributes["ZOOM_LAST_ATTENDED"] == "2026-03-02"
    score = contact_of(b.commands).attributes["ZOOM_ENGAGEMENT_SCORE"]
    assert isinstance(score, float)
    assert score > attributes["ZOOM_ENGAGEMENT_SCORE"]  # type: ignore[operator]


def test_an_event_already_sent_or_queued_is_left_out() -> None:
    key = event_key("zoom_attended", MEETING.uuid, "ann@example.com")
    outcome = derive_person(MEETING, person(MEETING, rows((0, 30))), OPTIONS, already={key},
                            now=NOW)  # fmt: skip
    assert events_of(outcome.commands) == []
    assert outcome.events_already_sent == 1
    assert contact_of(outcome.commands).list_ids == (1,)  # the contact is still updated


def test_events_off_sends_none() -> None:
    options = DeriveOptions(lists=LISTS, events=False)
    outcome = derive_person(MEETING, person(MEETING, rows((0, 30))), options, now=NOW)
    assert events_of(outcome.commands) == []
    assert outcome.events_already_sent == 0


def test_event_carries_the_instance_and_minutes() -> None:
    outcome = derive_person(MEETING, person(MEETING, rows((0, 30))), OPTIONS, now=NOW)
    (event,) = [c for c in outcome.commands if isinstance(c, SendEvent)]
    assert event.ledger_key == "zoom_attended:uuid-m:ann@example.com"
    assert event.event_properties == {
        "meeting_id": "111",
        "uuid": "uuid-m",
        "topic": "Weekly",
        "start_time": "2026-03-02T09:00:00Z",
        "end_time": "2026-03-02T10:00:00Z",
        "minutes_attended": 30.0,
    }


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("not-an-address", SkipReason.INVALID_EMAIL),
        ("boss@internal.example", SkipReason.EXCLUDED_DOMAIN),
        ("boss@eu.internal.example", SkipReason.EXCLUDED_DOMAIN),
    ],
)
def test_unusable_addresses_are_skipped_with_a_reason_and_nothing_is_sent(
    email: str, reason: SkipReason
) -> None:
    outcome = derive_person(MEETING, person(MEETING, rows((0, 30)), email=email), OPTIONS,
                            now=NOW)  # fmt: skip
    assert outcome.commands == ()
    assert outcome.skipped is reason


def test_unconfigured_lists_are_left_out() -> None:
    options = DeriveOptions(lists={"webinar_registrants": 3})
    subject = person(WEBINAR, (), registration=Registration())
    outcome = derive_person(WEBINAR, subject, options, now=NOW)
    assert contact_of(outcome.commands).list_ids == (3,)


# --- the latest instance owns the per-instance attributes ------------------------------------

DAY = 24 * 60
ATTENDANCE_ATTRIBUTES = {"MEETING_JOIN_DATE", "MEETING_DURATION", "ZOOM_ATTENDANCE_RATIO"}
REGISTRATION_ATTRIBUTES = {"WEBINAR_NAME", "ATTENDANCE_STATUS"}


def record(
    days: int,
    sessions: tuple[tuple[int, int], ...] = ((0, 30),),
    *,
    kind: Kind | None = "meeting",
    registered: bool = False,
    status: str = "in_meeting",
    source: str | None = None,
) -> InstanceRecord:
    """An instance ``days`` after T0 (before it when negative), with the person's sessions."""
    offset = days * DAY
    span = Interval(T0 + offset * M, T0 + (offset + 60) * M)
    moved = rows(*((a + offset, b + offset) for a, b in sessions), status=status)
    return InstanceRecord(f"uuid-{days}-{kind}", span, moved, registered, kind, source)


def attributes_of(instance: InstanceInfo, subject: PersonInput) -> dict[str, object]:
    return dict(contact_of(derive_person(instance, subject, OPTIONS, now=NOW).commands).attributes)


def test_a_later_attended_instance_keeps_its_join_date_duration_and_ratio() -> None:
    subject = person(MEETING, rows((0, 30)), history=(record(7),))
    attributes = attributes_of(MEETING, subject)
    assert not ATTENDANCE_ATTRIBUTES & set(attributes)
    assert attributes["FIRSTNAME"] == "Ann"
    assert attributes["ZOOM_MEETINGS_ATTENDED"] == 2  # aggregates still cover both
    assert attributes["ZOOM_LAST_ATTENDED"] == "2026-03-09"


@pytest.mark.parametrize(
    "other",
    [
        record(-7),  # earlier: this instance is the latest
        record(7, status="in_waiting_room"),  # later, but only waited: not attended
        record(7, (), registered=True),  # later, registered and absent: not attended
        InstanceRecord("uuid-unknown", None, rows((0, 30))),  # start unknown: never later
    ],
    ids=["earlier", "waiting-room", "absent", "span-unknown"],
)
def test_the_instance_keeps_its_attendance_attributes_unless_attended_later(
    other: InstanceRecord,
) -> None:
    subject = person(MEETING, rows((0, 30)), history=(other,))
    assert set(attributes_of(MEETING, subject)) >= ATTENDANCE_ATTRIBUTES


@pytest.mark.parametrize(("later_source", "sent_source"), [("Partner", None), (None, "Ads")])
def test_a_later_webinar_registration_keeps_its_title_status_and_a_source_it_has(
    later_source: str | None, sent_source: str | None
) -> None:
    later = record(7, (), kind="webinar", registered=True, source=later_source)  # stayed away
    subject = person(WEBINAR, rows((0, 45)), registration=Registration(tracking_source="Ads"),
                     history=(later,))  # fmt: skip
    attributes = attributes_of(WEBINAR, subject)
    assert not REGISTRATION_ATTRIBUTES & set(attributes)
    assert attributes.get("UTM_SOURCE") == sent_source  # never blanked by a source-less one
    assert set(attributes) >= ATTENDANCE_ATTRIBUTES  # the absence attended nothing later


def test_a_later_meeting_takes_the_status_but_not_the_webinar_title() -> None:
    subject = person(WEBINAR, rows((0, 45)), registration=Registration(tracking_source="Ads"),
                     history=(record(7, kind="meeting"),))  # fmt: skip
    attributes = attributes_of(WEBINAR, subject)
    assert set(attributes) >= {"WEBINAR_NAME", "UTM_SOURCE"}
    assert "ATTENDANCE_STATUS" not in attributes  # one attribute: the later meeting's owns it
    assert not ATTENDANCE_ATTRIBUTES & set(attributes)  # the meeting was attended later


def test_lists_and_events_do_not_depend_on_later_instances() -> None:
    subject = person(WEBINAR, (), registration=Registration(), history=(record(7, kind="webinar"),))
    outcome = derive_person(WEBINAR, subject, OPTIONS, now=NOW)
    assert contact_of(outcome.commands).list_ids == (3, 4)
    assert events_of(outcome.commands) == ["zoom_absent"]


@pytest.mark.parametrize(
    ("upcoming", "dropped"),
    [
        # Registered for the next webinar after this one started: it owns title and status
        # (and the source, when it has one); the attendance attributes stay this instance's.
        (Upcoming("webinar", T0 + 2 * 60 * M, "Partner"), {*REGISTRATION_ATTRIBUTES, "UTM_SOURCE"}),
        (Upcoming("webinar", T0 + 2 * 60 * M), REGISTRATION_ATTRIBUTES),
        # Registered before this one started: this instance is the newer fact.
        (Upcoming("webinar", T0 - M, "Partner"), set()),
        # A meeting registration owns the status (one attribute for both kinds) and a source
        # it has, never the webinar title.
        (Upcoming("meeting", T0 + 2 * 60 * M, "Partner"), {"ATTENDANCE_STATUS", "UTM_SOURCE"}),
    ],
    ids=["later-with-source", "later-without-source", "earlier", "meeting"],
)
def test_a_registration_to_an_upcoming_webinar_counts_from_when_it_was_made(
    upcoming: Upcoming, dropped: set[str]
) -> None:
    subject = replace(
        person(WEBINAR, rows((0, 45)), registration=Registration(tracking_source="Ads")),
        upcoming=(upcoming,),
    )
    attributes = attributes_of(WEBINAR, subject)
    kept = {*REGISTRATION_ATTRIBUTES, *ATTENDANCE_ATTRIBUTES, "UTM_SOURCE"} - dropped
    assert set(attributes) >= kept
    assert not dropped & set(attributes)
