"""``status`` shows the user-level Zoom connection when ``connectors.zoom.oauth`` is configured."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.cli.helpers import invoke
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.oauth_tokens import TokenRepository
from zoom_brevo.sandbox.combined import sandbox_config
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.oauth import TokenSet

AUTHORIZE = "https://connector.example/oauth/authorize"
OAUTH = "    oauth:\n      redirect_uri: https://connector.example/oauth/callback\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path / 'zb.db'}"
    engine = create_engine(url)
    migrate(engine)
    yield engine, url
    engine.dispose()


def write_config(tmp_path: Path, storage_url: str, *, oauth: bool, key: str | None) -> Path:
    text = sandbox_config("http://127.0.0.1:9", storage_url=storage_url)
    if oauth:
        text = text.replace("    lists:", f"{OAUTH}    lists:")
    if key:
        text += f"  encryption_key: {key}\n"
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, "utf-8")
    return path


def status(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[str, dict[str, object]]:
    text = invoke(capsys, ["--config", str(config), "status"])
    as_json = invoke(capsys, ["--config", str(config), "status", "--json"])
    assert (text.code, as_json.code) == (0, 0), text.err + as_json.err
    document = json.loads(as_json.out)
    return text.out, document["zoom_user_oauth"]


def test_not_connected_says_where_to_authorize(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: tuple[Engine, str]
) -> None:
    config = write_config(tmp_path, store[1], oauth=True, key=generate_key())
    out, found = status(capsys, config)
    assert f"Zoom user OAuth: no Zoom user connected: authorize at {AUTHORIZE}" in out
    assert found["state"] == "not_connected"
    assert found["authorize_url"] == AUTHORIZE


def test_connected_shows_the_scope_and_no_token(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: tuple[Engine, str]
) -> None:
    key = generate_key()
    tokens = TokenSet("secret-access", "secret-refresh", 4_000_000_000.0, "meeting:read")
    TokenRepository(store[0], Cipher([key])).save(tokens)
    out, found = status(capsys, write_config(tmp_path, store[1], oauth=True, key=key))
    assert "Zoom user OAuth: connected (scope: meeting:read)" in out
    assert found["state"] == "connected"
    assert found["scope"] == "meeting:read"
    for secret in ("secret-access", "secret-refresh"):
        assert secret not in out
        assert secret not in json.dumps(found)


def test_a_refusal_asks_to_reauthorize_at_the_servers_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: tuple[Engine, str]
) -> None:
    key = generate_key()
    TokenRepository(store[0], Cipher([key])).record_invalid_grant("Invalid Token!")
    out, found = status(capsys, write_config(tmp_path, store[1], oauth=True, key=key))
    expected = f"Zoom refused the stored tokens (Invalid Token!): re-authorize at {AUTHORIZE}"
    assert f"Zoom user OAuth: {expected}" in out
    assert found["state"] == "reauthorize"
    assert found["message"] == expected


def test_without_an_encryption_key_the_state_is_unknown_and_names_the_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: tuple[Engine, str]
) -> None:
    out, found = status(capsys, write_config(tmp_path, store[1], oauth=True, key=None))
    assert found["state"] == "unknown"
    assert "storage.encryption_key" in str(found["message"])
    assert "Zoom user OAuth: the stored connection could not be read" in out


def test_without_user_oauth_nothing_is_shown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: tuple[Engine, str]
) -> None:
    out, found = status(capsys, write_config(tmp_path, store[1], oauth=False, key=None))
    assert found is None
    assert "Zoom user OAuth" not in out
