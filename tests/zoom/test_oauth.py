"""User-level OAuth: PKCE authorize URL, code exchange, refresh with rotation (zoom.md 1.2)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from zoom_brevo.errors import InvalidGrant
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.zoom.categories import zoom_limits
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.oauth import (
    OAuthApp,
    TokenSet,
    UserOAuth,
    authorization_url,
    code_challenge,
    exchange_code,
    refresh,
)

APP = OAuthApp(
    client_id="cid",
    client_secret="csecret",
    redirect_uri="https://connector.test/oauth/callback",
    oauth_base_url="https://oauth.test",
)
NOW = 1_700_000_000.0


class FakeTokenEndpoint:
    """Zoom's token endpoint with refresh-token rotation: only the latest refresh token works."""

    def __init__(self) -> None:
        self.issued = 0
        self.latest_refresh = "r0"
        self.forms: list[dict[str, list[str]]] = []
        self.api_tokens_seen: list[str] = []
        self.on_refresh: list[str] = []

    def _issue(self) -> httpx.Response:
        self.issued += 1
        self.latest_refresh = f"r{self.issued}"
        return httpx.Response(
            200,
            json={
                "access_token": f"a{self.issued}",
                "token_type": "bearer",
                "refresh_token": self.latest_refresh,
                "expires_in": 3600,
                "scope": "meeting:read",
            },
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/oauth/token":
            self.api_tokens_seen.append(request.headers["Authorization"])
            return httpx.Response(200, json={"ok": True})
        form = parse_qs(request.content.decode())
        self.forms.append(form)
        grant = form["grant_type"][0]
        if grant == "authorization_code" and form["code"] == ["good-code"]:
            return self._issue()
        if grant == "refresh_token" and form["refresh_token"] == [self.latest_refresh]:
            return self._issue()
        return httpx.Response(400, json={"reason": "Invalid Token!", "error": "invalid_grant"})


def test_authorize_url_carries_state_and_an_s256_challenge_of_the_verifier() -> None:
    auth_request = authorization_url(APP)
    parts = urlsplit(auth_request.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://oauth.test/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "cid"
    assert query["redirect_uri"] == APP.redirect_uri
    assert query["state"] == auth_request.state
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(auth_request.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(auth_request.code_verifier) <= 128  # RFC 7636 section 4.1
    assert authorization_url(APP).state != auth_request.state


def test_pkce_challenge_matches_rfc_7636_example() -> None:
    # RFC 7636 appendix B
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


async def test_code_exchange_returns_a_token_set_with_absolute_expiry() -> None:
    endpoint = FakeTokenEndpoint()
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        tokens = await exchange_code(
            http, APP, code="good-code", code_verifier="v" * 43, clock=lambda: NOW
        )
    assert tokens == TokenSet("a1", "r1", NOW + 3600, "meeting:read")
    form = endpoint.forms[0]
    assert form["code_verifier"] == ["v" * 43]
    assert form["redirect_uri"] == [APP.redirect_uri]


async def test_stale_refresh_token_raises_invalid_grant_with_reauthorize_hint() -> None:
    endpoint = FakeTokenEndpoint()
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        first = await refresh(http, APP, "r0", clock=lambda: NOW)
        assert first.refresh_token == "r1"
        with pytest.raises(InvalidGrant, match=r"re-authorize at /oauth/authorize"):
            await refresh(http, APP, "r0", clock=lambda: NOW)


async def test_rotated_tokens_are_persisted_before_the_new_access_token_is_used() -> None:
    endpoint = FakeTokenEndpoint()
    persisted: list[TokenSet] = []

    async def persist(tokens: TokenSet) -> None:
        # At this moment no API call may have used the new access token yet.
        assert f"Bearer {tokens.access_token}" not in endpoint.api_tokens_seen
        persisted.append(tokens)

    expired = TokenSet("a0", "r0", expires_at=NOW + 30, scope="meeting:read")
    auth = UserOAuth(APP, expired, persist, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint), auth=auth) as http:
        await http.get("https://api.test/v2/users/me/meetings")
        await http.get("https://api.test/v2/users/me/meetings")
    assert [t.refresh_token for t in persisted] == ["r1"]
    assert endpoint.api_tokens_seen == ["Bearer a1", "Bearer a1"]
    assert auth.tokens == persisted[0]


async def test_failed_persist_keeps_the_new_token_unused() -> None:
    endpoint = FakeTokenEndpoint()

    async def persist(tokens: TokenSet) -> None:
        raise OSError("disk full")

    expired = TokenSet("a0", "r0", expires_at=NOW - 1, scope="")
    auth = UserOAuth(APP, expired, persist, clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint), auth=auth) as http:
        with pytest.raises(OSError, match="disk full"):
            await http.get("https://api.test/v2/users/me")
    assert endpoint.api_tokens_seen == []
    assert auth.tokens is expired


async def test_expired_access_token_on_an_api_call_refreshes_once_and_resends() -> None:
    auth = UserOAuth(APP, TokenSet("a0", "r0", NOW + 3600, ""), _noop_persist, clock=lambda: NOW)
    flow = auth.async_auth_flow(httpx.Request("GET", "https://api.test/v2/users/me"))
    first = await flow.__anext__()
    assert first.headers["Authorization"] == "Bearer a0"
    renewal = await flow.asend(httpx.Response(401, json={"code": 124, "message": "expired"}))
    assert parse_qs(renewal.content.decode())["refresh_token"] == ["r0"]
    resent = await flow.asend(FakeTokenEndpoint()._issue())
    assert resent.headers["Authorization"] == "Bearer a1"
    await flow.aclose()


async def test_public_client_sends_client_id_in_the_form_without_basic_auth() -> None:
    public = OAuthApp("pub-id", None, APP.redirect_uri, "https://oauth.test")
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return FakeTokenEndpoint()._issue()

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        await refresh(http, public, "r0", clock=lambda: NOW)
    assert "Authorization" not in captured[0].headers
    assert parse_qs(captured[0].content.decode())["client_id"] == ["pub-id"]


def test_reprs_hide_tokens() -> None:
    tokens = TokenSet("access-secret", "refresh-secret", NOW, "s")
    assert "secret" not in repr(tokens)
    assert "csecret" not in repr(APP)


async def _noop_persist(tokens: TokenSet) -> None:
    return None


async def test_user_oauth_end_to_end_against_the_emulator() -> None:
    """Authorize with PKCE, exchange the code, call the API, rotate, and refuse a stale token."""
    sc = Scenario(seed=2)
    sc.meeting(sc.user(email="me@example.com"), topic="Mine", participants=3)
    emu = ZoomEmulator(scenario=sc, enforce_rate_limits=False, token_ttl_s=3600)
    transport = httpx.ASGITransport(app=emu.app)
    app = OAuthApp("cid", "csecret", "https://connector.test/oauth/callback", "http://zoom.test")
    auth_request = authorization_url(app)
    persisted: list[TokenSet] = []

    async def persist(tokens: TokenSet) -> None:
        persisted.append(tokens)

    async with httpx.AsyncClient(transport=transport) as http:
        redirect = await http.get(auth_request.url)
        query = parse_qs(urlsplit(redirect.headers["location"]).query)
        assert query["state"] == [auth_request.state]
        first = await exchange_code(
            http, app, code=query["code"][0], code_verifier=auth_request.code_verifier
        )
        # An access token about to expire: the first API call rotates it, persisting first.
        due = TokenSet(first.access_token, first.refresh_token, expires_at=0.0, scope=first.scope)
        auth = UserOAuth(app, due, persist)
        limiter = LocalRateLimiter(zoom_limits("pro"))
        async with ZoomClient(
            auth, limiter=limiter, api_base_url="http://zoom.test/v2", transport=transport
        ) as zoom:
            meetings = [m async for m in zoom.user_meetings("me")]
        assert [m.topic for m in meetings] == ["Mine"]
        assert [t.refresh_token for t in persisted] == [auth.tokens.refresh_token]
        assert auth.tokens.refresh_token != first.refresh_token
        with pytest.raises(InvalidGrant, match="re-authorize at /oauth/authorize"):
            await refresh(http, app, first.refresh_token)
