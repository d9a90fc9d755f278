"""A big batch costs a few transactions, not one per row (what lets 200,000 people through)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.delivery.conftest import deliverer, enqueue
from tests.delivery.test_worker import attended, attendee
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.store import ledger, outbox
from zoom_brevo.store.engine import reading

PEOPLE = 60
FEW = 8  # claim, import, hold back, ledger: a handful of transactions whatever the size


@contextmanager
def counting_commits(engine: Engine) -> Iterator[list[int]]:
    count = [0]

    def on_commit(_conn: object) -> None:
        count[0] += 1

    sa.event.listen(engine, "commit", on_commit)
    try:
        yield count
    finally:
        sa.event.remove(engine, "commit", on_commit)


async def test_events_waiting_for_an_import_are_given_back_together(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["meeting_participants"]) for n in range(PEOPLE)))
    enqueue(engine, *(attended(n) for n in range(PEOPLE)))
    worker = deliverer(engine, brevo, import_threshold=2)
    report = DeliveryReport()

    with counting_commits(engine) as commits:
        assert await worker.step(report)

    assert report.imports_started == 1
    assert report.deferred == PEOPLE
    assert commits[0] <= FEW
    with reading(engine) as conn:
        assert outbox.counts(conn)["queued"] == PEOPLE  # the events, due after the import


async def test_events_sent_in_one_batch_are_all_recorded_in_the_ledger(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["meeting_participants"]) for n in range(3)))
    worker = deliverer(engine, brevo)
    await worker.drain(deadline_s=10)  # the contacts exist: their events need not wait
    enqueue(engine, *(attended(n) for n in range(3)), *(attended(n, "inst-2") for n in range(3)))
    report = DeliveryReport()

    with counting_commits(engine) as commits:
        assert await worker.step(report)

    assert report.events_sent == 6
    assert commits[0] <= FEW
    with reading(engine) as conn:
        keys = [attended(n, uuid).ledger_key for n in range(3) for uuid in ("inst-1", "inst-2")]
        assert ledger.already_sent(conn, keys) == set(keys)
    assert len(emu.state.events) == 6
