"""Pure decisions: what happens to outbox rows after a failed send, and when to check imports.

- ``AuthError`` (bad key, IP not allowed): nothing was tried; give the rows back without
  using an attempt and stop, the operator must act (reference brevo.md section 1).
- ``RetriableApiError`` (5xx, 429, timeouts): retry after the server's wait or a jittered
  backoff, dead once out of attempts.
- Any other ``ApiError`` (payload rejected, not found, no credits): dead at once, with the
  error text, for ``zoom-brevo retry`` after a fix.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.errors import ApiError, AuthError, RetriableApiError

Action = Literal["retry", "bury", "stop"]
# Words of Brevo per-event error messages that describe a passing condition, not the event.
_TRANSIENT_WORDS = ("rate limit", "too many", "timeout", "timed out", "temporar", "internal")


@dataclass(frozen=True, slots=True)
class Decision:
    """``retry`` at ``at``, ``bury`` now, or ``stop`` the worker (rows given back)."""

    action: Action
    at: datetime | None = None


def decide(
    error: ApiError,
    *,
    attempts: int,
    max_attempts: int,
    policy: BackoffPolicy,
    now: datetime,
    rng: random.Random | None = None,
) -> Decision:
    """What to do with rows that failed with ``error`` on their ``attempts``-th try."""
    if isinstance(error, AuthError):
        return Decision("stop")
    if not isinstance(error, RetriableApiError) or attempts >= max_attempts:
        return Decision("bury")
    wait_s = policy.delay_s(max(attempts - 1, 0), rng)
    if error.retry_after_s is not None:
        wait_s = max(wait_s, error.retry_after_s)
    return Decision("retry", now + timedelta(seconds=wait_s))


def is_transient_message(message: str) -> bool:
    """Whether a per-event failure of a 207 batch answer is worth retrying."""
    text = message.lower()
    return any(word in text for word in _TRANSIENT_WORDS)


@dataclass(frozen=True, slots=True)
class CheckSchedule:
    """Waits between reads of an import process: ``first_s``, doubling, capped at ``cap_s``.

    ``GET /processes/{id}`` is in Brevo's "other" family, 100 calls per hour on general
    plans (brevo.md 2.5, 5), so reads are spaced out and never polled in a tight loop.
    """

    first_s: float = 10.0
    cap_s: float = 600.0
    max_checks: int = 40  # then the import is given up on (about 6 hours at the defaults)

    def delay_s(self, checks_done: int) -> float:
        """Wait before the next read, after ``checks_done`` reads."""
        return float(min(self.cap_s, self.first_s * 2 ** min(checks_done, 32)))
