"""The emulated import processes: their listing and the import body limit (brevo.md 2.5)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from zoom_brevo.sandbox.brevo import BrevoEmulator

KEY = "xkeysib-processes"


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
    return BrevoEmulator(api_keys={KEY}, enforce_rate_limits=False, clock=clock)


@pytest.fixture
async def http(emu: BrevoEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://brevo.test/v3/", headers={"api-key": KEY}
    ) as client:
        yield client


@pytest.fixture
async def list_id(http: httpx.AsyncClient) -> int:
    folder = (await http.post("contacts/folders", json={"name": "Zoom"})).json()["id"]
    response = await http.post("contacts/lists", json={"name": "L", "folderId": folder})
    return int(response.json()["id"])


async def import_one(http: httpx.AsyncClient, list_id: int, email: str) -> int:
    body = {"jsonBody": [{"email": email}], "listIds": [list_id]}
    return int((await http.post("contacts/import", json=body)).json()["processId"])


async def test_processes_are_listed_newest_first_ten_by_default(
    http: httpx.AsyncClient, list_id: int
) -> None:
    ids = [await import_one(http, list_id, f"p{i}@example.com") for i in range(12)]

    page = (await http.get("processes")).json()

    assert page["count"] == 12
    assert [p["id"] for p in page["processes"]] == ids[::-1][:10]
    assert {p["name"] for p in page["processes"]} == {"IMPORTUSER"}


async def test_the_listing_pages_with_limit_offset_and_sort(
    http: httpx.AsyncClient, list_id: int
) -> None:
    ids = [await import_one(http, list_id, f"p{i}@example.com") for i in range(5)]

    newest = (await http.get("processes", params={"limit": 2, "offset": 2})).json()
    oldest = (await http.get("processes", params={"limit": 2, "sort": "asc"})).json()

    assert [p["id"] for p in newest["processes"]] == [ids[2], ids[1]]
    assert [p["id"] for p in oldest["processes"]] == ids[:2]


@pytest.mark.parametrize("query", [{"limit": 51}, {"limit": -1}, {"sort": "sideways"}])
async def test_listing_parameters_out_of_bounds_are_refused(
    http: httpx.AsyncClient, query: dict[str, object]
) -> None:
    response = await http.get("processes", params=query)
    assert response.status_code == 400


async def test_listed_imports_show_their_state_and_report_urls_like_a_single_read(
    emu: BrevoEmulator, http: httpx.AsyncClient, clock: Clock, list_id: int
) -> None:
    emu.options.import_delay_s = 30
    process_id = await import_one(http, list_id, "nope")
    clock.now += 1
    [running] = (await http.get("processes")).json()["processes"]
    assert running["status"] == "in_process"
    assert "info" not in running

    clock.now += 30
    [done] = (await http.get("processes")).json()["processes"]
    single = (await http.get(f"processes/{process_id}")).json()
    assert done == single
    assert done["status"] == "completed"
    report = await http.get(done["info"]["import"]["invalid_emails"])
    assert report.text.splitlines() == ["email,row", "nope,1"]


async def test_an_import_body_over_10_mb_is_refused(
    emu: BrevoEmulator, http: httpx.AsyncClient, list_id: int
) -> None:
    emu.options.max_import_bytes = 2_000  # the 10 MB limit, scaled down
    rows = [{"email": f"person{i}@example.com"} for i in range(100)]

    refused = await http.post("contacts/import", json={"jsonBody": rows, "listIds": [list_id]})
    accepted = await http.post(
        "contacts/import", json={"jsonBody": rows[:10], "listIds": [list_id]}
    )

    assert refused.status_code == 400
    assert refused.json()["code"] == "out_of_range"
    assert accepted.status_code == 202
    assert len(emu.state.processes) == 1
