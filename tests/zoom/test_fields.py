"""The coercions REST models and webhook payloads share (``zoom.fields``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from zoom_brevo.zoom.models import Participant, RecordingFile, TrackingSource
from zoom_brevo.zoom.webhook_models import Envelope, ParticipantObject, RegistrationObject

T0 = datetime(2021, 7, 13, 21, 44, 51, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "text"),
    [("abc", "abc"), ("  abc ", "abc"), (None, ""), (1234567890, "1234567890"), (1.5, "1.5")],
)
def test_text_reads_null_numbers_and_padding(given: object, text: str) -> None:
    assert TrackingSource.model_validate({"id": given}).id == text


@pytest.mark.parametrize(
    ("given", "parsed"), [("2021-07-13T21:44:51Z", T0), ("", None), ("  ", None), (None, None)]
)
def test_blank_or_null_times_are_unknown(given: object, parsed: datetime | None) -> None:
    assert RecordingFile.model_validate({"recording_start": given}).recording_start == parsed
    assert Participant.model_validate({"leave_time": given}).leave_time == parsed


def test_a_registration_event_and_the_rest_listing_read_one_tracking_source() -> None:
    source: dict[str, Any] = {"id": 7, "source_name": " Newsletter ", "tracking_url": None}
    body = {
        "event": "webinar.registration_created",
        "payload": {"object": {"id": 1, "registrant": {"tracking_source": source}}},
    }

    from_event = Envelope[RegistrationObject].model_validate(body).obj.registrant.tracking_source
    from_listing = TrackingSource.model_validate({**source, "visitor_count": 3})

    assert isinstance(from_event, TrackingSource)
    assert (from_event.id, from_event.source_name, from_event.tracking_url) == (
        "7",
        "Newsletter",
        "",
    )
    assert (from_listing.id, from_listing.source_name, from_listing.visitor_count) == (
        "7",
        "Newsletter",
        3,
    )


def test_a_participant_event_and_a_participant_list_share_the_session_fields() -> None:
    shared = {
        "id": "u1",
        "user_id": 16778240,
        "registrant_id": None,
        "join_time": "2021-07-13T21:44:51Z",
    }
    body = {
        "event": "meeting.participant_joined",
        "payload": {"object": {"uuid": "x", "participant": {**shared, "user_name": "Ann"}}},
    }

    from_event = Envelope[ParticipantObject].model_validate(body).obj.participant
    from_list = Participant.model_validate({**shared, "name": "Ann"})

    for row in (from_event, from_list):
        assert (row.id, row.user_id, row.registrant_id, row.join_time) == ("u1", "16778240", "", T0)
