"""``GET /events`` on the emulated Brevo and through the client, over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.models import Event
from zoom_brevo.sandbox.brevo import BrevoEmulator

API_KEY_HEADER = "api-key"
DAY = timedelta(days=1)


def event(email: str, name: str, date: str | None, uuid: str) -> Event:
    return Event(
        event_name=name,
        identifiers={"email_id": email},
        event_date=date,
        event_properties={"meeting_uuid": uuid},
    )


async def seed(brevo: BrevoClient) -> tuple[int, int]:
    ann = await brevo.upsert_contact("ann@example.com")
    ben = await brevo.upsert_contact("ben@example.com")
    assert ann is not None and ben is not None
    await brevo.send_events([
        event("ann@example.com", "zoom_attended", "2026-03-01T10:00:00+00:00", "m1"),
        event("ann@example.com", "zoom_attended", "2026-03-08T10:00:00+00:00", "m2"),
        event("ann@example.com", "zoom_registered", "2026-03-01T09:00:00+00:00", "m1"),
        event("ben@example.com", "zoom_attended", "2026-03-01T10:00:00+00:00", "m1"),
        event("nobody@example.com", "zoom_attended", "2026-03-01T10:00:00+00:00", "m1"),
    ])  # fmt: skip
    return ann, ben


async def test_events_are_listed_by_contact_name_and_date_range_newest_first(
    brevo: BrevoClient, emu: BrevoEmulator
) -> None:
    ann, _ben = await seed(brevo)
    march = datetime(2026, 3, 1, tzinfo=UTC)
    found = await brevo.list_events(ann, "zoom_attended", march, march + 30 * DAY)
    assert [(e.contact_id, e.event_properties) for e in found] == [
        (ann, {"meeting_uuid": "m2"}),
        (ann, {"meeting_uuid": "m1"}),
    ]
    assert found[0].event_date is not None
    assert datetime.fromisoformat(found[0].event_date) == datetime(2026, 3, 8, 10, tzinfo=UTC)
    first_week = await brevo.list_events(ann, "zoom_attended", march, march + 2 * DAY)
    assert [e.event_properties for e in first_week] == [{"meeting_uuid": "m1"}]


async def test_the_events_of_several_contacts_come_in_one_listing(
    brevo: BrevoClient, emu: BrevoEmulator
) -> None:
    ann, ben = await seed(brevo)
    march = datetime(2026, 3, 1, tzinfo=UTC)
    before = len(emu.stats.log)
    found = await brevo.list_events([ann, ben], "zoom_attended", march, march + 2 * DAY)
    assert sorted(
        (e.contact_id, e.event_properties["meeting_uuid"]) for e in found if e.event_properties
    ) == [
        (ann, "m1"),
        (ben, "m1"),
    ]
    assert len(emu.stats.log) == before + 1


async def test_an_event_without_a_date_is_listed_at_its_arrival(
    brevo: BrevoClient, emu: BrevoEmulator
) -> None:
    ann = await brevo.upsert_contact("ann@example.com")
    assert ann is not None
    await brevo.send_events([event("ann@example.com", "zoom_attended", None, "m9")])
    now = datetime.now(UTC)
    assert len(await brevo.list_events(ann, "zoom_attended", now - DAY, now + DAY)) == 1
    assert await brevo.list_events(ann, "zoom_attended", now - 3 * DAY, now - 2 * DAY) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("startDate=2026-03-01", "together"),
        ("endDate=2026-03-01", "together"),
        ("startDate=2026-03-02&endDate=2026-03-01", "before or equal"),
        ("startDate=yesterday&endDate=2026-03-01", "YYYY-MM-DD"),
        ("limit=0", "between 1 and 10000"),
        ("limit=10001", "between 1 and 10000"),
        ("offset=-1", "offset at least 0"),
        ("contact_id=abc", "integers"),
    ],
)
async def test_bad_listing_parameters_are_a_400(
    base_url: str, emu: BrevoEmulator, query: str, message: str
) -> None:
    [key] = emu.api_keys
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base_url}/events?{query}", headers={API_KEY_HEADER: key})
    assert response.status_code == 400
    assert message in response.json()["message"]


async def test_repeated_filters_and_paging_as_brevo_documents_them(
    base_url: str, brevo: BrevoClient, emu: BrevoEmulator
) -> None:
    ann, ben = await seed(brevo)
    [key] = emu.api_keys
    window = "startDate=2026-01-01&endDate=2026-12-31"
    async with httpx.AsyncClient(base_url=base_url, headers={API_KEY_HEADER: key}) as client:
        both = (await client.get(f"/events?contact_id={ann}&contact_id={ben}&{window}")).json()
        page = (await client.get(f"/events?{window}&limit=2&offset=3")).json()
        objects = (await client.get(f"/events?{window}&object_type=order")).json()
    assert both["count"] == 4  # the event for an unknown address is attributed to no one
    assert (page["count"], len(page["events"])) == (4, 1)
    assert objects == {"events": [], "count": 0}
