"""UTCDateTime: aware datetimes in, the same instants out as UTC, row after row.

Its conversions remember their last value (a bulk write binds the same ``now`` on every
row); a run of equal values and the values that follow must still come back exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.store.schema import UTCDateTime

STAMPS = sa.Table(
    "utc_stamps_test", sa.MetaData(), sa.Column("n", sa.Integer), sa.Column("at", UTCDateTime)
)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))


@pytest.fixture
def stamps(engine: Engine) -> Iterator[Engine]:
    """``engine`` with a scratch table of one UTCDateTime column, dropped afterwards."""
    STAMPS.create(engine)
    yield engine
    STAMPS.drop(engine)


def round_trip(engine: Engine, values: list[datetime | None]) -> list[datetime | None]:
    with engine.begin() as conn:
        conn.execute(sa.insert(STAMPS), [{"n": i, "at": v} for i, v in enumerate(values)])
        return [row.at for row in conn.execute(sa.select(STAMPS).order_by(STAMPS.c.n))]


def test_runs_of_equal_and_different_instants_come_back_exact(stamps: Engine) -> None:
    later = T0 + timedelta(seconds=1)
    same_instant_in_paris = T0.astimezone(PARIS)
    values = [T0, T0, None, T0, later, later, same_instant_in_paris, T0 + timedelta(days=400)]

    read = round_trip(stamps, values)

    assert read == values
    assert all(v is None or v.tzinfo == UTC for v in read)


def test_a_naive_datetime_is_refused_even_right_after_an_equal_aware_one(
    stamps: Engine,
) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        round_trip(stamps, [T0, T0.replace(tzinfo=None)])
