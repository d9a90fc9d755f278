"""Build the outside-facing objects from settings: the one place where config meets code.

Every Zoom and Brevo client is built here, and each must be given a limiter: the shared
one (``shared_limiter``, or ``command_limiter`` for a command without a store), so that no
process spends API budget the others cannot see. Only the entry points (``cli/``,
``admin/``, ``worker``, ``demo``) and the use cases they run (``usecases/``) call these;
everything below them takes plain values (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.families import limits_for
from zoom_brevo.config import Settings
from zoom_brevo.ratelimit import Limit, LocalRateLimiter, RateLimiter
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.categories import zoom_limits
from zoom_brevo.zoom.client import ZoomClient


def api_limits(settings: Settings) -> dict[str, Limit]:
    """Every limiter key of the configured Zoom and Brevo plans, with its limit."""
    return {**zoom_limits(settings.connectors.zoom.plan), **limits_for(settings.brevo.plan)}


def shared_limiter(settings: Settings, engine: Engine) -> RateLimiter:
    """The rate limiter for Zoom and Brevo calls, shared account-wide where it can be.

    On PostgreSQL the buckets live in the database, so every process (``serve``, ``worker``,
    ``sync``, ``backfill``, ``check``, ...) on every machine spends one budget
    (ARCHITECTURE invariant 4). On SQLite (one machine, normally one process) the buckets
    stay in this process: a database write per API call would contend for SQLite's single
    write lock.
    """
    if engine.dialect.name == "postgresql":
        from zoom_brevo.store.shared_limits import DatabaseRateLimiter  # noqa: PLC0415

        return DatabaseRateLimiter(engine, api_limits(settings))
    return LocalRateLimiter(api_limits(settings))


@contextlib.contextmanager
def command_limiter(settings: Settings) -> Iterator[RateLimiter]:
    """``shared_limiter`` for a command that has no other use for the store.

    On PostgreSQL the store is opened (and migrated) for its buckets and closed afterwards;
    on SQLite the buckets live in this process anyway, so no file is opened or created.
    """
    if sa.make_url(settings.storage.url).get_backend_name() != "postgresql":
        yield LocalRateLimiter(api_limits(settings))
        return
    engine = open_store(settings)
    try:
        yield shared_limiter(settings, engine)
    finally:
        engine.dispose()


def zoom_client(settings: Settings, limiter: RateLimiter, **options: Any) -> ZoomClient:
    """A Server-to-Server Zoom client for the configured account, throttled by ``limiter``.

    ``options`` are ``ZoomClient``'s keyword options (timeouts, transport, ...).
    """
    zoom = settings.connectors.zoom
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


def brevo_client(settings: Settings, limiter: RateLimiter, **options: Any) -> BrevoClient:
    """A Brevo client for the configured account, throttled by ``limiter``.

    ``options`` are ``BrevoClient``'s keyword options (timeouts, transport, ...).
    """
    brevo = settings.brevo
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
