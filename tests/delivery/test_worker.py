"""The delivery worker against the Brevo emulator over loopback, with a real SQLite store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.delivery.conftest import calls, deliverer, enqueue, now, paths
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.errors import AuthError
from zoom_brevo.pipeline.commands import SendEvent, SendTemplateEmail, UpsertContact
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.store import deadletters, facts, ledger, outbox
from zoom_brevo.store.engine import reading, transaction


def attendee(n: int, list_id: int, **attributes: object) -> UpsertContact:
    return UpsertContact(
        email=f"person{n}@example.com",
        attributes={"FIRSTNAME": f"P{n}", **attributes},  # type: ignore[dict-item]
        list_ids=(list_id,),
    )


def attended(n: int, uuid: str = "inst-1") -> SendEvent:
    email = f"person{n}@example.com"
    return SendEvent(
        event_name="zoom_attended",
        email=email,
        ledger_key=f"zoom_attended:{uuid}:{email}",
        event_properties={"meeting_uuid": uuid, "minutes_attended": 42},
    )


def states(engine: Engine) -> dict[str, int]:
    with reading(engine) as conn:
        return outbox.counts(conn)


async def test_a_small_batch_is_upserted_one_contact_per_call_with_its_lists(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    list_id = lists["meeting_participants"]
    enqueue(engine, *(attendee(n, list_id) for n in range(4)))

    report = await deliverer(engine, brevo, import_threshold=5).drain(deadline_s=10)

    assert calls(emu, "/contacts/import") == 0
    assert calls(emu, "/contacts") == 4
    assert report.contacts_upserted == 4
    assert report.list_adds == 4
    assert report.brevo_calls == len(emu.stats.log)
    contact = emu.state.contact("person3@example.com")
    assert contact is not None
    assert contact.attributes["FIRSTNAME"] == "P3"
    assert list_id in contact.list_ids
    assert states(engine)["done"] == 4


async def test_a_batch_at_the_threshold_is_imported_in_one_call_per_list_set(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    participants, registrants = lists["meeting_participants"], lists["webinar_registrants"]
    enqueue(engine, *(attendee(n, participants) for n in range(6)))
    enqueue(engine, *(attendee(n, registrants) for n in range(100, 104)))

    report = await deliverer(engine, brevo, import_threshold=10).drain(
        deadline_s=10, wait_for_imports=True
    )

    assert calls(emu, "/contacts/import") == 2
    assert calls(emu, "/contacts", "POST") == 2  # the two imports, no single upserts
    assert report.contacts_imported == 10
    assert report.contacts_upserted == 0
    assert report.imports_started == report.imports_completed == 2
    assert report.pending_imports == 0
    imported = emu.state.contact("person101@example.com")
    assert imported is not None
    assert imported.list_ids == {registrants}
    assert report.brevo_calls == len(emu.stats.log)


async def test_three_commands_for_one_contact_become_one_upsert_with_the_latest_values(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    email = "ann@example.com"
    enqueue(
        engine,
        UpsertContact(email, {"FIRSTNAME": "Ann", "MEETING_DURATION": 10.0}, (1,)),
        UpsertContact(email, {"MEETING_DURATION": 25.0}, (2,)),
        UpsertContact(email, {"MEETING_DURATION": 42.5, "LASTNAME": "Lee"}),
    )

    await deliverer(engine, brevo).drain(deadline_s=10)

    assert calls(emu, "/contacts") == 1
    contact = emu.state.contact(email)
    assert contact is not None
    assert contact.attributes == {"FIRSTNAME": "Ann", "MEETING_DURATION": 42.5, "LASTNAME": "Lee"}
    assert contact.list_ids == {1, 2}
    assert states(engine)["done"] == 3


async def test_the_ledger_stops_a_second_send_of_an_event_queued_and_drained_twice(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, attendee(1, lists["meeting_participants"]), attended(1))
    first = await deliverer(engine, brevo).drain(deadline_s=10)
    enqueue(engine, attended(1))
    second = await deliverer(engine, brevo).drain(deadline_s=10)

    assert first.events_sent == 1
    assert second.events_sent == 0
    assert second.skipped_already_sent == 1
    assert second.brevo_calls == 0
    assert [e.event_name for e in emu.state.events] == ["zoom_attended"]
    with reading(engine) as conn:
        assert ledger.already_sent(conn, [attended(1).ledger_key]) == {attended(1).ledger_key}
    assert states(engine) == {"queued": 0, "running": 0, "done": 3, "dead": 0}


async def test_the_same_event_queued_twice_in_one_batch_is_sent_once(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, attendee(1, lists["meeting_participants"]), attended(1), attended(1))

    report = await deliverer(engine, brevo).drain(deadline_s=10)

    assert len(emu.state.events) == 1
    assert report.events_sent == 1
    assert states(engine)["done"] == 3


async def test_events_follow_their_contact_upsert(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, attended(1), attendee(1, lists["meeting_participants"]))  # event queued first
    enqueue(engine, attendee(2, lists["meeting_participants"]), attended(2))

    await deliverer(engine, brevo).drain(deadline_s=10)

    log = paths(emu)
    assert log.index("POST /events/batch") > log.index("POST /contacts")
    assert len(emu.state.events) == 2


async def test_an_event_whose_contact_another_worker_is_sending_looks_again_within_a_second(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    _, event_id = enqueue(engine, attendee(1, lists["meeting_participants"]), attended(1))
    with transaction(engine) as conn:  # the contact is being sent by a worker with an 8 s lease
        [sending] = outbox.claim_batch(conn, limit=1, owner="other", lease_s=8.0, now=now())
    assert sending.kind == "contact"

    before = now()
    report = DeliveryReport()
    assert await deliverer(engine, brevo).step(report)

    assert report.deferred == 1 and not emu.state.events
    with reading(engine) as conn:
        event = outbox.get(conn, event_id)
    assert event is not None
    # Not at the other worker's lease end: its send settles long before.
    assert before < event.next_attempt_at < before + timedelta(seconds=2)


async def test_events_wait_for_the_import_of_their_contacts(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    list_id = lists["meeting_participants"]
    enqueue(engine, *(attendee(n, list_id) for n in range(3)))
    enqueue(engine, *(attended(n) for n in range(3)))

    report = await deliverer(engine, brevo, import_threshold=3).drain(deadline_s=10)

    log = paths(emu)
    assert log.index("GET /processes") < log.index("POST /events/batch")
    # Held back at least once each; how many rounds they wait depends on the machine's pace.
    assert report.deferred >= 3
    assert report.events_sent == 3
    assert all(e.identifiers["email_id"] for e in emu.state.events)


async def test_a_503_burst_on_events_is_retried_and_nothing_is_lost(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["meeting_participants"]) for n in range(3)))
    enqueue(engine, *(attended(n) for n in range(3)))
    emu.faults.fail_next(3, status=503, path_contains="/events")

    report = await deliverer(engine, brevo).drain(deadline_s=10)

    assert report.retried >= 3  # events are not replay-safe: the outbox retries them
    assert sorted(e.identifiers["email_id"] for e in emu.state.events) == [
        f"person{n}@example.com" for n in range(3)
    ]
    assert states(engine) == {"queued": 0, "running": 0, "done": 6, "dead": 0}


async def test_a_503_burst_on_contacts_is_retried_and_nothing_is_lost(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["meeting_participants"]) for n in range(3)))
    emu.faults.fail_next(6, status=503, path_contains="/contacts")

    await deliverer(engine, brevo).drain(deadline_s=10)

    assert all(emu.state.contact(f"person{n}@example.com") for n in range(3))
    assert states(engine)["done"] == 3


async def test_a_rejected_contact_is_dead_lettered_with_brevos_error(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    [bad] = enqueue(engine, UpsertContact("x@example.com", {}, (999,)))  # no such list
    enqueue(engine, attendee(1, lists["meeting_participants"]))

    report = await deliverer(engine, brevo).drain(deadline_s=10)

    assert report.rejected == report.dead == 1
    assert report.contacts_upserted == 1
    with reading(engine) as conn:
        [letter] = deadletters.list_dead(conn)
    assert letter.ref == f"outbox:{bad}"
    assert letter.last_error is not None
    assert "999" in letter.last_error
    assert letter.attempts == 1


async def test_a_refused_event_in_a_partial_batch_is_dead_lettered_and_the_rest_sent(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, attendee(1, lists["meeting_participants"]), attended(1))
    enqueue(engine, SendEvent("not a valid name!", "person1@example.com", "bad:1"))

    report = await deliverer(engine, brevo).drain(deadline_s=10)

    assert report.events_sent == 1
    assert report.rejected == 1
    with reading(engine) as conn:
        [letter] = deadletters.list_dead(conn)
        assert ledger.already_sent(conn, ["bad:1"]) == set()
    assert letter.last_error is not None
    assert "event_name" in letter.last_error


async def test_retries_stop_at_max_attempts_and_the_row_goes_dead(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, attended(1))
    emu.faults.fail_next(100, status=503, path_contains="/events")

    report = await deliverer(engine, brevo, max_attempts=3).drain(deadline_s=10)

    assert report.dead == 1
    assert report.rejected == 0
    with reading(engine) as conn:
        [letter] = deadletters.list_dead(conn)
    assert letter.attempts == 3
    assert "503" in (letter.last_error or "")


async def test_refused_credentials_stop_the_worker_without_using_attempts(
    engine: Engine, base_url: str, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, attendee(1, lists["meeting_participants"]), attended(1))
    async with BrevoClient(
        "xkeysib-wrong", base_url, limiter=LocalRateLimiter(limits_for("general"))
    ) as wrong:
        with pytest.raises(AuthError, match=r"brevo\.api_key"):
            await deliverer(engine, wrong).drain(deadline_s=10)

    with reading(engine) as conn:
        rows = [outbox.get(conn, i) for i in (1, 2)]
    assert [(r.state, r.attempts) for r in rows if r] == [("queued", 0), ("queued", 0)]


async def test_template_emails_go_in_one_request_per_template_with_an_idempotency_key(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    emails = [
        SendTemplateEmail(7, f"person{n}@example.com", f"rec:{n}", {"RECORDING_URL": f"u{n}"})
        for n in range(3)
    ]
    enqueue(engine, *emails, SendTemplateEmail(8, "x@example.com", "rec:x"))

    report = await deliverer(engine, brevo).drain(deadline_s=10)

    assert calls(emu, "/smtp/email") == 2
    assert report.emails_sent == 4
    sent = {e.to[0]: e for e in emu.state.emails}
    assert sent["person2@example.com"].params == {"RECORDING_URL": "u2"}
    assert all(e.idempotency_key for e in emu.state.emails)


async def test_an_email_resent_after_a_crash_is_refused_by_brevo_and_counted_as_sent(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    email = SendTemplateEmail(7, "ann@example.com", "rec:ann")
    enqueue(engine, email)
    await deliverer(engine, brevo).drain(deadline_s=10)
    with transaction(engine) as conn:  # as if the worker died before recording the send
        ledger.forget(conn, "rec:ann")
    enqueue(engine, email)

    report = await deliverer(engine, brevo).drain(deadline_s=10)

    assert len(emu.state.emails) == 1
    assert report.emails_sent == 1  # Brevo answered duplicate_parameter: already sent


async def test_import_rejections_are_recorded(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    list_id = lists["meeting_participants"]
    enqueue(engine, *(attendee(n, list_id) for n in range(3)))
    enqueue(engine, UpsertContact("not-an-email", {"FIRSTNAME": "X"}, (list_id,)))

    report = await deliverer(engine, brevo, import_threshold=2).drain(
        deadline_s=10, wait_for_imports=True
    )

    assert report.import_rejections == 1
    with reading(engine) as conn:
        [rejection] = facts.list_rejections(conn)
    assert rejection.email == "not-an-email"
    assert rejection.reason == "invalid_emails"


async def test_without_waiting_an_import_stays_pending_for_a_later_drain(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["meeting_participants"]) for n in range(3)))
    # The first read of the process is due after 3 s: far beyond the first drain, even on a
    # loaded machine, and still short for the second one, which waits for it.
    checks = CheckSchedule(start_s=3.0, cap_s=3.0)
    worker = deliverer(engine, brevo, import_threshold=2, import_checks=checks)

    first = await worker.drain(deadline_s=10)
    assert first.pending_imports == 1
    assert calls(emu, "/processes", "GET") == 0

    second = await worker.drain(deadline_s=10, wait_for_imports=True)
    assert second.imports_completed == 1
    assert second.pending_imports == 0


@pytest.mark.postgres
async def test_drain_end_to_end_on_postgresql(
    pg_engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    list_id = lists["meeting_participants"]
    enqueue(pg_engine, *(attendee(n, list_id) for n in range(5)))
    enqueue(pg_engine, *(attended(n) for n in range(5)), attended(0))
    emu.faults.fail_next(2, status=503, path_contains="/events")

    report = await deliverer(pg_engine, brevo, import_threshold=5).drain(deadline_s=10)

    assert report.contacts_imported == 5
    assert report.events_sent == 5
    assert len(emu.state.events) == 5
    assert states(pg_engine) == {"queued": 0, "running": 0, "done": 11, "dead": 0}


async def test_drain_returns_at_its_deadline_leaving_a_later_retry_queued(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, attended(1))
    emu.faults.fail_next(1, status=503, path_contains="/events")
    slow = BackoffPolicy(base_s=600.0, cap_s=600.0)

    report = await deliverer(engine, brevo, retry_policy=slow).drain(deadline_s=1)

    assert report.retried == 1
    assert report.outstanding == 1
    assert emu.state.events == []


async def test_an_import_whose_process_cannot_be_read_is_given_up_after_max_checks(
    engine: Engine, brevo: BrevoClient, emu: BrevoEmulator, lists: dict[str, int]
) -> None:
    enqueue(engine, *(attendee(n, lists["meeting_participants"]) for n in range(2)))
    emu.faults.fail_next(1000, status=503, path_contains="/processes")
    checks = CheckSchedule(start_s=0.01, cap_s=0.01, max_checks=2)

    report = await deliverer(engine, brevo, import_threshold=2, import_checks=checks).drain(
        deadline_s=10, wait_for_imports=True
    )

    assert report.pending_imports == 0
    assert report.import_rejections == 0
    assert emu.state.contact("person1@example.com") is not None
