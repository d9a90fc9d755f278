"""Server-to-Server OAuth as an httpx.Auth, driven by hand like httpx's own auth tests."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import parse_qs

import httpx
import pytest

from zoom_brevo.errors import AuthError, RetriableApiError
from zoom_brevo.zoom.auth import ServerToServerAuth


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_auth(clock: FakeClock) -> ServerToServerAuth:
    return ServerToServerAuth(
        account_id="acct",
        client_id="cid",
        client_secret="csecret",
        oauth_base_url="https://oauth.test/",
        clock=clock,
    )


def token_response(value: str, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": value,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": "meeting:read:admin report:read:admin",
            "api_url": "https://api.zoom.us",
        },
    )


def api_request() -> httpx.Request:
    return httpx.Request("GET", "https://api.test/v2/users")


async def test_first_request_fetches_a_token_with_basic_auth_and_a_form_body() -> None:
    auth = make_auth(FakeClock())
    flow = auth.async_auth_flow(api_request())
    token_request = await flow.__anext__()
    assert token_request.method == "POST"
    assert str(token_request.url) == "https://oauth.test/oauth/token"
    expected = base64.b64encode(b"cid:csecret").decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token_request.url.query == b""
    form = parse_qs(token_request.content.decode())
    assert form == {"grant_type": ["account_credentials"], "account_id": ["acct"]}

    request = await flow.asend(token_response("tok-1"))
    assert request.headers["Authorization"] == "Bearer tok-1"
    with pytest.raises(StopAsyncIteration):
        await flow.asend(httpx.Response(200, json={"users": []}))


async def test_cached_token_is_reused_until_60_s_before_expiry() -> None:
    clock = FakeClock()
    auth = make_auth(clock)
    flow = auth.async_auth_flow(api_request())
    await flow.__anext__()
    await flow.asend(token_response("tok-1", expires_in=3600))
    await flow.aclose()

    clock.now += 3600 - 61
    flow = auth.async_auth_flow(api_request())
    request = await flow.__anext__()
    assert request.headers["Authorization"] == "Bearer tok-1"
    await flow.aclose()

    clock.now += 2  # now 59 s before expiry
    flow = auth.async_auth_flow(api_request())
    renewal = await flow.__anext__()
    assert renewal.url.path == "/oauth/token"
    request = await flow.asend(token_response("tok-2"))
    assert request.headers["Authorization"] == "Bearer tok-2"
    await flow.aclose()


async def test_401_with_code_124_renews_once_and_resends_the_request() -> None:
    auth = make_auth(FakeClock())
    flow = auth.async_auth_flow(api_request())
    await flow.__anext__()
    await flow.asend(token_response("tok-1"))
    expired = httpx.Response(401, json={"code": 124, "message": "Access token is expired."})
    renewal = await flow.asend(expired)
    assert renewal.url.path == "/oauth/token"
    resent = await flow.asend(token_response("tok-2"))
    assert resent.url.path == "/v2/users"
    assert resent.headers["Authorization"] == "Bearer tok-2"
    # A second 401 is handed back to the caller (which maps it to AuthError): no loop.
    with pytest.raises(StopAsyncIteration):
        await flow.asend(httpx.Response(401, json={"code": 124, "message": "Invalid"}))


async def test_other_401s_do_not_trigger_a_renewal() -> None:
    auth = make_auth(FakeClock())
    flow = auth.async_auth_flow(api_request())
    await flow.__anext__()
    await flow.asend(token_response("tok-1"))
    with pytest.raises(StopAsyncIteration):
        await flow.asend(httpx.Response(401, json={"code": 4700, "message": "scopes"}))


async def test_wrong_secret_raises_auth_error_naming_zoom_and_the_fix() -> None:
    auth = make_auth(FakeClock())
    flow = auth.async_auth_flow(api_request())
    await flow.__anext__()
    refused = httpx.Response(
        400, json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    )
    with pytest.raises(AuthError) as caught:
        await flow.asend(refused)
    message = str(caught.value)
    assert "Zoom" in message
    assert "client_id" in message
    assert "client_secret" in message
    assert "csecret" not in message


async def test_token_endpoint_outage_is_retriable() -> None:
    auth = make_auth(FakeClock())
    flow = auth.async_auth_flow(api_request())
    await flow.__anext__()
    with pytest.raises(RetriableApiError):
        await flow.asend(httpx.Response(503, text="down"))


async def test_concurrent_flows_share_one_token_fetch() -> None:
    """The lock makes every waiting flow reuse the token the first one fetched."""
    auth = make_auth(FakeClock())
    first = auth.async_auth_flow(api_request())
    assert (await first.__anext__()).url.path == "/oauth/token"
    others = [auth.async_auth_flow(api_request()) for _ in range(5)]
    pending = [asyncio.ensure_future(flow.__anext__()) for flow in others]
    await asyncio.sleep(0)
    assert not any(task.done() for task in pending)  # blocked on the lock
    await first.asend(token_response("tok-1"))
    requests = await asyncio.gather(*pending)
    assert {r.url.path for r in requests} == {"/v2/users"}
    assert {r.headers["Authorization"] for r in requests} == {"Bearer tok-1"}
    for flow in [first, *others]:
        await flow.aclose()


def test_repr_never_shows_the_secret_or_token() -> None:
    auth = make_auth(FakeClock())
    assert "csecret" not in repr(auth)
    auth.store_token_response(200, token_response("tok-secret").json())
    assert "tok-secret" not in repr(auth.token)
