"""Rate-limit buckets shared through the database, and encrypted tokens at rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import NOW
from zoom_brevo.ratelimit import Limit
from zoom_brevo.store import ratebuckets, tokens

TEN_PER_S = Limit(rate_per_s=10.0, burst=2.0)


def reserve(engine: Engine, now_s: float, key: str = "brevo:contacts") -> float:
    with engine.begin() as conn:
        return ratebuckets.reserve_token(conn, key, TEN_PER_S, now_s=now_s)


def test_reservations_spend_the_burst_then_space_calls_at_the_rate(engine: Engine) -> None:
    waits = [reserve(engine, 1000.0) for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2])
    assert reserve(engine, 1000.0, key="brevo:events") == 0.0


def test_a_pause_holds_every_caller_until_it_ends(engine: Engine) -> None:
    with engine.begin() as conn:
        ratebuckets.pause_until(conn, "zoom:heavy", TEN_PER_S, until_s=1030.0, now_s=1000.0)
    assert reserve(engine, 1010.0, key="zoom:heavy") == pytest.approx(20.0)


def test_tokens_are_saved_replaced_and_deleted(engine: Engine) -> None:
    with engine.begin() as conn:
        assert tokens.load(conn, "zoom:user:1") is None
        tokens.save(conn, "zoom:user:1", b"\x00cipher-1", now=NOW)
        tokens.save(conn, "zoom:user:1", b"\x00cipher-2", now=NOW + timedelta(hours=1))
        assert tokens.load(conn, "zoom:user:1") == b"\x00cipher-2"
        assert tokens.delete(conn, "zoom:user:1")
        assert tokens.load(conn, "zoom:user:1") is None
