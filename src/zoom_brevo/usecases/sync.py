"""``sync``: collect one past meeting or webinar, then deliver everything queued to Brevo.

The whole of ``zoom-brevo sync meeting|webinar`` and of the demo's two syncs, without
the terminal: what to show while it runs goes through :class:`Feedback`.
:func:`deliver` is the one delivery path of the one-shot commands (``sync``, ``backfill``,
the demo): contacts first, streamed into bulk imports, then lists and events in batches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from zoom_brevo.config import Settings
from zoom_brevo.delivery.decisions import CheckSchedule
from zoom_brevo.delivery.report import DeliveryReport
from zoom_brevo.delivery.worker import Deliverer
from zoom_brevo.observe import CallCounter
from zoom_brevo.pipeline.mapping import resolve_field_mapping
from zoom_brevo.pipeline.sync import SyncOptions, SyncReport
from zoom_brevo.runtime import worker_owner
from zoom_brevo.usecases.collect import Kind, collect
from zoom_brevo.wiring import brevo_client, shared_limiter, zoom_client

DELIVERY_DEADLINE_S = 600.0
# Outbox rows claimed at a time. A claimed row costs about 3 KB in memory (its decoded
# payload), so this bounds the peak RSS whatever the size of the sync: with the imports'
# own cap (delivery.bulk.IMPORT_MAX_CONTACTS) it keeps memory flat in N. It sets the size
# of /events/batch requests (one page each: 2,000 events, about 0.6 MB) but not of imports:
# contacts are delivered first and streamed into imports across pages, all followed with
# one process listing per round (docs/benchmarks.md, "Webinar sync").
DELIVERY_BATCH = 2_000

Say = Callable[[str], None]


class Feedback(Protocol):
    """What a use case shows while it runs (the CLI: spinners and notes on standard error)."""

    def phase(self, message: str, /) -> AbstractContextManager[Say]:
        """A phase of the work; yields ``say(detail)`` to tell how far it got."""

    def note(self, message: str, /) -> None:
        """One line between phases."""


class Silent:
    """Feedback that shows nothing."""

    @contextlib.contextmanager
    def phase(self, _message: str, /) -> Iterator[Say]:
        """Yield a ``say`` that does nothing."""
        yield lambda _detail: None

    def note(self, _message: str, /) -> None:
        """Show nothing."""


@dataclass(frozen=True)
class Outcome:
    """The sync report, the delivery report and the Zoom requests made."""

    sync: SyncReport
    delivery: DeliveryReport
    zoom_calls: int

    def to_json(self) -> dict[str, Any]:
        """One JSON document for ``--json``."""
        return {
            **self.sync.to_json(),
            "zoom_calls": self.zoom_calls,
            "delivery": self.delivery.to_json(),
        }


def sync_options(settings: Settings, *, events: bool) -> SyncOptions:
    """The sync options the configuration gives."""
    zoom = settings.connectors.zoom
    return SyncOptions(
        lists=zoom.lists.ids(),
        field_mapping=resolve_field_mapping(settings.field_mapping.attributes()),
        exclude_domains=tuple(zoom.exclude_domains),
        events=events,
        tiers=tuple(zoom.sync.attendance_tiers),
    )


async def sync_and_deliver(
    settings: Settings,
    engine: Engine,
    kind: Kind,
    target: str,
    options: SyncOptions,
    *,
    import_checks: CheckSchedule | None = None,
    feedback: Feedback | None = None,
) -> Outcome:
    """Collect ``target`` (a ``kind``), then drain the outbox to Brevo (the whole ``sync``).

    ``import_checks``: when to read a started import's status (default: the worker's,
    spaced for Brevo's hourly limit; the demo's emulator imports at once).
    """
    shown = feedback or Silent()
    with shown.phase(f"Collecting {target} from Zoom") as say:
        counter = CallCounter(on_call=lambda _service, n: say(f"{n} Zoom request(s)"))
        zoom = zoom_client(settings, shared_limiter(settings, engine), observer=counter)
        async with zoom:
            report = await collect(zoom, engine, kind, target, options, now=datetime.now(UTC))
    shown.note(f"Collected {report.instances} instance(s); delivering to Brevo...")
    with shown.phase("Delivering to Brevo"):
        delivered = await deliver(settings, engine, import_checks=import_checks)
    return Outcome(report, delivered, counter.calls["zoom"])


async def deliver(
    settings: Settings,
    engine: Engine,
    *,
    deadline_s: float = DELIVERY_DEADLINE_S,
    import_checks: CheckSchedule | None = None,
) -> DeliveryReport:
    """Deliver everything queued, waiting for the imports to finish (up to ``deadline_s``).

    Every due contact goes first, streamed into bulk imports (``contacts_first``), so N
    contacts cost about N / ``IMPORT_MAX_CONTACTS`` imports whatever the batch size; then
    list additions and events, ``DELIVERY_BATCH`` outbox rows at a time (flat memory).
    """
    async with brevo_client(settings, shared_limiter(settings, engine)) as brevo:
        deliverer = Deliverer(
            engine,
            brevo,
            owner=worker_owner(),
            batch_size=DELIVERY_BATCH,
            import_checks=import_checks,
            lease_s=settings.delivery.lease_s,
            in_doubt=settings.delivery.in_doubt,
        )
        return await deliverer.drain(deadline_s, wait_for_imports=True, contacts_first=True)


def delivery_problem(report: DeliveryReport) -> str | None:
    """Why a command must exit 1 although the sync itself worked, if it must."""
    if report.dead or report.rejected:
        return (
            f"Brevo refused {report.dead + report.rejected} command(s); see "
            "'zoom-brevo status' and 'zoom-brevo retry'."
        )
    if report.outstanding:
        return (
            f"{report.outstanding} command(s) are still waiting for delivery (Brevo busy?); "
            "'zoom-brevo worker' will finish them."
        )
    return None
