"""The same token and state rows on PostgreSQL (skips when no server is reachable)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from tests.store.conftest import pg_schema
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.oauth_tokens import PendingAuthorizations, TokenRepository, rotate_key
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.oauth import AuthorizationRequest, TokenSet

pytestmark = pytest.mark.postgres
TOKENS = TokenSet("access-1", "refresh-1", expires_at=1_750_000_000.0, scope="meeting:read")


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    with pg_schema(pg_url) as url:
        engine = create_engine(url)
        migrate(engine)
        yield engine
        engine.dispose()


def test_tokens_states_and_rotation_work_on_postgresql(pg_engine: Engine) -> None:
    old, new = generate_key(), generate_key()
    clock_now = [datetime(2025, 6, 1, tzinfo=UTC)]
    pending = PendingAuthorizations(pg_engine, Cipher([old]), now=lambda: clock_now[0])
    pending.remember(AuthorizationRequest(url="u", state="s_%", code_verifier="verifier"))
    pending.remember(AuthorizationRequest(url="u", state="later", code_verifier="v2"))
    TokenRepository(pg_engine, Cipher([old])).save(TOKENS)
    rotation = rotate_key(pg_engine, Cipher([new, old]))
    assert (rotation.resealed, rotation.already_current) == (3, 0)
    fresh = PendingAuthorizations(pg_engine, Cipher([new]), now=lambda: clock_now[0])
    assert fresh.take("s_%").code_verifier == "verifier"
    assert fresh.take("s_%").problem == "unknown"
    clock_now[0] += timedelta(hours=1)
    assert fresh.take("later").problem == "expired"
    assert TokenRepository(pg_engine, Cipher([new])).load() == TOKENS
