"""DatabaseRateLimiter: one set of buckets in the database for every process."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.ratelimit import Limit
from zoom_brevo.store import shared_limits
from zoom_brevo.store.engine import create_engine
from zoom_brevo.store.schema import rate_buckets
from zoom_brevo.store.shared_limits import DatabaseRateLimiter

TEN_PER_S = {"brevo:contacts": Limit(rate_per_s=10.0, burst=2.0)}


class Clock:
    def __init__(self, now_s: float = 1000.0) -> None:
        self.now_s = now_s
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))


def limiter(engine: Engine, clock: Clock, **options: float) -> DatabaseRateLimiter:
    return DatabaseRateLimiter(
        engine, TEN_PER_S, clock=clock, sleep=clock.sleep, headroom=options.get("headroom", 1.0)
    )


async def test_two_processes_spend_one_bucket(engine: Engine) -> None:
    first, second = Clock(), Clock()
    a, b = limiter(engine, first), limiter(engine, second)
    await a.acquire("brevo:contacts")
    await a.acquire("brevo:contacts")
    await b.acquire("brevo:contacts")
    await b.acquire("brevo:contacts")
    assert first.slept == []  # the burst of two
    assert second.slept == pytest.approx([0.1, 0.2])  # queued behind the first's calls


async def test_a_pause_in_one_process_holds_the_others(engine: Engine) -> None:
    first, second = Clock(), Clock(1005.0)
    await limiter(engine, first).pause("brevo:contacts", 30.0)
    await limiter(engine, second).acquire("brevo:contacts")
    assert second.slept == pytest.approx([25.0])


async def test_keys_without_a_limit_pass_without_a_bucket(engine: Engine) -> None:
    clock = Clock()
    await limiter(engine, clock).acquire("zoom:unknown")
    await limiter(engine, clock).pause("zoom:unknown", 10.0)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rate_buckets)).scalar() == 0
    assert clock.slept == []


async def test_a_caller_with_an_older_clock_reading_waits_instead_of_refilling_twice(
    engine: Engine,
) -> None:
    late, early = Clock(1001.0), Clock(1000.0)
    for _ in range(3):
        await limiter(engine, late).acquire("brevo:contacts")
    await limiter(engine, early).acquire("brevo:contacts")
    # The bucket is at 1001 with one token owed: the caller reading 1000 waits 1 s + 0.2 s.
    assert late.slept == pytest.approx([0.1])
    assert early.slept == pytest.approx([1.2])
    with engine.connect() as conn:
        assert conn.execute(sa.select(rate_buckets.c.updated_s)).scalar() == 1001.0


async def test_headroom_scales_rate_and_burst_and_must_be_a_fraction(engine: Engine) -> None:
    clock = Clock()
    shared = limiter(engine, clock, headroom=0.5)
    assert shared.limit("brevo:contacts") == Limit(rate_per_s=5.0, burst=1.0)
    for _ in range(3):
        await shared.acquire("brevo:contacts")
    assert clock.slept == pytest.approx([0.2, 0.4])
    with pytest.raises(ValueError, match="headroom"):
        DatabaseRateLimiter(engine, TEN_PER_S, headroom=1.5)


@pytest.mark.postgres
async def test_on_postgresql_time_is_the_database_clock(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_limits, "wall_clock", lambda: 0.0)  # a wildly wrong local clock
    engine = create_engine(pg_schema_url)
    try:
        await DatabaseRateLimiter(engine, TEN_PER_S).acquire("brevo:contacts")
        with engine.connect() as conn:
            stamped = conn.execute(sa.select(rate_buckets.c.updated_s)).scalar_one()
    finally:
        engine.dispose()
    assert abs(stamped - time.time()) < 5.0  # the server's clock, not the local one
