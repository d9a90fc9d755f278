"""The Brevo client against the emulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from tests.server.test_operations import samples
from zoom_brevo.brevo.client import BrevoClient, event_batches
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.brevo.models import Event, MessageVersion, Recipient
from zoom_brevo.errors import (
    AuthError,
    FatalApiError,
    NotFound,
    PayloadRejected,
    RateLimited,
    RetriableApiError,
)
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.brevo.state import ContactList
from zoom_brevo.sandbox.serving import free_port
from zoom_brevo.server.metrics import Metrics

from .conftest import API_KEY, FAST_RETRIES


async def make_list(brevo: BrevoClient, name: str = "Zoom attendees") -> int:
    folder_id = await brevo.create_folder("Zoom")
    return await brevo.create_list(name, folder_id)


def calls_to(emu: BrevoEmulator, fragment: str) -> int:
    return sum(1 for r in emu.stats.log if fragment in r.path)


# -- account and auth -------------------------------------------------------------------


async def test_get_account_returns_the_owner(brevo: BrevoClient) -> None:
    account = await brevo.get_account()
    assert account.email == "owner@sandbox.example"
    assert account.plan[0].credits_type == "sendLimit"


async def test_wrong_key_says_to_check_the_api_key_without_echoing_it(base_url: str) -> None:
    secret = "xkeysib-wrong-0123456789"
    async with BrevoClient(
        secret, base_url, backoff=FAST_RETRIES, limiter=LocalRateLimiter(limits_for("general"))
    ) as brevo:
        with pytest.raises(AuthError) as caught:
            await brevo.get_account()
    assert "brevo.api_key" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(brevo)


async def test_unrecognised_ip_tells_to_authorise_this_machine(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.allowed_ips = {"203.0.113.7"}
    with pytest.raises(AuthError) as caught:
        await brevo.get_account()
    message = str(caught.value)
    assert "Authorized IPs" in message
    assert "https://app.brevo.com/security/authorised_ips" in message
    assert "brevo.api_key" not in message
    assert calls_to(emu, "/account") == 1  # never retried


# -- contacts ---------------------------------------------------------------------------


async def test_upsert_creates_then_updates_and_drops_what_brevo_ignores(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    list_id = await make_list(brevo)
    await brevo.create_attribute("MEETING_DURATION", "float")
    created = await brevo.upsert_contact(
        "Ann+zoom@Example.com",
        attributes={"FIRSTNAME": "Ann", "MEETING_DURATION": "42 min", "UNKNOWN": 1},
        list_ids=[list_id],
    )
    updated = await brevo.upsert_contact(
        "ann+zoom@example.com", attributes={"MEETING_DURATION": 42}
    )
    assert isinstance(created, int)
    assert updated is None
    contact = await brevo.get_contact("ann+zoom@example.com")
    assert contact.id == created
    assert contact.attributes == {"FIRSTNAME": "Ann", "MEETING_DURATION": 42}
    assert contact.list_ids == [list_id]
    assert len(emu.state.contacts) == 1


async def test_delete_contact_is_idempotent(brevo: BrevoClient) -> None:
    await brevo.upsert_contact("gone@example.com")
    assert await brevo.delete_contact("gone@example.com") is True
    assert await brevo.delete_contact("gone@example.com") is False


async def test_server_errors_on_reads_are_retried(emu: BrevoEmulator, brevo: BrevoClient) -> None:
    await brevo.upsert_contact("retry@example.com")
    emu.faults.fail_next(2, status=503, path_contains="/contacts")
    assert (await brevo.get_contact("retry@example.com")).email == "retry@example.com"
    assert calls_to(emu, "/contacts") == 1 + 3


async def test_a_write_that_reached_brevo_is_not_retried_by_the_client(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    # An upsert is harmless twice, but the outbox or the job decides and counts the attempt
    # (retrying.decide): a client retry inside each of its attempts multiplied them.
    emu.faults.fail_next(2, status=503, path_contains="/contacts")
    with pytest.raises(RetriableApiError):
        await brevo.upsert_contact("retry@example.com")
    assert calls_to(emu, "/contacts") == 1


async def test_retries_are_bounded(emu: BrevoEmulator, brevo: BrevoClient) -> None:
    await brevo.upsert_contact("down@example.com")
    emu.faults.fail_next(10, status=500, path_contains="/contacts")
    with pytest.raises(RetriableApiError):
        await brevo.get_contact("down@example.com")
    assert calls_to(emu, "/contacts") == 1 + FAST_RETRIES.max_attempts


# -- import -----------------------------------------------------------------------------


async def test_import_is_chunked_polled_and_reports_rejected_rows(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    list_id = await make_list(brevo)
    rows = [
        {"email": f"p{i}@example.com", "attributes": {"FIRSTNAME": f"P{i}"}} for i in range(300)
    ]
    rows[7] = {"email": "not-an-email", "attributes": {"FIRSTNAME": "X"}}
    process_ids = await brevo.import_contacts(rows, [list_id], max_body_bytes=6_000)
    assert len(process_ids) > 1
    sizes = [r.bytes_in for r in emu.stats.log if r.path == "/contacts/import"]
    assert len(sizes) == len(process_ids)
    assert all(0 < size <= 6_000 for size in sizes)
    rejected = []
    for process_id in process_ids:
        process = await brevo.get_process(process_id)
        assert process.done
        rejected += await brevo.get_import_rejections(process)
    assert [(r.reason, r.email) for r in rejected] == [("invalid_emails", "not-an-email")]
    assert len(emu.state.lists[list_id].members) == 299
    contact = emu.state.contact("p8@example.com")
    assert contact is not None
    assert contact.attributes == {"FIRSTNAME": "P8"}


async def test_import_request_carries_the_safe_flags(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    list_id = await make_list(brevo)
    [process_id] = await brevo.import_contacts([{"email": "Mixed@Example.com"}], [list_id])
    process = emu.state.processes[process_id]
    assert process.update_existing is True
    assert process.empty_attributes is False
    assert emu.state.contact("mixed@example.com") is not None


async def test_import_is_not_done_until_brevo_has_processed_it(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.options.import_delay_s = 3600
    list_id = await make_list(brevo)
    [process_id] = await brevo.import_contacts([{"email": "later@example.com"}], [list_id])
    process = await brevo.get_process(process_id)
    assert not process.done
    assert process.import_reports == {}


async def test_one_listing_reads_many_imports_newest_first_with_their_reports(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    list_id = await make_list(brevo)
    first = await brevo.import_contacts([{"email": "ok@example.com"}], [list_id])
    second = await brevo.import_contacts([{"email": "broken"}], [list_id])

    listed = await brevo.list_processes()

    assert [p.id for p in listed] == [*second, *first]
    assert all(p.done for p in listed)
    assert set(listed[0].import_reports) == {"invalid_emails"}
    assert listed[1].import_reports == {}
    assert calls_to(emu, "/processes") == 1


async def test_the_process_listing_pages_by_offset(emu: BrevoEmulator, brevo: BrevoClient) -> None:
    list_id = await make_list(brevo)
    ids = [
        (await brevo.import_contacts([{"email": f"p{i}@example.com"}], [list_id]))[0]
        for i in range(3)
    ]
    assert [p.id for p in await brevo.list_processes(limit=2)] == ids[:0:-1]
    assert [p.id for p in await brevo.list_processes(limit=2, offset=2)] == ids[:1]
    assert [p.id for p in await brevo.list_processes(newest_first=False)] == ids
    assert len(await brevo.list_processes(limit=500)) == 3  # capped at Brevo's 50


# -- lists ------------------------------------------------------------------------------


async def test_list_add_goes_150_at_a_time_and_reports_failures(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    list_id = await make_list(brevo)
    other_list = await brevo.create_list("All Zoom contacts", 1)
    emails = [f"m{i}@example.com" for i in range(400)]
    await brevo.import_contacts([{"email": e} for e in emails[:390]], [other_list])
    emu.state  # noqa: B018 - settles the import
    result = await brevo.add_to_list(list_id, emails)
    assert calls_to(emu, "/contacts/add") == 3
    assert len(result.success) == 390
    assert sorted(result.failure) == sorted(emails[390:])


async def test_list_add_where_everyone_is_already_in_is_not_an_error(brevo: BrevoClient) -> None:
    list_id = await make_list(brevo)
    await brevo.upsert_contact("in@example.com", list_ids=[list_id])
    result = await brevo.add_to_list(list_id, ["in@example.com"])
    assert result.success == []
    assert result.failure == ["in@example.com"]


async def test_folders_and_lists_are_read_across_pages(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    folder_id = await brevo.create_folder("Zoom")
    state = emu.state  # seeded directly: 120 creations would take 15 s at 8/s
    for i in range(120):
        lst = ContactList(state.next_id("list"), f"L{i}", folder_id, "2026-01-01T00:00:00.000Z")
        state.lists[lst.id] = lst
    lists = await brevo.list_lists()
    assert [item.name for item in lists] == [f"L{i}" for i in range(120)]
    assert calls_to(emu, "/contacts/lists") == 3
    assert [f.id for f in await brevo.list_folders()] == [folder_id]


async def test_attributes_are_listed_and_duplicates_refused(brevo: BrevoClient) -> None:
    await brevo.create_attribute("MEETING_JOIN_DATE", "date")
    names = {a.name: a.type for a in await brevo.list_attributes()}
    assert names["MEETING_JOIN_DATE"] == "date"
    with pytest.raises(PayloadRejected):
        await brevo.create_attribute("MEETING_JOIN_DATE", "date")


# -- events -----------------------------------------------------------------------------


def attended(email: str) -> Event:
    return Event(
        event_name="zoom_attended",
        identifiers={"email_id": email},
        event_properties={"meeting_id": 1},
    )


async def test_events_go_in_one_batch_when_they_fit_and_invalid_ones_are_reported_by_index(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    events = [attended(f"e{i}@example.com") for i in range(2000)]
    events[1200] = Event(event_name="bad name!", identifiers={"email_id": "x@example.com"})
    result = await brevo.send_events(events)
    assert result.accepted == 1999
    assert [f.index for f in result.failures] == [1200]
    assert calls_to(emu, "/events/batch") == result.requests == 1
    assert [e.identifiers["email_id"] for e in emu.state.events][:3] == [
        "e0@example.com",
        "e1@example.com",
        "e2@example.com",
    ]


async def test_event_batches_are_cut_by_body_size_and_keep_the_indexes(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    events = [attended(f"e{i}@example.com") for i in range(150)]
    events[120] = Event(event_name="bad name!", identifiers={"email_id": "x@example.com"})
    budget = 4_000
    assert event_batches(events, max_body_bytes=budget) != [range(150)]

    result = await brevo.send_events(events, max_body_bytes=budget)

    sizes = [r.bytes_in for r in emu.stats.log if r.path == "/events/batch"]
    assert len(sizes) == result.requests == len(event_batches(events, max_body_bytes=budget))
    assert all(0 < size <= budget for size in sizes)
    assert [f.index for f in result.failures] == [120]
    assert [e.identifiers["email_id"] for e in emu.state.events] == [
        f"e{i}@example.com" for i in range(150) if i != 120
    ]


async def test_a_batch_refused_as_a_whole_is_sent_again_in_halves(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.faults.fail_next(1, status=413, path_contains="/events/batch")
    events = [attended(f"e{i}@example.com") for i in range(10)]

    result = await brevo.send_events(events)

    assert result.accepted == 10
    assert result.failures == []
    assert calls_to(emu, "/events/batch") == result.requests == 3
    assert sorted(e.identifiers["email_id"] for e in emu.state.events) == sorted(
        f"e{i}@example.com" for i in range(10)
    )


async def test_a_single_event_refused_as_a_whole_is_reported_not_raised(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.faults.fail_next(1, status=400, path_contains="/events/batch")

    result = await brevo.send_events([attended("alone@example.com")])

    assert result.accepted == 0
    [failure] = result.failures
    assert failure.index == 0
    assert "HTTP 400" in failure.message
    assert emu.state.events == []


async def test_events_fall_back_to_single_calls_without_the_batch_endpoint(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.options.events_batch_supported = False
    events = [
        attended("a@example.com"),
        Event(event_name="ok", identifiers={}),
        attended("b@example.com"),
    ]
    result = await brevo.send_events(events)
    assert result.accepted == 2
    assert [f.index for f in result.failures] == [1]
    assert calls_to(emu, "/events/batch") == 1
    assert [e.via_batch for e in emu.state.events] == [False, False]


async def test_an_event_is_not_resent_after_a_server_error(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.faults.fail_next(1, status=500, path_contains="/events")
    with pytest.raises(RetriableApiError):
        await brevo.send_event(attended("once@example.com"))
    assert calls_to(emu, "/events") == 1


# -- transactional e-mail and campaigns ---------------------------------------------------


def versions(count: int) -> list[MessageVersion]:
    return [
        MessageVersion(to=[Recipient(email=f"r{i}@example.com")], params={"RECORDING_URL": f"u{i}"})
        for i in range(count)
    ]


async def test_transactional_batches_of_1000_are_never_sent_twice(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    first = await brevo.send_transactional(
        template_id=3, versions=versions(1500), idempotency_key="k-1"
    )
    again = await brevo.send_transactional(
        template_id=3, versions=versions(1500), idempotency_key="k-1"
    )
    assert len(first.message_ids) == 1500
    assert again.message_ids == []
    assert len(again.duplicate_keys) == 2
    assert len(emu.state.emails) == 1500
    assert calls_to(emu, "/smtp/email") == 4


async def test_transactional_retry_after_a_server_error_keeps_its_key(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.faults.fail_next(1, status=502, path_contains="/smtp/email")
    with pytest.raises(RetriableApiError):  # a POST: the outbox tries again, not the client
        await brevo.send_transactional(template_id=3, versions=versions(2), idempotency_key="k-2")
    result = await brevo.send_transactional(
        template_id=3, versions=versions(2), idempotency_key="k-2"
    )
    assert len(result.message_ids) == 2
    assert {e.idempotency_key for e in emu.state.emails} == {"k-2"}


async def test_out_of_credits_is_fatal_with_a_clear_message(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    emu.options.email_credits = 1
    with pytest.raises(FatalApiError, match="not enough credits"):
        await brevo.send_transactional(template_id=3, versions=versions(2), idempotency_key="k-3")


async def test_campaign_is_sent_to_the_list_members(emu: BrevoEmulator, brevo: BrevoClient) -> None:
    list_id = await make_list(brevo)
    for email in ("c1@example.com", "c2@example.com"):
        await brevo.upsert_contact(email, list_ids=[list_id])
    campaign_id = await brevo.create_email_campaign(
        name="Recording",
        subject="Your recording",
        sender={"name": "Zoom", "email": "zoom@example.com"},
        list_ids=[list_id],
        html_content="<p>{{ params.URL }}</p>",
    )
    await brevo.send_campaign_now(campaign_id)
    assert emu.state.campaigns[campaign_id].sent_to == ["c1@example.com", "c2@example.com"]
    with pytest.raises(PayloadRejected):
        await brevo.send_campaign_now(campaign_id)


# -- rate limits --------------------------------------------------------------------------


async def test_429_waits_the_relative_reset_seconds(emu: BrevoEmulator, brevo: BrevoClient) -> None:
    emu.faults.fail_next(1, status=429, path_contains="/account", retry_after=1)
    started = time.monotonic()
    await brevo.get_account()
    assert time.monotonic() - started >= 1.0
    assert calls_to(emu, "/account") == 2


async def test_a_wait_longer_than_allowed_is_raised_for_the_caller_to_schedule(
    emu: BrevoEmulator, base_url: str
) -> None:
    emu.faults.fail_next(1, status=429, path_contains="/account", retry_after=1800)
    async with BrevoClient(
        API_KEY,
        base_url,
        backoff=FAST_RETRIES,
        max_wait_s=5,
        limiter=LocalRateLimiter(limits_for("general")),
    ) as brevo:
        with pytest.raises(RateLimited) as caught:
            await brevo.get_account()
    assert caught.value.retry_after_s == 1800


async def test_real_rate_limit_windows_are_honoured_without_losing_calls(
    emu: BrevoEmulator, base_url: str
) -> None:
    # A client without its own limiter exceeds 10/s; Brevo's 429s make it wait the reset.
    async with BrevoClient(
        API_KEY, base_url, limiter=LocalRateLimiter({}), backoff=FAST_RETRIES
    ) as brevo:
        started = time.monotonic()
        ids = await asyncio.gather(*(brevo.upsert_contact(f"r{i}@example.com") for i in range(14)))
    assert len(set(ids)) == 14
    assert time.monotonic() - started >= 0.5
    assert any(r.status == 429 for r in emu.stats.log)


async def test_the_client_limiter_keeps_under_the_contacts_limit(
    emu: BrevoEmulator, brevo: BrevoClient
) -> None:
    await asyncio.gather(*(brevo.upsert_contact(f"s{i}@example.com") for i in range(14)))
    assert all(r.status != 429 for r in emu.stats.log)
    assert emu.stats.requests["contacts"] == 14


async def test_unreachable_api_is_retriable_after_bounded_attempts() -> None:
    base = f"http://127.0.0.1:{free_port()}/v3"
    async with BrevoClient(
        API_KEY, base, backoff=FAST_RETRIES, limiter=LocalRateLimiter(limits_for("general"))
    ) as brevo:
        with pytest.raises(RetriableApiError, match="ConnectError"):
            await brevo.send_event(attended("nobody@example.com"))


def test_a_client_without_a_limiter_is_refused() -> None:
    # No private fallback: a client that does not spend the shared budget cannot be built.
    with pytest.raises(TypeError, match="limiter"):
        BrevoClient(API_KEY, "http://127.0.0.1:9/v3")  # type: ignore[call-arg]


async def test_the_emulators_429s_move_the_rate_limit_counter(
    emu: BrevoEmulator, base_url: str
) -> None:
    metrics = Metrics()
    async with BrevoClient(
        API_KEY, base_url, limiter=LocalRateLimiter({}), backoff=FAST_RETRIES, observer=metrics
    ) as brevo:
        await asyncio.gather(*(brevo.upsert_contact(f"r{i}@example.com") for i in range(14)))

    found = samples(metrics.render()[0].decode())
    contacts = (("category", "contacts"), ("service", "brevo"))
    answered = Counter(r.status for r in emu.stats.log)
    assert answered[429] > 0  # over Brevo's 10 a second: the emulator refused some
    assert found["zoom_brevo_api_rate_limited_total", contacts] == answered[429]
    for status, count in answered.items():
        assert found["zoom_brevo_api_calls_total", (*contacts, ("status", str(status)))] == count
    assert found["zoom_brevo_api_call_seconds_count", (("service", "brevo"),)] == answered.total()


async def test_list_members_pages_through_500_at_a_time_oldest_first(
    brevo: BrevoClient, emu: BrevoEmulator
) -> None:
    folder_id = await brevo.create_folder("Zoom")
    list_id = await brevo.create_list("Registrations", folder_id)
    state = emu.state  # seeded directly: 520 creations would take a minute at 8/s
    for i in range(520):
        contact = state.create_contact(f"p{i}@example.com", {"LASTNAME": f"L{i}"}, 0.0, None)
        state.link(contact, list_id)
    state.create_contact("outside@example.com", {}, 0.0, None)
    members = [c async for c in brevo.list_members(list_id)]
    assert [c.email for c in members] == [f"p{i}@example.com" for i in range(520)]
    assert members[7].attributes == {"LASTNAME": "L7"}
    assert calls_to(emu, f"/contacts/lists/{list_id}/contacts") == 2


async def test_list_members_modified_since_keeps_the_later_changes(
    brevo: BrevoClient, emu: BrevoEmulator
) -> None:
    folder_id = await brevo.create_folder("Zoom")
    list_id = await brevo.create_list("Sign-ups", folder_id)
    state = emu.state
    for i, at_s in enumerate((1_000.0, 2_000.0, 3_000.0)):  # 1970-01-01 00:16:40, ...
        state.link(state.create_contact(f"p{i}@example.com", {}, at_s, None), list_id)
    since = "1970-01-01T00:33:20.000Z"  # 2000 s: "modified after" keeps only p2
    members = [c async for c in brevo.list_members(list_id, modified_since=since)]
    assert [(c.email, c.modified_at) for c in members] == [
        ("p2@example.com", "1970-01-01T00:50:00.000Z")
    ]
    first = state.contact("p0@example.com")
    assert first is not None
    state.update_contact(first, {"LASTNAME": "Later"}, 4_000.0)
    later = [c.email async for c in brevo.list_members(list_id, modified_since=since)]
    assert later == ["p0@example.com", "p2@example.com"]
    with pytest.raises(PayloadRejected, match="modifiedSince"):
        _ = [c async for c in brevo.list_members(list_id, modified_since="yesterday")]


async def test_list_members_of_an_unknown_list_is_not_found(brevo: BrevoClient) -> None:
    with pytest.raises(NotFound, match="not found"):
        _ = [c async for c in brevo.list_members(999)]
