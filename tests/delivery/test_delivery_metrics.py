"""The deliverer reports each command Brevo accepted, with how long it waited in the outbox.

``zoom_brevo_delivery_latency_seconds{kind}`` moves once per delivered row, by every path a
row leaves the outbox done: single upserts, events, imports (plain and streamed), and rows
already in the ledger. The latency is the deliverer's clock minus the row's ``created_at``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.delivery.conftest import deliverer, enqueue, now
from tests.delivery.test_worker import attended, attendee
from tests.server.test_operations import samples
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.server.metrics import Metrics

LATER_S = 90.0


def latencies(metrics: Metrics, kind: str) -> tuple[float, float]:
    """``(count, sum)`` of the delivery latency histogram for ``kind``."""
    found = samples(metrics.render()[0].decode())
    labels = (("kind", kind),)
    return (
        found.get(("zoom_brevo_delivery_latency_seconds_count", labels), 0.0),
        found.get(("zoom_brevo_delivery_latency_seconds_sum", labels), 0.0),
    )


@pytest.mark.parametrize("contacts_first", [False, True])
@pytest.mark.parametrize("import_threshold", [2, 50])
async def test_every_delivered_row_is_observed_with_its_wait(
    engine: Engine,
    brevo: BrevoClient,
    lists: dict[str, int],
    import_threshold: int,
    contacts_first: bool,
) -> None:
    list_id = lists["meeting_participants"]
    enqueue(engine, *(attendee(n, list_id) for n in range(3)), attended(0), attended(1))
    metrics = Metrics()
    worker = deliverer(
        engine, brevo, import_threshold=import_threshold, observer=metrics,
        clock=lambda: now() + timedelta(seconds=LATER_S),
    )  # fmt: skip

    report = await worker.drain(deadline_s=10, wait_for_imports=True, contacts_first=contacts_first)

    assert report.events_sent == 2
    contacts, contacts_s = latencies(metrics, "contact")
    events, events_s = latencies(metrics, "event")
    assert (contacts, events) == (3, 2)
    assert LATER_S * 3 <= contacts_s < (LATER_S + 10) * 3
    assert LATER_S * 2 <= events_s < (LATER_S + 10) * 2


async def test_rows_found_in_the_ledger_count_as_delivered(
    engine: Engine, brevo: BrevoClient, lists: dict[str, int]
) -> None:
    enqueue(engine, attended(0))
    await deliverer(engine, brevo).drain(deadline_s=10)
    enqueue(engine, attended(0))  # the same event again: already in the ledger
    metrics = Metrics()

    report = await deliverer(engine, brevo, observer=metrics).drain(deadline_s=10)

    assert report.skipped_already_sent == 1
    assert latencies(metrics, "event")[0] == 1


async def test_nothing_is_observed_for_a_row_brevo_refused(
    engine: Engine, brevo: BrevoClient, lists: dict[str, int]
) -> None:
    enqueue(engine, attendee(0, 999_999))  # a list Brevo does not have
    metrics = Metrics()

    report = await deliverer(engine, brevo, observer=metrics).drain(deadline_s=10)

    assert report.dead == 1
    assert latencies(metrics, "contact") == (0, 0)
