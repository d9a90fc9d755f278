"""Hold Brevo requests at the door: a worker stays in the middle of a batch for as long as
a test needs (to kill it, or to stop it, there).

``Gate`` wraps an ASGI app: requests whose path contains ``fragment`` are held while the
gate is closed (their arrival noted) and then answered by the app once it opens; with
``drop_held`` a held request is answered 503 instead, never reaching the app (the request
of a worker killed meanwhile must not count as delivered); with ``answer_late`` it reaches
the app at once and only the answer is held (Brevo accepted it; the worker never learns).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any


class Gate:
    """An ASGI wrapper that holds the requests whose path contains ``fragment``."""

    def __init__(
        self, app: Any, fragment: str, *, drop_held: bool = False, answer_late: bool = False
    ) -> None:
        self.app = app
        self.fragment = fragment
        self.drop_held = drop_held
        self.answer_late = answer_late
        self.arrivals: list[float] = []  # time.monotonic() of every matching request
        self.arrived = threading.Event()
        self.opened = threading.Event()

    def open(self) -> None:
        """Let held and later requests through."""
        self.opened.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.fragment not in scope["path"]:
            await self.app(scope, receive, send)
            return
        self.arrivals.append(time.monotonic())
        if self.answer_late and not self.opened.is_set():
            answer: list[Any] = []

            async def keep(message: Any) -> None:
                answer.append(message)

            await self.app(scope, receive, keep)
            self.arrived.set()
            await self._wait_open()
            for message in answer:
                await send(message)
            return
        self.arrived.set()
        held = not self.opened.is_set()
        await self._wait_open()
        if held and self.drop_held:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)

    async def _wait_open(self) -> None:
        while not self.opened.is_set():  # noqa: ASYNC110 (set from the test thread)
            await asyncio.sleep(0.02)
