"""Emulated rate limits (fixed windows per endpoint family) and scriptable faults.

Kept independent of the client's own family table so a mistake there shows up here.
Reference brevo.md section 5.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

# family -> (per second, per hour) for each plan
PLAN_WINDOWS: dict[str, dict[str, tuple[int | None, int | None]]] = {
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


def family(method: str, path: str) -> str:
    """Family of ``path`` (relative to /v3, e.g. ``/contacts/import``)."""
    head = path.strip("/").split("/", 1)[0]
    if head in ("contacts", "events"):
        return head
    if path.startswith("/smtp/"):
        # brevo.md 5: POST /smtp/email and GET /smtp/blockedContacts share one budget.
        sending = path == "/smtp/email" and method == "POST"
        blocked_list = path.startswith("/smtp/blockedContacts") and method == "GET"
        return "smtp_email" if sending or blocked_list else "smtp"
    return "other"


@dataclass
class Window:
    """A fixed window of ``limit`` calls per ``length_s`` seconds."""

    limit: int
    length_s: float
    start_s: float = 0.0
    used: int = 0

    def roll(self, now_s: float) -> None:
        """Start a new window when the current one is over."""
        if now_s >= self.start_s + self.length_s:
            self.start_s, self.used = now_s, 0

    def reset_s(self, now_s: float) -> int:
        """Whole seconds until this window resets (what x-sib-ratelimit-reset carries)."""
        return max(1, math.ceil(self.start_s + self.length_s - now_s))


@dataclass(frozen=True)
class Verdict:
    """Whether a call may proceed, and the x-sib-ratelimit-* headers to send."""

    allowed: bool
    headers: dict[str, str]


class RateLimits:
    """Per-family windows for one plan."""

    def __init__(self, plan: str) -> None:
        if plan not in PLAN_WINDOWS:
            raise ValueError(f"unknown Brevo plan {plan!r}")
        self._windows: dict[str, list[Window]] = {}
        for name, (per_s, per_h) in PLAN_WINDOWS[plan].items():
            windows = [Window(per_s, 1.0)] if per_s else []
            windows += [Window(per_h, 3600.0)] if per_h else []
            self._windows[name] = windows

    def check(self, family_name: str, now_s: float) -> Verdict:
        """Count one call of ``family_name`` unless a window is exhausted."""
        windows = self._windows[family_name]
        for window in windows:
            window.roll(now_s)
        full = [w for w in windows if w.used >= w.limit]
        if full:
            blocking = max(full, key=lambda w: w.reset_s(now_s))
            return Verdict(allowed=False, headers=_headers(blocking, now_s))
        for window in windows:
            window.used += 1
        tightest = min(windows, key=lambda w: (w.limit - w.used) / w.limit)
        return Verdict(allowed=True, headers=_headers(tightest, now_s))


def _headers(window: Window, now_s: float) -> dict[str, str]:
    return {
        "x-sib-ratelimit-limit": str(window.limit),
        "x-sib-ratelimit-remaining": str(max(0, window.limit - window.used)),
        "x-sib-ratelimit-reset": str(window.reset_s(now_s)),
    }


@dataclass
class FaultRule:
    """Fail the next ``remaining`` matching calls with ``status``."""

    remaining: int
    status: int
    path_contains: str | None
    retry_after: float | None


@dataclass(frozen=True)
class FaultWindow:
    """Fail every matching call from ``start_s`` until ``end_s`` (the emulator's clock).

    A 429 without ``retry_after`` carries the seconds left in the window as its reset.
    """

    start_s: float
    end_s: float
    status: int
    path_contains: str | None
    retry_after: float | None

    def covers(self, path: str, now_s: float) -> bool:
        """Whether this window fails a call of ``path`` at ``now_s``."""
        matches = self.path_contains is None or self.path_contains in path
        return matches and self.start_s <= now_s < self.end_s


Fault = FaultRule | FaultWindow


class Faults:
    """Scripted failures, counted or timed.

    ``fail_next(2, status=429, path_contains="/events", retry_after=1)`` fails the next two
    calls; ``fail_during(t0, t0 + 60, status=503)`` fails every call for a minute (an
    outage); ``rate_limit_storm(t0, bursts=5, burst_s=4, calm_s=3)`` answers 429 in bursts.
    A timed window answers before the rate limits count the call (a server that is down
    spends no quota); a counted rule after.
    """

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._windows: list[FaultWindow] = []

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        path_contains: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next ``n`` API calls (whose path contains ``path_contains``) fail."""
        self._rules.append(FaultRule(n, status, path_contains, retry_after))

    def fail_during(
        self,
        start_s: float,
        end_s: float,
        status: int = 503,
        path_contains: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Every API call (whose path contains ``path_contains``) in ``[start_s, end_s)`` fails."""
        if end_s <= start_s:
            raise ValueError("a fault window must end after it starts")
        self._windows.append(FaultWindow(start_s, end_s, status, path_contains, retry_after))

    def rate_limit_storm(
        self,
        start_s: float,
        *,
        bursts: int,
        burst_s: float,
        calm_s: float,
        reset_s: float | None = 1.0,
        path_contains: str | None = None,
    ) -> float:
        """``bursts`` bursts of 429 (``x-sib-ratelimit-reset: reset_s``), each ``burst_s``
        long and followed by ``calm_s`` without faults; returns when the last burst ends."""
        at = start_s
        for _ in range(bursts):
            self.fail_during(at, at + burst_s, 429, path_contains, reset_s)
            at += burst_s + calm_s
        return at - calm_s

    def clear(self) -> None:
        """Forget every scripted failure."""
        self._rules.clear()
        self._windows.clear()

    def take(self, path: str) -> FaultRule | None:
        """The counted rule that fails this call, if any (consuming one of its uses)."""
        for rule in self._rules:
            if rule.path_contains is None or rule.path_contains in path:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    def during(self, path: str, now_s: float) -> FaultWindow | None:
        """The timed window that fails a call of ``path`` at ``now_s``, if any."""
        return next((w for w in self._windows if w.covers(path, now_s)), None)


@dataclass
class RecordedRequest:
    """One API call the emulator answered."""

    method: str
    path: str
    family: str
    status: int
    bytes_in: int = 0


@dataclass
class Stats:
    """Counters: ``requests[family]`` calls per family, ``log`` every call in order."""

    requests: Counter[str] = field(default_factory=Counter)
    log: list[RecordedRequest] = field(default_factory=list)

    def record(
        self, method: str, path: str, family_name: str, status: int, bytes_in: int = 0
    ) -> None:
        """Count one answered call (``bytes_in``: size of its request body)."""
        self.requests[family_name] += 1
        self.log.append(RecordedRequest(method, path, family_name, status, bytes_in))
