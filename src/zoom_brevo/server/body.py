"""Reading a request body, bounded in size (413) and in time (408).

uvicorn bounds neither. :func:`read_within` wraps one read in ``asyncio.timeout``;
:class:`BodyDeadlines` does the same for every read of an endpoint with one timer, for the
webhook route that Zoom calls in bursts: ``asyncio.timeout`` schedules and cancels a timer
per request (7.5 µs a read against 1.4 µs here, docs/benchmarks.md, "Open-loop intake
(issue 19)"), for a deadline that Zoom's bodies, sent with their headers, never come near.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Receive

from zoom_brevo.errors import WebhookRejected


class ClientGone(Exception):
    """The client closed the connection before its body arrived: nobody to answer."""


async def read_within(receive: Receive, limit: int, timeout_s: float) -> bytes:
    """:func:`read_limited`, refused (408) when the body takes longer than ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            return await read_limited(receive, limit)
    except TimeoutError:
        raise _timed_out(timeout_s) from None


class BodyDeadlines:
    """:func:`read_within` for many concurrent reads, with a single timer.

    The reads in progress are kept in arrival order with their deadlines (all reads take
    the same ``timeout_s``, so the oldest read has the nearest deadline); one timer fires
    at the oldest deadline, cancels every read past its own, and is set again for the
    oldest read still going. A read that ends in time costs a dictionary insert and pop.
    """

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._reads: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def read(self, receive: Receive, limit: int) -> bytes:
        """The body (:func:`read_limited`), refused (408) after ``timeout_s``."""
        task = asyncio.current_task()
        assert task is not None  # called from a request's task
        loop = self._loop_for(asyncio.get_running_loop())
        deadline = self._reads[task] = loop.time() + self._timeout_s
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire)
        cancelling = task.cancelling()
        try:
            return await read_limited(receive, limit)
        except asyncio.CancelledError:
            if task not in self._expired:
                raise
            self._expired.discard(task)
            if task.uncancel() > cancelling:  # cancelled by someone else too
                raise
            raise _timed_out(self._timeout_s) from None
        finally:
            self._reads.pop(task, None)

    def _loop_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        # A new event loop (tests run an app in several): the old one's reads are gone.
        if loop is not self._loop:
            self._loop, self._timer = loop, None
            self._reads.clear()
            self._expired.clear()
        return loop

    def _expire(self) -> None:
        assert self._loop is not None  # a timer was set, so a loop was seen
        self._timer = None
        now = self._loop.time()
        while self._reads:
            task, deadline = next(iter(self._reads.items()))
            if deadline > now:
                self._timer = self._loop.call_at(deadline, self._expire)
                return
            del self._reads[task]
            self._expired.add(task)
            task.cancel()


async def read_limited(receive: Receive, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it grows past ``limit`` bytes.

    Raises :class:`ClientGone` when the client disconnects first.
    """
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        if len(body) + len(chunk) > limit:
            raise too_large(limit)
        more = message.get("more_body", False)
        if not more and not body:
            return chunk  # the whole body in one message (Zoom's case): no copy
        body += chunk
    return bytes(body)


def too_large(limit: int) -> WebhookRejected:
    """The 413 for a body over ``limit`` bytes (declared or streamed)."""
    return WebhookRejected(f"body larger than {limit} bytes", status=413, reason="body_too_large")


def _timed_out(timeout_s: float) -> WebhookRejected:
    return WebhookRejected(
        f"body not received within {timeout_s:g} s", status=408, reason="body_timeout"
    )
