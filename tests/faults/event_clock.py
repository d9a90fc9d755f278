"""When each event reached the Brevo emulator, to tell a kill's known repeat from a bug.

Brevo's events API has no idempotency key (reference brevo.md 6), so one window is open by
design (``delivery.effects``): a process killed while Brevo takes one of its event batches,
or after and before its ledger row committed, leaves the batch to be sent again once its
lease expires. A repeated event is that window's when it came exactly twice, a delivering
process (a worker or the backfill) was killed within ``WINDOW_S`` of the first copy's
arrival, and the second copy came after that kill; any other repeat is a bug.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from zoom_brevo.sandbox.brevo import BrevoEmulator

# From Brevo's answer to the ledger commit is milliseconds, but a request in flight when
# its sender died is still applied, and on a loaded machine the emulator answered one
# 1.25 s after the kill.
WINDOW_S = 5.0
DELIVERING = ("worker", "backfill")


@dataclass
class EventClock:
    """ASGI wrapper of the sandbox: notes how many events Brevo holds after each events call."""

    app: Any
    brevo: BrevoEmulator
    marks: list[tuple[int, float]] = field(default_factory=list)  # (events held, time)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
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


def repeated_events(brevo: BrevoEmulator) -> dict[tuple[str, str, str], list[int]]:
    """The events received more than once: ``(name, email, uuid)`` -> their ``seq``."""
    seqs: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for event in brevo.state.events:
        props = event.event_properties or {}
        uuid = "" if event.event_name == "zoom_registered" else str(props.get("uuid"))
        seqs[(event.event_name, event.identifiers["email_id"], uuid)].append(event.seq)
    return {key: found for key, found in seqs.items() if len(found) > 1}


def unexplained(
    repeats: dict[tuple[str, str, str], list[int]],
    clock: EventClock,
    kills: Iterable[tuple[float, str]],
) -> dict[tuple[str, str, str], list[float]]:
    """The repeats that are not the kill window's (``kills``: wall time and role)."""
    cuts = [at for at, role in kills if role.startswith(DELIVERING)]
    found = {}
    for key, seqs in repeats.items():
        first, *later = (clock.arrival(seq) for seq in seqs)
        window = [at for at in cuts if abs(at - first) <= WINDOW_S and at < later[-1]]
        if len(later) != 1 or not window:
            found[key] = [first, *later]
    return found
