"""Server-to-Server OAuth for Zoom as an ``httpx.Auth`` (reference zoom.md 1.1).

One access token per process: fetched on first use, renewed 60 s before it expires, and
renewed once when Zoom answers 401 with code 124. An asyncio lock makes concurrent
requests share one token fetch (bursts of token requests led to 401s for a forum user,
reference zoom.md 1.1). The token fetch is yielded to httpx like any auth step, so the
flow can be driven by hand in tests.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from zoom_brevo.errors import FatalApiError, RetriableApiError
from zoom_brevo.zoom.responses import SERVICE, is_expired_token, map_error

RENEW_BEFORE_S = 60.0
"""Renew when this little lifetime remains (Zoom's SDK uses the same margin)."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token; ``expires_at_s`` is on the auth's clock (monotonic by default)."""

    value: str
    expires_at_s: float
    expires_in_s: int
    scope: str
    api_url: str | None = None

    def __repr__(self) -> str:
        return f"AccessToken(expires_in_s={self.expires_in_s}, scope={self.scope!r})"

    def is_fresh(self, now_s: float, renew_before_s: float = RENEW_BEFORE_S) -> bool:
        """Whether the token can still be used without renewing."""
        return now_s < self.expires_at_s - renew_before_s


def decode_json(response: httpx.Response) -> Any:
    """The response body as JSON, or ``None`` when it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


async def token_refused_as_expired(response: httpx.Response) -> bool:
    """Whether Zoom answered a call with "token expired" (401, code 124): renew and retry."""
    # Only a 401 body is read here: any other may be a report the caller streams.
    if response.status_code != httpx.codes.UNAUTHORIZED:
        return False
    await response.aread()
    return is_expired_token(response.status_code, decode_json(response))


def parse_access_token(status: int, body: Any, now_s: float) -> AccessToken:
    """The token from a token-endpoint answer, or the mapped error for a refusal."""
    if status != 200 or not isinstance(body, dict):
        raise map_error(status, body)
    value, expires_in = body.get("access_token"), body.get("expires_in")
    if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
        raise FatalApiError(
            "Zoom's token endpoint answered without access_token/expires_in; check "
            "connectors.zoom.oauth_base_url points at Zoom (https://zoom.us).",
            service=SERVICE,
            status=status,
        )
    return AccessToken(
        value=value,
        expires_at_s=now_s + float(expires_in),
        expires_in_s=int(expires_in),
        scope=str(body.get("scope") or ""),
        api_url=body.get("api_url") if isinstance(body.get("api_url"), str) else None,
    )


class ServerToServerAuth(httpx.Auth):
    """Bearer auth with a cached Server-to-Server OAuth token."""

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        oauth_base_url: str = "https://zoom.us",
        clock: Callable[[], float] = time.monotonic,
        renew_before_s: float = RENEW_BEFORE_S,
    ) -> None:
        self._account_id = account_id
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self.token_url = f"{oauth_base_url.rstrip('/')}/oauth/token"
        self._clock = clock
        self._renew_before_s = renew_before_s
        self._lock = asyncio.Lock()
        self._token: AccessToken | None = None

    def __repr__(self) -> str:
        return f"ServerToServerAuth(token_url={self.token_url!r})"

    @property
    def token(self) -> AccessToken | None:
        """The cached token, if any."""
        return self._token

    def build_token_request(self) -> httpx.Request:
        """``POST /oauth/token`` with the account_credentials grant as a form body."""
        request = httpx.Request(
            "POST",
            self.token_url,
            data={"grant_type": "account_credentials", "account_id": self._account_id},
        )
        return next(self._basic.auth_flow(request))

    def store_token_response(self, status: int, body: Any) -> AccessToken:
        """Parse a token answer and cache the token (raises the mapped error on refusal)."""
        self._token = parse_access_token(status, body, self._clock())
        return self._token

    async def fetch_token(self, http: httpx.AsyncClient) -> AccessToken:
        """Fetch a new token now (e.g. to check the credentials) and cache it."""
        async with self._lock:
            try:
                response = await http.send(self.build_token_request())
            except httpx.TransportError as exc:
                raise _unreachable(exc) from exc
            return self.store_token_response(response.status_code, decode_json(response))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add a bearer token; fetch or renew it under the lock; retry once on code 124."""
        async with self._lock:
            if self._token is None or not self._token.is_fresh(self._clock(), self._renew_before_s):
                await self._renew((yield self.build_token_request()))
            used = self._token
        assert used is not None
        request.headers["Authorization"] = f"Bearer {used.value}"
        if not await token_refused_as_expired((yield request)):
            return
        async with self._lock:
            if self._token is used:  # nobody renewed it meanwhile
                await self._renew((yield self.build_token_request()))
            renewed = self._token
        assert renewed is not None
        request.headers["Authorization"] = f"Bearer {renewed.value}"
        yield request

    async def _renew(self, response: httpx.Response) -> None:
        await response.aread()
        self.store_token_response(response.status_code, decode_json(response))


def _unreachable(exc: httpx.TransportError) -> RetriableApiError:
    return RetriableApiError(
        f"Could not reach Zoom's token endpoint ({type(exc).__name__}); retried with "
        "backoff. If this persists, check the network and connectors.zoom.oauth_base_url.",
        service=SERVICE,
    )
