"""What ``register`` writes back to the Brevo contact (pure)."""

from __future__ import annotations

from zoom_brevo.registration.writeback import attributes_of, next_start
from zoom_brevo.zoom.models import AddedRegistrant

RECURRING = {
    "registrant_id": "r1",
    "join_url": "https://zoom.us/w/1?tk=abc",
    "start_time": "2026-12-10T15:00:00Z",
    "occurrences": [
        {"occurrence_id": "2", "start_time": "2026-12-17T15:00:00Z"},
        {"occurrence_id": "1", "start_time": "2026-12-10T15:00:00Z"},
    ],
}


def test_a_recurring_webinar_gives_the_next_occurrence_and_the_join_link() -> None:
    added = AddedRegistrant.model_validate(RECURRING)
    assert attributes_of(added, pending=False) == {
        "ZOOM_REGISTRANT_ID": "r1",
        "ZOOM_JOIN_URL": "https://zoom.us/w/1?tk=abc",
        "ZOOM_NEXT_START": "2026-12-10T15:00:00Z",
    }


def test_a_single_webinar_gives_its_start_and_pending_gets_no_link() -> None:
    added = AddedRegistrant.model_validate(
        {
            "registrant_id": "r2",
            "join_url": "https://zoom.us/w/2",
            "start_time": "2026-12-10T15:00:00+01:00",
        }
    )
    assert attributes_of(added, pending=True) == {
        "ZOOM_REGISTRANT_ID": "r2",
        "ZOOM_NEXT_START": "2026-12-10T14:00:00Z",
    }
    assert next_start(AddedRegistrant(registrant_id="r3")) is None
