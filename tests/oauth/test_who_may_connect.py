"""Who may start ``/oauth/authorize``: anybody for the first user, only an admin to replace one.

The routes are wired as ``serve`` wires them (``site_routes_for``): the admin app and the
OAuth routes share one credentials check, so a bearer header or the admin session cookie
(``Path=/``) lets the operator reconnect, and nothing else replaces a connected user.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request

from zoom_brevo.admin import site_routes_for
from zoom_brevo.config import Settings, parse_settings
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.oauth_tokens import PendingAuthorizations, TokenRepository
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.server.oauth_routes import STATE_COOKIE, oauth_routes_for
from zoom_brevo.zoom.oauth import AuthorizationRequest, TokenSet

SITE = "http://127.0.0.1"  # loopback over http: the admin cookie is not Secure there
ADMIN_TOKEN = "admin-token-0123456789abcdef"
KEY = generate_key()
OPERATOR = TokenSet("operator-access", "operator-refresh", 4_000_000_000.0, "meeting:read")

CONFIG = """\
connectors:
  zoom:
    account_id: acct
    client_id: cid
    client_secret: csecret
    oauth_base_url: {zoom}
    oauth:
      redirect_uri: {site}/oauth/callback
brevo:
  api_key: xkeysib-test
storage:
  encryption_key: {key}
{server}"""


def settings_for(zoom: str = "http://zoom.test", *, admin: bool = True) -> Settings:
    server = f"server:\n  admin_token: {ADMIN_TOKEN}\n" if admin else ""
    text = CONFIG.format(zoom=zoom, site=SITE, key=KEY, server=server)
    return parse_settings(text, {})


def repository(engine: Engine) -> TokenRepository:
    return TokenRepository(engine, Cipher([KEY]))


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SITE)


@pytest.fixture
async def site(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on the server's admin + OAuth routes (Zoom is not called by authorize)."""
    async with client_for(Starlette(routes=site_routes_for(settings_for(), engine))) as c:
        yield c


@pytest.fixture
def zoom() -> Iterator[tuple[ZoomEmulator, str]]:
    """The Zoom emulator over loopback, for the code exchange."""
    emu = ZoomEmulator(client_id="cid", client_secret="csecret", enforce_rate_limits=False)
    with serving(emu.app) as base:
        yield emu, base


async def sign_in(site: httpx.AsyncClient) -> None:
    page = await site.get("/admin/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = await site.post("/admin/login", data={"csrf_token": csrf[1], "token": ADMIN_TOKEN})
    assert answer.status_code == 303


async def round_trip(site: httpx.AsyncClient, **headers: str) -> httpx.Response:
    """/oauth/authorize -> Zoom's (automatic) consent -> /oauth/callback."""
    started = await site.get("/oauth/authorize", headers=headers)
    assert started.status_code == 302, started.text
    async with httpx.AsyncClient() as browser_at_zoom:
        back = await browser_at_zoom.get(started.headers["location"])
    assert back.status_code == 302
    return await site.get(back.headers["location"])


# --- /oauth/authorize ---------------------------------------------------------------------


async def test_anybody_may_connect_the_first_user(site: httpx.AsyncClient) -> None:
    answer = await site.get("/oauth/authorize")
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("http://zoom.test/oauth/authorize?")


async def test_anybody_may_reauthorize_after_zoom_refused_the_tokens(
    site: httpx.AsyncClient, engine: Engine
) -> None:
    repository(engine).record_invalid_grant("Invalid Token!")
    assert (await site.get("/oauth/authorize")).status_code == 302


async def test_replacing_a_connected_user_without_admin_credentials_is_forbidden(
    site: httpx.AsyncClient, engine: Engine
) -> None:
    repository(engine).save(OPERATOR)
    answer = await site.get("/oauth/authorize")
    assert answer.status_code == 403
    assert "A Zoom user is already connected" in answer.text
    assert "sign in to /admin and use Reconnect" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert STATE_COOKIE not in answer.cookies
    assert repository(engine).load() == OPERATOR


@pytest.mark.parametrize("header", ["Bearer wrong-token", "Basic " + ADMIN_TOKEN, "Bearer"])
async def test_a_wrong_or_malformed_bearer_header_is_not_admin(
    site: httpx.AsyncClient, engine: Engine, header: str
) -> None:
    repository(engine).save(OPERATOR)
    answer = await site.get("/oauth/authorize", headers={"Authorization": header})
    assert answer.status_code == 403


async def test_the_admin_bearer_token_may_replace_a_connected_user(
    site: httpx.AsyncClient, engine: Engine
) -> None:
    repository(engine).save(OPERATOR)
    answer = await site.get("/oauth/authorize", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert answer.status_code == 302
    assert answer.cookies[STATE_COOKIE]


async def test_the_admin_session_cookie_may_replace_a_connected_user(
    site: httpx.AsyncClient, engine: Engine
) -> None:
    repository(engine).save(OPERATOR)
    await sign_in(site)  # the cookie is set on /admin/login with Path=/ ...
    answer = await site.get("/oauth/authorize")  # ... so /oauth/authorize receives it
    assert answer.status_code == 302


async def test_without_an_admin_token_the_page_says_how_to_enable_reconnect(
    engine: Engine,
) -> None:
    repository(engine).save(OPERATOR)
    settings = settings_for(admin=False)
    async with client_for(Starlette(routes=site_routes_for(settings, engine))) as site:
        answer = await site.get("/oauth/authorize")
        assert (await site.get("/admin/login")).status_code == 404
    assert answer.status_code == 403
    assert "set server.admin_token" in answer.text


async def test_an_unreadable_connection_is_a_503_page_for_others_but_not_for_the_admin(
    site: httpx.AsyncClient, engine: Engine
) -> None:
    TokenRepository(engine, Cipher([generate_key()])).save(OPERATOR)  # a key no longer set
    answer = await site.get("/oauth/authorize")
    assert answer.status_code == 503
    assert "could not be checked" in answer.text
    admin = await site.get("/oauth/authorize", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert admin.status_code == 302


async def test_the_flow_leaves_the_decision_to_the_predicate_it_was_given(
    engine: Engine,
) -> None:
    asked: list[str] = []

    def may_connect(request: Request) -> bool:
        asked.append(request.headers.get("x-operator", ""))
        return request.headers.get("x-operator") == "yes"

    routes = oauth_routes_for(settings_for(), engine, may_connect=may_connect)
    async with client_for(Starlette(routes=routes)) as site:
        repository(engine).save(OPERATOR)
        refused = await site.get("/oauth/authorize", headers={"x-operator": "no"})
        allowed = await site.get("/oauth/authorize", headers={"x-operator": "yes"})
    assert (refused.status_code, allowed.status_code) == (403, 302)
    assert asked == ["no", "yes"]


async def test_the_admin_token_is_compared_in_constant_time(
    site: httpx.AsyncClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository(engine).save(OPERATOR)
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    await site.get("/oauth/authorize", headers={"Authorization": "Bearer guess"})
    assert (b"guess", ADMIN_TOKEN.encode()) in seen


@pytest.mark.parametrize("replace", [True, False])
def test_a_pending_authorization_remembers_whether_it_may_replace(
    engine: Engine, replace: bool
) -> None:
    pending = PendingAuthorizations(engine, Cipher([KEY]))
    auth = AuthorizationRequest(url="u", state=f"state-{replace}", code_verifier="v" * 43)
    pending.remember(auth, replace=replace)
    taken = pending.take(auth.state)
    assert (taken.code_verifier, taken.replace) == ("v" * 43, replace)


# --- the whole round trip -----------------------------------------------------------------


async def test_an_admin_reconnect_replaces_the_stored_user(
    engine: Engine, zoom: tuple[ZoomEmulator, str]
) -> None:
    repository(engine).save(OPERATOR)
    app = Starlette(routes=site_routes_for(settings_for(zoom[1]), engine))
    async with client_for(app) as site:
        done = await round_trip(site, Authorization=f"Bearer {ADMIN_TOKEN}")
    assert done.status_code == 200, done.text
    stored = repository(engine).load()
    assert stored is not None
    assert stored.access_token != OPERATOR.access_token


async def test_a_first_connection_is_refused_if_someone_connected_meanwhile(
    engine: Engine, zoom: tuple[ZoomEmulator, str]
) -> None:
    app = Starlette(routes=site_routes_for(settings_for(zoom[1]), engine))
    async with client_for(app) as site:
        started = await site.get("/oauth/authorize")  # nobody connected yet: allowed
        assert started.status_code == 302
        async with httpx.AsyncClient() as browser_at_zoom:
            back = await browser_at_zoom.get(started.headers["location"])
        repository(engine).save(OPERATOR)  # the operator finishes first
        late = await site.get(back.headers["location"])
    assert late.status_code == 403
    assert "connected while this sign-in was in progress" in late.text
    assert repository(engine).load() == OPERATOR


async def test_an_admin_started_reconnect_survives_a_connection_meanwhile(
    engine: Engine, zoom: tuple[ZoomEmulator, str]
) -> None:
    app = Starlette(routes=site_routes_for(settings_for(zoom[1]), engine))
    async with client_for(app) as site:
        started = await site.get(
            "/oauth/authorize", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        async with httpx.AsyncClient() as browser_at_zoom:
            back = await browser_at_zoom.get(started.headers["location"])
        repository(engine).save(OPERATOR)
        done = await site.get(back.headers["location"])
    assert done.status_code == 200, done.text
    assert repository(engine).status().state == "connected"
    assert repository(engine).load() != OPERATOR
