"""Property: the contact Brevo ends with does not depend on the order instances are synced.

Each instance of a person's history is derived as the instance being synced, and the
contact commands are applied in some order the way Brevo applies them (each attribute sent
replaces the one held; an attribute left out keeps it). Any order gives the same contact,
and it holds the values of the latest instance that has them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from zoom_brevo.engagement import Interval, SessionRow
from zoom_brevo.pipeline.commands import UpsertContact
from zoom_brevo.pipeline.derive import (
    DeriveOptions,
    InstanceInfo,
    InstanceRecord,
    Kind,
    PersonInput,
    Registration,
    derive_person,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=60)
OPTIONS = DeriveOptions(lists={"meeting_participants": 1, "webinar_attendees": 2})


@st.composite
def records(draw: st.DrawFn, index: int) -> InstanceRecord:
    kind: Kind = draw(st.sampled_from(["meeting", "webinar"]))
    day = draw(st.integers(0, 5))  # few days: instances often start together
    start = T0 + timedelta(days=day)
    minutes = draw(st.sampled_from([0, 10, 45]))
    status = draw(st.sampled_from(["in_meeting", "in_waiting_room"]))
    sessions = (
        (SessionRow(start, start + timedelta(minutes=minutes), status=status),)  # type: ignore[arg-type]
        if minutes
        else ()
    )
    registered = draw(st.booleans()) or not sessions
    source = draw(st.sampled_from([None, "Newsletter", "Ads"])) if registered else None
    span = Interval(start, start + timedelta(hours=1))
    occurrence = draw(st.sampled_from([None, f"occ-{index}"]))  # recurring or not
    return InstanceRecord(f"uuid-{index}", span, sessions, registered, kind, source, occurrence)


@st.composite
def histories(draw: st.DrawFn) -> tuple[InstanceRecord, ...]:
    count = draw(st.integers(1, 5))
    return tuple(draw(records(i)) for i in range(count))


def contact_after(history: tuple[InstanceRecord, ...], order: list[int]) -> dict[str, object]:
    held: dict[str, object] = {}
    for i in order:
        record = history[i]
        assert record.kind is not None
        span = record.span
        assert span is not None
        info = InstanceInfo(
            record.kind,
            record.uuid,
            100 + i,
            f"Topic {i}",
            span.start,
            span.end,
            occurrence_id=record.occurrence_id,
        )
        registration = Registration(tracking_source=record.tracking_source)
        person = PersonInput(
            "ann@example.com",
            "Ann Lee",
            registration if record.registered else None,
            history,
        )
        outcome = derive_person(info, person, OPTIONS, now=NOW)
        for command in outcome.commands:
            if isinstance(command, UpsertContact):
                held.update(command.attributes)
    return held


@settings(max_examples=300, deadline=None)
@given(history=histories(), data=st.data())
def test_any_sync_order_leaves_the_same_contact(
    history: tuple[InstanceRecord, ...], data: st.DataObject
) -> None:
    forward = contact_after(history, list(range(len(history))))
    order = data.draw(st.permutations(range(len(history))))
    assert contact_after(history, order) == forward


@settings(max_examples=300, deadline=None)
@given(history=histories(), data=st.data())
def test_the_contact_holds_the_latest_webinar_and_the_latest_visit(
    history: tuple[InstanceRecord, ...], data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(history))))
    held = contact_after(history, order)
    by_time = sorted(history, key=lambda r: (r.span.start if r.span else T0, r.uuid))
    webinars = [r for r in by_time if r.kind == "webinar" and (r.registered or attended(r))]
    if webinars:
        assert held["WEBINAR_NAME"] == f"Topic {history.index(webinars[-1])}"
    sources = [r.tracking_source for r in by_time if r.registered and r.tracking_source]
    assert held.get("UTM_SOURCE") == (sources[-1] if sources else None)
    visits = [r for r in by_time if attended(r)]
    if visits:
        (session,) = visits[-1].sessions
        assert session.leave_time is not None
        minutes = (session.leave_time - session.join_time) / timedelta(minutes=1)
        assert held["MEETING_DURATION"] == minutes
    occurrences = [r.occurrence_id for r in visits if r.occurrence_id]
    assert held.get("ZOOM_LAST_OCCURRENCE") == (occurrences[-1] if occurrences else None)


def attended(record: InstanceRecord) -> bool:
    return any(s.status == "in_meeting" for s in record.sessions)
