"""The one instrumentation hook of the API clients and the delivery loop.

The Zoom and Brevo clients report every HTTP exchange (each try, retries included) to an
``ApiObserver``; the deliverer reports every outbox command Brevo accepted to a
``DeliveryObserver``. ``server.metrics.Metrics`` is both (the ``/metrics`` counters);
``CallCounter`` counts calls for a command's summary. A leaf module: the clients depend on
it, it depends on nothing of the package.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

NO_RESPONSE = 0
"""``ApiCall.status`` of a request that got no HTTP answer (connection refused, timeout)."""


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One HTTP exchange with Zoom or Brevo, as the client saw it."""

    service: str
    """``"zoom"`` or ``"brevo"``."""
    category: str
    """Zoom's rate-limit category (``light``, ``heavy``...) or Brevo's family (``contacts``...)."""
    status: int
    """The HTTP status, or ``NO_RESPONSE``."""
    latency_s: float
    """From sending the request to its status line."""

    @property
    def rate_limited(self) -> bool:
        """Whether the API refused the call for its rate limit (HTTP 429)."""
        return self.status == 429


class ApiObserver(Protocol):
    """Told of every HTTP exchange a client makes."""

    def on_api_call(self, call: ApiCall) -> None:
        """Record ``call``; must not block or raise."""


class DeliveryObserver(Protocol):
    """Told of every outbox command Brevo accepted."""

    def on_delivered(self, kind: str, latency_s: float) -> None:
        """Record that a ``kind`` command reached Brevo ``latency_s`` after it was queued."""


class Observer(ApiObserver, DeliveryObserver, Protocol):
    """Both hooks (what a worker is given: its clients and its deliverer report to it)."""


class Ignore:
    """Observes nothing (the default of clients and deliverers)."""

    def on_api_call(self, call: ApiCall) -> None:
        """Nothing."""

    def on_delivered(self, kind: str, latency_s: float) -> None:
        """Nothing."""


IGNORE = Ignore()


@dataclass
class CallCounter:
    """Counts API calls by service; ``on_call(service, total)`` after each (a progress line)."""

    on_call: Callable[[str, int], None] | None = None
    calls: Counter[str] = field(default_factory=Counter)

    def on_api_call(self, call: ApiCall) -> None:
        """Count ``call``."""
        self.calls[call.service] += 1
        if self.on_call is not None:
            self.on_call(call.service, self.calls[call.service])
