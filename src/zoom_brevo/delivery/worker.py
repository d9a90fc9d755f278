"""The outbox delivery worker: claim a batch with a lease, coalesce, send, settle; repeat.

``drain`` delivers until nothing is left to do (waiting for scheduled retries up to a
deadline), for ``sync`` and the demo; ``run`` polls until stopped, for ``worker`` and
``serve``. Several workers may share one database: claims are leased and disjoint.
Refused credentials (``AuthError``) stop both at once, with the batch given back untried.

``drain(contacts_first=True)`` (the ``sync`` command) works in three phases: every due
contact first, streamed into few large imports (``bulk``); then the imports it started are
followed until Brevo has applied them; then everything else (events, e-mails) as usual. So
events never wait in a claimed batch for an import, and the process reads are rounds for
all imports at once instead of one per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.delivery.bulk import BulkContacts
from zoom_brevo.delivery.campaigns import CampaignSender
from zoom_brevo.delivery.contacts import ContactSender
from zoom_brevo.delivery.decisions import CheckSchedule, import_threshold_for
from zoom_brevo.delivery.effects import EffectSender
from zoom_brevo.delivery.imports import ImportTracker, pending_imports
from zoom_brevo.delivery.in_doubt import DEFAULT_IN_DOUBT, InDoubtPolicy
from zoom_brevo.delivery.lease import DEFAULT_LEASE_S, Lease, hand_back, heartbeat
from zoom_brevo.delivery.plan import plan_batch
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.delivery.rows import SendDeps, Settler
from zoom_brevo.observe import IGNORE, DeliveryObserver
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.notify import Wakeup

__all__ = ["Deliverer", "DeliveryReport"]

log = structlog.get_logger(__name__)
DEFAULT_RETRY_POLICY = BackoffPolicy(base_s=5.0, cap_s=900.0)
# When the earliest due row cannot be claimed yet (it waits behind an older one for the
# same contact), look again after this long instead of spinning.
IDLE_S = 0.5


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Deliverer:
    """Delivers outbox commands to Brevo.

    ``observer`` is told of every command Brevo accepted, with how long it waited.
    """

    def __init__(
        self,
        engine: Engine,
        brevo: BrevoClient,
        *,
        owner: str,
        import_threshold: int | None = None,
        batch_size: int = 1000,
        lease_s: float = DEFAULT_LEASE_S,
        max_attempts: int = outbox.DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_policy: BackoffPolicy = DEFAULT_RETRY_POLICY,
        import_checks: CheckSchedule | None = None,
        poll_interval_s: float = 1.0,
        observer: DeliveryObserver = IGNORE,
        in_doubt: InDoubtPolicy = DEFAULT_IN_DOUBT,
    ) -> None:
        self._engine = engine
        self._brevo = brevo
        # Default: from the plan's contacts rate (``decisions.import_threshold_for``).
        self._import_threshold = import_threshold or import_threshold_for(brevo.plan)
        self._batch_size = batch_size
        self._clock = clock
        self._sleep = sleep
        self._poll_interval_s = poll_interval_s
        self._in_doubt = in_doubt
        self._imports = ImportTracker(
            engine, brevo, clock=clock,
            schedule=import_checks or CheckSchedule.for_plan(brevo.plan),
        )  # fmt: skip
        # The lease holds this worker's owner name, lease length and clock for every claim.
        self._held = Lease(owner, lease_s, max_attempts, retry_policy, clock, observer)

    async def drain(
        self,
        deadline_s: float = 300.0,
        *,
        wait_for_imports: bool = False,
        contacts_first: bool = False,
    ) -> DeliveryReport:
        """Deliver until the outbox has nothing left to do, or ``deadline_s`` has passed.

        Scheduled retries are waited for when due before the deadline. With
        ``wait_for_imports`` the imports started are also followed to their end (their
        rejected rows stored) before returning. With ``contacts_first`` every due contact
        is delivered first, as large imports, and those imports are followed to their end
        (up to the deadline) before anything else is claimed.
        """
        async with heartbeat(self._held):
            return await self._drain(deadline_s, wait_for_imports, contacts_first)

    async def _drain(
        self, deadline_s: float, wait_for_imports: bool, contacts_first: bool
    ) -> DeliveryReport:
        report = DeliveryReport()
        end = self._clock() + timedelta(seconds=deadline_s)
        if contacts_first:
            await self._bulk(report).run()
            await self._await_imports(report, end)
        while True:
            delivered = await self.step(report)
            await self._imports.check_due(report)
            if delivered:
                continue
            wake = self._next_wake(wait_for_imports)
            now = self._clock()
            if wake is None or wake > end:
                break
            wait_s = (wake - now).total_seconds()
            await self._sleep(wait_s if wait_s > 0 else IDLE_S)
        self._finish(report)
        return report

    async def run(self, stop: asyncio.Event, wakeup: Wakeup | None = None) -> DeliveryReport:
        """Deliver until ``stop`` is set, polling every ``poll_interval_s`` when idle.

        With ``wakeup`` (``store.notify``), an idle wait also ends when work is announced.
        """
        async with heartbeat(self._held):
            return await self._run(stop, wakeup)

    async def _run(self, stop: asyncio.Event, wakeup: Wakeup | None) -> DeliveryReport:
        report = DeliveryReport()
        while not stop.is_set():
            # Imports first: events held for an import read now go in this same step.
            await self._imports.check_due(report)
            if await self.step(report):
                continue
            idle_s = self._idle_s()
            if wakeup is not None:
                await wakeup.wait(idle_s, stop)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle_s)
        self._finish(report)
        return report

    async def step(self, report: DeliveryReport) -> bool:
        """Claim and deliver one batch; ``False`` when nothing was due."""
        held = self._held
        with transaction(self._engine) as conn:
            claimed = outbox.claim_batch(
                conn,
                limit=self._batch_size,
                owner=held.owner,
                lease_s=held.lease_s,
                now=held.clock(),
            )
        if not claimed:
            return False
        report.batches += 1
        settler = self._held.settler(self._engine, claimed, report)
        try:
            await self._deliver(claimed, settler, report)
        except asyncio.CancelledError:
            hand_back(settler, self._held.owner)
            raise
        finally:
            self._held.let_go(settler)
        log.info(
            "delivery_batch",
            rows=len(claimed),
            calls=report.brevo_calls,
            lease_owner=self._held.owner,
        )
        return True

    async def _deliver(
        self, claimed: Sequence[outbox.Command], settler: Settler, report: DeliveryReport
    ) -> None:
        plan = plan_batch(outbox.coalesce(claimed), import_threshold=self._import_threshold)
        for bad in plan.malformed:
            settler.bury(list(bad.ids), bad.reason)
        deps = SendDeps(self._engine, self._brevo, settler, report, self._held.owner, self._clock)
        await ContactSender(deps, self._imports).send(plan)
        effects = EffectSender(
            deps, wait_for_import=self._imports.wait_until, in_doubt=self._in_doubt
        )
        await effects.send(plan.effects)
        await CampaignSender(deps).send(plan.campaigns)

    def _idle_s(self) -> float:
        """How long an idle ``run`` waits: the poll interval, or less when an import this
        worker started is read sooner (its contacts' events wait for that read)."""
        if not self._imports.waiting:
            return self._poll_interval_s
        check = self._imports.next_check_at()
        if check is None:
            return self._poll_interval_s
        until_s = (check - self._clock()).total_seconds()
        return min(self._poll_interval_s, max(until_s, 0.0))

    def _bulk(self, report: DeliveryReport) -> BulkContacts:
        return BulkContacts(
            self._engine,
            self._brevo,
            self._imports,
            report,
            lease=self._held,
            page_size=self._batch_size,
            import_threshold=self._import_threshold,
        )

    async def _await_imports(self, report: DeliveryReport, end: datetime) -> None:
        """Read this worker's pending imports when due until none is left or ``end``."""
        while self._imports.waiting:
            wake = self._imports.next_check_at()
            if wake is None or wake > end:
                return
            wait_s = (wake - self._clock()).total_seconds()
            if wait_s > 0:
                await self._sleep(wait_s)
            await self._imports.check_due(report)

    def _next_wake(self, wait_for_imports: bool) -> datetime | None:
        with reading(self._engine) as conn:
            due = outbox.next_due(conn)
        if not wait_for_imports:
            return due
        check = self._imports.next_check_at()
        return min((t for t in (due, check) if t is not None), default=None)

    def _finish(self, report: DeliveryReport) -> None:
        with reading(self._engine) as conn:
            counts = outbox.counts(conn)
            report.pending_imports = len(pending_imports(conn))
        report.outstanding = counts["queued"] + counts["running"]
