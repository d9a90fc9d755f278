"""Delayed work queued by the handlers, and the runner that claims and settles it.

Kinds:

- ``collect`` (payload ``uuid``, ``kind``, ``meeting_id``): ``usecases.collect``, as
  ``zoom-brevo sync meeting|webinar UUID`` with events on (``zoom_attended`` /
  ``zoom_absent``); the final report replaces the provisional sessions. Zoom's data is
  late right after the end (reference zoom.md 2.4): ``NotReady`` (zero durations, or 3001
  "no such meeting" for an instance a webhook said had ended) is retried with growing
  delays. Once collected, a ``reconcile`` job is queued ``reconcile_after_s`` later (when
  > 0) that collects again to catch late data; every event is ledgered, none repeats.
- ``reconcile``: as ``collect``, and marks the instance ``reconciled``.
- ``recording``: the recording follow-up (``handlers.recordings``); waits for ``collect``.
  It only queues outbox commands (in ``campaign`` mode one step at a time), never calls
  Brevo itself: every Brevo write goes through the outbox.
- ``replay``: who watched the recording later (``handlers.replays``); reads Zoom's
  recording analytics, queues ``zoom_replay_watched`` once per person, then looks again
  the next day while within ``replay_days``.
- ``pair_leave``: a leave that came before its join (``handlers.participants``).
- ``sweep``: queues ``collect`` for ended instances no webhook announced (``handlers.sweep``).
- ``register_poll``: registers the members who entered the configured Brevo lists into their
  webinars (``handlers.register_poll``); the one job that calls Brevo itself, as
  ``zoom-brevo register`` does (its writes are per person and idempotent).

Jobs that only touch the database run in the transaction that completes them, so their
commands are queued exactly once. Jobs that call Zoom or Brevo settle afterwards; they are
written so that running them twice does no harm. While one of those runs, its lease is
renewed every third of ``DEFAULT_LEASE_S``: a long collect keeps its job, and the job of a
worker that died (kill -9) is free for another within one lease rather than much later.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo import retrying
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.errors import NotFound, NotReady, StoreConflict, StoreError
from zoom_brevo.handlers import recordings, replays
from zoom_brevo.handlers.context import Context, GiveUp, HandlerOptions, enqueue, new_events
from zoom_brevo.handlers.lifecycle import COLLECT_JOB
from zoom_brevo.handlers.participants import (
    PAIR_LEAVE_FIRST_DELAY_S,
    PAIR_LEAVE_JOB,
    drop_kept_leaves,
    pair_leave,
)
from zoom_brevo.handlers.recordings import RECORDING_JOB
from zoom_brevo.handlers.register_poll import register_poll
from zoom_brevo.handlers.sweep import SWEEP_JOB, sweep
from zoom_brevo.registration.trigger import REGISTER_POLL_JOB, another_poll_running
from zoom_brevo.store import facts, jobs
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.usecases.collect import Kind
from zoom_brevo.usecases.collect import collect as collect_instance
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.errors import NoSuchMeeting

log = structlog.get_logger(__name__)
RECONCILE_JOB = "reconcile"
KINDS = (
    COLLECT_JOB, RECONCILE_JOB, RECORDING_JOB, PAIR_LEAVE_JOB, SWEEP_JOB, replays.REPLAY_JOB,
    REGISTER_POLL_JOB,
)  # fmt: skip
DEFAULT_LEASE_S = 60.0
RENEW_SHARE = 1 / 3  # of the lease, between two renewals while a job runs
ERROR_POLICY = BackoffPolicy(base_s=30.0, cap_s=3600.0)
# A transaction that lost to another (a deadlock): the other one has ended by now.
CONFLICT_POLICY = BackoffPolicy(base_s=1.0, cap_s=60.0)
POLL_WAIT_S = 2.0  # a poll queued behind a running one looks again this soon


def not_ready_policy(collect_delay_s: float) -> BackoffPolicy:
    """Retry timing while Zoom processes attendance: from ~``delay_s`` (>= 5 s) up to 1 h."""
    return BackoffPolicy(base_s=max(5.0, min(collect_delay_s, 600.0)), cap_s=3600.0)


def wait_policy(collect_delay_s: float) -> BackoffPolicy:
    """How often a follow-up looks again whether the attendance is collected."""
    return BackoffPolicy(base_s=max(2.0, min(collect_delay_s / 4, 300.0)), cap_s=600.0)


@dataclass(frozen=True, slots=True)
class Done:
    """The job finished."""


@dataclass(frozen=True, slots=True)
class RetryIn:
    """Run the job again after ``delay_s`` (``reason`` is stored as its last error);
    ``refund``: the job did not try its work, so the attempt does not count."""

    delay_s: float
    reason: str
    refund: bool = False


Result = Done | RetryIn


@dataclass(frozen=True, slots=True)
class JobDeps:
    """What jobs may use: the store, Zoom and the options. Brevo is the outbox's, but for
    ``register_poll``, which reads lists and writes join links back (``brevo``)."""

    engine: Engine
    zoom: ZoomClient
    options: HandlerOptions
    brevo: BrevoClient | None = None


def _payload_uuid(job: jobs.Job) -> str:
    uuid = job.payload.get("uuid")
    if not isinstance(uuid, str) or not uuid:
        raise GiveUp(f"{job.kind} job without a meeting uuid")
    return uuid


# --- collect / reconcile ------------------------------------------------------------------


async def collect(deps: JobDeps, job: jobs.Job, now: datetime) -> Result:
    """Collect the instance's final attendance and queue its commands (``sync``)."""
    uuid = _payload_uuid(job)
    kind: Kind = "webinar" if job.payload.get("kind") == "webinar" else "meeting"
    try:
        await collect_instance(
            deps.zoom, deps.engine, kind, uuid, deps.options.sync_options(), now=now
        )
    except NoSuchMeeting as exc:
        # The ended event proves the instance exists: 3001 here means "not processed yet".
        raise NotReady(str(exc), service="zoom", status=exc.status, code=exc.code) from exc
    with transaction(deps.engine) as conn:
        # What waited for this attendance goes now, not at its next look (up to minutes).
        drop_kept_leaves(conn, uuid, now=now)
        jobs.wake(conn, f"{RECORDING_JOB}:{uuid}", now=now)
        if job.kind == RECONCILE_JOB:
            facts.set_collected(conn, uuid, "reconciled", now=now)
        elif deps.options.reconcile_after_s > 0:
            jobs.enqueue(
                conn,
                RECONCILE_JOB,
                dict(job.payload),
                now=now,
                run_at=now + timedelta(seconds=deps.options.reconcile_after_s),
                unique_key=f"{RECONCILE_JOB}:{uuid}",
            )
    return Done()


async def sweep_job(deps: JobDeps, _job: jobs.Job, now: datetime) -> Result:
    """Queue the collection of recently ended instances that no webhook announced."""
    await sweep(deps.zoom, deps.engine, deps.options, now)
    return Done()


async def register_poll_job(deps: JobDeps, job: jobs.Job, now: datetime) -> Result:
    """Register the members who entered the configured lists (``handlers.register_poll``).

    Waits (its attempt refunded) while another worker's poll runs: two polls at once
    would register the same people (Brevo's webhook queues one behind a running one).
    """
    if deps.brevo is None:
        raise GiveUp("register_poll needs a Brevo client; this worker has none")
    with reading(deps.engine) as conn:
        if another_poll_running(conn, job.id, now=now):
            return RetryIn(POLL_WAIT_S, "waiting for the register_poll running", refund=True)
    await register_poll(deps.zoom, deps.brevo, deps.engine, deps.options, now)
    return Done()


# --- recording follow-up ------------------------------------------------------------------


def recording_followup(ctx: Context, job: jobs.Job) -> Result:
    """Queue the follow-up (every mode: ``handlers.recordings``) in the job's transaction."""
    uuid = _payload_uuid(job)
    delay_s = wait_policy(ctx.options.collect_delay_s).delay_s(job.attempts - 1)
    try:
        if ctx.options.recordings.mode == "campaign":
            waiting_for = recordings.queue_campaign(ctx, uuid)
            return Done() if waiting_for is None else RetryIn(delay_s, waiting_for)
        recordings.queue_followup(ctx, uuid)
    except recordings.Waiting:
        return RetryIn(delay_s, "waiting for the final attendance")
    return Done()


# --- replay: who watched the recording later --------------------------------------------


async def replay(deps: JobDeps, job: jobs.Job, now: datetime) -> Result:
    """Queue ``zoom_replay_watched`` for the recording's viewers; look again tomorrow."""
    uuid = _payload_uuid(job)
    day = job.payload.get("day", 0)
    with transaction(deps.engine) as conn:
        instance = facts.get_instance(conn, uuid)
        recording = facts.get_recording(conn, uuid)
    if instance is None:
        return Done()
    start, end = replays.view_range(recording.completed_at if recording else None, now)
    try:
        views = [v async for v in deps.zoom.recording_views(uuid, from_=start, to=end)]
    except NotFound:  # 3301: no recording (deleted, or not listed yet): no viewers today
        views = []
    events = replays.watched_events(instance, recording, views, deps.options)
    with transaction(deps.engine) as conn:
        fresh = new_events(conn, events)
        enqueue(conn, [*replays.watched_contacts(fresh, deps.options), *fresh], now=now)
        if isinstance(day, int):
            replays.schedule_replay(conn, uuid, day + 1, days=deps.options.replay_days, now=now)
    return Done()


# --- pair_leave ---------------------------------------------------------------------------


def pair_leave_job(ctx: Context, job: jobs.Job) -> Result:
    """Close a kept leave's session, or look again later; the last try gives up quietly."""
    if pair_leave(ctx, job.payload) or retrying.exhausted(job.attempts, job.max_attempts):
        return Done()
    delay_s = PAIR_LEAVE_FIRST_DELAY_S * 2 ** (job.attempts - 1)
    return RetryIn(delay_s, "the matching join has not arrived yet")


# --- the runner ---------------------------------------------------------------------------

AsyncJob = Callable[[JobDeps, jobs.Job, datetime], Awaitable[Result]]
DbJob = Callable[[Context, jobs.Job], Result]


class JobRunner:
    """Claims due jobs one at a time, runs them and settles them (complete, retry, bury)."""

    def __init__(
        self, deps: JobDeps, *, owner: str, clock: Callable[[], datetime],
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:  # fmt: skip
        self._deps = deps
        self._owner = owner
        self._clock = clock
        self._lease_s = lease_s
        # Settlements the database could not take (it was down); they are made first at the
        # next step, while the lease still holds the job, instead of leaving it to expire.
        self._unsettled: list[Callable[[], None]] = []

    async def step(self) -> bool:
        """Run one due job; ``False`` when none was due.

        Raises ``StoreError`` while the database is down (the caller waits and steps again).
        """
        self._settle_late()
        now = self._clock()
        with transaction(self._deps.engine) as conn:
            claimed = jobs.claim(conn, owner=self._owner, lease_s=self._lease_s, now=now,
                                 kinds=KINDS)  # fmt: skip
        if not claimed:
            return False
        await self.run(claimed[0])
        return True

    async def run(self, job: jobs.Job) -> None:
        """Run ``job`` (already claimed by this runner) and settle it."""
        db_job = self._db_job(job)
        try:
            if db_job is not None:
                self._run_in_transaction(job, db_job)
                return
            async with self._lease_renewed(job):
                result = await self._async_job(job)(self._deps, job, self._clock())
        except asyncio.CancelledError:
            self._hand_back(job)
            raise
        except Exception as exc:  # noqa: BLE001 (settled: retried or buried, never lost)
            self._settle_or_keep(functools.partial(self._settle_error, job, exc))
            return
        self._settle_or_keep(functools.partial(self._settle, job, result))

    def _hand_back(self, job: jobs.Job) -> None:
        """Give ``job`` back (the worker is stopping): another worker runs it at once."""
        try:
            with transaction(self._deps.engine) as conn:
                jobs.release(conn, job.id, owner=self._owner, now=self._clock())
        except StoreError as exc:  # its lease expires instead
            log.warning("job_not_handed_back", job_id=job.id, error=str(exc))
            return
        log.info("job_handed_back", kind=job.kind, job_id=job.id, lease_owner=self._owner)

    @contextlib.asynccontextmanager
    async def _lease_renewed(self, job: jobs.Job) -> AsyncIterator[None]:
        """Keep ``job``'s lease alive while the body runs."""
        renewer = asyncio.create_task(self._renew(job))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _renew(self, job: jobs.Job) -> None:
        while True:
            await asyncio.sleep(self._lease_s * RENEW_SHARE)
            try:
                with transaction(self._deps.engine) as conn:
                    kept = jobs.extend_lease(
                        conn, job.id, owner=self._owner, lease_s=self._lease_s, now=self._clock()
                    )
            except StoreError as exc:  # the job goes on; its lease may lapse meanwhile
                log.warning("job_lease_not_renewed", job_id=job.id, error=str(exc))
                continue
            if not kept:  # taken over: the job finishes here, its settlement is ignored
                log.warning("job_lease_lost", kind=job.kind, job_id=job.id)
                return

    def _settle_or_keep(self, settle: Callable[[], None]) -> None:
        """Settle now; if the database is down, keep the settlement for later and raise."""
        try:
            settle()
        except StoreError:
            self._unsettled.append(settle)
            raise

    def _settle_late(self) -> None:
        while self._unsettled:
            self._unsettled[0]()  # StoreError: still down, kept
            self._unsettled.pop(0)

    def _db_job(self, job: jobs.Job) -> DbJob | None:
        if job.kind == PAIR_LEAVE_JOB:
            return pair_leave_job
        if job.kind == RECORDING_JOB:
            return recording_followup
        return None

    def _async_job(self, job: jobs.Job) -> AsyncJob:
        if job.kind in (COLLECT_JOB, RECONCILE_JOB):
            return collect
        if job.kind == SWEEP_JOB:
            return sweep_job
        if job.kind == replays.REPLAY_JOB:
            return replay
        if job.kind == REGISTER_POLL_JOB:
            return register_poll_job
        raise GiveUp(f"unknown job kind {job.kind!r}")

    def _run_in_transaction(self, job: jobs.Job, db_job: DbJob) -> None:
        now = self._clock()
        with transaction(self._deps.engine) as conn:
            result = db_job(Context(conn, self._deps.options, now), job)
            self._settle_on(conn, job, result, now)

    def _settle(self, job: jobs.Job, result: Result) -> None:
        now = self._clock()
        with transaction(self._deps.engine) as conn:
            self._settle_on(conn, job, result, now)

    def _settle_on(self, conn: Connection, job: jobs.Job, result: Result, now: datetime) -> None:
        if isinstance(result, Done):
            jobs.complete(conn, job.id, owner=self._owner, now=now)
            log.info("job_done", kind=job.kind, job_id=job.id, attempts=job.attempts)
            return
        if result.refund:
            at = now + timedelta(seconds=result.delay_s)
            jobs.release(conn, job.id, owner=self._owner, now=now, at=at)
            return
        verdict = retrying.schedule(job.attempts, job.max_attempts, result.delay_s, now)
        self._settle_verdict(conn, job, verdict, result.reason, now=now)

    def _settle_error(self, job: jobs.Job, exc: Exception) -> None:
        now = self._clock()
        with transaction(self._deps.engine) as conn:
            verdict = retrying.decide(
                job.attempts, exc, now, backoff=self._backoff_for(exc),
                max_attempts=job.max_attempts, fatal=(GiveUp,),
            )  # fmt: skip
            message = f"{type(exc).__name__}: {exc}"
            self._settle_verdict(conn, job, verdict, message, now=now,
                                 error_type=type(exc).__name__)  # fmt: skip

    def _settle_verdict(
        self, conn: Connection, job: jobs.Job, verdict: retrying.Verdict, error: str, *,
        now: datetime, error_type: str | None = None,
    ) -> None:  # fmt: skip
        """Queue ``job`` again or bury it, as the one retry decision said."""
        if isinstance(verdict, retrying.GiveUp):
            jobs.bury(conn, job.id, owner=self._owner, error=error, now=now)
            out_of_attempts = verdict.reason == retrying.OUT_OF_ATTEMPTS
            log.error("job_dead", kind=job.kind, job_id=job.id, error_type=error_type,
                      out_of_attempts=out_of_attempts)  # fmt: skip
            return
        jobs.retry(conn, job.id, owner=self._owner, at=verdict.when, error=error, now=now)
        log.info("job_retry", kind=job.kind, job_id=job.id, error_type=error_type,
                 retry_in_s=round((verdict.when - now).total_seconds(), 1))  # fmt: skip

    def _backoff_for(self, exc: Exception) -> BackoffPolicy:
        """Zoom still processing the data: waits growing from the collect delay; a
        transaction that lost to another: ``CONFLICT_POLICY``; anything else:
        ``ERROR_POLICY`` (the server's ``Retry-After`` is a floor either way)."""
        if isinstance(exc, NotReady):
            return not_ready_policy(self._deps.options.collect_delay_s)
        if isinstance(exc, StoreConflict):
            return CONFLICT_POLICY
        return ERROR_POLICY
