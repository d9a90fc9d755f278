"""Following imports: one ``GET /processes`` listing a round for all of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.delivery.conftest import FAST_IMPORT_CHECKS, calls, now
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery import imports
from zoom_brevo.delivery.imports import Holds, ImportTracker, import_schedules, pending_imports
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.brevo.state import Process
from zoom_brevo.store import facts
from zoom_brevo.store.engine import reading, transaction

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def start_imports(
    engine: Engine, brevo: BrevoClient, tracker: ImportTracker, list_id: int, count: int
) -> list[int]:
    """``count`` imports of one contact each (the third with an invalid address)."""
    started = []
    for n in range(count):
        email = "broken" if n == 2 else f"p{n}@example.com"
        process_ids = await brevo.import_contacts([{"email": email}], [list_id])
        with transaction(engine) as conn:
            tracker.register(conn, process_ids, [email], now() - timedelta(seconds=1))
        started += process_ids
    return started


def tracker_for(engine: Engine, brevo: BrevoClient) -> ImportTracker:
    return ImportTracker(engine, brevo, clock=now, schedule=FAST_IMPORT_CHECKS)


async def test_one_listing_settles_every_pending_import_and_keeps_their_rejections(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    tracker = tracker_for(engine, brevo)
    await start_imports(engine, brevo, tracker, lists["webinar_attendees"], 5)
    assert tracker.waiting
    report = DeliveryReport()

    await tracker.check_due(report)

    assert calls(emu, "/processes", "GET") == report.brevo_calls == 1
    assert report.imports_completed == 5
    assert not tracker.waiting
    with reading(engine) as conn:
        assert pending_imports(conn) == []
        assert [(r.email, r.reason) for r in facts.list_rejections(conn)] == [
            ("broken", "invalid_emails")
        ]


async def test_the_listing_pages_back_to_the_oldest_pending_import(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    tracker = tracker_for(engine, brevo)
    await start_imports(engine, brevo, tracker, lists["webinar_attendees"], 1)
    add_foreign_processes(emu, 60)  # newer processes of other tools push it to page two

    await tracker.check_due(DeliveryReport())

    assert calls(emu, "/processes", "GET") == 2
    assert not tracker.waiting


async def test_an_import_beyond_the_pages_read_is_read_alone(
    engine: Engine,
    brevo: BrevoClient,
    emu: BrevoEmulator,
    lists: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imports, "MAX_LIST_PAGES", 1)
    tracker = tracker_for(engine, brevo)
    [mine] = await start_imports(engine, brevo, tracker, lists["webinar_attendees"], 1)
    add_foreign_processes(emu, 60)

    await tracker.check_due(DeliveryReport())

    assert [r.path for r in emu.stats.log if r.method == "GET"] == [
        "/processes",
        f"/processes/{mine}",
    ]
    assert not tracker.waiting


async def test_an_import_still_running_is_read_again_later_without_its_emails_in_memory(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    emu.options.import_delay_s = 3600
    tracker = tracker_for(engine, brevo)
    [mine] = await start_imports(engine, brevo, tracker, lists["webinar_attendees"], 1)

    await tracker.check_due(DeliveryReport())

    with reading(engine) as conn:
        [schedule] = import_schedules(conn)
        [pending] = pending_imports(conn)
    assert (schedule.process_id, schedule.checks) == (mine, 1)
    assert schedule.next_check_at > now()
    assert pending.emails == ("p0@example.com",)  # kept in the store for a failed import
    assert tracker.wait_until("p0@example.com") == schedule.next_check_at


def add_foreign_processes(emu: BrevoEmulator, count: int) -> None:
    state = emu.state
    for _ in range(count):
        process = Process(
            state.next_id("process"), 0.0, [], [], update_existing=True, empty_attributes=False
        )
        process.status, process.name = "completed", "SEARCH_EXPORT_USERS"
        state.processes[process.id] = process


def test_holds_answer_for_the_addresses_of_pending_imports_only() -> None:
    holds = Holds()
    holds.add([1], ["a@x.io", "b@x.io"], T0)
    holds.add([2], ["b@x.io"], T0 + timedelta(minutes=1))

    assert holds.until("a@x.io") == T0
    assert holds.until("b@x.io") == T0 + timedelta(minutes=1)  # the later of its imports
    assert holds.until("c@x.io") is None
    holds.move(1, T0 + timedelta(minutes=5))
    assert holds.until("a@x.io") == T0 + timedelta(minutes=5)
    holds.drop(1)
    assert holds.until("a@x.io") is None
    holds.keep_only({3})
    assert not holds
