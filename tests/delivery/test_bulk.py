"""``drain(contacts_first=True)``: contacts as few large imports, one read for all, then events."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.engine import Engine

from tests.delivery.conftest import (
    FAST_IMPORT_CHECKS,
    FAST_OUTBOX,
    calls,
    deliverer,
    enqueue,
    now,
    paths,
)
from tests.delivery.test_worker import attended, attendee, states
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.delivery.bulk import BulkContacts
from zoom_brevo.delivery.imports import ImportTracker
from zoom_brevo.delivery.lease import Lease
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.errors import AuthError
from zoom_brevo.pipeline.commands import UpsertContact
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import reading

pytestmark = pytest.mark.timeout(60)
PEOPLE = 60


def two_list_sets(lists: dict[str, int]) -> list[UpsertContact]:
    """Half the people on one list, half on another: two imports at least."""
    attendees, absentees = lists["webinar_attendees"], lists["webinar_absentees"]
    return [attendee(n, attendees if n % 2 else absentees) for n in range(PEOPLE)]


async def test_contacts_of_many_pages_become_one_import_per_list_set_then_events_follow(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *two_list_sets(lists))
    enqueue(engine, *(attended(n) for n in range(PEOPLE)))
    worker = deliverer(engine, brevo, batch_size=7, import_threshold=5)

    report = await worker.drain(deadline_s=10, wait_for_imports=True, contacts_first=True)

    assert calls(emu, "/contacts/import") == 2
    assert calls(emu, "/processes", "GET") == 1  # one listing answers for both imports
    assert calls(emu, "/events/batch") == math.ceil(PEOPLE / 7)  # one request per page
    log = paths(emu)
    assert log.index("GET /processes") > max(
        i for i, p in enumerate(log) if p == "POST /contacts/import"
    )
    assert log.index("GET /processes") < log.index("POST /events/batch")
    assert report.deferred == 0  # no event was claimed before its contact was in Brevo
    assert report.contacts_imported == PEOPLE
    assert report.imports_completed == 2
    assert report.events_sent == PEOPLE
    assert report.brevo_calls == len(emu.stats.log)
    assert len(emu.state.lists[lists["webinar_attendees"]].members) == PEOPLE // 2
    assert states(engine) == {"queued": 0, "running": 0, "done": 2 * PEOPLE, "dead": 0}


async def test_an_import_is_sent_when_the_next_contact_would_pass_the_body_budget(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["webinar_attendees"]) for n in range(PEOPLE)))
    tracker = ImportTracker(engine, brevo, clock=now, schedule=FAST_IMPORT_CHECKS)
    report = DeliveryReport()
    lease = Lease("test-worker", 60.0, 8, FAST_OUTBOX, now)
    budget = 8_000  # bytes, envelope allowance included
    bulk = BulkContacts(
        engine, brevo, tracker, report, lease=lease, page_size=25, import_threshold=5,
        max_body_bytes=budget,
    )  # fmt: skip

    await bulk.run()

    sizes = [r.bytes_in for r in emu.stats.log if r.path == "/contacts/import"]
    assert len(sizes) == report.imports_started > 1
    assert all(0 < size <= budget for size in sizes)
    assert report.contacts_imported == PEOPLE
    assert all(emu.state.contact(f"person{n}@example.com") for n in range(PEOPLE))
    assert states(engine)["done"] == PEOPLE


async def test_an_import_holds_at_most_max_contacts_so_memory_does_not_grow_with_the_sync(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["webinar_attendees"]) for n in range(PEOPLE)))
    tracker = ImportTracker(engine, brevo, clock=now, schedule=FAST_IMPORT_CHECKS)
    report = DeliveryReport()
    lease = Lease("test-worker", 60.0, 8, FAST_OUTBOX, now)
    bulk = BulkContacts(
        engine, brevo, tracker, report, lease=lease, page_size=7, import_threshold=5,
        max_contacts=25,
    )  # fmt: skip

    await bulk.run()

    assert calls(emu, "/contacts/import") == report.imports_started == math.ceil(PEOPLE / 25)
    assert report.contacts_imported == PEOPLE
    assert states(engine)["done"] == PEOPLE


async def test_fewer_contacts_than_the_threshold_are_upserted_one_by_one(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["webinar_attendees"]) for n in range(3)))
    enqueue(engine, UpsertContact("nolist@example.com", {"FIRSTNAME": "N"}))

    report = await deliverer(engine, brevo, import_threshold=5).drain(
        deadline_s=10, contacts_first=True
    )

    assert calls(emu, "/contacts/import") == 0
    assert report.contacts_upserted == 4
    assert calls(emu, "/processes", "GET") == 0
    assert states(engine)["done"] == 4


async def test_a_newer_command_for_a_contact_waiting_in_an_import_is_delivered_after_it(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    list_id = lists["webinar_attendees"]
    enqueue(engine, UpsertContact("ann@example.com", {"FIRSTNAME": "Old"}, (list_id,)))
    enqueue(engine, *(attendee(n, list_id) for n in range(10)))
    enqueue(engine, UpsertContact("ann@example.com", {"FIRSTNAME": "New"}, (list_id,)))

    await deliverer(engine, brevo, batch_size=4, import_threshold=2).drain(
        deadline_s=10, wait_for_imports=True, contacts_first=True
    )

    assert calls(emu, "/contacts/import") == 2  # the second waited for the first to go
    contact = emu.state.contact("ann@example.com")
    assert contact is not None
    assert contact.attributes["FIRSTNAME"] == "New"
    assert states(engine)["done"] == 12


async def test_refused_credentials_give_back_every_contact_waiting_for_an_import(
    engine: Engine, base_url: str, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *two_list_sets(lists))
    async with BrevoClient(
        "xkeysib-wrong", base_url, limiter=LocalRateLimiter(limits_for("general"))
    ) as wrong:
        worker = deliverer(engine, wrong, batch_size=7, import_threshold=5)
        with pytest.raises(AuthError):
            await worker.drain(deadline_s=10, contacts_first=True)

    with reading(engine) as conn:
        rows = [outbox.get(conn, i) for i in range(1, PEOPLE + 1)]
    assert {(r.state, r.attempts) for r in rows if r} == {("queued", 0)}
    assert calls(emu, "/contacts/import") == 1  # the first import was refused, nothing more
