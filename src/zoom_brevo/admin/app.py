"""The admin sub-application (dashboard + JSON API) and its mount under ``/admin``.

``admin_routes_for(settings, engine)`` is the admin part of what the server passes to
``create_app(..., extra_routes=...)``: nothing at all when ``server.admin_token`` is null,
so every ``/admin`` URL is a plain 404. ``site_routes_for`` adds ``/oauth/*`` when
``connectors.zoom.oauth`` is configured, with the same :class:`AdminAuth` deciding who may
replace a connected Zoom user.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.resources import files
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zoom_brevo.admin.api import api_routes, error_response
from zoom_brevo.admin.auth import DEFAULT_SESSION_TTL_S, MOUNT, AdminAuth, LoginLimiter
from zoom_brevo.admin.context import AdminContext, CheckCache, ReadConnection, RunCheck
from zoom_brevo.admin.views import Pages
from zoom_brevo.config import Settings
from zoom_brevo.errors import StoreError

# Inline SVG needs no script; styles come from our own stylesheet only.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
STATIC_CACHE = "private, max-age=3600"


@dataclass(frozen=True)
class AdminConfig:
    """What the admin app needs besides the store.

    ``secure_cookie``: ``True`` always sets the cookies' Secure flag, ``False`` never
    (plain-http testing only), ``None`` (default) sets it except for plain http to a
    loopback host (``http://127.0.0.1``, ``http://localhost``), where browsers would
    otherwise drop the cookie. ``oauth_status``: reads the user-level Zoom connection for
    the operations page (``None``: user-level OAuth not configured, nothing shown).
    """

    token: str
    secure_cookie: bool | None = None
    session_ttl_s: float = DEFAULT_SESSION_TTL_S
    login_max_failures: int = 5
    login_window_s: float = 60.0
    limits: dict[str, Any] | None = None
    run_check: RunCheck | None = None
    clock: Callable[[], float] = time.time
    oauth_status: ReadConnection | None = None


class _SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every admin response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode())
                    for k, v in SECURITY_HEADERS.items()
                    if k.encode() not in present
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def admin_auth(config: AdminConfig) -> AdminAuth:
    """The credentials check of ``config`` (share it to count failures in one place)."""
    limiter = LoginLimiter(max_failures=config.login_max_failures, window_s=config.login_window_s)
    return AdminAuth(config.token, clock=config.clock, secure_cookie=config.secure_cookie,
                     session_ttl_s=config.session_ttl_s, limiter=limiter)  # fmt: skip


def admin_app(config: AdminConfig, engine: Engine, *, auth: AdminAuth | None = None) -> Starlette:
    """The admin ASGI app (mount it at ``/admin``); ``auth`` defaults to ``admin_auth(config)``."""
    ctx = AdminContext(engine=engine, auth=auth or admin_auth(config),
                       checks=CheckCache(config.run_check), limits=config.limits,
                       oauth_status=config.oauth_status)  # fmt: skip
    pages = Pages(ctx)
    css = files("zoom_brevo.admin").joinpath("static/admin.css").read_bytes()

    async def stylesheet(_request: Request) -> Response:
        return Response(css, media_type="text/css", headers={"cache-control": STATIC_CACHE})

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 503
        detail = exc.detail if isinstance(exc, HTTPException) else "the database is unavailable"
        if _is_api(request):
            return error_response(status, detail)
        return pages.render(request, "error.html", {"status": status, "message": detail},
                            status_code=status)  # fmt: skip

    app = Starlette(
        routes=[
            Route("/static/admin.css", stylesheet, methods=["GET"]),
            *api_routes(ctx),
            *pages.routes(),
        ],
        exception_handlers={HTTPException: http_error, StoreError: http_error},
    )
    app.add_middleware(_SecurityHeaders)
    return app


def _is_api(request: Request) -> bool:
    # The raw scope path, and the mount's root without a trailing slash: a path ending in a
    # newline (%0A) still matches the /admin mount (a regex "$" matches before a final
    # newline), which then sets root_path to "/admin/"; its 404 must still be the API's JSON.
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return str(request.scope.get("path", "")).startswith(f"{root}/api/")


def admin_routes(
    config: AdminConfig, engine: Engine, *, auth: AdminAuth | None = None
) -> list[BaseRoute]:
    """The admin app mounted at ``/admin``, for ``create_app(extra_routes=...)``."""
    return [Mount(MOUNT, app=admin_app(config, engine, auth=auth))]


def admin_config_for(
    settings: Settings, engine: Engine, *, secure_cookie: bool | None = None
) -> AdminConfig | None:
    """The admin app's configuration; ``None`` when ``server.admin_token`` is null."""
    from zoom_brevo.server.oauth_routes import connection_status, oauth_app  # noqa: PLC0415
    from zoom_brevo.usecases.checks import run_check  # noqa: PLC0415 (clients load only if used)
    from zoom_brevo.usecases.limits import limits  # noqa: PLC0415

    secret = settings.server.admin_token
    if secret is None or not secret.get_secret_value():
        return None

    from zoom_brevo.wiring import shared_limiter  # noqa: PLC0415

    limiter = shared_limiter(settings, engine)  # the server's store: no second engine

    async def check() -> Any:
        return await run_check(settings, limiter)

    reader = None if oauth_app(settings) is None else partial(connection_status, settings, engine)
    return AdminConfig(
        token=secret.get_secret_value(),
        secure_cookie=secure_cookie,
        limits=limits(settings),
        run_check=check,
        oauth_status=reader,
    )


def admin_routes_for(
    settings: Settings, engine: Engine, *, secure_cookie: bool | None = None
) -> list[BaseRoute]:
    """The admin routes as configured; none when ``server.admin_token`` is null."""
    config = admin_config_for(settings, engine, secure_cookie=secure_cookie)
    return [] if config is None else admin_routes(config, engine)


def site_routes_for(
    settings: Settings, engine: Engine, *, secure_cookie: bool | None = None
) -> list[BaseRoute]:
    """What ``serve`` mounts besides the webhook: ``/admin`` and ``/oauth/*`` as configured.

    One :class:`AdminAuth` serves both, so ``/oauth/authorize`` may replace a connected
    Zoom user only for a request with admin credentials (bearer header or session cookie).
    ConfigError when user-level OAuth is configured without ``storage.encryption_key``.
    """
    from zoom_brevo.server.oauth_routes import oauth_routes_for  # noqa: PLC0415

    config = admin_config_for(settings, engine, secure_cookie=secure_cookie)
    if config is None:
        return [*oauth_routes_for(settings, engine)]
    auth = admin_auth(config)
    oauth = oauth_routes_for(settings, engine, may_connect=auth.is_admin)
    return [*admin_routes(config, engine, auth=auth), *oauth]
