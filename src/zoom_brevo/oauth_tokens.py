"""User-level OAuth state kept in the store, sealed with ``storage.encryption_key``.

Three kinds of rows in ``oauth_tokens``, each sealed and bound to its subject:

- the user's tokens (``zoom:user:me``; ``me`` is how a user-level app names its user,
  reference zoom.md 1.4), or the fact that Zoom refused them (``invalid_grant``), so that
  ``status`` can say "re-authorize";
- pending authorizations (``zoom:oauth-state:<digest of state>``): the PKCE code verifier
  between ``/oauth/authorize`` and ``/oauth/callback``, single use, short-lived.

Zoom rotates refresh tokens and only the latest works (reference zoom.md 1.2), so every new
TokenSet is written here before its access token is used (:class:`StoredUserOAuth`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.crypto import Cipher
from zoom_brevo.errors import AuthError, ConfigError, InvalidGrant, StoreError
from zoom_brevo.store import tokens as rows
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.zoom.auth import RENEW_BEFORE_S
from zoom_brevo.zoom.oauth import AuthorizationRequest, OAuthApp, TokenSet, UserOAuth

USER_SUBJECT = "zoom:user:me"
STATE_PREFIX = "zoom:oauth-state:"
STATE_TTL_S = 600.0  # Zoom's codes live 5 minutes (reference zoom.md 1.2); consent takes time
AUTHORIZE_PATH = "/oauth/authorize"
SERVICE = "zoom"

ConnectionState = Literal["not_connected", "connected", "reauthorize"]
StateProblem = Literal["unknown", "expired"]

log = structlog.get_logger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- the user's tokens -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OAuthStatus:
    """What ``status`` shows about the user-level connection."""

    state: ConnectionState
    updated_at: datetime | None = None
    expires_at: float | None = None
    scope: str = ""
    reason: str = ""

    def describe(self, authorize_url: str = AUTHORIZE_PATH) -> str:
        """One line for people, with what to do."""
        if self.state == "connected":
            return f"connected (scope: {self.scope or 'none'})"
        if self.state == "reauthorize":
            return (
                f"Zoom refused the stored tokens ({self.reason}): re-authorize at {authorize_url}"
            )
        return f"no Zoom user connected: authorize at {authorize_url}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (no secrets)."""
        return {
            "state": self.state,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "expires_at": self.expires_at,
            "scope": self.scope,
            "reason": self.reason,
            "message": self.describe(),
        }


def encode_tokens(tokens: TokenSet, now: datetime) -> bytes:
    """The plaintext record of a connected user."""
    record = {
        "state": "connected",
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at,
        "scope": tokens.scope,
        "updated_at": now.isoformat(),
    }
    return json.dumps(record).encode()


def encode_refusal(reason: str, now: datetime) -> bytes:
    """The plaintext record of a user whose tokens Zoom refused (no tokens kept)."""
    return json.dumps(
        {"state": "reauthorize", "reason": reason, "updated_at": now.isoformat()}
    ).encode()


def decode_record(plaintext: bytes) -> tuple[OAuthStatus, TokenSet | None]:
    """The status and (when connected) the tokens of a plaintext record."""
    try:
        record = json.loads(plaintext)
        updated_at = datetime.fromisoformat(record["updated_at"])
        if record["state"] == "reauthorize":
            return OAuthStatus("reauthorize", updated_at, reason=str(record["reason"])), None
        tokens = TokenSet(
            access_token=record["access_token"],
            refresh_token=record["refresh_token"],
            expires_at=float(record["expires_at"]),
            scope=str(record["scope"]),
        )
    except (ValueError, KeyError, TypeError):
        raise StoreError("the stored Zoom token record is unreadable; authorize again") from None
    return OAuthStatus("connected", updated_at, tokens.expires_at, tokens.scope), tokens


@dataclass(eq=False)
class _Sealed:
    """Rows of the store's OAuth table, sealed with ``cipher`` (kept out of ``repr``)."""

    engine: Engine = field(repr=False)
    cipher: Cipher = field(repr=False)
    now: Callable[[], datetime] = field(default=_utcnow, kw_only=True, repr=False)


@dataclass(eq=False)
class TokenRepository(_Sealed):
    """One user's tokens, sealed at rest; the ``persist`` callback of :class:`UserOAuth`."""

    subject: str = field(default=USER_SUBJECT, kw_only=True)

    def save(self, tokens: TokenSet) -> None:
        """Store ``tokens`` (committed when this returns)."""
        self._write(encode_tokens(tokens, self.now()))

    async def persist(self, tokens: TokenSet) -> None:
        """:data:`zoom_brevo.zoom.oauth.Persist`: commit ``tokens`` before they are used."""
        self.save(tokens)

    def record_invalid_grant(self, reason: str) -> None:
        """Remember that Zoom refused the tokens: ``status`` then asks to re-authorize."""
        self._write(encode_refusal(reason, self.now()))
        log.warning("zoom_oauth_invalid_grant", subject=self.subject, reason=reason[:200])

    def _write(self, plaintext: bytes) -> None:
        sealed = self.cipher.seal(plaintext, context=self.subject)
        with transaction(self.engine) as conn:
            rows.save(conn, self.subject, sealed, now=self.now())

    def _read(self) -> tuple[OAuthStatus, TokenSet | None]:
        with reading(self.engine) as conn:
            sealed = rows.load(conn, self.subject)
        if sealed is None:
            return OAuthStatus("not_connected"), None
        return decode_record(self.cipher.open(sealed, context=self.subject))

    def status(self) -> OAuthStatus:
        """Connected, never connected, or refused (re-authorize)."""
        return self._read()[0]

    def load(self) -> TokenSet | None:
        """The stored tokens, or ``None`` when not connected (or refused)."""
        return self._read()[1]

    def require(self) -> TokenSet:
        """The stored tokens; AuthError saying what to do when there are none."""
        status, tokens = self._read()
        if tokens is not None:
            return tokens
        if status.state == "reauthorize":
            raise InvalidGrant(status.describe(), service=SERVICE, status=400)
        raise AuthError(status.describe(), service=SERVICE)

    def forget(self) -> bool:
        """Delete the stored tokens (deauthorization); ``True`` if there were some."""
        with transaction(self.engine) as conn:
            return rows.delete(conn, self.subject)

    def user_auth(
        self, app: OAuthApp, *, clock: Callable[[], float] = time.time
    ) -> StoredUserOAuth:
        """An ``httpx.Auth`` for Zoom clients acting as the stored user."""
        return StoredUserOAuth(app, self, clock=clock)


class StoredUserOAuth(UserOAuth):
    """:class:`UserOAuth` whose tokens live in a :class:`TokenRepository`.

    Several processes may share the tokens: one that finds its tokens stale first looks for
    newer ones in the store, and a refused refresh token is retried once with the stored
    tokens if another process has rotated them meanwhile. Only a refusal of the latest
    stored token is recorded as ``invalid_grant``.
    """

    def __init__(
        self,
        app: OAuthApp,
        repository: TokenRepository,
        *,
        clock: Callable[[], float] = time.time,
        renew_before_s: float = RENEW_BEFORE_S,
    ) -> None:
        super().__init__(
            app,
            repository.require(),
            repository.persist,
            clock=clock,
            renew_before_s=renew_before_s,
        )
        self._repository = repository

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """UserOAuth's flow, with the store consulted before a refresh and on a refusal."""
        if not self._tokens.is_fresh(self._clock(), self._renew_before_s):
            self._adopt_stored()
        for attempt in range(2):
            try:
                flow = super().async_auth_flow(request)
                outgoing = await flow.__anext__()
                while True:
                    try:
                        outgoing = await flow.asend((yield outgoing))
                    except StopAsyncIteration:
                        return
            except InvalidGrant as exc:
                if attempt or not self._adopt_stored():
                    self._repository.record_invalid_grant(str(exc))
                    raise

    def _adopt_stored(self) -> bool:
        """Take the stored tokens if another process has stored newer ones."""
        stored = self._repository.load()
        if stored is None or stored == self._tokens:
            return False
        self._tokens = stored
        return True


# --- pending authorizations ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Taken:
    """The outcome of taking a pending authorization: its code verifier, or the problem.

    ``replace``: the authorization was started by an admin, so it may replace a connected
    user; otherwise it may only connect the first user (or one Zoom refused).
    """

    code_verifier: str | None
    problem: StateProblem | None = None
    replace: bool = False


def state_subject(state: str) -> str:
    """The row of a pending authorization (a digest: the state itself is not kept)."""
    return STATE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:40]


def check_age(created_at: datetime, now: datetime, ttl_s: float) -> StateProblem | None:
    """``"expired"`` when a pending authorization is older than ``ttl_s``."""
    return "expired" if now - created_at > timedelta(seconds=ttl_s) else None


@dataclass(eq=False)
class PendingAuthorizations(_Sealed):
    """State and PKCE verifier from ``/oauth/authorize`` until ``/oauth/callback``."""

    ttl_s: float = field(default=STATE_TTL_S, kw_only=True)

    def remember(self, auth: AuthorizationRequest, *, replace: bool = False) -> None:
        """Keep ``auth``'s verifier under its state; forget the expired ones.

        ``replace``: whether the callback may replace a connected user (see :class:`Taken`).
        """
        now = self.now()
        subject = state_subject(auth.state)
        record = {
            "code_verifier": auth.code_verifier,
            "created_at": now.isoformat(),
            "replace": replace,
        }
        plaintext = json.dumps(record)
        sealed = self.cipher.seal(plaintext.encode(), context=subject)
        with transaction(self.engine) as conn:
            rows.delete_stale(conn, STATE_PREFIX, before=now - timedelta(seconds=self.ttl_s))
            rows.save(conn, subject, sealed, now=now)

    def take(self, state: str) -> Taken:
        """The verifier of ``state``, which is spent: a second take finds it ``unknown``."""
        subject = state_subject(state)
        with transaction(self.engine) as conn:
            sealed = rows.load(conn, subject)
            if sealed is None or not rows.delete(conn, subject):
                return Taken(None, "unknown")
        try:
            record = json.loads(self.cipher.open(sealed, context=subject))
            created_at = datetime.fromisoformat(record["created_at"])
            verifier = str(record["code_verifier"])
            replace = record.get("replace") is True
        except (ValueError, KeyError, TypeError, AttributeError, StoreError, ConfigError):
            return Taken(None, "unknown")  # unreadable (altered, or its key was removed)
        problem = check_age(created_at, self.now(), self.ttl_s)
        return Taken(None, problem) if problem else Taken(verifier, replace=replace)


# --- key rotation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rotation:
    """What ``rotate-key`` did: rows resealed with ``key_id``, rows that already were."""

    key_id: str
    resealed: int
    already_current: int

    @property
    def total(self) -> int:
        """Rows checked."""
        return self.resealed + self.already_current


def rotate_key(
    engine: Engine, cipher: Cipher, *, now: Callable[[], datetime] = _utcnow
) -> Rotation:
    """Seal every stored secret with the newest key, in one transaction.

    Every row is opened first, so a row no configured key opens (ConfigError) or that was
    altered (StoreError) stops the rotation before anything changes.
    """
    resealed = current = 0
    with transaction(engine) as conn:
        for subject, sealed in rows.load_all(conn):
            plaintext = cipher.open(sealed, context=subject)
            if cipher.is_current(sealed):
                current += 1
                continue
            rows.save(conn, subject, cipher.seal(plaintext, context=subject), now=now())
            resealed += 1
    return Rotation(cipher.newest_key_id, resealed, current)
