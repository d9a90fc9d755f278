"""Encryption of secrets at rest (OAuth tokens), with several keys for rotation.

AES-256-GCM with a random 96-bit nonce. A sealed value is ASCII text
``v1:<key id>:<base64url(nonce || ciphertext+tag)>``; the key id (8 hex digits of the key's
SHA-256) names the key that sealed it, so several keys can coexist: the newest seals, any
configured key opens, and :meth:`Cipher.reseal` moves a value to the newest key. A
``context`` (the row's subject) is bound as associated data: a value copied to another row
no longer opens.

Keys come from ``storage.encryption_key``: one key, or several newest first (a YAML list or
comma-separated text). :func:`generate_key` makes one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from zoom_brevo.errors import ConfigError, StoreError

KEY_SETTING = "storage.encryption_key"
FORMAT_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
GENERATE_HINT = (
    'make one with: python -c "from zoom_brevo.crypto import generate_key; print(generate_key())"'
)


def generate_key() -> str:
    """A new random key, as text for ``storage.encryption_key``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def key_id(key: bytes) -> str:
    """The public id of ``key``: 8 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def split_keys(value: str | SecretStr | Iterable[str] | None) -> list[str]:
    """The keys of a setting, newest first: comma-separated text or a list; blanks dropped."""
    if value is None:
        return []
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def _decode_key(text: str, position: int) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ConfigError(
            f"key #{position} is not a {KEY_BYTES}-byte url-safe base64 key; {GENERATE_HINT}",
            key=KEY_SETTING,
        )
    return raw


@dataclass(frozen=True, slots=True)
class _Key:
    id: str
    aead: AESGCM


class Cipher:
    """Seal with the newest key, open with any configured key (keys newest first)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError(
                f"an encryption key is required to store OAuth tokens; {GENERATE_HINT}",
                key=KEY_SETTING,
            )
        self._keys: dict[str, _Key] = {}
        for position, text in enumerate(keys, start=1):
            raw = _decode_key(text, position)
            self._keys.setdefault(key_id(raw), _Key(key_id(raw), AESGCM(raw)))
        self._newest = next(iter(self._keys.values()))

    @classmethod
    def from_setting(cls, value: str | SecretStr | Iterable[str] | None) -> Cipher:
        """A cipher for the ``storage.encryption_key`` value; ConfigError when it is unset."""
        return cls(split_keys(value))

    def __repr__(self) -> str:
        return f"Cipher(key_ids={self.key_ids!r})"

    @property
    def key_ids(self) -> list[str]:
        """Ids of the configured keys, newest first."""
        return list(self._keys)

    @property
    def newest_key_id(self) -> str:
        """Id of the key that seals new values."""
        return self._newest.id

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        """``plaintext`` encrypted with the newest key and bound to ``context``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._newest.aead.encrypt(nonce, plaintext, _aad(context))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{FORMAT_VERSION}:{self._newest.id}:{body}".encode("ascii")

    def open(self, token: bytes, *, context: str) -> bytes:
        """The plaintext of a sealed value; StoreError if it was altered or is malformed."""
        kid, blob = _parse(token)
        key = self._keys.get(kid)
        if key is None:
            raise ConfigError(
                f"a stored secret was sealed with key {kid}, which is not configured"
                f" (configured: {', '.join(self.key_ids)}); add that key after the newest one",
                key=KEY_SETTING,
            )
        try:
            return key.aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(context))
        except InvalidTag:
            raise StoreError(
                f"a stored secret failed its integrity check (key {kid}): it was altered or"
                " belongs to another record; delete it and authorize again"
            ) from None

    def sealed_with(self, token: bytes) -> str:
        """The id of the key that sealed ``token``."""
        return _parse(token)[0]

    def is_current(self, token: bytes) -> bool:
        """Whether ``token`` is sealed with the newest key."""
        return self.sealed_with(token) == self._newest.id

    def reseal(self, token: bytes, *, context: str) -> bytes:
        """``token`` sealed again with the newest key (same plaintext, same context)."""
        return self.seal(self.open(token, context=context), context=context)


def _aad(context: str) -> bytes:
    return f"zoom-brevo:{context}".encode()


def _parse(token: bytes) -> tuple[str, bytes]:
    malformed = StoreError(
        f"a stored secret is not in the {FORMAT_VERSION}:<key id>:<data> format (corrupted?)"
    )
    try:
        version, kid, body = token.decode("ascii").split(":")
        blob = base64.urlsafe_b64decode(body.encode("ascii"))
    except (UnicodeDecodeError, ValueError, binascii.Error):
        raise malformed from None
    if version != FORMAT_VERSION or len(blob) < NONCE_BYTES + 16:
        raise malformed
    return kid, blob
