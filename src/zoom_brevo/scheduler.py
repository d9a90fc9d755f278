"""Exactly one process runs the periodic housekeeping, however many workers there are.

On PostgreSQL the scheduler is whoever holds a session-level advisory lock
(``pg_try_advisory_lock``) on a connection kept open for that purpose. The lock lives as
long as that database session: if the process dies (even kill -9) the server closes its
session, the lock is released, and another process's next attempt takes it over. Before
each round the leader checks that its session is still alive; if the database restarted,
it steps down and competes again. On SQLite (one process) the scheduler simply leads.

The work itself is a list of ticks, ``tick(engine, now)``: short, idempotent database
chores that are safe to repeat if a round is cut short. ``DEFAULT_TICKS`` holds the built-in
ones; other modules add theirs with ``register_tick``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.errors import StoreError
from zoom_brevo.store.engine import transaction

log = structlog.get_logger(__name__)

Tick = Callable[[Engine, datetime], object]
"""One periodic chore; runs in a thread, may return a count for the log."""

# Any constant works; it only has to be the same in every process sharing the database.
SCHEDULER_LOCK_ID = 0x5A42_0003
DEFAULT_INTERVAL_S = 60.0


def purge_expired_oauth_states(engine: Engine, now: datetime) -> int:
    """Forget user-OAuth ``state`` values nobody came back with (their TTL passed)."""
    from zoom_brevo.oauth_tokens import STATE_PREFIX, STATE_TTL_S  # noqa: PLC0415
    from zoom_brevo.store import tokens  # noqa: PLC0415

    with transaction(engine) as conn:
        return tokens.delete_stale(conn, STATE_PREFIX, before=now - timedelta(seconds=STATE_TTL_S))


DEFAULT_TICKS: list[Tick] = [purge_expired_oauth_states]


def register_tick(tick: Tick) -> Tick:
    """Add ``tick`` to the default round (usable as a decorator); idempotent."""
    if tick not in DEFAULT_TICKS:
        DEFAULT_TICKS.append(tick)
    return tick


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Scheduler:
    """Runs ``ticks`` every ``interval_s`` in the one process that holds the lock.

    ``ticks`` defaults to ``DEFAULT_TICKS`` as it is when each round starts.
    """

    engine: Engine
    ticks: Sequence[Tick] | None = None
    interval_s: float = field(default=DEFAULT_INTERVAL_S, kw_only=True)
    clock: Callable[[], datetime] = field(default=_utc_now, kw_only=True)
    lock_id: int = field(default=SCHEDULER_LOCK_ID, kw_only=True)
    _conn: Connection | None = field(default=None, init=False)
    _postgres: bool = field(init=False)

    def __post_init__(self) -> None:
        self._postgres = self.engine.dialect.name == "postgresql"

    @property
    def is_leader(self) -> bool:
        """Whether this process holds the scheduler lock (always on SQLite)."""
        return not self._postgres or self._conn is not None

    def try_lead(self) -> bool:
        """Take the lock if free, or confirm this process still holds it; blocking."""
        if not self._postgres:
            return True
        if self._conn is not None:
            if self._alive(self._conn):
                return True
            self.step_down()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.DBAPIError as exc:
            log.warning("scheduler_lock_unavailable", error=type(exc.orig).__name__)
            return False
        try:
            got = conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:id)"), {"id": self.lock_id}
            ).scalar_one()
        except sa.exc.DBAPIError as exc:
            conn.invalidate()
            conn.close()
            log.warning("scheduler_lock_unavailable", error=type(exc.orig).__name__)
            return False
        if got:
            self._conn = conn
            log.info("scheduler_leading")
            return True
        conn.close()
        return False

    def step_down(self) -> None:
        """Release the lock (by ending its session) so another process may lead."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(sa.exc.DBAPIError):
            # Released now: ending the session releases it too, but only once the server
            # has seen the connection close, and another process may ask before that.
            conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": self.lock_id})
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.invalidate()  # the session ends (a lock it still held goes with it)
        conn.close()

    def round(self, now: datetime) -> dict[str, object]:
        """Run every tick once if leading; return each tick's result by name (blocking)."""
        if not self.try_lead():
            return {}
        results: dict[str, object] = {}
        for tick in list(self.ticks if self.ticks is not None else DEFAULT_TICKS):
            name = getattr(tick, "__name__", repr(tick))
            try:
                results[name] = tick(self.engine, now)
            except Exception as exc:  # noqa: BLE001 - one broken chore must not stop the others
                log.warning("scheduler_tick_failed", tick=name, error=str(exc))
                results[name] = exc
        return results

    async def run(self, stop: asyncio.Event) -> None:
        """Compete for the lock and run rounds every ``interval_s`` until ``stop``."""
        try:
            while not stop.is_set():
                try:
                    await asyncio.to_thread(self.round, self.clock())
                except (StoreError, sa.exc.DBAPIError) as exc:  # down: try again next round
                    log.warning("scheduler_store_unavailable", error=type(exc).__name__)
                    await asyncio.to_thread(self.step_down)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
        finally:
            await asyncio.to_thread(self.step_down)

    @staticmethod
    def _alive(conn: Connection) -> bool:
        try:
            conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError:
            return False
        return True
