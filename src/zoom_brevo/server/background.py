"""Run a long-lived worker coroutine beside the server, and stop it within a bound.

A worker is ``async def work(stop: asyncio.Event) -> ...``: it loops until ``stop`` is
set and then returns once its current step is settled. ``shutdown`` sets ``stop``, waits
up to a bound (or until ``hurry``) and cancels what is still running; a cancelled worker
hands back what it holds (outbox rows and jobs are released, due at once), so another
worker picks the work up without waiting for the lease to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

Worker = Callable[[asyncio.Event], Awaitable[object]]
DEFAULT_STOP_TIMEOUT_S = 15.0  # serve: plus 10 s for requests; under compose's 30 s


class WorkerTask:
    """One running worker: its stop event, its task and how it ended."""

    def __init__(self, worker: Worker, *, on_exit: Callable[[], None] | None = None) -> None:
        self.stop = asyncio.Event()
        self._hurry = asyncio.Event()
        self._worker = worker
        self._on_exit = on_exit
        self._task: asyncio.Task[object] | None = None

    def start(self) -> None:
        """Start the worker on the running loop."""
        self._task = asyncio.create_task(self._run(), name="zoom-brevo-worker")

    async def _run(self) -> object:
        log.info("worker_started")
        try:
            return await self._worker(self.stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # One line, no traceback: the error tree's messages say what to do.
            log.error("worker_failed", error=str(exc), error_type=type(exc).__name__)  # noqa: TRY400
            raise
        finally:
            if self._on_exit is not None:
                self._on_exit()

    async def until_stop_or_exit(self) -> None:
        """Return when ``stop`` is set or the worker ended by itself."""
        waiting = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait({waiting, self._started()}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()

    def hurry(self) -> None:
        """Stop now: a ``shutdown`` under way cancels the worker without waiting longer."""
        self.stop.set()
        self._hurry.set()

    async def shutdown(self, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> None:
        """Set ``stop``, wait up to ``timeout_s`` (or until ``hurry``), then cancel; never
        raises the worker's error."""
        self.stop.set()
        task = self._started()
        hurried = asyncio.create_task(self._hurry.wait())
        try:
            await asyncio.wait({task, hurried}, timeout=timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        finally:
            hurried.cancel()
        if not task.done():
            log.warning("worker_cancelled", waited_s=timeout_s, hurried=self._hurry.is_set())
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return
        if not task.cancelled() and task.exception() is None:
            log.info("worker_stopped")

    def failure(self) -> BaseException | None:
        """The exception the worker ended with, if it ended with one (not cancellation)."""
        task = self._started()
        if not task.done() or task.cancelled():
            return None
        return task.exception()

    def _started(self) -> asyncio.Task[object]:
        if self._task is None:
            raise RuntimeError("WorkerTask.start() was not called")
        return self._task
