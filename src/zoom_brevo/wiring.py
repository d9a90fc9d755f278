"""Build the outside-facing objects from settings: the one place where config meets code.

Only ``cli/`` and ``server/`` call these; everything below them takes plain values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.config import Settings
from zoom_brevo.ratelimit import LocalRateLimiter, RateLimiter
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.categories import zoom_limits
from zoom_brevo.zoom.client import ZoomClient


def shared_limiter(settings: Settings, engine: Engine) -> RateLimiter:
    """The rate limiter for Zoom and Brevo calls, shared account-wide where it can be.

    On PostgreSQL the buckets live in the database, so every process (``serve``, ``worker``,
    ``sync``, ``backfill``) on every machine spends one budget (ARCHITECTURE invariant 4).
    On SQLite (one machine, normally one process) the buckets stay in this process: a
    database write per API call would contend for SQLite's single write lock.
    """
    limits = {**zoom_limits(settings.connectors.zoom.plan), **limits_for(settings.brevo.plan)}
    if engine.dialect.name == "postgresql":
        from zoom_brevo.store.shared_limits import DatabaseRateLimiter  # noqa: PLC0415

        return DatabaseRateLimiter(engine, limits)
    return LocalRateLimiter(limits)


def zoom_client(
    settings: Settings,
    *,
    limiter: RateLimiter | None = None,
    engine: Engine | None = None,
    **options: Any,
) -> ZoomClient:
    """A Server-to-Server Zoom client for the configured account.

    With ``engine`` (and no ``limiter``), calls are throttled by ``shared_limiter``.
    ``options`` are ``ZoomClient``'s keyword options (timeouts, transport, ...).
    """
    zoom = settings.connectors.zoom
    if limiter is None and engine is not None:
        limiter = shared_limiter(settings, engine)
    return ZoomClient.server_to_server(
        account_id=zoom.account_id,
        client_id=zoom.client_id,
        client_secret=zoom.client_secret.get_secret_value(),
        api_base_url=zoom.api_base_url,
        oauth_base_url=zoom.oauth_base_url,
        plan=zoom.plan,
        limiter=limiter,
        **options,
    )


def brevo_client(
    settings: Settings,
    *,
    limiter: RateLimiter | None = None,
    engine: Engine | None = None,
    **options: Any,
) -> BrevoClient:
    """A Brevo client for the configured account.

    With ``engine`` (and no ``limiter``), calls are throttled by ``shared_limiter``.
    ``options`` are ``BrevoClient``'s keyword options (timeouts, transport, ...).
    """
    brevo = settings.brevo
    if limiter is None and engine is not None:
        limiter = shared_limiter(settings, engine)
    return BrevoClient(
        brevo.api_key.get_secret_value(),
        base_url=brevo.base_url,
        plan=brevo.plan,
        limiter=limiter,
        **options,
    )


def open_store(settings: Settings) -> Engine:
    """The configured database, migrated to the current schema."""
    engine = create_engine(settings.storage.url)
    migrate(engine)
    return engine
