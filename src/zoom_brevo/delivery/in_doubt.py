"""In-doubt events: look up what Brevo already holds before sending a batch again.

A batch whose send began and whose outcome was never recorded (the worker died, was cut
off, or got no answer) is *in doubt*: Brevo may hold its events already, and events have
no idempotency key (brevo.md 6). Before such events are sent again, they are looked up
with Brevo's events listing (docs/brevo-events-listing.md): each contact's id by e-mail,
then, per event name, the events of up to ``LISTED_CONTACTS`` of those contacts at once
(``contact_id`` is repeatable) over a window around the events' dates: about one call per
event instead of two. An event counts as held when one listed for its contact has the same
properties (they carry the meeting or webinar UUID) and, where the connector set one, the
same date. Held events are completed without a call; the others are sent.

When the lookup fails transiently, the events are tried again later, still in doubt. When
it is refused, or the events are out of attempts, ``delivery.in_doubt`` decides:
``resend`` sends anyway (an event may arrive twice), ``hold`` (the default) dead-letters
the events as held, shown by ``status`` until ``zoom-brevo retry`` sends them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
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
LISTED_CONTACTS = 100  # contact ids per listing call (a short enough query string)


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

    async def held(self, doubted: Sequence[tuple[SendEvent, datetime]]) -> list[bool]:
        """For each in-doubt ``(command, since)``: whether Brevo holds its event.

        Raises ``ApiError`` when Brevo cannot say (a listing or a contact lookup failed).
        """
        emails = [command.email.strip().lower() for command, _ in doubted]
        ids = await self._contact_ids(set(emails))
        start, end = self._window(doubted)
        listed: dict[tuple[int, str], list[ListedEvent]] = defaultdict(list)
        for name in sorted({command.event_name for command, _ in doubted}):
            of_name = {e for (c, _), e in zip(doubted, emails, strict=True) if c.event_name == name}
            wanted = sorted(ids[e] for e in of_name if e in ids)
            for at in range(0, len(wanted), LISTED_CONTACTS):
                self.calls += 1
                chunk = wanted[at : at + LISTED_CONTACTS]
                for item in await self._brevo.list_events(chunk, name, start, end):
                    listed[(item.contact_id or 0, name)].append(item)
        return [
            email in ids and any(is_same(i, c) for i in listed[(ids[email], c.event_name)])
            for (c, _), email in zip(doubted, emails, strict=True)
        ]

    async def _contact_ids(self, emails: set[str]) -> dict[str, int]:
        """Brevo's id of each address that is a contact (one with none holds no event)."""
        found: dict[str, int] = {}
        for email in sorted(emails):
            self.calls += 1
            try:
                found[email] = (await self._brevo.get_contact(email)).id
            except NotFound:
                continue
        return found

    def _window(self, doubted: Sequence[tuple[SendEvent, datetime]]) -> tuple[datetime, datetime]:
        """From a day before the earliest event (or send) to a day after the latest, or now."""
        moments = [t for c, since in doubted for t in (_moment(c.event_date), since) if t]
        return min(moments) - MARGIN, max([self._clock(), *moments]) + MARGIN
