"""Behaviour of the Brevo emulator that the real API documents (reference brevo.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from zoom_brevo.sandbox.brevo import BrevoEmulator, Options

KEY = "xkeysib-emulator"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> BrevoEmulator:
    return BrevoEmulator(api_keys={KEY}, clock=clock)


@pytest.fixture
async def http(emu: BrevoEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://brevo.test/v3/", headers={"api-key": KEY}
    ) as client:
        yield client


async def new_list(http: httpx.AsyncClient) -> int:
    folder = (await http.post("contacts/folders", json={"name": "Zoom"})).json()["id"]
    response = await http.post("contacts/lists", json={"name": "L", "folderId": folder})
    return int(response.json()["id"])


# -- auth ----------------------------------------------------------------------------------


async def test_missing_key_is_refused_like_brevo(http: httpx.AsyncClient) -> None:
    response = await http.get("account", headers={"api-key": ""})
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthorized",
        "message": "authentication not found in headers",
    }


async def test_unknown_key_is_refused_like_brevo(http: httpx.AsyncClient) -> None:
    response = await http.get("account", headers={"api-key": "xkeysib-nope"})
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": "Key not found"}


async def test_allowed_ip_mode_refuses_other_addresses_even_with_a_good_key(
    emu: BrevoEmulator, http: httpx.AsyncClient
) -> None:
    emu.allowed_ips = {"198.51.100.1"}
    response = await http.get("account")
    assert response.status_code == 401
    assert "unrecognised IP address 127.0.0.1" in response.json()["message"]
    emu.allowed_ips = {"127.0.0.1"}
    assert (await http.get("account")).status_code == 200


# -- contacts ------------------------------------------------------------------------------


async def test_duplicate_contact_without_update_enabled_is_refused(http: httpx.AsyncClient) -> None:
    await http.post("contacts", json={"email": "dup@example.com"})
    response = await http.post("contacts", json={"email": "DUP@example.com"})
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_parameter"
    assert response.json()["metadata"] == {"duplicate_identifiers": ["email"]}


@pytest.mark.parametrize(
    ("attr_type", "value", "kept"),
    [
        ("date", "2026-03-01", True),
        ("date", "01/03/2026", False),
        ("date", "2026-02-30", False),
        ("date", "2026-03-01T10:00:00Z", False),
        ("float", 42, True),
        ("float", 4.5, True),
        ("float", "42", False),
        ("float", True, False),
        ("boolean", True, True),
        ("boolean", "yes", False),
        ("text", "hello", True),
        ("text", 3, False),
    ],
)
async def test_wrongly_typed_attribute_values_are_dropped_silently(
    http: httpx.AsyncClient, attr_type: str, value: Any, kept: bool
) -> None:
    await http.post("contacts/attributes/normal/THING", json={"type": attr_type})
    body = {"email": "t@example.com", "attributes": {"THING": value, "NOT_DEFINED": "x"}}
    assert (await http.post("contacts", json=body)).status_code == 201
    stored = (await http.get("contacts/t%40example.com")).json()["attributes"]
    assert stored == ({"THING": value} if kept else {})


async def test_emails_are_one_contact_whatever_their_case(
    emu: BrevoEmulator, http: httpx.AsyncClient
) -> None:
    await http.post("contacts", json={"email": "Case@Example.COM"})
    assert (await http.get("contacts/case%40example.com")).json()["email"] == "case@example.com"
    assert len(emu.state.contacts) == 1


# -- imports -------------------------------------------------------------------------------


async def test_import_completes_after_its_delay_and_serves_rejected_rows_as_csv(
    emu: BrevoEmulator, http: httpx.AsyncClient, clock: Clock
) -> None:
    emu.options.import_delay_s = 30
    list_id = await new_list(http)
    rows = [{"email": "ok@example.com"}, {"email": "nope"}]
    process_id = (
        await http.post("contacts/import", json={"jsonBody": rows, "listIds": [list_id]})
    ).json()["processId"]
    clock.now += 1
    early = (await http.get(f"processes/{process_id}")).json()
    assert early["status"] == "in_process"
    assert emu.state.contact("ok@example.com") is None
    clock.now += 30
    done = (await http.get(f"processes/{process_id}")).json()
    assert done["status"] == "completed"
    report_url = done["info"]["import"]["invalid_emails"]
    assert done["info"]["import"]["duplicate_email_id"] is None
    report = await http.get(report_url)
    assert report.headers["content-type"].startswith("text/csv")
    assert report.text.splitlines() == ["email,row", "nope,2"]
    assert emu.state.contact("ok@example.com") is not None


async def test_file_body_imports_semicolon_csv(emu: BrevoEmulator, http: httpx.AsyncClient) -> None:
    list_id = await new_list(http)
    body = {"fileBody": "EMAIL;FIRSTNAME\nf@example.com;Fay\n", "listIds": [list_id]}
    assert (await http.post("contacts/import", json=body)).status_code == 202
    contact = emu.state.contact("f@example.com")
    assert contact is not None
    assert contact.attributes == {"FIRSTNAME": "Fay"}


async def test_import_keeps_attributes_when_cells_are_empty(
    emu: BrevoEmulator, http: httpx.AsyncClient
) -> None:
    list_id = await new_list(http)
    await http.post("contacts", json={"email": "k@example.com", "attributes": {"FIRSTNAME": "Kim"}})
    rows = [{"email": "k@example.com", "attributes": {"FIRSTNAME": ""}}]
    await http.post("contacts/import", json={"jsonBody": rows, "listIds": [list_id]})
    contact = emu.state.contact("k@example.com")
    assert contact is not None
    assert contact.attributes == {"FIRSTNAME": "Kim"}


# -- lists and folders -----------------------------------------------------------------------


async def test_pages_of_lists_are_capped_at_50(http: httpx.AsyncClient) -> None:
    response = await http.get("contacts/lists", params={"limit": 51})
    assert response.status_code == 400


async def test_list_add_over_150_is_refused(http: httpx.AsyncClient) -> None:
    list_id = await new_list(http)
    emails = [f"x{i}@example.com" for i in range(151)]
    response = await http.post(f"contacts/lists/{list_id}/contacts/add", json={"emails": emails})
    assert response.status_code == 400


async def test_adding_a_contact_to_a_list_modifies_it_so_modified_since_finds_it(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    list_id = await new_list(http)
    assert (await http.post("contacts", json={"email": "c@example.com"})).status_code == 201
    before = (await http.get("contacts/c@example.com")).json()["modifiedAt"]
    clock.now += 60
    added = await http.post(
        f"contacts/lists/{list_id}/contacts/add", json={"emails": ["c@example.com"]}
    )
    assert added.status_code == 201
    after = (await http.get("contacts/c@example.com")).json()["modifiedAt"]
    assert after > before
    listed = await http.get(f"contacts/lists/{list_id}/contacts", params={"modifiedSince": before})
    assert [c["email"] for c in listed.json()["contacts"]] == ["c@example.com"]


async def test_list_needs_an_existing_folder(http: httpx.AsyncClient) -> None:
    response = await http.post("contacts/lists", json={"name": "L", "folderId": 77})
    assert response.status_code == 400


# -- events, e-mail --------------------------------------------------------------------------


async def test_batch_events_require_the_events_object_not_a_bare_array(
    http: httpx.AsyncClient,
) -> None:
    event = {"event_name": "x", "identifiers": {"email_id": "a@example.com"}}
    assert (await http.post("events/batch", json=[event])).status_code == 400
    assert (await http.post("events/batch", json={"events": [event]})).status_code == 202


async def test_events_are_recorded_in_order_and_update_known_contacts(
    emu: BrevoEmulator, http: httpx.AsyncClient
) -> None:
    await http.post("contacts", json={"email": "ev@example.com"})
    for name in ("first", "second"):
        event = {
            "event_name": name,
            "identifiers": {"email_id": "ev@example.com"},
            "contact_properties": {"FIRSTNAME": name},
        }
        assert (await http.post("events", json=event)).status_code == 204
    assert [(e.seq, e.event_name) for e in emu.state.events] == [(1, "first"), (2, "second")]
    contact = emu.state.contact("ev@example.com")
    assert contact is not None
    assert contact.attributes == {"FIRSTNAME": "second"}


async def test_idempotency_key_blocks_resends_for_30_minutes_only(
    emu: BrevoEmulator, http: httpx.AsyncClient, clock: Clock
) -> None:
    mail = {
        "templateId": 2,
        "to": [{"email": "m@example.com"}],
        "headers": {"idempotencyKey": "abc"},
    }
    assert (await http.post("smtp/email", json=mail)).status_code == 201
    clock.now += 29 * 60
    repeat = await http.post("smtp/email", json=mail)
    assert repeat.status_code == 400
    assert repeat.json()["code"] == "duplicate_parameter"
    clock.now += 2 * 60
    assert (await http.post("smtp/email", json=mail)).status_code == 201
    assert len(emu.state.emails) == 2


async def test_more_than_1000_message_versions_are_refused(http: httpx.AsyncClient) -> None:
    versions = [{"to": [{"email": f"v{i}@example.com"}]} for i in range(1001)]
    response = await http.post("smtp/email", json={"templateId": 1, "messageVersions": versions})
    assert response.status_code == 400


# -- limits, faults, routing ------------------------------------------------------------------


async def test_family_limits_answer_429_with_relative_reset_headers(
    emu: BrevoEmulator, http: httpx.AsyncClient, clock: Clock
) -> None:
    statuses = [(await http.get("contacts/attributes")).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    limited = await http.get("contacts/attributes")
    assert limited.headers["x-sib-ratelimit-limit"] == "10"
    assert limited.headers["x-sib-ratelimit-remaining"] == "0"
    assert limited.headers["x-sib-ratelimit-reset"] == "1"
    assert limited.json()["code"] == "too_many_requests"
    assert (await http.get("account")).status_code == 200  # another family is unaffected
    clock.now += 1
    assert (await http.get("contacts/attributes")).status_code == 200


async def test_other_endpoints_allow_100_calls_an_hour(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    for _ in range(100):
        assert (await http.get("account")).status_code == 200
    limited = await http.get("account")
    assert limited.status_code == 429
    assert limited.headers["x-sib-ratelimit-reset"] == "3600"
    clock.now += 3600
    assert (await http.get("account")).status_code == 200


async def test_faults_hit_only_matching_paths_and_only_n_times(
    emu: BrevoEmulator, http: httpx.AsyncClient
) -> None:
    emu.faults.fail_next(2, status=503, path_contains="/events")
    assert (await http.get("account")).status_code == 200
    event = {"event_name": "x", "identifiers": {"email_id": "a@example.com"}}
    assert [(await http.post("events", json=event)).status_code for _ in range(3)] == [
        503,
        503,
        204,
    ]
    assert emu.stats.requests == {"other": 1, "events": 3}


async def test_an_outage_window_fails_every_call_until_it_ends_and_spends_no_quota(
    emu: BrevoEmulator, http: httpx.AsyncClient, clock: Clock
) -> None:
    emu.faults.fail_during(clock.now + 1, clock.now + 61, status=503)
    assert (await http.get("account")).status_code == 200  # before the window
    clock.now += 1
    down = [(await http.get("account")).status_code for _ in range(150)]
    assert down == [503] * 150  # over the hourly "other" quota of 100: none of it was spent
    clock.now += 59.9
    assert (await http.get("account")).status_code == 503
    clock.now += 0.1
    assert (await http.get("account")).status_code == 200
    assert emu.stats.requests == {"other": 153}


async def test_a_rate_limit_storm_answers_429_in_bursts_with_a_reset_header(
    emu: BrevoEmulator, http: httpx.AsyncClient, clock: Clock
) -> None:
    start = clock.now
    end = emu.faults.rate_limit_storm(
        start, bursts=2, burst_s=4, calm_s=3, reset_s=2, path_contains="/contacts"
    )
    assert end == start + 11  # 4 s storm, 3 s calm, 4 s storm
    seen = []
    for offset in (0, 3.9, 4, 6.9, 7, 10.9, 11):
        clock.now = start + offset
        response = await http.get("contacts/attributes")
        seen.append((response.status_code, response.headers.get("x-sib-ratelimit-reset")))
    assert seen == [
        (429, "2"), (429, "2"), (200, "1"), (200, "1"), (429, "2"), (429, "2"), (200, "1"),
    ]  # fmt: skip
    assert (await http.get("account")).status_code == 200  # another path is unaffected


async def test_a_429_window_without_a_reset_tells_the_seconds_it_has_left(
    emu: BrevoEmulator, http: httpx.AsyncClient, clock: Clock
) -> None:
    emu.faults.fail_during(clock.now, clock.now + 9.5, status=429)
    clock.now += 2
    limited = await http.post("events", json={"event_name": "x", "identifiers": {}})
    assert limited.status_code == 429
    assert limited.headers["x-sib-ratelimit-reset"] == "8"
    assert limited.json()["code"] == "too_many_requests"


def test_a_fault_window_must_end_after_it_starts(emu: BrevoEmulator) -> None:
    with pytest.raises(ValueError, match="end after"):
        emu.faults.fail_during(10, 10)


async def test_unknown_route_and_wrong_method_answer_like_brevo(http: httpx.AsyncClient) -> None:
    assert (await http.get("nowhere")).status_code == 404
    wrong = await http.put("account")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


async def test_invalid_json_is_a_400_not_a_crash(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "contacts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_options_can_be_given_up_front() -> None:
    emu = BrevoEmulator(options=Options(import_delay_s=5, email_credits=10))
    assert emu.options.import_delay_s == 5


# -- list members -----------------------------------------------------------------------------


async def test_list_members_page_newest_first_with_count(http: httpx.AsyncClient) -> None:
    list_id = await new_list(http)
    for n in range(3):
        await http.post(
            "contacts",
            json={
                "email": f"p{n}@example.com",
                "attributes": {"LASTNAME": f"L{n}"},
                "listIds": [list_id],
            },
        )
    await http.post("contacts", json={"email": "other@example.com"})
    first = (await http.get(f"contacts/lists/{list_id}/contacts", params={"limit": 2})).json()
    rest = (
        await http.get(f"contacts/lists/{list_id}/contacts", params={"limit": 2, "offset": 2})
    ).json()
    assert first["count"] == rest["count"] == 3
    emails = [c["email"] for c in first["contacts"] + rest["contacts"]]
    assert emails == ["p2@example.com", "p1@example.com", "p0@example.com"]
    assert first["contacts"][0]["attributes"] == {"LASTNAME": "L2"}
    assert first["contacts"][0]["listIds"] == [list_id]
    ascending = (
        await http.get(f"contacts/lists/{list_id}/contacts", params={"sort": "asc"})
    ).json()
    assert ascending["contacts"][0]["email"] == "p0@example.com"


async def test_list_members_of_an_unknown_list_is_404_and_limit_is_bounded(
    http: httpx.AsyncClient,
) -> None:
    missing = await http.get("contacts/lists/999/contacts")
    assert missing.status_code == 404
    assert missing.json()["code"] == "document_not_found"
    list_id = await new_list(http)
    too_many = await http.get(f"contacts/lists/{list_id}/contacts", params={"limit": 501})
    assert too_many.status_code == 400
