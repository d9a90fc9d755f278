"""The one background worker: inbox handlers, delayed jobs and Brevo delivery, side by side.

``serve`` runs it in-process (unless ``--no-worker``) and ``worker`` runs it alone. Three
loops share one ``stop`` event and one event loop:

- the **inbox processor** turns stored webhooks into facts, commands and jobs
  (``handlers.dispatch``; database work, run in a thread so that the server's event loop
  keeps answering webhooks within Zoom's 3 s);
- the **job runner** runs due jobs (``handlers.jobs``: collect, reconcile, recording
  follow-ups);
- the **deliverer** sends the outbox to Brevo (``delivery.worker.Deliverer``);
- the **scheduler** runs the periodic chores, in one process per database
  (``scheduler.Scheduler``).

An idle loop waits ``poll_s`` or until the database announces new work
(``store.notify.Waker``: LISTEN/NOTIFY on PostgreSQL, plain polling on SQLite), or until
another loop of this worker did work (which may have queued some for it).

Each loop finishes its current step when ``stop`` is set. A database outage in one step is
logged and retried at the next poll; anything else ends the worker with its error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.engine import Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.config import Settings
from zoom_brevo.delivery.in_doubt import DEFAULT_IN_DOUBT, InDoubtPolicy
from zoom_brevo.delivery.lease import DEFAULT_LEASE_S
from zoom_brevo.errors import StoreError
from zoom_brevo.handlers.context import HandlerOptions, RecordingOptions
from zoom_brevo.handlers.dispatch import InboxProcessor
from zoom_brevo.handlers.jobs import JobDeps, JobRunner
from zoom_brevo.handlers.register_poll import register_poll_tick
from zoom_brevo.handlers.sweep import sweep_tick
from zoom_brevo.observe import IGNORE, DeliveryObserver, Observer
from zoom_brevo.pipeline.mapping import resolve_field_mapping
from zoom_brevo.registration.run import AutoRegistration
from zoom_brevo.registration.target import Target
from zoom_brevo.scheduler import DEFAULT_TICKS, Scheduler, Tick
from zoom_brevo.server.background import Worker
from zoom_brevo.store.notify import Waker, Wakeup
from zoom_brevo.zoom.client import ZoomClient

if TYPE_CHECKING:
    from zoom_brevo.delivery.worker import Deliverer

log = structlog.get_logger(__name__)
DEFAULT_POLL_S = 0.5

Step = Callable[[], Awaitable[bool]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def handler_options(settings: Settings) -> HandlerOptions:
    """The handlers' options from the configuration."""
    zoom = settings.connectors.zoom
    rec = settings.brevo.recordings
    sender = rec.sender
    mode = rec.mode if zoom.sync.recordings else "off"
    return HandlerOptions(
        lists=zoom.lists.ids(),
        field_mapping=resolve_field_mapping(settings.field_mapping.attributes()),
        exclude_domains=tuple(zoom.exclude_domains),
        collect_delay_s=zoom.collect.delay_s,
        reconcile_after_s=zoom.collect.reconcile_after_s,
        sweep_interval_s=zoom.collect.sweep_interval_s,
        sweep_days=zoom.collect.sweep_days,
        recordings=RecordingOptions(
            mode=mode,
            template_id=rec.template_id,
            sender_name=sender.name if sender else None,
            sender_email=str(sender.email) if sender else None,
        ),
        participants=zoom.sync.participants,
        webinars=zoom.sync.webinars,
        tiers=tuple(zoom.sync.attendance_tiers),
        replay_days=zoom.sync.replay_days,
        account_id=zoom.account_id,
        registration=AutoRegistration(
            targets=tuple(
                Target(r.zoom_id, r.list_id, r.occurrence_id, r.kind)
                for r in zoom.registration.from_lists
            ),
            poll_interval_s=zoom.registration.poll_interval_s,
            mapping=settings.field_mapping,
        ),
    )


def scheduler_ticks(options: HandlerOptions) -> list[Tick]:
    """The periodic chores: the built-in ones, the sweep unless it is off, and the list
    poll for registration when lists are configured and its interval is not 0."""
    ticks = list(DEFAULT_TICKS)
    if options.sweep_interval_s > 0:
        ticks.append(sweep_tick(options.sweep_interval_s))
    if options.registration.on:
        ticks.append(register_poll_tick(options.registration.poll_interval_s))
    return ticks


async def run_worker(
    engine: Engine,
    *,
    zoom: ZoomClient,
    brevo: BrevoClient,
    options: HandlerOptions,
    owner: str,
    stop: asyncio.Event,
    clock: Callable[[], datetime] = _utc_now,
    poll_s: float = DEFAULT_POLL_S,
    observer: DeliveryObserver = IGNORE,
    lease_s: float = DEFAULT_LEASE_S,
    in_doubt: InDoubtPolicy = DEFAULT_IN_DOUBT,
) -> None:
    """Process the inbox, run jobs and deliver the outbox until ``stop`` is set.

    ``observer`` is told of every command delivered (``zoom_brevo.observe``). Outbox
    batches and jobs are held under ``lease_s`` leases renewed while they run; every log
    line of the worker names its lease ``owner`` (``lease_owner``).
    """
    from zoom_brevo.delivery.worker import Deliverer  # noqa: PLC0415 (import cost)

    structlog.contextvars.bind_contextvars(lease_owner=owner)
    log.info("worker_leases", lease_owner=owner, lease_s=lease_s)
    processor = InboxProcessor(engine, options, clock)
    deps = JobDeps(engine, zoom, options, brevo)
    runner = JobRunner(deps, owner=owner, clock=clock, lease_s=lease_s)
    deliverer = Deliverer(
        engine, brevo, owner=owner, clock=clock, poll_interval_s=poll_s, lease_s=lease_s,
        in_doubt=in_doubt, observer=observer,
    )  # fmt: skip

    async def inbox_step() -> bool:
        outcome = await asyncio.to_thread(processor.process_batch)
        return outcome.handled > 0

    async with Waker.for_engine(engine) as waker, asyncio.TaskGroup() as group:
        inbox = _poll("inbox", inbox_step, stop, poll_s, waker.wakeup(), on_busy=waker.fire)
        jobs = _poll("jobs", runner.step, stop, poll_s, waker.wakeup(), on_busy=waker.fire)
        group.create_task(inbox)
        group.create_task(jobs)
        group.create_task(_deliver(deliverer, stop, poll_s, waker.wakeup()))
        group.create_task(Scheduler(engine, scheduler_ticks(options), clock=clock).run(stop))


async def _poll(
    name: str,
    step: Step,
    stop: asyncio.Event,
    poll_s: float,
    wakeup: Wakeup | None = None,
    *,
    on_busy: Callable[[], None] | None = None,
) -> None:
    """Call ``step`` while it finds work; between idle steps wait ``poll_s``, ``stop`` or
    ``wakeup`` (new work announced). ``on_busy`` is called after each step that did work:
    the worker wakes its other loops with it, since a handled webhook queues a job and a
    job queues commands, and SQLite announces nothing."""
    while not stop.is_set():
        try:
            busy = await step()
        except StoreError as exc:
            log.warning("worker_store_unavailable", loop=name, error=str(exc))
            busy = False
        if busy:
            if on_busy is not None:
                on_busy()
            continue
        if wakeup is not None:
            await wakeup.wait(poll_s, stop)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_s)


async def _deliver(
    deliverer: Deliverer, stop: asyncio.Event, poll_s: float, wakeup: Wakeup
) -> None:
    """``Deliverer.run`` until ``stop``, run again after a database outage ended it.

    A batch cut short by the outage stays leased; its rows are taken again when the lease
    expires (``Deliverer`` ``lease_s``).
    """
    while not stop.is_set():
        try:
            await deliverer.run(stop, wakeup)
        except StoreError as exc:
            log.warning("worker_store_unavailable", loop="delivery", error=str(exc))
            await wakeup.wait(poll_s, stop)


def background_worker(settings: Settings, engine: Engine, observer: Observer = IGNORE) -> Worker:
    """The worker ``serve`` and ``worker`` run, wired from ``settings``.

    ``observer`` (``serve``'s metrics) is told of every API call and delivery it makes.
    """
    from zoom_brevo.runtime import worker_owner  # noqa: PLC0415
    from zoom_brevo.wiring import brevo_client, shared_limiter, zoom_client  # noqa: PLC0415

    options = handler_options(settings)

    async def work(stop: asyncio.Event) -> None:
        limiter = shared_limiter(settings, engine)
        async with (
            zoom_client(settings, limiter, observer=observer) as zoom,
            brevo_client(settings, limiter, observer=observer) as brevo,
        ):
            await run_worker(
                engine,
                zoom=zoom,
                brevo=brevo,
                options=options,
                owner=worker_owner(),
                stop=stop,
                observer=observer,
                lease_s=settings.delivery.lease_s,
                in_doubt=settings.delivery.in_doubt,
            )

    return work
