"""Payload models: Zoom's inconsistent ids, its ``date_time`` typo, missing and null fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from zoom_brevo.zoom.webhook_models import (
    Envelope,
    MeetingObject,
    ParticipantObject,
    RecordingObject,
    RegistrationObject,
    event_kind,
)

T0 = datetime(2021, 7, 13, 21, 44, 51, tzinfo=UTC)
T1 = datetime(2021, 7, 13, 22, 50, 51, tzinfo=UTC)


def body(obj: dict[str, Any], event: str = "meeting.started") -> dict[str, Any]:
    return {"event": event, "event_ts": 1, "payload": {"account_id": "a", "object": obj}}


@pytest.mark.parametrize(
    ("given_id", "meeting_id", "text"),
    [
        ("1234567890", 1234567890, "1234567890"),
        (1234567890, 1234567890, "1234567890"),
        ("123 456 7890", 1234567890, "123 456 7890"),
        ("{MEETING_ID}", 0, "{MEETING_ID}"),
        (None, 0, ""),
    ],
)
def test_the_meeting_id_is_read_from_a_string_or_an_integer(
    given_id: object, meeting_id: int, text: str
) -> None:
    parsed = Envelope[MeetingObject].model_validate(body({"id": given_id, "uuid": "u"}))
    assert (parsed.obj.meeting_id, parsed.obj.id) == (meeting_id, text)


@pytest.mark.parametrize(
    ("participant", "joined", "left"),
    [
        ({"join_time": "2021-07-13T21:44:51Z"}, T0, None),
        ({"date_time": "2021-07-13T21:44:51Z"}, T0, T0),  # Zoom's example typo
        ({"leave_time": "2021-07-13T22:50:51Z", "date_time": "2021-07-13T21:44:51Z"}, T0, T1),
        ({"join_time": "2021-07-13T21:44:51"}, T0, None),  # no offset: UTC
        ({"join_time": "", "leave_time": None}, None, None),
        ({}, None, None),
    ],
)
def test_participant_times_tolerate_the_date_time_typo_and_blanks(
    participant: dict[str, Any], joined: datetime | None, left: datetime | None
) -> None:
    obj = {"uuid": "u", "participant": {"user_id": 16778240, "email": None, **participant}}
    parsed = Envelope[ParticipantObject].model_validate(body(obj, "meeting.participant_joined"))
    who = parsed.obj.participant
    assert (who.joined_at, who.left_at) == (joined, left)
    assert (who.user_id, who.email) == ("16778240", "")


def test_a_registration_without_optional_fields_still_parses() -> None:
    obj = {"id": 5, "uuid": "w", "registrant": {"email": "a@b.example", "tracking_source": None}}
    parsed = Envelope[RegistrationObject].model_validate(
        body(obj, "webinar.registration_cancelled")
    )
    reg = parsed.obj.registrant
    assert (reg.email, reg.first_name, reg.tracking_source, parsed.obj.meeting_id) == (
        "a@b.example", "", None, 5,
    )  # fmt: skip


@pytest.mark.parametrize(("zoom_type", "kind"), [(5, "webinar"), ("9", "webinar"), (2, "meeting"),
                                                 (None, "meeting")])  # fmt: skip
def test_a_recording_knows_whether_it_is_of_a_webinar(zoom_type: object, kind: str) -> None:
    parsed = Envelope[RecordingObject].model_validate(
        body({"id": 1, "uuid": "u", "type": zoom_type}, "recording.completed")
    )
    assert parsed.obj.kind == kind


@pytest.mark.parametrize(
    ("event", "kind"),
    [("webinar.participant_left", "webinar"), ("meeting.ended", "meeting")],
)
def test_event_kind_comes_from_the_event_name(event: str, kind: str) -> None:
    assert event_kind(event) == kind
