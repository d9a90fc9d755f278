"""Brevo's rate-limit families: which bucket an endpoint falls in, and its limits by plan.

Reference brevo.md section 5 (developers.brevo.com/docs/api-limits). Each family has a
per-second and/or per-hour window; both must hold, so each becomes one limiter key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from zoom_brevo.ratelimit import Limit

Plan = Literal["general", "advanced", "extended"]
Family = Literal["contacts", "events", "smtp_email", "smtp", "other"]

PLANS: tuple[Plan, ...] = ("general", "advanced", "extended")

# (per second, per hour); None where Brevo documents no such window.
_WINDOWS: Mapping[Plan, Mapping[Family, tuple[int | None, int | None]]] = {
    "general": {
        "contacts": (10, 36_000),
        "events": (10, 36_000),
        "smtp_email": (1000, 3_600_000),
        "smtp": (None, 300),
        "other": (None, 100),
    },
    "advanced": {
        "contacts": (20, 72_000),
        "events": (20, 72_000),
        "smtp_email": (2000, 7_200_000),
        "smtp": (None, 600),
        "other": (None, 200),
    },
    "extended": {
        "contacts": (60, None),
        "events": (60, None),
        "smtp_email": (6000, None),
        "smtp": (None, 1800),
        "other": (None, 600),
    },
}


def family_of(method: str, path: str) -> Family:
    """The rate-limit family of a call; ``path`` is relative to ``/v3`` (``/contacts/import``)."""
    path = "/" + path.strip("/")
    if path == "/contacts" or path.startswith("/contacts/"):
        return "contacts"
    if path == "/events" or path.startswith("/events/"):
        return "events"
    if path == "/smtp/email" and method.upper() == "POST":
        return "smtp_email"
    if path.startswith("/smtp/blockedContacts") and method.upper() == "GET":
        return "smtp_email"
    if path.startswith("/smtp/"):
        return "smtp"
    return "other"


def windows(plan: str, family: Family) -> tuple[int | None, int | None]:
    """``(per_second, per_hour)`` call budgets of ``family`` on ``plan``."""
    return _WINDOWS[_plan(plan)][family]


def limiter_keys(family: Family) -> tuple[str, ...]:
    """Every limiter key a call of ``family`` must acquire (``brevo:contacts``, ``...:hour``)."""
    return (f"brevo:{family}", f"brevo:{family}:hour")


# Share of a window's budget that may be spent at once; the rest refills steadily.
BURST_SHARE = 0.2


def limits_for(plan: str) -> dict[str, Limit]:
    """Limiter configuration for ``plan``: one key per window.

    A token bucket lets ``burst + rate * window`` calls through in any window; Brevo counts
    calls per window, so burst and rate split the budget (20 % / 80 %) and no window can
    overflow, whatever its alignment.
    """
    result: dict[str, Limit] = {}
    for family, (per_s, per_h) in _WINDOWS[_plan(plan)].items():
        second_key, hour_key = limiter_keys(family)
        if per_s is not None:
            result[second_key] = _split(per_s, 1.0)
        if per_h is not None:
            result[hour_key] = _split(per_h, 3600.0)
    return result


def _split(budget: int, window_s: float) -> Limit:
    burst = max(1.0, budget * BURST_SHARE)
    return Limit(rate_per_s=(budget - burst) / window_s, burst=burst)


def _plan(plan: str) -> Plan:
    for known in PLANS:
        if plan == known:
            return known
    raise ValueError(f"unknown Brevo plan {plan!r}; expected one of {', '.join(PLANS)}")
