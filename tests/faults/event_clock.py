"""When each event reached the Brevo emulator: the evidence when an event arrives twice.

Brevo's events API has no idempotency key (reference brevo.md 6); the connector looks a
batch in doubt up in Brevo's events listing before sending it again (``delivery.in_doubt``),
so no event may arrive twice. When one does, the stream tests print when each copy arrived
and which stop of a process came nearest to the first.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from zoom_brevo.sandbox.brevo import BrevoEmulator


@dataclass
class EventClock:
    """ASGI wrapper of the sandbox: notes how many events Brevo holds after each events call."""

    app: Any
    brevo: BrevoEmulator
    marks: list[tuple[int, float]] = field(default_factory=list)  # (events held, time)
    calls: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, method path)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.calls.append((time.monotonic(), f"{scope['method']} {scope['path']}"))
        if scope["type"] != "http" or not scope["path"].startswith("/brevo/v3/events"):
            await self.app(scope, receive, send)
            return

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.marks.append((len(self.brevo.state.events), time.time()))
            await send(message)

        await self.app(scope, receive, noting)

    def arrival(self, seq: int) -> float:
        """When event number ``seq`` (``RecordedEvent.seq``, from 1) was answered: the first
        answer of an events call given once Brevo held it (calls may answer out of order)."""
        marks = sorted(self.marks)
        at = bisect.bisect_left(marks, (seq, 0.0))
        return min(t for _, t in marks[at:])


def calls_between(clock: EventClock, start: float, end: float) -> dict[str, int]:
    """The sandbox's API calls answered from ``start`` to ``end`` (monotonic), by service,
    method and the first two segments of the path (``GET /zoom/v2/report/meetings``)."""
    found: Counter[str] = Counter()
    for at, call in clock.calls:
        if start <= at <= end:
            method, path = call.split(" ", 1)
            found[f"{method} {'/'.join(path.split('/')[:5])}"] += 1
    return dict(found.most_common())


def repeated_events(brevo: BrevoEmulator) -> dict[tuple[str, str, str], list[int]]:
    """The events received more than once: ``(name, email, uuid)`` -> their ``seq``."""
    seqs: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for event in brevo.state.events:
        props = event.event_properties or {}
        uuid = "" if event.event_name == "zoom_registered" else str(props.get("uuid"))
        seqs[(event.event_name, event.identifiers["email_id"], uuid)].append(event.seq)
    return {key: found for key, found in seqs.items() if len(found) > 1}
