"""Who may use ``/admin``: the configured admin token, as a bearer header or a login session.

- **Bearer**: ``Authorization: Bearer <server.admin_token>``, compared with
  ``hmac.compare_digest``. Meant for scripts and the JSON API; no CSRF token needed, since a
  browser never adds that header to a cross-site request on its own.
- **Session**: the login form takes the same token and sets a signed cookie
  (``HttpOnly``, ``SameSite=Strict``, ``Secure``, expiring). Its path is the server's root
  (``/``), not ``/admin``: ``/oauth/authorize`` accepts it too, so that a signed-in admin can
  reconnect the Zoom user; ``SameSite=Strict`` keeps it off requests started by other
  sites. Every state-changing request made with the cookie must carry the CSRF token bound
  to that session (form field ``csrf_token`` or header ``X-CSRF-Token``). The login form
  itself is protected by a double-submit cookie.
- **Brute force**: wrong tokens, from the form or as a bearer header, are counted per client
  address; after ``max_failures`` in ``window_s`` seconds that client gets 429 until the
  window has passed.

The signing keys are derived from the admin token, so changing the token ends every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

MOUNT = "/admin"
SESSION_COOKIE = "zb_admin_session"
LOGIN_CSRF_COOKIE = "zb_admin_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
DEFAULT_SESSION_TTL_S = 8 * 3600
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def derive_key(token: str, purpose: str) -> bytes:
    """A key for one ``purpose`` (session, csrf), derived from the admin token."""
    return hmac.new(token.encode(), f"zoom-brevo admin {purpose}".encode(), hashlib.sha256).digest()


def _sign(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def tokens_equal(given: str, expected: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(given.encode(), expected.encode())


def site_root(admin_root_path: str) -> str:
    """The server's root path (the session cookie's path) from the admin app's root path."""
    return admin_root_path.removesuffix(MOUNT) or "/"


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else ``None``."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class LoginLimiter:
    """Failed logins per client address in a sliding window (memory-bounded)."""

    def __init__(
        self, *, max_failures: int = 5, window_s: float = 60.0, max_clients: int = 10_000
    ) -> None:
        """Allow ``max_failures`` wrong tokens per ``window_s`` seconds per client."""
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now_s: float) -> deque[float]:
        times = self._failures.get(client, deque())
        while times and times[0] <= now_s - self.window_s:
            times.popleft()
        return times

    def retry_after_s(self, client: str, now_s: float) -> float:
        """Seconds until ``client`` may try again; 0 when it may try now."""
        times = self._recent(client, now_s)
        if len(times) < self.max_failures:
            return 0.0
        return max(times[-self.max_failures] + self.window_s - now_s, 0.0)

    def fail(self, client: str, now_s: float) -> None:
        """Count one wrong token from ``client``."""
        times = self._recent(client, now_s)
        times.append(now_s)
        self._failures[client] = times
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    def forget(self, client: str) -> None:
        """Clear ``client``'s failures (after a successful login)."""
        self._failures.pop(client, None)


class Sessions:
    """Signed, expiring session cookies: ``<nonce>.<expires_s>.<signature>``."""

    def __init__(self, token: str, *, ttl_s: float = DEFAULT_SESSION_TTL_S) -> None:
        """Sessions signed with keys derived from ``token``, valid ``ttl_s`` seconds."""
        self.ttl_s = ttl_s
        self._session_key = derive_key(token, "session")
        self._csrf_key = derive_key(token, "csrf")

    def issue(self, now_s: float) -> tuple[str, str]:
        """A new cookie value and its nonce."""
        nonce = secrets.token_urlsafe(18)
        body = f"{nonce}.{int(now_s + self.ttl_s)}"
        return f"{body}.{_sign(self._session_key, body)}", nonce

    def verify(self, value: str | None, now_s: float) -> str | None:
        """The nonce of a valid, unexpired cookie value, else ``None``."""
        if not value or value.count(".") != 2:
            return None
        nonce, expires, signature = value.split(".")
        body = f"{nonce}.{expires}"
        if not hmac.compare_digest(signature.encode(), _sign(self._session_key, body).encode()):
            return None
        if not expires.isdigit() or int(expires) <= now_s:
            return None
        return nonce

    def csrf_token(self, nonce: str) -> str:
        """The CSRF token bound to the session ``nonce``."""
        return _sign(self._csrf_key, nonce)

    def csrf_valid(self, nonce: str, given: str | None) -> bool:
        """Whether ``given`` is the session's CSRF token (constant time)."""
        return given is not None and tokens_equal(given, self.csrf_token(nonce))


@dataclass(frozen=True, slots=True)
class Identity:
    """How a request proved it holds the admin token."""

    method: Literal["bearer", "session"]
    nonce: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused: 401 (no or wrong token) or 429 (too many failures)."""

    status: Literal[401, 429]
    message: str
    retry_after_s: float = 0.0


def client_address(request: Request) -> str:
    """The client's address (uvicorn applies trusted proxy headers before this)."""
    return request.client.host if request.client else "unknown"


class AdminAuth:
    """Checks requests against the admin token; one instance per admin app."""

    def __init__(
        self,
        token: str,
        *,
        clock: Callable[[], float],
        secure_cookie: bool | None = None,
        session_ttl_s: float = DEFAULT_SESSION_TTL_S,
        limiter: LoginLimiter | None = None,
    ) -> None:
        """``secure_cookie``: ``None`` = Secure except over plain http to a loopback host."""
        if not token:
            raise ValueError("the admin token must not be empty")
        self._token = token
        self.clock = clock
        self.secure_cookie = secure_cookie
        self.sessions = Sessions(token, ttl_s=session_ttl_s)
        self.limiter = limiter or LoginLimiter()

    def token_valid(self, given: str) -> bool:
        """Whether ``given`` is the admin token (constant time)."""
        return tokens_equal(given, self._token)

    def blocked(self, request: Request) -> Refusal | None:
        """A 429 refusal while the client has used up its failures."""
        wait = self.limiter.retry_after_s(client_address(request), self.clock())
        if wait <= 0:
            return None
        return Refusal(429, "too many wrong admin tokens; wait and try again", wait)

    def failed(self, request: Request) -> None:
        """Count a wrong token from the request's client."""
        self.limiter.fail(client_address(request), self.clock())

    def authenticate(self, request: Request) -> Identity | Refusal:
        """Who the request is, or why it is refused."""
        header = request.headers.get("authorization")
        if header is not None:
            refusal = self.blocked(request)
            if refusal is not None:
                return refusal
            token = bearer_token(header)
            if token is not None and self.token_valid(token):
                return Identity("bearer")
            self.failed(request)
            return Refusal(401, "wrong or malformed Authorization header (Bearer token)")
        nonce = self.sessions.verify(request.cookies.get(SESSION_COOKIE), self.clock())
        if nonce is not None:
            return Identity("session", nonce)
        return Refusal(401, "sign in with the admin token (server.admin_token)")

    def is_admin(self, request: Request) -> bool:
        """Whether ``request`` carries admin credentials (bearer header or session cookie).

        For routes outside ``/admin`` (``/oauth/authorize``); wrong bearer tokens count
        towards the same failure limit as the admin pages'.
        """
        return isinstance(self.authenticate(request), Identity)

    def csrf_token(self, identity: Identity) -> str:
        """The CSRF token forms must carry for ``identity`` (empty for bearer requests)."""
        return self.sessions.csrf_token(identity.nonce) if identity.nonce else ""

    def csrf_valid(self, identity: Identity, given: str | None) -> bool:
        """Whether a state-changing request from ``identity`` carries its CSRF token."""
        if identity.method == "bearer":
            return True
        return identity.nonce is not None and self.sessions.csrf_valid(identity.nonce, given)

    def cookie_secure(self, request: Request) -> bool:
        """Whether cookies get the Secure flag for this request (see ``__init__``)."""
        if self.secure_cookie is not None:
            return self.secure_cookie
        return not (request.url.scheme == "http" and request.url.hostname in LOOPBACK_HOSTS)
