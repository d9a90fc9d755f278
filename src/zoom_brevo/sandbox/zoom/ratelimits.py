"""Zoom's per-account rate limits by plan and category (reference zoom.md 3).

Per-second quotas are counted in one-second windows; daily caps reset at 00:00 UTC and
answer 429 with ``Retry-After`` as an ISO date. Pro and Business share one daily pool
between Heavy and Resource-intensive calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zoom_brevo.sandbox.zoom.errors import ZoomError

LIGHT, MEDIUM, HEAVY, RESOURCE = "Light", "Medium", "Heavy", "Resource-intensive"

# (calls, window_s) per category; daily caps per category (free) or shared pool (pro, business).
_PER_WINDOW: dict[str, dict[str, tuple[int, float]]] = {
    "free": {LIGHT: (4, 1), MEDIUM: (2, 1), HEAVY: (1, 1), RESOURCE: (10, 60)},
    "pro": {LIGHT: (30, 1), MEDIUM: (20, 1), HEAVY: (10, 1), RESOURCE: (10, 60)},
    "business": {LIGHT: (80, 1), MEDIUM: (60, 1), HEAVY: (40, 1), RESOURCE: (20, 60)},
}
_DAILY: dict[str, dict[str, tuple[str, int]]] = {
    "free": {
        LIGHT: (LIGHT, 6_000),
        MEDIUM: (MEDIUM, 2_000),
        HEAVY: (HEAVY, 1_000),
        RESOURCE: (RESOURCE, 30_000),
    },
    "pro": {HEAVY: ("heavy-pool", 30_000), RESOURCE: ("heavy-pool", 30_000)},
    "business": {HEAVY: ("heavy-pool", 60_000), RESOURCE: ("heavy-pool", 60_000)},
}
PER_SECOND_MESSAGE = (
    "You have reached the maximum per-second rate limit for this API. Try again later."
)
DAILY_MESSAGE = (
    "You have reached the maximum daily rate limit for this API. Refer to the response "
    "header for details on when you can make another request."
)


def plan_limits(plan: str) -> dict[str, tuple[int, float]]:
    """Per-window limits of ``plan`` (``free``, ``pro``, ``business``)."""
    try:
        return _PER_WINDOW[plan]
    except KeyError:
        raise ValueError(f"unknown Zoom plan {plan!r}; use free, pro or business") from None


@dataclass
class _Window:
    start_s: float = 0.0
    used: int = 0


class RateLimits:
    """Counts calls per category and refuses those over the plan's limits."""

    def __init__(self, plan: str, clock: Callable[[], float], *, enforce: bool = True) -> None:
        self.plan = plan
        self.per_window = dict(plan_limits(plan))
        self.daily = dict(_DAILY[plan])
        self.enforce = enforce
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._days: dict[str, tuple[str, int]] = {}

    def admit(self, category: str) -> dict[str, str]:
        """Count one call; return the headers to send, or raise a 429 ``ZoomError``."""
        now = self._clock()
        limit, window_s = self.per_window[category]
        win = self._windows.setdefault(category, _Window(now))
        if now - win.start_s >= window_s:
            win.start_s, win.used = now - (now - win.start_s) % window_s, 0
        headers = {"X-RateLimit-Category": category, "X-RateLimit-Type": "QPS"}
        if self.enforce and win.used >= limit:
            headers |= {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0"}
            raise ZoomError(429, 429, PER_SECOND_MESSAGE, headers)
        self._count_daily(category, now)
        win.used += 1
        headers |= {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - win.used)}
        return headers

    def _count_daily(self, category: str, now: float) -> None:
        if category not in self.daily:
            return
        pool, cap = self.daily[category]
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        seen_day, used = self._days.get(pool, (day, 0))
        used = used if seen_day == day else 0
        if self.enforce and used >= cap:
            midnight = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1)
            headers = {
                "X-RateLimit-Category": category,
                "X-RateLimit-Type": "Daily-limit",
                "X-RateLimit-Limit": str(cap),
                "X-RateLimit-Remaining": "0",
                "Retry-After": midnight.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            raise ZoomError(429, 429, DAILY_MESSAGE, headers)
        self._days[pool] = (day, used + 1)

    def set_daily_used(self, category: str, used: int) -> None:
        """Pretend ``used`` calls of the category's daily pool were made today (tests)."""
        pool, _ = self.daily[category]
        day = datetime.fromtimestamp(self._clock(), UTC).date().isoformat()
        self._days[pool] = (day, used)
