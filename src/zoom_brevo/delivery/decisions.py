"""Pure decisions: what happens to outbox rows after a failed send, and when to check imports.

After a failed send the rule is the one retry decision (``retrying.decide``):

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
from datetime import datetime
from typing import Literal

from zoom_brevo import retrying
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.families import windows
from zoom_brevo.errors import ApiError
from zoom_brevo.retrying import RetryAt

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
    """What to do with rows that failed with ``error`` on their ``attempts``-th try: the one
    decision (``retrying.decide``) in the outbox's words."""
    verdict = retrying.decide(
        attempts, error, now, backoff=policy, max_attempts=max_attempts, rng=rng
    )
    if isinstance(verdict, RetryAt):
        return Decision("retry", verdict.when)
    return Decision("stop" if verdict.stop else "bury")


def is_transient_message(message: str) -> bool:
    """Whether a per-event failure of a 207 batch answer is worth retrying."""
    text = message.lower()
    return any(word in text for word in _TRANSIENT_WORDS)


# Brevo publishes no import speed: the first read assumes the import is queued for about a
# second and applies 5,000 contacts a second; a slower Brevo only costs more reads.
IMPORT_START_S = 1.0
IMPORT_CONTACTS_PER_S = 5_000.0
# Share of the plan's hourly "other" budget one slow import may use once its reads are capped.
CHECK_BUDGET_SHARE = 0.06
# Reads of an import go on for about this long before it is given up on.
GIVE_UP_AFTER_S = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class CheckSchedule:
    """When to read an import process: when it can have finished, then less and less often.

    The first read comes once an import of that many contacts can have been applied
    (``start_s`` plus ``contacts / contacts_per_s``); each read that finds it still
    running doubles the wait, capped at ``cap_s``. ``GET /processes`` is in Brevo's
    "other" family, 100 calls per hour on general plans (brevo.md 2.5, 5), so a slow
    import is never polled in a tight loop; ``for_plan`` sets the cap from the plan.
    """

    start_s: float = IMPORT_START_S
    contacts_per_s: float = IMPORT_CONTACTS_PER_S
    cap_s: float = 600.0
    max_checks: int = 40  # then the import is given up on (about 6 hours at the defaults)

    @classmethod
    def for_plan(cls, plan: str) -> CheckSchedule:
        """The schedule for a Brevo ``plan``: capped reads use ``CHECK_BUDGET_SHARE`` of its
        hourly "other" budget (600 s on general, 300 s on advanced, 100 s on extended)."""
        _per_s, per_hour = windows(plan, "other")
        cap_s = 3600.0 / (CHECK_BUDGET_SHARE * (per_hour or 100))
        return cls(cap_s=cap_s, max_checks=_checks_until(GIVE_UP_AFTER_S, IMPORT_START_S, cap_s))

    def first_s(self, contacts: int) -> float:
        """Wait before the first read of an import of ``contacts`` contacts."""
        return min(self.cap_s, self.start_s + max(contacts, 0) / self.contacts_per_s)

    def delay_s(self, checks_done: int, contacts: int = 0) -> float:
        """Wait before the next read of an import of ``contacts``, after ``checks_done`` reads."""
        return float(min(self.cap_s, self.first_s(contacts) * 2 ** min(checks_done, 32)))


def import_threshold_for(plan: str) -> int:
    """Fewest contacts of a batch worth one import rather than one ``POST /contacts`` each.

    An import is applied in about ``IMPORT_START_S`` and read once; single upserts go at
    the plan's contacts rate (10 a second on general), so from a second's worth of them
    on the import is sooner: a meeting's 50 attendees take 5 s one by one.
    """
    per_s, _per_hour = windows(plan, "contacts")
    return max(2, round((per_s or 10) * IMPORT_START_S))


def _checks_until(horizon_s: float, first_s: float, cap_s: float) -> int:
    """How many reads, doubling from ``first_s`` and capped at ``cap_s``, span ``horizon_s``."""
    checks, waited, wait = 0, 0.0, first_s
    while waited < horizon_s:
        waited += wait
        wait = min(cap_s, wait * 2)
        checks += 1
    return checks
