"""Build the outside-facing objects from settings: the one place where config meets code.

Only ``cli/`` and ``server/`` call these; everything below them takes plain values.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.config import Settings
from zoom_brevo.ratelimit import RateLimiter
from zoom_brevo.store.engine import create_engine, migrate
from zoom_brevo.zoom.client import ZoomClient


def zoom_client(settings: Settings, *, limiter: RateLimiter | None = None) -> ZoomClient:
    """A Server-to-Server Zoom client for the configured account."""
    zoom = settings.connectors.zoom
    return ZoomClient.server_to_server(
        account_id=zoom.account_id,
        client_id=zoom.client_id,
        client_secret=zoom.client_secret.get_secret_value(),
        api_base_url=zoom.api_base_url,
        oauth_base_url=zoom.oauth_base_url,
        plan=zoom.plan,
        limiter=limiter,
    )


def brevo_client(settings: Settings, *, limiter: RateLimiter | None = None) -> BrevoClient:
    """A Brevo client for the configured account."""
    brevo = settings.brevo
    return BrevoClient(
        brevo.api_key.get_secret_value(),
        base_url=brevo.base_url,
        plan=brevo.plan,
        limiter=limiter,
    )


def open_store(settings: Settings) -> Engine:
    """The configured database, migrated to the current schema."""
    engine = create_engine(settings.storage.url)
    migrate(engine)
    return engine
