"""Fixtures for user-level OAuth: a migrated SQLite file, a cipher, the Zoom emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.oauth_tokens import PendingAuthorizations, TokenRepository
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.oauth import OAuthApp, TokenSet, authorization_url, exchange_code

ZOOM = "http://zoom.test"
CONNECTOR = "http://connector.test"
APP = OAuthApp(
    client_id="cid",
    client_secret="csecret",
    redirect_uri=f"{CONNECTOR}/oauth/callback",
    oauth_base_url=ZOOM,
)


class Clock:
    """A settable wall clock (seconds) for the emulator and the code under test."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the SQLite database lives."""
    return tmp_path / "zoom-brevo.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database."""
    eng = create_engine(f"sqlite:///{db_path}")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def cipher() -> Cipher:
    """A cipher with one fresh key."""
    return Cipher([generate_key()])


@pytest.fixture
def repo(engine: Engine, cipher: Cipher) -> TokenRepository:
    """The user's token repository."""
    return TokenRepository(engine, cipher)


@pytest.fixture
def pending(engine: Engine, cipher: Cipher) -> PendingAuthorizations:
    """Pending authorizations."""
    return PendingAuthorizations(engine, cipher)


@pytest.fixture
def emu() -> ZoomEmulator:
    """The Zoom emulator with the test app's credentials (rate limits off: not under test)."""
    return ZoomEmulator(client_id="cid", client_secret="csecret", enforce_rate_limits=False)


def zoom_http(emu: ZoomEmulator) -> httpx.AsyncClient:
    """An HTTP client that reaches the emulator in-process as ``http://zoom.test``."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url=ZOOM)


async def authorize_at_zoom(emu: ZoomEmulator, app: OAuthApp = APP) -> TokenSet:
    """A user's consent and code exchange, straight against the emulator."""
    auth = authorization_url(app)
    async with zoom_http(emu) as http:
        consent = await http.get(auth.url)
        code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
        return await exchange_code(http, app, code=code, code_verifier=auth.code_verifier)
