"""Pure retry timing: exponential backoff with full jitter, and ``Retry-After`` parsing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """How long to wait between attempts: ``base_s * 2**attempt`` capped at ``cap_s``, jittered."""

    base_s: float = 0.5
    cap_s: float = 60.0
    max_attempts: int = 6

    def ceiling_s(self, attempt: int) -> float:
        """Upper bound of the wait before retry number ``attempt`` (0-based)."""
        return float(min(self.cap_s, self.base_s * (2 ** min(attempt, 62))))

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """A "full jitter" wait in ``[ceiling/2, ceiling]`` before retry ``attempt``.

        Half the ceiling is kept as a floor so that a retry storm still spreads out, while
        the random half de-synchronises processes that failed together (AWS architecture
        blog, "Exponential Backoff And Jitter").
        """
        ceiling = self.ceiling_s(attempt)
        draw = (rng or random).random()
        return ceiling / 2 + draw * ceiling / 2


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait according to a ``Retry-After`` value, or ``None`` if absent/garbled.

    Accepts delta-seconds (RFC 9110), an HTTP-date, and the ISO-8601 date-time Zoom sends on
    daily-limit 429s (reference zoom.md section 3). Past dates give 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when = _parse_date(text)
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _parse_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
