"""Commit webhooks to the inbox, several concurrent requests per transaction (group commit).

Each request waits until the transaction holding its row has committed (ARCHITECTURE
invariant 1), but requests that arrive while one transaction is being written share the
next one: one fsync and one multi-row INSERT (``inbox.insert_many``) per batch instead of
one each per webhook, and a single writer per process, so SQLite's write lock is never
fought over by this process's own threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from zoom_brevo.errors import StoreError
from zoom_brevo.store import inbox
from zoom_brevo.store.engine import transaction

DEFAULT_MAX_BATCH = 200


# One verified webhook to store (the store's row type; the name predates ``insert_many``).
NewEvent = inbox.NewInboxEvent

Outcome = bool | StoreError  # True stored, False duplicate


class InboxWriter:
    """Stores :class:`NewEvent` s; ``store`` returns once the row is committed."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float],
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._max_batch = max(1, max_batch)
        self._waiting: list[tuple[NewEvent, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def store(self, event: NewEvent) -> bool:
        """Commit ``event``; ``True`` if new, ``False`` if its dedupe key was stored before.

        Raises :class:`StoreError` when the database cannot take it.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            events = [event for event, _ in batch]
            try:
                outcomes = await run_in_threadpool(self._write, events)
            except Exception as exc:  # noqa: BLE001 (every waiter must get an answer)
                outcomes = [StoreError(f"inbox write failed: {type(exc).__name__}")] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                _settle(future, outcome)

    def _write(self, events: list[NewEvent]) -> list[Outcome]:
        try:
            return list(self._insert(events))
        except StoreError as exc:
            if len(events) == 1:
                return [exc]
        # One bad row must not fail its neighbours: retry them one by one.
        return [self._write_one(event) for event in events]

    def _write_one(self, event: NewEvent) -> Outcome:
        try:
            return self._insert([event])[0]
        except StoreError as exc:
            return exc

    def _insert(self, events: list[NewEvent]) -> list[bool]:
        now = datetime.fromtimestamp(self._clock(), UTC)
        with transaction(self._engine) as conn:
            ids = inbox.insert_many(conn, events, now=now)
        return [event_id is not None for event_id in ids]


def _settle(future: asyncio.Future[bool], outcome: Outcome) -> None:
    if future.done():  # the request was cancelled (client went away)
        return
    if isinstance(outcome, StoreError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
