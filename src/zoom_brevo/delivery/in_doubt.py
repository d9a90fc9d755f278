"""In-doubt events: look up what Brevo already holds before sending a batch again.

A batch whose send began and whose outcome was never recorded (the worker died, was cut
off, or got no answer) is *in doubt*: Brevo may hold its events already, and events have
no idempotency key (brevo.md 6). Before such events are sent again, each is looked up with
Brevo's events listing (docs/brevo-events-listing.md): the contact's id by e-mail, then
its events of that name around the event's date. An event counts as held when one listed
has the same properties (they carry the meeting or webinar UUID) and, where the connector
set one, the same date. Held events are completed without a call; the others are sent.

When the lookup fails transiently, the events are tried again later, still in doubt. When
it is refused, or the events are out of attempts, ``delivery.in_doubt`` decides:
``resend`` sends anyway (an event may arrive twice), ``hold`` (the default) dead-letters
the events as held, shown by ``status`` until ``zoom-brevo retry`` sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.models import ListedEvent
from zoom_brevo.errors import NotFound
from zoom_brevo.pipeline.commands import SendEvent

InDoubtPolicy = Literal["resend", "hold"]
DEFAULT_IN_DOUBT: InDoubtPolicy = "hold"
# Brevo dates an event without ``event_date`` at its arrival: look a day either side.
MARGIN = timedelta(days=1)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _same_properties(listed: Mapping[str, Any] | None, ours: Mapping[str, Any]) -> bool:
    return dict(listed or {}) == dict(ours)


def is_same(listed: ListedEvent, command: SendEvent) -> bool:
    """Whether Brevo's ``listed`` event is the one ``command`` sends."""
    if listed.event_name != command.event_name:
        return False
    if not _same_properties(listed.event_properties, command.event_properties):
        return False
    ours = _moment(command.event_date)
    return ours is None or _moment(listed.event_date) == ours


class Reconciler:
    """Finds out whether Brevo already holds an event."""

    def __init__(self, brevo: BrevoClient, clock: Callable[[], datetime]) -> None:
        self._brevo = brevo
        self._clock = clock
        self.calls = 0

    async def holds(self, command: SendEvent, since: datetime) -> bool:
        """Whether Brevo holds ``command``'s event (its send began at ``since``).

        Raises ``ApiError`` when Brevo cannot say (the listing or the contact lookup failed).
        """
        self.calls += 1
        try:
            contact = await self._brevo.get_contact(command.email.strip().lower())
        except NotFound:
            return False  # no contact: Brevo attributed no event to this address
        moment = _moment(command.event_date)
        start = min(t for t in (moment, since) if t is not None) - MARGIN
        end = max(self._clock(), moment or since) + MARGIN
        self.calls += 1
        listed = await self._brevo.list_events(contact.id, command.event_name, start, end)
        return any(is_same(item, command) for item in listed)
