"""GET /oauth/authorize and /oauth/callback: the browser's round trip through Zoom."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from tests.oauth.conftest import APP, CONNECTOR, ZOOM
from zoom_brevo.config import parse_settings
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.errors import ConfigError
from zoom_brevo.oauth_tokens import PendingAuthorizations, TokenRepository
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.server.app import create_app
from zoom_brevo.server.oauth_routes import (
    STATE_COOKIE,
    OAuthFlow,
    connection_status,
    oauth_app,
    oauth_routes,
    oauth_routes_for,
)
from zoom_brevo.server.webhooks import WebhookOptions
from zoom_brevo.store import tokens as rows
from zoom_brevo.store.engine import reading
from zoom_brevo.zoom.oauth import OAuthApp

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class MovingClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def connector(flow: OAuthFlow) -> Starlette:
    return Starlette(routes=oauth_routes(flow))


def in_process_flow(
    engine: Engine, cipher: Cipher, emu: ZoomEmulator, clock: MovingClock | None = None
) -> OAuthFlow:
    """The flow, reaching the emulator in-process as http://zoom.test."""
    return OAuthFlow(
        APP,
        TokenRepository(engine, cipher),
        PendingAuthorizations(engine, cipher, now=clock or MovingClock()),
        transport=httpx.ASGITransport(app=emu.app),
    )


@pytest.fixture
async def browser(
    engine: Engine, cipher: Cipher, emu: ZoomEmulator
) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the connector app (in-process)."""
    app = connector(in_process_flow(engine, cipher, emu))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=CONNECTOR
    ) as client:
        yield client


async def consent(emu: ZoomEmulator, authorize_location: str) -> str:
    """What Zoom's consent screen does: redirect back to the callback (with code and state)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app)) as zoom:
        answer = await zoom.get(authorize_location)
    assert answer.status_code == 302
    return answer.headers["location"]


async def start(browser: httpx.AsyncClient, emu: ZoomEmulator) -> str:
    """Start a sign-in; the callback URL Zoom sends the browser back to."""
    started = await browser.get("/oauth/authorize")
    assert started.status_code == 302
    return await consent(emu, started.headers["location"])


def db_bytes(db_path: Path) -> bytes:
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# --- end to end over loopback ---------------------------------------------------------------


def test_the_web_flow_connects_a_user_over_loopback_and_stores_tokens_sealed(
    engine: Engine, cipher: Cipher, emu: ZoomEmulator, db_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(emu.app) as zoom_base:
        app = OAuthApp("cid", "csecret", f"{base}/oauth/callback", oauth_base_url=zoom_base)
        repo = TokenRepository(engine, cipher)
        flow = OAuthFlow(app, repo, PendingAuthorizations(engine, cipher))
        with serving(connector(flow), port=port), httpx.Client() as browser:
            started = browser.get(f"{base}/oauth/authorize")
            assert started.status_code == 302
            to_zoom = urlsplit(started.headers["location"])
            query = parse_qs(to_zoom.query)
            assert f"{to_zoom.scheme}://{to_zoom.netloc}" == zoom_base
            assert query["code_challenge_method"] == ["S256"]
            assert query["redirect_uri"] == [f"{base}/oauth/callback"]
            assert started.cookies[STATE_COOKIE] == query["state"][0]
            back = browser.get(started.headers["location"])
            assert back.status_code == 302
            assert back.headers["location"].startswith(f"{base}/oauth/callback?")
            done = browser.get(back.headers["location"])
    assert done.status_code == 200, done.text
    assert "Zoom connected" in done.text
    assert done.headers["cache-control"] == "no-store"
    tokens = repo.load()
    assert tokens is not None
    assert tokens.refresh_token
    with reading(engine) as conn:
        sealed = rows.load(conn, repo.subject)
    assert sealed is not None
    on_disk = db_bytes(db_path)
    assert sealed in on_disk  # the right file is read: the sealed row is there...
    for secret in (tokens.access_token, tokens.refresh_token):
        assert secret.encode() not in on_disk  # ...and no token in clear


# --- the callback's checks ----------------------------------------------------------------


async def test_a_reused_callback_is_rejected(
    browser: httpx.AsyncClient, emu: ZoomEmulator, engine: Engine, cipher: Cipher
) -> None:
    callback = await start(browser, emu)
    assert (await browser.get(callback)).status_code == 200
    browser.cookies.set(STATE_COOKIE, parse_qs(urlsplit(callback).query)["state"][0])
    again = await browser.get(callback)
    assert again.status_code == 400
    assert "already used" in again.text
    assert TokenRepository(engine, cipher).status().state == "connected"


async def test_an_expired_state_is_rejected(
    engine: Engine, cipher: Cipher, emu: ZoomEmulator
) -> None:
    clock = MovingClock()
    app = connector(in_process_flow(engine, cipher, emu, clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=CONNECTOR) as browser:
        callback = await start(browser, emu)
        clock.now += timedelta(minutes=11)
        late = await browser.get(callback)
    assert late.status_code == 400
    assert "took too long" in late.text
    assert TokenRepository(engine, cipher).status().state == "not_connected"


async def test_a_callback_without_the_starting_browsers_cookie_is_rejected(
    browser: httpx.AsyncClient, emu: ZoomEmulator
) -> None:
    callback = await start(browser, emu)
    browser.cookies.clear()
    answer = await browser.get(callback)
    assert answer.status_code == 400
    assert "did not start this sign-in" in answer.text


async def test_an_unknown_state_is_rejected(browser: httpx.AsyncClient) -> None:
    browser.cookies.set(STATE_COOKIE, "forged")
    answer = await browser.get("/oauth/callback?code=abc&state=forged")
    assert answer.status_code == 400
    assert "does not match a sign-in started here" in answer.text


@pytest.mark.parametrize("query", ["", "?code=abc", "?state=xyz"])
async def test_an_incomplete_callback_is_rejected(browser: httpx.AsyncClient, query: str) -> None:
    answer = await browser.get(f"/oauth/callback{query}")
    assert answer.status_code == 400
    assert "missing" in answer.text


async def test_access_denied_in_zoom_gives_a_page_saying_how_to_retry(
    browser: httpx.AsyncClient,
) -> None:
    answer = await browser.get("/oauth/callback?error=access_denied&state=s")
    assert answer.status_code == 400
    assert "Authorization denied" in answer.text
    assert "/oauth/authorize" in answer.text


async def test_a_code_zoom_refuses_gives_a_400_page_not_a_500(
    browser: httpx.AsyncClient, emu: ZoomEmulator, engine: Engine, cipher: Cipher
) -> None:
    callback = await start(browser, emu)
    parts = urlsplit(callback)
    state = parse_qs(parts.query)["state"][0]
    answer = await browser.get(f"/oauth/callback?code=not-a-code&state={state}")
    assert answer.status_code == 400
    assert "Authorization code refused" in answer.text
    assert "5 minutes" in answer.text
    assert TokenRepository(engine, cipher).status().state == "not_connected"


async def test_zoom_down_during_the_exchange_gives_a_502_page(
    browser: httpx.AsyncClient, emu: ZoomEmulator
) -> None:
    callback = await start(browser, emu)
    emu.faults.token_endpoint_down(1)
    answer = await browser.get(callback)
    assert answer.status_code == 502
    assert "Zoom could not be reached" in answer.text


async def test_wrong_app_credentials_name_the_settings_to_check(
    engine: Engine, cipher: Cipher, emu: ZoomEmulator
) -> None:
    wrong = OAuthApp("cid", "wrong", APP.redirect_uri, oauth_base_url=ZOOM)
    flow = OAuthFlow(
        wrong,
        TokenRepository(engine, cipher),
        PendingAuthorizations(engine, cipher),
        transport=httpx.ASGITransport(app=emu.app),
    )
    transport = httpx.ASGITransport(app=connector(flow))
    async with httpx.AsyncClient(transport=transport, base_url=CONNECTOR) as browser:
        answer = await browser.get(await start(browser, emu))
    assert answer.status_code == 400
    assert "connectors.zoom.oauth" in answer.text


# --- from the configuration ---------------------------------------------------------------

CONFIG = """\
connectors:
  zoom:
    account_id: acct
    client_id: s2s-id
    client_secret: s2s-secret
    oauth_base_url: http://zoom.test
{oauth}
brevo:
  api_key: xkeysib-test
{storage}
"""


def test_routes_are_off_without_user_oauth_configured(engine: Engine) -> None:
    settings = parse_settings(CONFIG.format(oauth="", storage=""), {})
    assert oauth_app(settings) is None
    assert oauth_routes_for(settings, engine) == []


def test_user_oauth_without_an_encryption_key_is_a_config_error(engine: Engine) -> None:
    oauth = "    oauth:\n      redirect_uri: https://c.example/oauth/callback"
    settings = parse_settings(CONFIG.format(oauth=oauth, storage=""), {})
    with pytest.raises(ConfigError) as caught:
        oauth_routes_for(settings, engine)
    assert caught.value.key == "storage.encryption_key"


def test_user_oauth_settings_build_the_app(engine: Engine) -> None:
    key = "storage:\n  encryption_key: ${KEY}"
    shared = "    oauth:\n      redirect_uri: https://c.example/oauth/callback"
    env = {"KEY": generate_key()}
    settings = parse_settings(CONFIG.format(oauth=shared, storage=key), env)
    app = oauth_app(settings)
    assert app is not None
    assert (app.client_id, app.client_secret) == ("s2s-id", "s2s-secret")
    assert app.oauth_base_url == "http://zoom.test"
    assert [r.path for r in oauth_routes_for(settings, engine)] == [
        "/oauth/authorize",
        "/oauth/callback",
    ]
    public = shared + "\n      client_id: public-id"
    public_app = oauth_app(parse_settings(CONFIG.format(oauth=public, storage=key), env))
    assert public_app is not None
    assert (public_app.client_id, public_app.client_secret) == ("public-id", None)


async def test_the_server_app_mounts_the_routes(
    engine: Engine, cipher: Cipher, emu: ZoomEmulator
) -> None:
    options = WebhookOptions(secret_token="s")
    flow = in_process_flow(engine, cipher, emu)
    app = create_app(options, engine, extra_routes=oauth_routes(flow))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=CONNECTOR
    ) as browser:
        done = await browser.get(await start(browser, emu))
    assert done.status_code == 200
    assert TokenRepository(engine, cipher).status().state == "connected"


def test_status_reports_a_refusal_with_the_servers_authorize_url(engine: Engine) -> None:
    oauth = "    oauth:\n      redirect_uri: https://c.example/oauth/callback"
    storage = "storage:\n  encryption_key: ${KEY}"
    env = {"KEY": generate_key()}
    settings = parse_settings(CONFIG.format(oauth=oauth, storage=storage), env)
    cipher = Cipher([env["KEY"]])
    TokenRepository(engine, cipher).record_invalid_grant("Invalid Token!")
    found = connection_status(settings, engine)
    assert found is not None
    status, authorize_url = found
    assert status.state == "reauthorize"
    assert status.describe(authorize_url) == (
        "Zoom refused the stored tokens (Invalid Token!):"
        " re-authorize at https://c.example/oauth/authorize"
    )
    assert (
        connection_status(parse_settings(CONFIG.format(oauth="", storage=""), {}), engine) is None
    )
