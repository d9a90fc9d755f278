"""Secrets at rest: sealed with the newest key, opened with any configured key, tamper-evident."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from zoom_brevo.config import parse_settings
from zoom_brevo.crypto import Cipher, generate_key, key_id, split_keys
from zoom_brevo.errors import ConfigError, StoreError

OLD, NEW = generate_key(), generate_key()
SUBJECT = "zoom:user:me"
MINIMAL = """\
connectors:
  zoom:
    account_id: acct
    client_id: cid
    client_secret: csecret
brevo:
  api_key: xkeysib-test
"""


def _flip_last_byte(token: bytes) -> bytes:
    version, kid, body = token.decode().split(":")
    blob = bytearray(base64.urlsafe_b64decode(body))
    blob[-1] ^= 0x01
    return f"{version}:{kid}:{base64.urlsafe_b64encode(bytes(blob)).decode()}".encode()


@given(plaintext=st.binary(max_size=2000), context=st.text(max_size=50))
def test_open_returns_what_seal_was_given(plaintext: bytes, context: str) -> None:
    cipher = Cipher([NEW])
    assert cipher.open(cipher.seal(plaintext, context=context), context=context) == plaintext


def test_sealed_value_names_its_key_and_hides_the_plaintext() -> None:
    cipher = Cipher([NEW, OLD])
    secret = b"refresh-token-very-secret"
    first, second = (cipher.seal(secret, context=SUBJECT) for _ in range(2))
    assert first.startswith(f"v1:{cipher.newest_key_id}:".encode())
    assert secret not in first
    assert first != second  # a fresh nonce every time


def test_an_old_key_still_opens_values_after_a_new_key_is_added() -> None:
    sealed_before = Cipher([OLD]).seal(b"tokens", context=SUBJECT)
    rotated = Cipher([NEW, OLD])
    assert rotated.open(sealed_before, context=SUBJECT) == b"tokens"
    assert not rotated.is_current(sealed_before)
    resealed = rotated.reseal(sealed_before, context=SUBJECT)
    assert rotated.is_current(resealed)
    assert Cipher([NEW]).open(resealed, context=SUBJECT) == b"tokens"


def test_a_value_sealed_with_a_removed_key_names_the_setting_and_the_key() -> None:
    sealed = Cipher([OLD]).seal(b"tokens", context=SUBJECT)
    with pytest.raises(ConfigError) as caught:
        Cipher([NEW]).open(sealed, context=SUBJECT)
    assert caught.value.key == "storage.encryption_key"
    assert Cipher([OLD]).newest_key_id in str(caught.value)


def test_tampered_ciphertext_is_refused_with_a_clear_error() -> None:
    cipher = Cipher([NEW])
    sealed = cipher.seal(b"tokens", context=SUBJECT)
    with pytest.raises(StoreError, match="integrity check"):
        cipher.open(_flip_last_byte(sealed), context=SUBJECT)


def test_a_value_moved_to_another_row_does_not_open() -> None:
    cipher = Cipher([NEW])
    sealed = cipher.seal(b"tokens", context="zoom:user:alice")
    with pytest.raises(StoreError, match="integrity check"):
        cipher.open(sealed, context="zoom:user:mallory")


@pytest.mark.parametrize(
    "garbage", [b"", b"plain text", b"v1:abcd", b"v9:abcdef12:AAAA", b"v1:abcdef12:!!!!", b"\xff"]
)
def test_malformed_values_are_a_store_error(garbage: bytes) -> None:
    with pytest.raises(StoreError, match="format"):
        Cipher([NEW]).open(garbage, context=SUBJECT)


@pytest.mark.parametrize("setting", [None, "", " , ", []])
def test_no_key_is_a_config_error_naming_the_setting(setting: str | list[str] | None) -> None:
    with pytest.raises(ConfigError) as caught:
        Cipher.from_setting(setting)
    assert caught.value.key == "storage.encryption_key"
    assert "generate_key" in str(caught.value)


@pytest.mark.parametrize("bad", ["not-base64-!!", base64.urlsafe_b64encode(b"short").decode()])
def test_a_malformed_key_is_a_config_error_without_echoing_it(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Cipher.from_setting(f"{NEW},{bad}")
    assert caught.value.key == "storage.encryption_key"
    assert "key #2" in str(caught.value)
    assert bad not in str(caught.value)


def test_keys_come_newest_first_from_text_a_list_or_a_secret() -> None:
    assert split_keys(f" {NEW} ,{OLD},") == [NEW, OLD]
    assert split_keys([NEW, OLD]) == [NEW, OLD]
    assert split_keys(SecretStr(f"{NEW},{OLD}")) == [NEW, OLD]
    cipher = Cipher.from_setting(SecretStr(f"{NEW},{OLD},{NEW}"))
    assert cipher.key_ids == [key_id(base64.urlsafe_b64decode(k)) for k in (NEW, OLD)]


def test_the_configuration_accepts_a_list_of_keys() -> None:
    text = MINIMAL + f"storage:\n  encryption_key:\n    - {NEW}\n    - {OLD}\n"
    settings = parse_settings(text, {})
    cipher = Cipher.from_setting(settings.storage.encryption_key)
    assert cipher.newest_key_id == Cipher([NEW]).newest_key_id
    assert len(cipher.key_ids) == 2
    assert NEW not in repr(settings.storage)


def test_generated_keys_are_distinct_32_byte_keys() -> None:
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(base64.urlsafe_b64decode(k)) == 32 for k in keys)
