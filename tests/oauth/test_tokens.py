"""The user's tokens in the store: sealed, rotated before use, refusals recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.oauth.conftest import APP, ZOOM, authorize_at_zoom, zoom_http
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.errors import AuthError, ConfigError, InvalidGrant, StoreError
from zoom_brevo.oauth_tokens import (
    STATE_PREFIX,
    PendingAuthorizations,
    TokenRepository,
    rotate_key,
    state_subject,
)
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.store import tokens as rows
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.zoom.categories import zoom_limits
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.oauth import AuthorizationRequest, TokenSet, UserOAuth, refresh

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TOKENS = TokenSet("access-1", "refresh-1", expires_at=1_750_000_000.0, scope="meeting:read")


def user_client(auth: UserOAuth, emu: ZoomEmulator) -> ZoomClient:
    """A Zoom client acting as the stored user, talking to the emulator in-process."""
    return ZoomClient(
        auth,
        limiter=LocalRateLimiter(zoom_limits("pro")),
        api_base_url=f"{ZOOM}/v2",
        transport=httpx.ASGITransport(emu.app),
    )


async def list_users(zoom: ZoomClient) -> list[str | None]:
    return [user.id async for user in zoom.users()]


def stored(engine: Engine, subject: str) -> bytes:
    with reading(engine) as conn:
        value = rows.load(conn, subject)
    assert value is not None
    return value


class FailingRepository(TokenRepository):
    """A repository whose writes fail, as with a full disk."""

    def save(self, tokens: TokenSet) -> None:
        raise StoreError("database unavailable: disk full")


# --- the repository -----------------------------------------------------------------------


def test_saved_tokens_load_back_and_are_sealed_in_the_row(
    repo: TokenRepository, engine: Engine
) -> None:
    repo.save(TOKENS)
    assert repo.load() == TOKENS
    raw = stored(engine, repo.subject)
    assert b"access-1" not in raw
    assert b"refresh-1" not in raw
    status = repo.status()
    assert (status.state, status.scope) == ("connected", "meeting:read")


def test_status_before_any_authorization_says_where_to_authorize(repo: TokenRepository) -> None:
    status = repo.status()
    assert status.state == "not_connected"
    assert "authorize at /oauth/authorize" in status.describe()
    with pytest.raises(AuthError, match="/oauth/authorize"):
        repo.require()


def test_a_recorded_invalid_grant_is_reported_and_drops_the_tokens(
    repo: TokenRepository,
) -> None:
    repo.save(TOKENS)
    repo.record_invalid_grant("Invalid Token!")
    status = repo.status()
    assert status.state == "reauthorize"
    assert "re-authorize at https://c.example/oauth/authorize" in status.describe(
        "https://c.example/oauth/authorize"
    )
    assert status.to_json()["reason"] == "Invalid Token!"
    assert repo.load() is None
    with pytest.raises(InvalidGrant, match="re-authorize"):
        repo.require()


def test_a_row_from_another_subject_does_not_open(engine: Engine, cipher: Cipher) -> None:
    alice = TokenRepository(engine, cipher, subject="zoom:user:alice")
    alice.save(TOKENS)
    with transaction(engine) as conn:
        rows.save(conn, "zoom:user:me", stored(engine, "zoom:user:alice"), now=T0)
    with pytest.raises(StoreError, match="integrity check"):
        TokenRepository(engine, cipher).load()


# --- refresh with rotation, against the emulator -----------------------------------------


async def test_a_refreshed_refresh_token_is_stored_and_the_old_one_is_dead(
    repo: TokenRepository, emu: ZoomEmulator
) -> None:
    first = await authorize_at_zoom(emu)
    repo.save(first)
    auth = repo.user_auth(APP)
    async with user_client(auth, emu) as zoom:
        await list_users(zoom)
        emu.faults.expire_tokens()
        await list_users(zoom)  # 401 code 124 -> refresh -> persist -> retry
    now_stored = repo.load()
    assert now_stored == auth.tokens
    assert now_stored is not None
    assert now_stored.refresh_token != first.refresh_token
    async with zoom_http(emu) as http:
        with pytest.raises(InvalidGrant):
            await refresh(http, APP, first.refresh_token)
        assert (await refresh(http, APP, now_stored.refresh_token)).access_token


async def test_new_tokens_are_not_used_when_they_cannot_be_stored(
    engine: Engine, cipher: Cipher, emu: ZoomEmulator
) -> None:
    TokenRepository(engine, cipher).save(await authorize_at_zoom(emu))
    auth = FailingRepository(engine, cipher).user_auth(APP)
    async with user_client(auth, emu) as zoom:
        await list_users(zoom)
        emu.faults.expire_tokens()
        with pytest.raises(StoreError, match="disk full"):
            await list_users(zoom)
    # the call that got 401, then the token request; no API call with the unsaved token
    assert [r.status for r in emu.stats.api_calls()] == [200, 401]


async def test_a_process_adopts_tokens_another_process_rotated(
    repo: TokenRepository, emu: ZoomEmulator
) -> None:
    repo.save(await authorize_at_zoom(emu))
    first, second = repo.user_auth(APP), repo.user_auth(APP)
    emu.faults.expire_tokens()
    async with user_client(first, emu) as zoom:
        await list_users(zoom)  # rotates: second's refresh token is now dead at Zoom
    async with user_client(second, emu) as zoom:
        assert await list_users(zoom)
    assert second.tokens == first.tokens == repo.load()
    assert repo.status().state == "connected"


async def test_a_refused_refresh_token_is_recorded_for_status(
    repo: TokenRepository, emu: ZoomEmulator
) -> None:
    repo.save(await authorize_at_zoom(emu))
    auth = repo.user_auth(APP)
    await authorize_at_zoom(emu)  # a newer authorization revokes the stored refresh token
    emu.faults.expire_tokens()
    async with user_client(auth, emu) as zoom:
        with pytest.raises(InvalidGrant):
            await list_users(zoom)
    status = repo.status()
    assert status.state == "reauthorize"
    assert "Invalid Token!" in status.describe()
    assert "re-authorize at /oauth/authorize" in status.describe()


# --- pending authorizations -----------------------------------------------------------------


def _auth(state: str = "state-1") -> AuthorizationRequest:
    return AuthorizationRequest(url="https://zoom.test/", state=state, code_verifier="v" * 50)


class MovingClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_pending_authorization_is_taken_once(pending: PendingAuthorizations) -> None:
    pending.remember(_auth())
    assert pending.take("state-1").code_verifier == "v" * 50
    assert pending.take("state-1").problem == "unknown"
    assert pending.take("never-issued").problem == "unknown"


def test_a_pending_authorization_expires(engine: Engine, cipher: Cipher) -> None:
    clock = MovingClock()
    pending = PendingAuthorizations(engine, cipher, ttl_s=600, now=clock)
    pending.remember(_auth())
    clock.now += timedelta(seconds=601)
    taken = pending.take("state-1")
    assert (taken.code_verifier, taken.problem) == (None, "expired")


def test_expired_pending_authorizations_are_purged_and_the_verifier_is_sealed(
    engine: Engine, cipher: Cipher
) -> None:
    clock = MovingClock()
    pending = PendingAuthorizations(engine, cipher, ttl_s=600, now=clock)
    pending.remember(_auth("old"))
    assert b"v" * 50 not in stored(engine, state_subject("old"))
    clock.now += timedelta(seconds=601)
    pending.remember(_auth("new"))
    with reading(engine) as conn:
        subjects = [s for s, _ in rows.load_all(conn) if s.startswith(STATE_PREFIX)]
    assert subjects == [state_subject("new")]


# --- key rotation ---------------------------------------------------------------------------


def test_rotation_reseals_every_row_with_the_newest_key(engine: Engine) -> None:
    old, new = generate_key(), generate_key()
    TokenRepository(engine, Cipher([old])).save(TOKENS)
    PendingAuthorizations(engine, Cipher([old])).remember(_auth())
    both = Cipher([new, old])
    first = rotate_key(engine, both)
    assert (first.resealed, first.already_current, first.total) == (2, 0, 2)
    assert first.key_id == both.newest_key_id
    again = rotate_key(engine, both)
    assert (again.resealed, again.already_current) == (0, 2)
    only_new = Cipher([new])
    assert TokenRepository(engine, only_new).load() == TOKENS
    assert PendingAuthorizations(engine, only_new).take("state-1").code_verifier == "v" * 50


def test_rotation_changes_nothing_when_a_row_cannot_be_opened(engine: Engine) -> None:
    old, new, lost = generate_key(), generate_key(), generate_key()
    TokenRepository(engine, Cipher([old])).save(TOKENS)
    TokenRepository(engine, Cipher([lost]), subject="zoom:user:other").save(TOKENS)
    before = stored(engine, "zoom:user:me")
    with pytest.raises(ConfigError) as caught:
        rotate_key(engine, Cipher([new, old]))
    assert caught.value.key == "storage.encryption_key"
    assert stored(engine, "zoom:user:me") == before


def test_a_pending_authorization_sealed_with_a_removed_key_is_unknown(engine: Engine) -> None:
    PendingAuthorizations(engine, Cipher([generate_key()])).remember(_auth())
    taken = PendingAuthorizations(engine, Cipher([generate_key()])).take("state-1")
    assert (taken.code_verifier, taken.problem) == (None, "unknown")
