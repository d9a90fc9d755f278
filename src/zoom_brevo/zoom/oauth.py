"""User-level OAuth (authorization code + PKCE, refresh with rotation), reference zoom.md 1.2.

Zoom rotates refresh tokens: every refresh returns a new one and only the latest works.
So a refreshed ``TokenSet`` is handed to an awaited ``persist`` callback *before* its
access token is used; if persisting fails, the new tokens are not used either. A refused
refresh token (``invalid_grant``) raises ``InvalidGrant``: the user has to re-authorize.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from zoom_brevo.errors import FatalApiError
from zoom_brevo.zoom.auth import RENEW_BEFORE_S, decode_json, token_refused_as_expired
from zoom_brevo.zoom.responses import SERVICE, map_error


@dataclass(frozen=True, slots=True)
class TokenSet:
    """A user's tokens; ``expires_at`` is a Unix time (seconds) so it survives restarts."""

    access_token: str
    refresh_token: str
    expires_at: float
    scope: str

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at}, scope={self.scope!r})"

    def is_fresh(self, now: float, renew_before_s: float = RENEW_BEFORE_S) -> bool:
        """Whether the access token can be used without refreshing."""
        return now < self.expires_at - renew_before_s


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the user's browser, and what to keep until the callback."""

    url: str
    state: str
    code_verifier: str

    def __repr__(self) -> str:
        return f"AuthorizationRequest(url={self.url!r})"


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """The OAuth app's identity; ``client_secret`` is ``None`` for a public (PKCE) client."""

    client_id: str
    client_secret: str | None
    redirect_uri: str
    oauth_base_url: str = "https://zoom.us"

    def __repr__(self) -> str:
        return f"OAuthApp(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"

    @property
    def token_url(self) -> str:
        """``{oauth_base_url}/oauth/token``."""
        return f"{self.oauth_base_url.rstrip('/')}/oauth/token"


def code_challenge(code_verifier: str) -> str:
    """The PKCE S256 challenge: unpadded base64url of SHA-256(verifier) (RFC 7636 4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    app: OAuthApp, *, state: str | None = None, code_verifier: str | None = None
) -> AuthorizationRequest:
    """The ``/oauth/authorize`` URL with a random ``state`` and a PKCE S256 challenge."""
    state = state or secrets.token_urlsafe(24)
    code_verifier = code_verifier or secrets.token_urlsafe(48)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "state": state,
            "code_challenge": code_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
    )
    url = f"{app.oauth_base_url.rstrip('/')}/oauth/authorize?{query}"
    return AuthorizationRequest(url=url, state=state, code_verifier=code_verifier)


def _token_request(app: OAuthApp, form: dict[str, str]) -> httpx.Request:
    if app.client_secret is None:  # public client: client_id in the form, no Basic header
        return httpx.Request("POST", app.token_url, data={**form, "client_id": app.client_id})
    request = httpx.Request("POST", app.token_url, data=form)
    return next(httpx.BasicAuth(app.client_id, app.client_secret).auth_flow(request))


def code_exchange_request(app: OAuthApp, code: str, code_verifier: str) -> httpx.Request:
    """``POST /oauth/token`` with ``grant_type=authorization_code``."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": app.redirect_uri,
        "code_verifier": code_verifier,
    }
    return _token_request(app, form)


def refresh_request(app: OAuthApp, refresh_token: str) -> httpx.Request:
    """``POST /oauth/token`` with ``grant_type=refresh_token``."""
    return _token_request(app, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def parse_token_set(status: int, body: Any, now: float) -> TokenSet:
    """A TokenSet from a token answer, or the mapped error (InvalidGrant for invalid_grant)."""
    if status != 200 or not isinstance(body, dict):
        raise map_error(status, body)
    access, refresh = body.get("access_token"), body.get("refresh_token")
    expires_in = body.get("expires_in")
    if not (isinstance(access, str) and isinstance(refresh, str)) or not isinstance(
        expires_in, int | float
    ):
        raise FatalApiError(
            "Zoom's token endpoint answered without access_token/refresh_token/expires_in.",
            service=SERVICE,
            status=status,
        )
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=now + float(expires_in),
        scope=str(body.get("scope") or ""),
    )


async def _send_token_request(
    http: httpx.AsyncClient, request: httpx.Request, now: float
) -> TokenSet:
    response = await http.send(request)
    return parse_token_set(response.status_code, decode_json(response), now)


async def exchange_code(
    http: httpx.AsyncClient,
    app: OAuthApp,
    *,
    code: str,
    code_verifier: str,
    clock: Callable[[], float] = time.time,
) -> TokenSet:
    """Trade the callback's authorization code for a TokenSet."""
    return await _send_token_request(http, code_exchange_request(app, code, code_verifier), clock())


async def refresh(
    http: httpx.AsyncClient,
    app: OAuthApp,
    refresh_token: str,
    *,
    clock: Callable[[], float] = time.time,
) -> TokenSet:
    """A new TokenSet from a refresh token; persist it before using it (rotation)."""
    return await _send_token_request(http, refresh_request(app, refresh_token), clock())


Persist = Callable[[TokenSet], Awaitable[None]]


class UserOAuth(httpx.Auth):
    """Bearer auth with a user's tokens, refreshed (and persisted first) when due or on 124."""

    def __init__(
        self,
        app: OAuthApp,
        tokens: TokenSet,
        persist: Persist,
        *,
        clock: Callable[[], float] = time.time,
        renew_before_s: float = RENEW_BEFORE_S,
    ) -> None:
        self._app = app
        self._tokens = tokens
        self._persist = persist
        self._clock = clock
        self._renew_before_s = renew_before_s
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"UserOAuth(app={self._app!r})"

    @property
    def tokens(self) -> TokenSet:
        """The current TokenSet."""
        return self._tokens

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer token; refresh it under the lock when due; retry once on code 124."""
        async with self._lock:
            if not self._tokens.is_fresh(self._clock(), self._renew_before_s):
                await self._rotate((yield refresh_request(self._app, self._tokens.refresh_token)))
            used = self._tokens
        request.headers["Authorization"] = f"Bearer {used.access_token}"
        if not await token_refused_as_expired((yield request)):
            return
        async with self._lock:
            if self._tokens is used:
                await self._rotate((yield refresh_request(self._app, used.refresh_token)))
        request.headers["Authorization"] = f"Bearer {self._tokens.access_token}"
        yield request

    async def _rotate(self, response: httpx.Response) -> None:
        await response.aread()
        fresh = parse_token_set(response.status_code, decode_json(response), self._clock())
        await self._persist(fresh)  # before first use: the old refresh token is now dead
        self._tokens = fresh
