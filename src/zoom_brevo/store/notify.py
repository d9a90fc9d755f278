"""Wake idle workers as soon as there is work, instead of waiting for their next poll.

On PostgreSQL, the store's enqueueing functions (``inbox.insert``, ``jobs.enqueue``,
``outbox.add``/``add_many``) call ``notify(conn)`` inside the caller's transaction;
PostgreSQL delivers ``NOTIFY zoom_brevo_work`` to every listening session only when that
transaction commits (and folds duplicates within it), so a woken worker always finds the
committed rows. A ``Waker`` listens on its own autocommit connection and wakes the
worker's loops.

Polling stays the safety net: a wait always ends at its timeout, so work is found even
with no notification (SQLite, a dropped listen connection, a notification lost in a
reconnect). After a reconnect the waker wakes everyone once, since work may have arrived
while it was deaf.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Self

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.pooled import AsyncClosing
from zoom_brevo.store._sql import is_postgres

CHANNEL = "zoom_brevo_work"
APPLICATION_NAME = "zoom-brevo-waker"
_NOTIFY = sa.text("SELECT pg_notify(:channel, '')")
# A silent connection is checked this often, so a half-open socket is noticed.
HEALTH_CHECK_S = 30.0
RECONNECT = BackoffPolicy(base_s=0.5, cap_s=30.0, max_attempts=1_000_000)

log = structlog.get_logger(__name__)


def notify(conn: Connection, channel: str = CHANNEL) -> None:
    """Announce new work, delivered when ``conn``'s transaction commits (PostgreSQL only)."""
    if is_postgres(conn):
        conn.execute(_NOTIFY, {"channel": channel})


def libpq_dsn(engine: Engine) -> str | None:
    """The plain ``postgresql://`` DSN of ``engine`` (``None`` when it is not PostgreSQL)."""
    url = engine.url
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Wakeup:
    """One loop's view of the waker: woken by every notification since its last wait."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake the loop now, or at its next wait if it is busy."""
        self._event.set()

    async def wait(self, timeout_s: float, stop: asyncio.Event | None = None) -> bool:
        """Wait until woken, ``stop`` is set or ``timeout_s`` passed; ``True`` when woken."""
        waiters = [asyncio.ensure_future(self._event.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        woken = self._event.is_set()
        self._event.clear()
        return woken


@dataclass(eq=False, repr=False)  # no repr: the DSN holds the password
class Waker(AsyncClosing):
    """Listens for ``CHANNEL`` on PostgreSQL and wakes every ``Wakeup`` it handed out.

    Use as ``async with Waker.for_engine(engine) as waker:``; each worker loop takes its
    own ``waker.wakeup()`` (so that one loop's wait does not swallow another's wake-up),
    or a single loop calls ``await waker.wait(timeout_s)``. Without a DSN (SQLite) it
    only times out: plain polling.
    """

    dsn: str | None
    channel: str = field(default=CHANNEL, kw_only=True)
    reconnect: BackoffPolicy = field(default=RECONNECT, kw_only=True)
    health_check_s: float = field(default=HEALTH_CHECK_S, kw_only=True)
    _wakeups: list[Wakeup] = field(default_factory=list, init=False)
    _default: Wakeup = field(init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _listening: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _failures: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._default = self.wakeup()

    @classmethod
    def for_engine(
        cls,
        engine: Engine,
        *,
        reconnect: BackoffPolicy = RECONNECT,
        health_check_s: float = HEALTH_CHECK_S,
    ) -> Waker:
        """A waker for ``engine``'s database (polling only on SQLite)."""
        return cls(libpq_dsn(engine), reconnect=reconnect, health_check_s=health_check_s)

    @property
    def listening(self) -> bool:
        """Whether notifications are being received right now."""
        return self._listening.is_set()

    async def until_listening(self, timeout_s: float) -> bool:
        """Wait until the listen connection is up (tests, start-up); ``False`` on timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout=timeout_s)
        return self.listening

    def wakeup(self) -> Wakeup:
        """A new handle for one loop, woken by every later notification."""
        handle = Wakeup()
        self._wakeups.append(handle)
        return handle

    async def wait(self, timeout_s: float, stop: asyncio.Event | None = None) -> bool:
        """Wait on the default handle (for a single loop); ``True`` when woken."""
        return await self._default.wait(timeout_s, stop)

    def fire(self) -> None:
        """Wake every loop (a notification, or work this process made itself)."""
        for handle in self._wakeups:
            handle.fire()

    async def __aenter__(self) -> Self:
        if self.dsn is not None:
            self._task = asyncio.create_task(self._listen_forever(self.dsn))
        return self

    async def aclose(self) -> None:
        """Stop listening (leaving ``async with`` does it)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen_forever(self, dsn: str) -> None:
        while True:
            try:
                await self._listen(dsn)
            except Exception as exc:  # noqa: BLE001 - whatever broke, listen again; polls cover
                self._listening.clear()
                delay = self.reconnect.delay_s(self._failures)
                self._failures += 1
                log.warning("waker_disconnected", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)

    async def _listen(self, dsn: str) -> None:
        import psycopg  # noqa: PLC0415 (SQLite users never load the driver)
        from psycopg import sql as psql  # noqa: PLC0415

        conn = await psycopg.AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
        )
        try:
            await conn.execute(psql.SQL("LISTEN {}").format(psql.Identifier(self.channel)))
            self._failures = 0
            self._listening.set()
            self.fire()  # work may have been queued while nobody listened
            while True:
                async for _ in conn.notifies(timeout=self.health_check_s):
                    self.fire()
                await conn.execute("SELECT 1")  # a silent connection: is it still alive?
        finally:
            self._listening.clear()
            await conn.close()
