"""The emulated Zoom API behaves as Zoom documents (reference zoom.md 1-3)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.zoom import ZoomEmulator

ANCHOR = datetime(2026, 6, 1, 12, tzinfo=UTC)
SLASHY = "/abc//d=="


class Clock:
    """A settable clock (epoch seconds)."""

    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now


def encode_uuid(uuid: str) -> str:
    once = quote(uuid, safe="")
    return quote(once, safe="") if uuid.startswith("/") or "//" in uuid else once


@pytest.fixture
def clock() -> Clock:
    return Clock(ANCHOR)


@pytest.fixture
def scenario() -> Scenario:
    sc = Scenario(seed=7, anchor=ANCHOR)
    host = sc.user(email="host@example.com")
    sc.meeting(host, topic="Weekly", uuid=SLASHY, participants=100, instances=3, recording=True)
    sc.webinar(host, topic="Launch", registrants=50, attendees=20, guests=2)
    return sc


@pytest.fixture
def emu(scenario: Scenario, clock: Clock) -> ZoomEmulator:
    return ZoomEmulator(scenario=scenario, clock=clock)


@pytest.fixture
async def client(emu: ZoomEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://zoom.test"
    ) as c:
        token = await s2s_token(c)
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


async def s2s_token(c: httpx.AsyncClient, secret: str = "csecret") -> str:  # noqa: S107
    r = await c.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": "acct"},
        auth=("cid", secret),
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


# --- OAuth ------------------------------------------------------------------------------
async def test_s2s_token_has_zoom_fields(emu: ZoomEmulator) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://z"
    ) as c:
        r = await c.post(
            "/oauth/token",
            data={"grant_type": "account_credentials", "account_id": "acct"},
            auth=("cid", "csecret"),
        )
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert "meeting:read:admin" in body["scope"].split()
    assert emu.stats.token_requests == 1


async def test_wrong_client_secret_is_invalid_client(emu: ZoomEmulator) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://z"
    ) as c:
        r = await c.post(
            "/oauth/token",
            data={"grant_type": "account_credentials", "account_id": "acct"},
            auth=("cid", "wrong"),
        )
    assert r.status_code == 400
    assert r.json() == {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}


async def test_authorization_code_with_pkce_then_refresh_rotation(emu: ZoomEmulator) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://z"
    ) as c:
        r = await c.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": "cid",
                "redirect_uri": "http://app.test/cb",
                "state": "s1",
                "code_challenge": challenge.decode(),
                "code_challenge_method": "S256",
            },
        )
        assert r.status_code == 302
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["state"] == ["s1"]
        form = {"grant_type": "authorization_code", "code": query["code"][0]}
        form["redirect_uri"] = "http://app.test/cb"
        bad = await c.post(
            "/oauth/token", data=form | {"code_verifier": "x" * 50}, auth=("cid", "csecret")
        )
        assert bad.status_code == 400
        r = await c.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": "cid",
                "redirect_uri": "http://app.test/cb",
                "code_challenge": challenge.decode(),
                "code_challenge_method": "S256",
            },
        )
        form["code"] = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        ok = await c.post(
            "/oauth/token", data=form | {"code_verifier": verifier}, auth=("cid", "csecret")
        )
        assert ok.status_code == 200
        first = ok.json()["refresh_token"]
        rotated = await c.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": first},
            auth=("cid", "csecret"),
        )
        assert rotated.status_code == 200
        assert rotated.json()["refresh_token"] != first
        stale = await c.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": first},
            auth=("cid", "csecret"),
        )
    assert stale.status_code == 400
    assert stale.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}


async def test_unsupported_grant_type(emu: ZoomEmulator) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://z"
    ) as c:
        r = await c.post("/oauth/token", data={"grant_type": "password"}, auth=("cid", "csecret"))
    assert r.json()["error"] == "unsupported_grant_type"


# --- Bearer checks ------------------------------------------------------------------------
async def test_missing_token_is_code_124(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/users", headers={"Authorization": ""})
    assert (r.status_code, r.json()["code"]) == (401, 124)


async def test_token_in_query_string_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/users", params={"access_token": "x"})
    assert (r.status_code, r.json()["code"]) == (401, 124)


async def test_tokens_expire_after_their_ttl(client: httpx.AsyncClient, clock: Clock) -> None:
    assert (await client.get("/v2/users")).status_code == 200
    clock.now += 3600
    r = await client.get("/v2/users")
    assert r.status_code == 401
    assert r.json() == {"code": 124, "message": "Access token is expired."}


async def test_expire_tokens_fault_invalidates_issued_tokens_only(
    client: httpx.AsyncClient, emu: ZoomEmulator
) -> None:
    emu.faults.expire_tokens()
    assert (await client.get("/v2/users")).json()["code"] == 124
    client.headers["Authorization"] = f"Bearer {await s2s_token(client)}"
    assert (await client.get("/v2/users")).status_code == 200


# --- pagination -----------------------------------------------------------------------------
async def collect(
    client: httpx.AsyncClient, path: str, key: str, **params: str
) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    token = ""
    while True:
        r = await client.get(path, params={**params, "next_page_token": token})
        assert r.status_code == 200, r.text
        body = r.json()
        items += body[key]
        token = body["next_page_token"]
        if not token:
            return items


async def test_pages_cover_every_session_row_once(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    inst = scenario.meetings[0].latest
    rows = await collect(
        client,
        f"/v2/past_meetings/{encode_uuid(inst.uuid)}/participants",
        "participants",
        page_size="7",
    )
    expected = [s.user_id for _, s in inst.sessions()]
    assert [r["user_id"] for r in rows] == expected
    assert len(rows) == inst.row_count() > 100


async def test_page_size_defaults_to_30_and_is_capped_at_300(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    path = f"/v2/past_meetings/{scenario.meetings[0].id}/participants"
    assert (await client.get(path)).json()["page_size"] == 30
    big = (await client.get(path, params={"page_size": "1000"})).json()
    assert big["page_size"] == 300
    assert len(big["participants"]) == min(300, scenario.meetings[0].latest.row_count())


async def test_page_token_expires(
    client: httpx.AsyncClient, clock: Clock, scenario: Scenario
) -> None:
    path = f"/v2/past_meetings/{scenario.meetings[0].id}/participants"
    token = (await client.get(path)).json()["next_page_token"]
    clock.now += 901
    client.headers["Authorization"] = f"Bearer {await s2s_token(client)}"
    r = await client.get(path, params={"next_page_token": token})
    assert r.status_code == 400
    assert r.json() == {"code": 300, "message": "The next page token is invalid or expired."}


async def test_page_token_is_tied_to_its_query(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    path = f"/v2/past_meetings/{scenario.meetings[0].id}/participants"
    token = (await client.get(path)).json()["next_page_token"]
    r = await client.get(
        f"/v2/report/meetings/{scenario.meetings[0].id}/participants",
        params={"next_page_token": token},
    )
    assert r.json()["code"] == 300


# --- ids and instances -----------------------------------------------------------------------
async def test_numeric_id_means_latest_instance_and_uuid_an_exact_one(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    meeting = scenario.meetings[0]
    latest = (await client.get(f"/v2/past_meetings/{meeting.id}")).json()
    assert latest["uuid"] == SLASHY
    first = meeting.instances[0]
    exact = (await client.get(f"/v2/past_meetings/{encode_uuid(first.uuid)}")).json()
    assert exact["start_time"] == first.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = (await client.get(f"/v2/past_meetings/{meeting.id}/instances")).json()["meetings"]
    assert [i["uuid"] for i in listed] == [i.uuid for i in meeting.instances]


async def test_slashy_uuid_single_encoded_is_not_found(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/v2/past_meetings/{quote(SLASHY, safe='')}/participants")
    assert r.status_code == 404
    assert r.json()["code"] == 3001


async def test_double_encoded_uuid_works_when_mounted_under_a_prefix_over_http(
    emu: ZoomEmulator,
) -> None:
    outer = Starlette(routes=[Mount("/zoom", app=emu.app)])
    with serving(outer) as base:
        async with httpx.AsyncClient(base_url=f"{base}/zoom") as c:
            token = await s2s_token(c)
            r = await c.get(
                f"/v2/past_meetings/{encode_uuid(SLASHY)}/participants",
                headers={"Authorization": f"Bearer {token}"},
            )
    assert r.status_code == 200, r.text
    assert emu.stats.requests[-1].ids == {"meetingId": SLASHY}


# --- availability and errors -------------------------------------------------------------------
async def test_report_not_ready_until_the_delay_after_the_end(
    client: httpx.AsyncClient, emu: ZoomEmulator, clock: Clock, scenario: Scenario
) -> None:
    inst = scenario.meetings[0].latest
    emu.report_delay_s = 600
    clock.now = (inst.end + timedelta(seconds=300)).timestamp()
    path = f"/v2/report/meetings/{encode_uuid(inst.uuid)}/participants"
    assert (await client.get(path)).json()["code"] == 3001
    clock.now += 301
    assert (await client.get(path)).status_code == 200


async def test_meetings_older_than_a_year_give_12702(
    client: httpx.AsyncClient, clock: Clock, scenario: Scenario
) -> None:
    clock.now += 366 * 86400
    client.headers["Authorization"] = f"Bearer {await s2s_token(client)}"
    r = await client.get(f"/v2/past_meetings/{scenario.meetings[0].id}")
    assert (r.status_code, r.json()["code"]) == (400, 12702)


async def test_missing_recording_is_3301(client: httpx.AsyncClient, scenario: Scenario) -> None:
    r = await client.get(f"/v2/meetings/{scenario.webinars[0].id}/recordings")
    assert (r.status_code, r.json()["code"]) == (404, 3301)
    ok = await client.get(f"/v2/meetings/{scenario.meetings[0].id}/recordings")
    assert ok.json()["share_url"] == scenario.meetings[0].latest.recording.share_url  # type: ignore[union-attr]


async def test_unknown_meeting_and_unknown_endpoint(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v2/meetings/123")).json()["code"] == 3001
    assert (await client.get("/v2/nothing/here")).status_code == 404


async def test_bad_page_size_is_a_400_not_a_crash(client: httpx.AsyncClient) -> None:
    r = await client.get("/v2/users", params={"page_size": "lots"})
    assert (r.status_code, r.json()["code"]) == (400, 300)


# --- faults and rate limits --------------------------------------------------------------------
async def test_fail_next_fails_matching_calls_then_recovers(
    client: httpx.AsyncClient, emu: ZoomEmulator, scenario: Scenario
) -> None:
    emu.faults.fail_next(2, status=429, path_contains="participants", retry_after=3)
    assert (await client.get("/v2/users")).status_code == 200
    path = f"/v2/past_meetings/{scenario.meetings[0].id}/participants"
    first = await client.get(path)
    assert first.status_code == 429
    assert first.headers["retry-after"] == "3"
    assert (await client.get(path)).status_code == 429
    assert (await client.get(path)).status_code == 200
    assert [r.status for r in emu.stats.api_calls("participants")] == [429, 429, 200]


async def test_token_endpoint_down(emu: ZoomEmulator) -> None:
    emu.faults.token_endpoint_down(1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://z"
    ) as c:
        data = {"grant_type": "account_credentials", "account_id": "acct"}
        assert (await c.post("/oauth/token", data=data, auth=("cid", "csecret"))).status_code == 503
        assert (await c.post("/oauth/token", data=data, auth=("cid", "csecret"))).status_code == 200


async def test_token_endpoint_down_until_a_time_answers_the_chosen_status(
    emu: ZoomEmulator, clock: Clock
) -> None:
    emu.faults.token_endpoint_down_until(clock.now + 30, status=500)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="http://z"
    ) as c:
        data = {"grant_type": "account_credentials", "account_id": "acct"}

        async def token_status() -> int:
            return (await c.post("/oauth/token", data=data, auth=("cid", "csecret"))).status_code

        assert [await token_status() for _ in range(3)] == [500, 500, 500]
        clock.now += 29.9
        assert await token_status() == 500
        clock.now += 0.1
        assert await token_status() == 200
    assert emu.stats.token_requests == 5
    with pytest.raises(ValueError, match="500 or 503"):
        emu.faults.token_endpoint_down_until(clock.now + 1, status=429)


async def test_per_second_limit_answers_zoom_429(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    path = f"/v2/report/meetings/{scenario.meetings[0].id}/participants"
    statuses = [(await client.get(path)).status_code for _ in range(11)]  # Pro heavy: 10/s
    assert statuses == [200] * 10 + [429]
    r = await client.get(path)
    assert r.json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. "
        "Try again later.",
    }
    assert r.headers["X-RateLimit-Category"] == "Heavy"
    assert r.headers["X-RateLimit-Type"] == "QPS"
    assert r.headers["X-RateLimit-Remaining"] == "0"


async def test_daily_cap_answers_429_with_an_iso_retry_after(
    client: httpx.AsyncClient, emu: ZoomEmulator, scenario: Scenario
) -> None:
    emu.limits.set_daily_used("Heavy", 30_000)
    r = await client.get(f"/v2/report/meetings/{scenario.meetings[0].id}/participants")
    assert r.status_code == 429
    assert r.headers["X-RateLimit-Type"] == "Daily-limit"
    assert r.headers["Retry-After"] == "2026-06-02T00:00:00Z"
    assert "daily rate limit" in r.json()["message"]


async def test_tracking_source_filter(client: httpx.AsyncClient, scenario: Scenario) -> None:
    webinar = scenario.webinars[0]
    source = webinar.sources[0]
    rows = await collect(
        client,
        f"/v2/webinars/{webinar.id}/registrants",
        "registrants",
        tracking_source_id=source.id,
    )
    expected = [r.id for r in webinar.registrants if r.tracking_source == source]
    assert [r["id"] for r in rows] == expected
    assert expected


async def test_absentees_and_attendees_partition_the_registrants(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    webinar = scenario.webinars[0]
    absent = await collect(client, f"/v2/past_webinars/{webinar.id}/absentees", "registrants")
    rows = await collect(
        client,
        f"/v2/report/webinars/{webinar.id}/participants",
        "participants",
        include_fields="registrant_id",
    )
    attended = {r["registrant_id"] for r in rows if r.get("registrant_id")}
    assert len(attended) == 20
    assert {r["id"] for r in absent} | attended == {r.id for r in webinar.registrants}
    assert not {r["id"] for r in absent} & attended
