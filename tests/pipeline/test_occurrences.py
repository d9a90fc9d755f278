"""Which occurrence a held instance was: the nearest scheduled start, within half a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zoom_brevo.pipeline.occurrences import MAX_DRIFT, occurrence_of
from zoom_brevo.zoom.models import Occurrence

MONDAY = datetime(2026, 11, 2, 16, tzinfo=UTC)
WEEKLY = [
    Occurrence(occurrence_id=f"id{k}", start_time=MONDAY + timedelta(days=7 * k)) for k in range(3)
]


def test_an_instance_started_late_or_early_is_the_nearest_occurrence() -> None:
    assert occurrence_of(MONDAY + timedelta(days=7, minutes=4), WEEKLY) == "id1"
    assert occurrence_of(MONDAY + timedelta(days=14, minutes=-10), WEEKLY) == "id2"
    assert occurrence_of(MONDAY, WEEKLY) == "id0"


def test_no_occurrence_beyond_the_drift_nor_without_occurrences_or_start() -> None:
    assert occurrence_of(MONDAY + MAX_DRIFT + timedelta(seconds=1), WEEKLY) is None
    assert occurrence_of(MONDAY + MAX_DRIFT, WEEKLY) == "id0"
    assert occurrence_of(MONDAY, []) is None
    assert occurrence_of(None, WEEKLY) is None


def test_occurrences_without_an_id_or_start_are_ignored() -> None:
    odd = [Occurrence(occurrence_id="", start_time=MONDAY), Occurrence(occurrence_id="x")]
    assert occurrence_of(MONDAY, odd) is None
