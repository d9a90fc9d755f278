"""How a delivery worker holds what it claimed: its lease, and the heartbeat that renews it.

Leases are short (``delivery.lease_s``, 8 s by default) so that the work of a worker that
died (kill -9, a lost machine) is taken over within seconds. A worker that lives keeps its
work however long a batch takes (a rate limit to wait for, a slow import): while it runs,
a heartbeat renews the lease of every batch it holds every third of the lease. The
heartbeat is a thread of its own: a step that holds the event loop for seconds (a large
transaction on a loaded machine) must not let the lease lapse under a live worker, whose
batch another worker would then send a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.delivery.rows import Claimed, Settler
from zoom_brevo.errors import StoreError
from zoom_brevo.observe import IGNORE, DeliveryObserver

log = structlog.get_logger(__name__)
DEFAULT_LEASE_S = 8.0
RENEW_SHARE = 1 / 3  # of the lease, between two renewals


@dataclass(frozen=True, slots=True)
class Lease:
    """How this worker claims and settles rows, and the batches it holds now."""

    owner: str
    lease_s: float
    max_attempts: int
    policy: BackoffPolicy
    clock: Callable[[], datetime]
    observer: DeliveryObserver = IGNORE
    held: set[Settler] = field(default_factory=set, compare=False, hash=False)

    def settler(
        self, engine: Engine, claimed: Sequence[Claimed], report: DeliveryReport
    ) -> Settler:
        """A settler for rows claimed under this lease; held (renewed) until ``let_go``."""
        made = Settler(
            engine,
            claimed,
            owner=self.owner,
            lease_s=self.lease_s,
            max_attempts=self.max_attempts,
            policy=self.policy,
            clock=self.clock,
            report=report,
            observer=self.observer,
        )
        self.held.add(made)
        return made

    def let_go(self, settler: Settler) -> None:
        """Stop renewing ``settler``'s rows (they are settled, or given back)."""
        self.held.discard(settler)

    def renew_all(self) -> None:
        """Renew every batch held (one heartbeat)."""
        for settler in list(self.held):
            try:
                kept = settler.renew()
            except StoreError as exc:  # the work goes on; the lease may lapse meanwhile
                log.warning("delivery_lease_not_renewed", lease_owner=self.owner, error=str(exc))
                continue
            if kept == 0:
                self.held.discard(settler)


def hand_back(settler: Settler, owner: str) -> None:
    """Give back every row ``settler`` still holds, untried (the worker is stopping).

    Another worker takes them at once instead of when the lease expires.
    """
    try:
        settler.release_all()
    except StoreError as exc:  # the lease expires instead
        log.warning("delivery_not_handed_back", lease_owner=owner, error=str(exc))
        return
    log.info("delivery_handed_back", rows=len(settler.ids), lease_owner=owner)


@contextlib.asynccontextmanager
async def heartbeat(lease: Lease) -> AsyncIterator[None]:
    """Renew ``lease``'s batches every third of the lease, from a thread, while the body
    runs."""
    stop = threading.Event()
    beating = threading.Thread(
        target=_beat, args=(lease, stop), name=f"lease-heartbeat-{lease.owner}", daemon=True
    )
    beating.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(beating.join)


def _beat(lease: Lease, stop: threading.Event) -> None:
    while not stop.wait(lease.lease_s * RENEW_SHARE):
        try:
            lease.renew_all()
        except Exception as exc:  # noqa: BLE001 (the heartbeat must outlive one bad beat)
            log.warning("delivery_lease_not_renewed", lease_owner=lease.owner, error=str(exc))
