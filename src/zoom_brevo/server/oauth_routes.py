"""``GET /oauth/authorize`` and ``/oauth/callback``: connect a Zoom user (reference zoom.md 1.2).

``/oauth/authorize`` keeps a random state and a PKCE verifier in the store (sealed, short
TTL), sets a cookie with the state (so the callback must come back to the browser that
started it) and redirects to Zoom. ``/oauth/callback`` takes the state (single use), trades
the code for tokens and stores them sealed. Every failure is a small page saying what to do,
with a 4xx (our side or the user's) or 502/503 (Zoom or the database unavailable), never 500.

Who may connect: anybody while no user is connected or Zoom refused the stored tokens
(``invalid_grant``); once a user is connected, only a request the ``may_connect``
predicate accepts (the server passes "carries admin credentials"), so that whoever can
reach the server cannot swap the operator's Zoom user for their own. The pending
authorization remembers which case it was: a first connection whose callback arrives
after somebody else connected is refused too.
"""

from __future__ import annotations

import hmac
import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from zoom_brevo.config import Settings
from zoom_brevo.crypto import Cipher
from zoom_brevo.errors import ApiError, AuthError, ConfigError, InvalidGrant, StoreError
from zoom_brevo.oauth_tokens import (
    AUTHORIZE_PATH,
    OAuthStatus,
    PendingAuthorizations,
    StateProblem,
    Taken,
    TokenRepository,
)
from zoom_brevo.zoom.oauth import OAuthApp, TokenSet, authorization_url, exchange_code

CALLBACK_PATH = "/oauth/callback"
STATE_COOKIE = "zoom_brevo_oauth_state"
DEFAULT_TIMEOUT_S = 30.0
ADMIN_PATH = "/admin"

MayConnect = Callable[[Request], bool]
"""Whether a request may replace a connected Zoom user (e.g. it carries admin credentials)."""

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Page:
    """An answer for the browser: status, title and what to do."""

    status: int
    title: str
    message: str

    def response(self) -> HTMLResponse:
        """The HTML page (not cached, no referrer: the callback URL carries the code)."""
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title></head><body>"
            f"<h1>{html.escape(self.title)}</h1><p>{html.escape(self.message)}</p>"
            "</body></html>"
        )
        return HTMLResponse(body, self.status, headers=_PRIVATE)


_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_RESTART = f"Open {AUTHORIZE_PATH} on this server to start again."


def state_page(problem: StateProblem) -> Page:
    """The page for an unknown, reused or expired state."""
    if problem == "expired":
        return Page(400, "Authorization expired", f"This sign-in took too long. {_RESTART}")
    return Page(
        400,
        "Unknown or already used authorization",
        f"This callback does not match a sign-in started here, or it was already used. {_RESTART}",
    )


def zoom_error_page(error: str, description: str) -> Page:
    """The page for ``?error=...`` sent back by Zoom (e.g. ``access_denied``)."""
    if error == "access_denied":
        return Page(400, "Authorization denied", f"Zoom access was not granted. {_RESTART}")
    detail = f"{error}: {description}" if description else error
    return Page(400, "Zoom refused the authorization", f"Zoom said {detail!r}. {_RESTART}")


def exchange_failure_page(exc: ApiError) -> Page:
    """The page for a failed code exchange."""
    if isinstance(exc, InvalidGrant):
        return Page(
            400,
            "Authorization code refused",
            f"Zoom refused the code (it expires after 5 minutes and works once). {_RESTART}",
        )
    if isinstance(exc, AuthError):
        return Page(
            400,
            "Zoom refused the app's credentials",
            "Check connectors.zoom.oauth (client_id, client_secret, redirect_uri) against the"
            f" Zoom app, then {_RESTART[0].lower()}{_RESTART[1:]}",
        )
    return ZOOM_DOWN_PAGE


ZOOM_DOWN_PAGE = Page(502, "Zoom could not be reached", f"Zoom did not answer properly. {_RESTART}")
STORE_PAGE = Page(503, "Storage unavailable", f"The database did not answer. {_RESTART}")


def already_connected_page(*, admin_available: bool, during_sign_in: bool = False) -> Page:
    """The 403 page for someone without admin credentials while a user is connected."""
    what = (
        "A Zoom user was connected while this sign-in was in progress"
        if during_sign_in
        else "A Zoom user is already connected"
    )
    how = (
        f"sign in to {ADMIN_PATH} and use Reconnect on the Operations page to replace it"
        if admin_available
        else f"set server.admin_token, then sign in to {ADMIN_PATH} and use Reconnect to replace it"
    )
    return Page(403, "Zoom user already connected", f"{what}; {how}.")


UNCHECKED_PAGE = Page(
    503,
    "Zoom connection could not be checked",
    "The stored Zoom connection could not be read (the database is unavailable, or the"
    f" record or its key is missing). Try again later, or sign in to {ADMIN_PATH} and use"
    " Reconnect.",
)


def connected_page(tokens: TokenSet) -> Page:
    """The page after a successful connection."""
    return Page(
        200,
        "Zoom connected",
        f"The connector can now act for this Zoom user (scope: {tokens.scope or 'none'})."
        " You can close this window.",
    )


@dataclass
class OAuthFlow:
    """What the two routes need: the app, where tokens and pending states go, and Zoom."""

    app: OAuthApp
    tokens: TokenRepository
    pending: PendingAuthorizations
    transport: httpx.AsyncBaseTransport | None = None
    clock: Callable[[], float] = time.time
    timeout_s: float = DEFAULT_TIMEOUT_S
    may_connect: MayConnect | None = None
    """Accepts requests that may replace a connected user; ``None``: no request may."""

    def __repr__(self) -> str:
        return f"OAuthFlow(app={self.app!r})"

    async def authorize(self, request: Request) -> Response:
        """GET /oauth/authorize: check who may connect, remember state + verifier, redirect."""
        replace = self.may_connect is not None and self.may_connect(request)
        if not replace:
            refusal = await self._refuse_replacing(during_sign_in=False)
            if refusal is not None:
                log.warning("zoom_oauth_authorize_refused", status=refusal.status)
                return refusal.response()
        auth = authorization_url(self.app)
        try:
            await run_in_threadpool(lambda: self.pending.remember(auth, replace=replace))
        except StoreError:
            return STORE_PAGE.response()
        response = RedirectResponse(auth.url, status_code=302, headers=_PRIVATE)
        response.set_cookie(
            STATE_COOKIE,
            auth.state,
            max_age=int(self.pending.ttl_s),
            path=urlsplit(self.app.redirect_uri).path or "/",
            secure=self.app.redirect_uri.startswith("https://"),
            httponly=True,
            samesite="lax",  # sent on the top-level redirect back from Zoom
        )
        log.info("zoom_oauth_authorize_started", replace=replace)
        return response

    async def _refuse_replacing(self, *, during_sign_in: bool) -> Page | None:
        """A refusal unless no user is connected or Zoom refused the stored tokens."""
        try:
            status = await run_in_threadpool(self.tokens.status)
        except (StoreError, ConfigError) as exc:
            log.warning("zoom_oauth_status_unreadable", error=type(exc).__name__)
            return UNCHECKED_PAGE
        if status.state != "connected":
            return None
        admin_available = self.may_connect is not None
        return already_connected_page(
            admin_available=admin_available, during_sign_in=during_sign_in
        )

    async def callback(self, request: Request) -> Response:
        """GET /oauth/callback?code&state: check the state, trade the code, store tokens."""
        page = await self._callback(request)
        if page.status != 200:
            log.warning("zoom_oauth_callback_rejected", status=page.status, title=page.title)
        response = page.response()
        response.delete_cookie(STATE_COOKIE, path=urlsplit(self.app.redirect_uri).path or "/")
        return response

    async def _callback(self, request: Request) -> Page:
        query = request.query_params
        if "error" in query:
            return zoom_error_page(query["error"], query.get("error_description", ""))
        code, state = query.get("code", ""), query.get("state", "")
        if not code or not state:
            return Page(400, "Incomplete callback", f"The code or state is missing. {_RESTART}")
        cookie = request.cookies.get(STATE_COOKIE, "")
        if not hmac.compare_digest(cookie.encode(), state.encode()):
            return Page(
                400,
                "Sign-in started elsewhere",
                "This browser did not start this sign-in (or blocked its cookie). Open"
                f" {AUTHORIZE_PATH} at the same address as the redirect URI"
                f" ({urlsplit(self.app.redirect_uri).netloc}) and try again.",
            )
        try:
            taken = await run_in_threadpool(self.pending.take, state)
        except StoreError:
            return STORE_PAGE
        return await self._finish(code, taken)

    async def _finish(self, code: str, taken: Taken) -> Page:
        if taken.code_verifier is None:
            return state_page(taken.problem or "unknown")
        if not taken.replace:  # somebody may have connected since this sign-in started
            refusal = await self._refuse_replacing(during_sign_in=True)
            if refusal is not None:
                return refusal
        return await self._exchange(code, taken.code_verifier)

    async def _exchange(self, code: str, code_verifier: str) -> Page:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as http:
                tokens = await exchange_code(
                    http, self.app, code=code, code_verifier=code_verifier, clock=self.clock
                )
        except ApiError as exc:
            return exchange_failure_page(exc)
        except httpx.HTTPError:
            return ZOOM_DOWN_PAGE
        try:
            await run_in_threadpool(self.tokens.save, tokens)
        except StoreError:
            return STORE_PAGE
        log.info("zoom_oauth_connected", subject=self.tokens.subject)
        return connected_page(tokens)


def oauth_routes(flow: OAuthFlow) -> list[Route]:
    """The two routes, for the server app to mount."""
    return [
        Route(AUTHORIZE_PATH, flow.authorize, methods=["GET"]),
        Route(CALLBACK_PATH, flow.callback, methods=["GET"]),
    ]


def oauth_app(settings: Settings) -> OAuthApp | None:
    """The configured user-level app (``connectors.zoom.oauth``), or ``None``."""
    zoom = settings.connectors.zoom
    user = zoom.oauth
    if user is None:
        return None
    secret: str | None
    if user.client_id is None:
        client_id, secret = zoom.client_id, zoom.client_secret.get_secret_value()
    else:
        client_id = user.client_id
        secret = user.client_secret.get_secret_value() if user.client_secret else None
    return OAuthApp(
        client_id=client_id,
        client_secret=secret,
        redirect_uri=user.redirect_uri,
        oauth_base_url=zoom.oauth_base_url,
    )


def oauth_routes_for(
    settings: Settings, engine: Engine, *, may_connect: MayConnect | None = None
) -> list[Route]:
    """The routes when user-level OAuth is configured (else none).

    ``may_connect``: which requests may replace a connected user (the server passes the
    admin credentials check); without it only a first connection or a re-authorization
    after ``invalid_grant`` is possible. ConfigError naming ``storage.encryption_key`` when
    user-level OAuth is configured without a key.
    """
    app = oauth_app(settings)
    if app is None:
        return []
    cipher = Cipher.from_setting(settings.storage.encryption_key)
    flow = OAuthFlow(
        app,
        TokenRepository(engine, cipher),
        PendingAuthorizations(engine, cipher),
        may_connect=may_connect,
    )
    return oauth_routes(flow)


def authorize_url_of(redirect_uri: str) -> str:
    """Where people (re-)authorize: the redirect URI with ``/oauth/callback`` -> ``/authorize``."""
    if redirect_uri.endswith(CALLBACK_PATH):
        return redirect_uri.removesuffix(CALLBACK_PATH) + AUTHORIZE_PATH
    return AUTHORIZE_PATH


def connection_status(settings: Settings, engine: Engine) -> tuple[OAuthStatus, str] | None:
    """For ``status``: the user-level connection and where to (re-)authorize, if configured."""
    app = oauth_app(settings)
    if app is None:
        return None
    repository = TokenRepository(engine, Cipher.from_setting(settings.storage.encryption_key))
    return repository.status(), authorize_url_of(app.redirect_uri)
