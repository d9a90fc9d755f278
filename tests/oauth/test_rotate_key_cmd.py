"""``zoom-brevo rotate-key``: reseal stored tokens with the newest configured key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import Result, invoke
from zoom_brevo.crypto import Cipher, generate_key
from zoom_brevo.oauth_tokens import TokenRepository
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.oauth import TokenSet

TOKENS = TokenSet("access-1", "refresh-1", expires_at=1_750_000_000.0, scope="meeting:read")
CONFIG = """\
connectors:
  zoom:
    account_id: acct
    client_id: cid
    client_secret: csecret
brevo:
  api_key: xkeysib-test
storage:
  url: sqlite:///{db}
  encryption_key: {keys}
"""


def store_tokens(db: Path, key: str) -> None:
    engine = create_engine(f"sqlite:///{db}")
    migrate(engine)
    TokenRepository(engine, Cipher([key])).save(TOKENS)
    engine.dispose()


def load_tokens(db: Path, key: str) -> TokenSet | None:
    engine = create_engine(f"sqlite:///{db}")
    try:
        return TokenRepository(engine, Cipher([key])).load()
    finally:
        engine.dispose()


def rotate(capsys: pytest.CaptureFixture[str], tmp_path: Path, keys: str, *args: str) -> Result:
    config = tmp_path / "zoom-brevo.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "z.db", keys=keys), encoding="utf-8")
    return invoke(capsys, ["--config", str(config), "rotate-key", *args])


def test_rotate_key_reseals_tokens_and_counts_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = generate_key(), generate_key()
    store_tokens(tmp_path / "z.db", old)
    first = rotate(capsys, tmp_path, f'"{new},{old}"')
    assert first.code == 0, first.err
    assert "re-encrypted 1 stored token(s)" in first.out
    assert "0 already used it" in first.out
    assert load_tokens(tmp_path / "z.db", new) == TOKENS
    again = rotate(capsys, tmp_path, f"[{new}, {old}]", "--json")
    assert again.code == 0, again.err
    document = json.loads(again.out)
    assert document == {
        "key_id": Cipher([new]).newest_key_id,
        "resealed": 0,
        "already_current": 1,
    }


def test_rotate_key_without_a_key_exits_2_naming_the_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = rotate(capsys, tmp_path, "null")
    assert result.code == 2
    assert result.err_lines[-1].startswith("error: storage.encryption_key:")
    assert not (tmp_path / "z.db").exists()


def test_rotate_key_without_the_old_key_exits_2_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = generate_key(), generate_key()
    store_tokens(tmp_path / "z.db", old)
    result = rotate(capsys, tmp_path, new)
    assert result.code == 2
    assert "storage.encryption_key" in result.err
    assert Cipher([old]).newest_key_id in result.err
    assert new not in result.err
    assert load_tokens(tmp_path / "z.db", old) == TOKENS
