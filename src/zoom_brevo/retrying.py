"""The one retry decision: ``(attempt, error, policy, now) -> RetryAt(when) | GiveUp(reason)``.

Every queue that tries work again (the inbox, the jobs, the outbox) counts its attempts in
the database and asks ``decide`` what to do after a failure; the HTTP clients retry only
what is always safe (a 429 with its wait, a request that never left) and hand the rest up.

The rule, by the error's class in ``errors``:

- ``AuthError``: give up, ``stop=True``: nothing else can succeed until the operator acts
  (the caller may give the work back without using an attempt).
- ``ConfigError``, ``WebhookRejected``, any other ``FatalApiError`` and the caller's own
  ``fatal`` classes: give up at once, retrying cannot help.
- Anything else (``RetriableApiError``: 5xx, timeouts, 429, not ready; ``StoreError``; an
  unexpected exception) is transient: after the ``attempt``-th try, wait the backoff's
  ``delay_s(attempt - 1)``, and at least the server's ``retry_after_s`` when it sent one;
  give up once ``attempt`` reaches ``max_attempts``.

The clients' own rule is ``client_may_retry``: a 429 (nothing was done), a request that
never left, and for an idempotent method (RFC 9110 9.2.2: ``GET``, ``HEAD``, ``PUT``,
``DELETE``, ``OPTIONS``) a 5xx or a transport error; a ``POST`` that may have reached the
server is raised to the layer that counts attempts. So one outbox row's tries are its
attempts, not its attempts times the client's.

``attempt`` counts the tries made, the one that just failed included (1 after the first).
The module imports only ``errors``: the backoff is any object with ``delay_s``, such as
``backoff.BackoffPolicy``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from zoom_brevo.errors import (
    AuthError,
    ConfigError,
    FatalApiError,
    NotReady,
    RateLimited,
    RetriableApiError,
    WebhookRejected,
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
PERMANENT: tuple[type[BaseException], ...] = (ConfigError, WebhookRejected, FatalApiError)


class Backoff(Protocol):
    """The wait before retry number ``attempt`` (0-based), as ``BackoffPolicy.delay_s``."""

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry ``attempt``."""
        ...


@dataclass(frozen=True, slots=True)
class RetryAt:
    """Try again at ``when``."""

    when: datetime


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Do not try again: ``reason`` says why. ``stop``: the credentials were refused, so
    nothing else will succeed either until the operator acts."""

    reason: str
    stop: bool = False


Verdict = RetryAt | GiveUp
OUT_OF_ATTEMPTS = "out of attempts"


def exhausted(attempt: int, max_attempts: int) -> bool:
    """Whether ``attempt`` tries use up a budget of ``max_attempts``."""
    return attempt >= max_attempts


def schedule(attempt: int, max_attempts: int, wait_s: float, now: datetime) -> Verdict:
    """Retry after ``wait_s`` unless ``attempt`` tries used the budget up."""
    if exhausted(attempt, max_attempts):
        return GiveUp(OUT_OF_ATTEMPTS)
    return RetryAt(now + timedelta(seconds=max(0.0, wait_s)))


def server_wait_s(error: BaseException) -> float | None:
    """The wait the server asked for (``Retry-After``, ``x-sib-ratelimit-reset``), if any."""
    if isinstance(error, RetriableApiError):
        return error.retry_after_s
    return None


def is_permanent(error: BaseException, fatal: tuple[type[BaseException], ...] = ()) -> bool:
    """Whether retrying ``error`` cannot help."""
    return isinstance(error, PERMANENT + fatal)


def decide(
    attempt: int,
    error: BaseException,
    now: datetime,
    *,
    backoff: Backoff,
    max_attempts: int,
    fatal: tuple[type[BaseException], ...] = (),
    rng: random.Random | None = None,
) -> Verdict:
    """What to do after the ``attempt``-th try failed with ``error`` (module docstring)."""
    if isinstance(error, AuthError):
        return GiveUp(f"credentials refused: {error}", stop=True)
    if is_permanent(error, fatal):
        return GiveUp(f"{type(error).__name__}: {error}")
    wait_s = backoff.delay_s(max(attempt - 1, 0), rng)
    asked_s = server_wait_s(error)
    if asked_s is not None:
        wait_s = max(wait_s, asked_s)
    return schedule(attempt, max_attempts, wait_s, now)


def client_may_retry(method: str, error: BaseException, *, never_sent: bool) -> bool:
    """Whether an HTTP client may repeat a failed call itself, at once (module docstring).

    ``never_sent``: the request never left (connect error, connect or pool timeout).
    ``NotReady`` is the caller's to schedule: Zoom needs minutes, not a quick retry.
    """
    if not isinstance(error, RetriableApiError) or isinstance(error, NotReady):
        return False
    return isinstance(error, RateLimited) or never_sent or method.upper() in IDEMPOTENT_METHODS
