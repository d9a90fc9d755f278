"""The operations page shows the user-level Zoom connection and a (re)connect link."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from tests.admin.conftest import BASE, TOKEN, Clock, build_app
from zoom_brevo.admin import admin_routes_for
from zoom_brevo.config import load_settings
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.errors import StoreError
from zoom_brevo.oauth_tokens import ConnectionState, OAuthStatus, TokenRepository
from zoom_brevo.sandbox.combined import sandbox_config

AUTHORIZE = "https://connector.example/oauth/authorize"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def section(html: str) -> str:
    found = re.search(r'<section class="card" id="zoom-user">(.*?)</section>', html, re.S)
    assert found, "no Zoom user section on the page"
    return found.group(1)


async def operations(app: Starlette) -> str:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=BEARER) as c:
        page = await c.get("/admin/operations")
    assert page.status_code == 200
    return page.text


@pytest.mark.parametrize(
    ("state", "label", "button"),
    [
        ("connected", "connected", "Reconnect Zoom user"),
        ("not_connected", "not connected", "Connect Zoom user"),
        ("reauthorize", "re-authorize needed", "Reconnect Zoom user"),
    ],
)
async def test_the_page_shows_the_connection_state_and_links_to_authorize(  # noqa: PLR0917
    engine: Engine, refs: dict[str, str], clock: Clock, state: ConnectionState, label: str,
    button: str,
) -> None:  # fmt: skip
    status = OAuthStatus(state, scope="meeting:read", reason="Invalid Token!")
    app = build_app(engine, clock, oauth_status=lambda: (status, AUTHORIZE))
    html = section(await operations(app))
    assert f'data-state="{state}">{label}</span>' in html
    assert f'id="zoom-connect" href="{AUTHORIZE}">{button}</a>' in html
    assert status.describe(AUTHORIZE) in html


async def test_without_user_oauth_the_page_has_no_zoom_user_section(
    engine: Engine, refs: dict[str, str], clock: Clock
) -> None:
    html = await operations(build_app(engine, clock))
    assert 'id="zoom-user"' not in html
    assert "/oauth/authorize" not in html


async def test_an_unreadable_connection_shows_unknown_not_an_error_page(
    engine: Engine, refs: dict[str, str], clock: Clock
) -> None:
    def broken() -> tuple[OAuthStatus, str]:
        raise StoreError("a stored secret failed its integrity check (key k1)")

    html = section(await operations(build_app(engine, clock, oauth_status=broken)))
    assert 'data-state="unknown">unknown</span>' in html
    assert "failed its integrity check" in html
    assert 'href="/oauth/authorize"' in html  # the server's own, relative to the site root


def settings_with_oauth(tmp_path: Path, key: str, *, oauth: bool) -> object:
    text = sandbox_config("http://127.0.0.1:9", {}, storage_url=f"sqlite:///{tmp_path / 'x.db'}")
    text += f"  encryption_key: {key}\nserver:\n  admin_token: {TOKEN}\n"
    if oauth:
        redirect = "      redirect_uri: https://connector.example/oauth/callback\n"
        text = text.replace("    lists:", f"    oauth:\n{redirect}    lists:")
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, "utf-8")
    return load_settings(path, {})


@pytest.mark.parametrize("oauth", [True, False])
async def test_the_configured_admin_reads_the_stored_connection(
    tmp_path: Path, engine: Engine, oauth: bool
) -> None:
    key = generate_key()
    settings = settings_with_oauth(tmp_path, key, oauth=oauth)
    TokenRepository(engine, Cipher([key])).record_invalid_grant("Invalid Token!")
    html = await operations(Starlette(routes=admin_routes_for(settings, engine)))  # type: ignore[arg-type]
    if not oauth:
        assert 'id="zoom-user"' not in html
        return
    found = section(html)
    assert 'data-state="reauthorize">re-authorize needed</span>' in found
    assert f'href="{AUTHORIZE}"' in found
    assert "re-authorize at https://connector.example/oauth/authorize" in found
