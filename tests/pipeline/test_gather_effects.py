"""``effects_known``: an effect counts as known when sent (ledger) or still in flight."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.pipeline.gather import effects_known
from zoom_brevo.store import ledger, outbox
from zoom_brevo.store.engine import create_engine, migrate, transaction
from zoom_brevo.store.outbox import NewCommand
from zoom_brevo.store.schema import outbox as outbox_table

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


def queue(engine: Engine, key: str, state: str) -> None:
    with transaction(engine) as conn:
        outbox.add_many(conn, [NewCommand("event", {}, f"event:{key}")], now=NOW)
        stmt = sa.update(outbox_table).where(outbox_table.c.coalesce_key == f"event:{key}")
        conn.execute(stmt.values(state=state))


def test_sent_queued_and_running_effects_are_known_done_and_dead_ones_not(
    engine: Engine,
) -> None:
    with transaction(engine) as conn:
        ledger.record_if_new(conn, "sent", now=NOW)
    for key, state in (("queued", "queued"), ("running", "running"), ("done", "done"),
                       ("dead", "dead")):  # fmt: skip
        queue(engine, key, state)
    queue(engine, "retried", "dead")
    queue(engine, "retried", "queued")  # dead once, queued again: in flight
    # Many other rows in flight, as in a big webinar's outbox: they are not these keys.
    with transaction(engine) as conn:
        others = [NewCommand("event", {}, f"event:other-{n}") for n in range(1200)]
        outbox.add_many(conn, others, now=NOW)
        keys = ["sent", "queued", "running", "done", "dead", "retried", "never"]
        keys += [f"x{n}" for n in range(600)]  # more than one IN chunk
        assert effects_known(conn, keys) == {"sent", "queued", "running", "retried"}
