"""The rate limits in effect for the configured plans (``status`` and the admin site)."""

from __future__ import annotations

from typing import Any

from zoom_brevo.brevo.families import Family, windows
from zoom_brevo.config import Settings
from zoom_brevo.zoom.categories import documented_limits, shared_daily_note, zoom_limits

BREVO_FAMILIES: tuple[Family, ...] = ("contacts", "events", "smtp_email", "smtp", "other")


def limits(settings: Settings) -> dict[str, Any]:
    """The rate limits in effect for the configured plans (per family / category)."""
    brevo_plan = settings.brevo.plan
    brevo = {}
    for family in BREVO_FAMILIES:
        per_s, per_h = windows(brevo_plan, family)
        brevo[family] = {"per_second": per_s, "per_hour": per_h}
    zoom_plan = settings.connectors.zoom.plan
    zoom = {
        key: {"rate_per_s": round(limit.rate_per_s, 4), "burst": limit.burst}
        for key, limit in zoom_limits(zoom_plan).items()
    }
    return {
        "brevo": {"plan": brevo_plan, "families": brevo},
        "zoom": {
            "plan": zoom_plan,
            "categories": documented_limits(zoom_plan),
            "shared_daily": shared_daily_note(zoom_plan),
            "buckets": zoom,  # the limiter's own buckets (margins taken), by key
        },
    }
