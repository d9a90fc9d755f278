"""Zoom's OAuth server: S2S ``account_credentials``, ``authorization_code`` (with PKCE S256),
``refresh_token`` with rotation, and Bearer checks for the REST API (reference zoom.md 1)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from zoom_brevo.sandbox.zoom.errors import ZoomError
from zoom_brevo.sandbox.zoom.faults import Faults, Stats

SCOPES = (
    "meeting:read:admin webinar:read:admin report:read:admin recording:read:admin user:read:admin"
    # recording analytics declare granular scopes only (Meetings spec, analytics_details)
    " cloud_recording:read:recording_analytics_details:admin"
    " cloud_recording:read:recording_analytics_summary:admin"
)
# What ``forget --zoom`` needs on top (delete registrants); the sandbox's app has them.
WRITE_SCOPES = "meeting:write:admin webinar:write:admin"
CODE_TTL_S = 300.0


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An issued access token; ``user_id`` is set for user-level tokens."""

    expires_s: float
    generation: int
    user_id: str | None


@dataclass(frozen=True, slots=True)
class _Code:
    redirect_uri: str
    challenge: str
    issued_s: float
    user_id: str


class OAuthError(Exception):
    """A token-endpoint refusal: ``{"reason", "error"}`` with ``status``."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        self.status, self.error, self.reason = status, error, reason
        super().__init__(reason)


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TokenStore:
    """Access tokens, authorization codes and the one live refresh token per user."""

    def __init__(self, clock: Callable[[], float], ttl_s: float) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._access: dict[str, AccessToken] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> user id
        self._generation = 0

    def issue(self, user_id: str | None = None) -> str:
        """A new access token."""
        tok = secrets.token_urlsafe(32)
        self._access[tok] = AccessToken(self._clock() + self.ttl_s, self._generation, user_id)
        return tok

    def expire_all(self) -> None:
        """Invalidate every access token issued so far."""
        self._generation += 1

    def check(self, authorization: str | None) -> AccessToken:
        """The token of an ``Authorization: Bearer`` header, or a 401 code 124."""
        if not authorization:
            raise ZoomError(401, 124, "Requires an access token.")
        scheme, _, tok = authorization.partition(" ")
        found = self._access.get(tok.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise ZoomError(401, 124, "Invalid access token.")
        if found.generation != self._generation or self._clock() >= found.expires_s:
            raise ZoomError(401, 124, "Access token is expired.")
        return found

    def new_code(self, redirect_uri: str, challenge: str, user_id: str) -> str:
        """An authorization code for ``redirect_uri`` (single use, 5 minutes)."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = _Code(redirect_uri, challenge, self._clock(), user_id)
        return code

    def redeem_code(self, code: str, redirect_uri: str, verifier: str) -> str:
        """The user id of a valid code; the code is spent."""
        saved = self._codes.pop(code, None)
        if saved is None or self._clock() - saved.issued_s > CODE_TTL_S:
            raise OAuthError(400, "invalid_grant", "Invalid authorization code")
        if saved.redirect_uri != redirect_uri:
            raise OAuthError(400, "invalid_request", "Redirect URI mismatch.")
        if saved.challenge and not hmac.compare_digest(s256(verifier), saved.challenge):
            raise OAuthError(400, "invalid_request", "Invalid code verifier.")
        return saved.user_id

    def new_refresh(self, user_id: str) -> str:
        """A refresh token for ``user_id``; earlier ones of that user stop working."""
        self._refresh = {t: u for t, u in self._refresh.items() if u != user_id}
        tok = secrets.token_urlsafe(32)
        self._refresh[tok] = user_id
        return tok

    def rotate(self, refresh_token: str) -> str:
        """The user of a live refresh token; a stale one is ``invalid_grant``."""
        user_id = self._refresh.get(refresh_token)
        if user_id is None:
            raise OAuthError(400, "invalid_grant", "Invalid Token!")
        return user_id


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` of a Basic ``Authorization`` header."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


@dataclass(kw_only=True, eq=False, repr=False)  # no repr: it holds the client secret
class OAuthServer:
    """The ``/oauth/token`` and ``/oauth/authorize`` endpoints."""

    tokens: TokenStore
    account_id: str
    client_id: str
    client_secret: str
    default_user: Callable[[], str]
    faults: Faults
    stats: Stats
    # The app's scopes, granted to every token; a test may take some away.
    scopes: str = field(default=f"{SCOPES} {WRITE_SCOPES}", init=False)

    async def token(self, request: Request) -> Response:
        """POST /oauth/token."""
        self.stats.token_requests += 1
        failure = self.faults.take_token_failure()
        if failure is not None:
            reason = "Service unavailable" if failure == 503 else "Internal server error"
            return JSONResponse({"reason": reason, "error": "server_error"}, failure)
        # Zoom takes the parameters in the query or a form body (reference zoom.md 1.1).
        form = parse_qsl((await request.body()).decode("utf-8", "replace"))
        params = {**dict(request.query_params), **dict(form)}
        try:
            body = self._grant(params, request.headers.get("authorization"))
        except OAuthError as exc:
            return JSONResponse({"reason": exc.reason, "error": exc.error}, exc.status)
        body["api_url"] = str(request.base_url).rstrip("/")
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _grant(self, params: dict[str, str], authorization: str | None) -> dict[str, object]:
        grant = params.get("grant_type", "")
        if grant not in {"account_credentials", "authorization_code", "refresh_token"}:
            raise OAuthError(400, "unsupported_grant_type", "unsupported grant type")
        self._check_client(params, authorization, public_ok=grant == "authorization_code")
        if grant == "account_credentials":
            if params.get("account_id") != self.account_id:
                raise OAuthError(400, "invalid_request", "Invalid account_id")
            return self._bearer(self.tokens.issue())
        if grant == "authorization_code":
            user = self.tokens.redeem_code(
                params.get("code", ""),
                params.get("redirect_uri", ""),
                params.get("code_verifier", ""),
            )
        else:
            user = self.tokens.rotate(params.get("refresh_token", ""))
        return self._bearer(self.tokens.issue(user), self.tokens.new_refresh(user))

    def _check_client(
        self, params: dict[str, str], authorization: str | None, *, public_ok: bool
    ) -> None:
        creds = basic_credentials(authorization)
        if creds is None and public_ok and params.get("code_verifier"):
            creds = (params.get("client_id", ""), self.client_secret)  # PKCE public client
        if creds is None:
            raise OAuthError(400, "invalid_request", "Missing client credentials")
        ok_id = hmac.compare_digest(creds[0], self.client_id)
        if not (ok_id and hmac.compare_digest(creds[1], self.client_secret)):
            raise OAuthError(400, "invalid_client", "Invalid client_id or client_secret")

    def _bearer(self, access: str, refresh: str | None = None) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(self.tokens.ttl_s),
            "scope": self.scopes,
        }
        if refresh:
            body["refresh_token"] = refresh
        return body

    async def authorize(self, request: Request) -> Response:
        """GET /oauth/authorize: consent is automatic; redirect back with a code."""
        q = request.query_params
        if q.get("response_type") != "code" or q.get("client_id") != self.client_id:
            return JSONResponse({"reason": "Invalid client_id", "error": "invalid_client"}, 400)
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return JSONResponse({"reason": "Invalid redirect", "error": "invalid_request"}, 400)
        challenge = q.get("code_challenge", "")
        if challenge and q.get("code_challenge_method", "plain") != "S256":
            return JSONResponse(
                {"reason": "Only S256 is supported", "error": "invalid_request"}, 400
            )
        code = self.tokens.new_code(redirect_uri, challenge, self.default_user())
        extra = {"code": code} | ({"state": q["state"]} if "state" in q else {})
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{sep}{urlencode(extra)}", status_code=302)
