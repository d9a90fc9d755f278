"""The occurrences Zoom listed: one row per meeting or webinar and occurrence id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.store import occurrences
from zoom_brevo.store.engine import reading, transaction

START = datetime(2025, 3, 4, 16, tzinfo=UTC)


@pytest.mark.parametrize("moved_by", [timedelta(0), timedelta(hours=1)])
def test_a_listing_again_keeps_one_row_per_occurrence_with_its_latest_start(
    engine: Engine, moved_by: timedelta
) -> None:
    with transaction(engine) as conn:
        occurrences.remember(conn, "webinar", 7, [("1", START)], now=NOW)
    with transaction(engine) as conn:
        occurrences.remember(conn, "webinar", 7, [("1", START + moved_by)], now=NOW)
    with reading(engine) as conn:
        assert occurrences.known(conn, "webinar", 7) == [("1", START + moved_by)]


def test_occurrences_without_id_or_start_are_skipped_and_kinds_kept_apart(engine: Engine) -> None:
    with transaction(engine) as conn:
        stored = occurrences.remember(
            conn, "webinar", 7, [("2", START + timedelta(days=7)), ("1", START), ("3", None),
                                 ("", START)], now=NOW,
        )  # fmt: skip
        occurrences.remember(conn, "meeting", 7, [("9", START)], now=NOW)
        assert occurrences.remember(conn, "meeting", 8, [], now=NOW) == 0
    assert stored == 2
    with reading(engine) as conn:
        assert [i for i, _ in occurrences.known(conn, "webinar", 7)] == ["1", "2"]
        assert occurrences.known(conn, "meeting", 7) == [("9", START)]
