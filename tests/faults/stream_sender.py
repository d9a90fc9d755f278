"""Zoom's side of the kill test: webhooks at a steady rate to servers behind a load balancer.

Deliveries leave every ``1 / rate`` seconds, each to the next server in turn (round robin),
up to ``IN_FLIGHT`` at once, each on its own connection (a plain HTTP/1.1 POST over asyncio
streams: an httpx client shared by the sender stalled in its connection pool under this
load). A delivery that gets a 5xx, a connection error or no answer within Zoom's 3 s is
retried ``retry_after_s`` later, to the next server, until one acknowledges it, as Zoom
does (reference zoom.md 4.2, minutes compressed to a second). A repeat of an earlier
delivery is sent with the original's exact headers when ``same_headers`` says so, else
signed afresh. Stages are played one after the other: the next starts once every delivery
of the previous one is acknowledged and ``between_stages`` has returned.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.faults.stream_world import Planned
from zoom_brevo.sandbox.webhook_sender import WebhookSender

ZOOM_TIMEOUT_S = 3.0
IN_FLIGHT = 32


@dataclass
class Tally:
    """What the sender saw."""

    deliveries: int = 0  # webhooks to deliver, repeats included
    posts: int = 0  # HTTP attempts
    acknowledged: int = 0
    server_errors: int = 0  # 5xx answers
    connection_errors: int = 0  # refused, reset or timed out
    retried: int = 0  # deliveries that needed more than one attempt
    refused: list[int] = field(default_factory=list)  # 4xx answers: must stay empty
    latencies_s: list[float] = field(default_factory=list)  # of the answered posts
    stage_ends_s: list[float] = field(default_factory=list)  # since the start


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` on a new connection; the status code (``OSError`` on failure)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        lines = [f"POST {parts.path} HTTP/1.1", f"host: {parts.netloc}", "connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"content-length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # the rest of the answer, up to the server's close
    finally:
        writer.close()
    fields = status_line.split()
    if len(fields) < 2 or not fields[1].isdigit():
        raise ConnectionError(f"no HTTP answer: {status_line!r}")
    return int(fields[1])


class StreamSender:
    """Plays the stages to ``urls``; see the module docstring."""

    def __init__(
        self,
        urls: list[str],
        secret: str,
        *,
        rate_per_s: float,
        retry_after_s: float,
        between_stages: Callable[[], None],
    ) -> None:
        self._urls: Iterator[str] = itertools.cycle(urls)
        # Only its signing is used: the posts go out on plain connections.
        self._signer = WebhookSender(urls[0], secret, client=None)  # type: ignore[arg-type]
        self._interval_s = 1 / rate_per_s
        self._retry_after_s = retry_after_s
        self._between_stages = between_stages
        self._headers: dict[int, dict[str, str]] = {}
        self.tally = Tally()
        self.done = False
        self._stop = threading.Event()

    def stop(self) -> None:
        """Give up: no new delivery or retry starts (the test failed meanwhile)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stop.is_set()

    def play_blocking(self, stages: list[list[Planned]]) -> None:
        """``play`` in a fresh event loop (the body of the sender thread)."""
        try:
            asyncio.run(self.play(stages))
        finally:
            self.done = True

    async def play(self, stages: list[list[Planned]]) -> None:
        """Deliver every stage; return once the last delivery is acknowledged."""
        began = time.monotonic()
        slots = asyncio.Semaphore(IN_FLIGHT)
        for n, stage in enumerate(stages):
            if self._stop.is_set():
                return
            if n:
                await asyncio.to_thread(self._between_stages)
            await self._stage(stage, slots)
            self.tally.stage_ends_s.append(time.monotonic() - began)

    async def _stage(self, stage: list[Planned], slots: asyncio.Semaphore) -> None:
        start = time.monotonic()
        async with asyncio.TaskGroup() as group:
            for k, planned in enumerate(stage):
                if self._stop.is_set():
                    return
                delay = start + k * self._interval_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                group.create_task(self._deliver(planned, slots))
                self.tally.deliveries += 1

    async def _deliver(self, planned: Planned, slots: asyncio.Semaphore) -> None:
        original = self._headers.get(planned.repeat_of) if planned.repeat_of is not None else None
        for attempt in itertools.count():
            if self._stop.is_set():
                return
            if planned.same_headers and original:
                headers = original
            else:
                headers = self._signer.headers_for(planned.body)
            async with slots:
                status = await self._attempt(next(self._urls), planned.body, headers)
            if status is not None and status < 300:
                self._headers[planned.number] = headers
                self.tally.acknowledged += 1
                self.tally.retried += attempt > 0
                return
            if status is not None and status < 500:
                self.tally.refused.append(status)
                return
            await asyncio.sleep(self._retry_after_s)

    async def _attempt(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        self.tally.posts += 1
        began = time.monotonic()
        try:
            status = await asyncio.wait_for(post(url, body, headers), ZOOM_TIMEOUT_S)
        except (OSError, TimeoutError):
            self.tally.connection_errors += 1
            return None
        self.tally.latencies_s.append(time.monotonic() - began)
        if status >= 500:
            self.tally.server_errors += 1
        return status
