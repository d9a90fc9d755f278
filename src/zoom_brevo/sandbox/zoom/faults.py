"""Scriptable misbehaviour (fail the next calls, expire tokens) and request records."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from zoom_brevo.sandbox.zoom.errors import ZoomError
from zoom_brevo.sandbox.zoom.ratelimits import PER_SECOND_MESSAGE

_BODIES = {
    429: (429, PER_SECOND_MESSAGE),
    500: (500, "Internal server error."),
    502: (502, "Bad gateway."),
    503: (503, "Service temporarily unavailable."),
    504: (504, "Gateway timeout."),
}


@dataclass
class _Planned:
    remaining: int
    status: int
    path_contains: str | None
    retry_after: str | None


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the emulator answered."""

    method: str
    raw_path: str
    ids: dict[str, str]
    query: dict[str, str]
    status: int


@dataclass
class Stats:
    """What the emulator saw: token requests and every request with its answer."""

    token_requests: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)

    def api_calls(self, path_contains: str = "") -> list[RecordedRequest]:
        """Recorded ``/v2`` calls whose raw path contains ``path_contains``."""
        return [r for r in self.requests if "/v2/" in r.raw_path and path_contains in r.raw_path]


class Faults:
    """Failures scripted by tests; consulted by the app before it answers."""

    def __init__(
        self, expire_all_tokens: Callable[[], None], clock: Callable[[], float] = time.time
    ) -> None:
        self._planned: list[_Planned] = []
        self._token_down = 0
        self._token_down_until = (0.0, 503)
        self._expire_all_tokens = expire_all_tokens
        self._clock = clock

    def fail_next(
        self,
        n: int,
        *,
        status: int = 503,
        path_contains: str | None = None,
        retry_after: float | str | None = None,
    ) -> None:
        """The next ``n`` API calls (whose path contains ``path_contains``) answer ``status``."""
        if status not in _BODIES:
            raise ValueError(f"status must be one of {sorted(_BODIES)}")
        after = None if retry_after is None else str(retry_after)
        self._planned.append(_Planned(n, status, path_contains, after))

    def expire_tokens(self) -> None:
        """Every access token issued so far now answers 401 code 124."""
        self._expire_all_tokens()

    def token_endpoint_down(self, n: int) -> None:
        """The next ``n`` token requests answer 503."""
        self._token_down += n

    def token_endpoint_down_until(self, until_s: float, *, status: int = 503) -> None:
        """Every token request answers ``status`` (500 or 503) until ``until_s`` (clock time)."""
        if status not in (500, 503):
            raise ValueError("the token endpoint fails with 500 or 503")
        self._token_down_until = (until_s, status)

    def take_token_failure(self) -> int | None:
        """The status a token request fails with now, if any (using up a counted failure)."""
        until_s, status = self._token_down_until
        if self._clock() < until_s:
            return status
        if self._token_down <= 0:
            return None
        self._token_down -= 1
        return 503

    def check(self, path: str) -> None:
        """Raise the planned failure for this API call, if any."""
        for plan in self._planned:
            if plan.remaining > 0 and (plan.path_contains is None or plan.path_contains in path):
                plan.remaining -= 1
                code, message = _BODIES[plan.status]
                headers = {"Retry-After": plan.retry_after} if plan.retry_after else {}
                if plan.status == 429:
                    headers |= {"X-RateLimit-Type": "QPS"}
                raise ZoomError(plan.status, code, message, headers)
        self._planned = [p for p in self._planned if p.remaining > 0]
