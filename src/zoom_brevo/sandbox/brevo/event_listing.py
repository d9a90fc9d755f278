"""Emulated ``GET /events``: the custom events Brevo holds (docs/brevo-events-listing.md).

Filters as Brevo's reference: ``contact_id``, ``event_name`` and ``object_type`` are
repeatable (any of the values); ``startDate`` and ``endDate`` (``YYYY-MM-DD`` or RFC 3339)
go together or not at all, and without them the last six months are listed; ``limit``
1-10,000 (default 100), ``offset`` >= 0. Events come newest ``event_date`` first, with
``count``, the number matching. There is no e-mail filter: an event is found by the id of
the contact it was attributed to (an event for an unknown contact is attributed to none and
never listed). Events sent here have no object, so an ``object_type`` filter matches none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from zoom_brevo.sandbox.brevo.protocol import Reply, Req, bad, paging
from zoom_brevo.sandbox.brevo.state import RecordedEvent

DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
DEFAULT_WINDOW = timedelta(days=183)  # "defaults to 6 months ago"


def _values(req: Req, name: str) -> list[str]:
    getlist = getattr(req.query, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = req.query.get(name)
    return [] if value is None else [str(value)]


def _moment(text: str, name: str, *, end: bool) -> datetime:
    """A ``YYYY-MM-DD`` (the whole day) or RFC 3339 bound."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"{name} must be a date (YYYY-MM-DD) or an RFC3339 date-time") from None
    if found.tzinfo is None:
        raise bad(f"{name} must carry a time zone (RFC3339)")
    return found


def _window(req: Req) -> tuple[datetime, datetime]:
    start, end = req.query.get("startDate"), req.query.get("endDate")
    if (start is None) != (end is None):
        raise bad("startDate and endDate must be given together")
    if start is None or end is None:
        now = datetime.fromtimestamp(req.now_s, UTC)
        return now - DEFAULT_WINDOW, now
    first, last = _moment(start, "startDate", end=False), _moment(end, "endDate", end=True)
    if first > last:
        raise bad("startDate must be before or equal to endDate")
    return first, last


def _contact_ids(req: Req) -> set[int]:
    try:
        return {int(v) for v in _values(req, "contact_id")}
    except ValueError:
        raise bad("contact_id must be integers") from None


def event_moment(event: RecordedEvent) -> datetime:
    """When the event happened for Brevo: its ``event_date``, else its arrival."""
    if event.event_date:
        try:
            found = datetime.fromisoformat(event.event_date.replace("Z", "+00:00"))
        except ValueError:
            found = None
        if found is not None:
            return found if found.tzinfo else found.replace(tzinfo=UTC)
    return datetime.fromtimestamp(event.received_s, UTC)


def _item(event: RecordedEvent) -> dict[str, Any]:
    item: dict[str, Any] = {
        "contact_id": event.contact_id,
        "event_name": event.event_name,
        "event_date": event_moment(event).isoformat(),
    }
    if event.event_properties:
        item["event_properties"] = event.event_properties
    return item


def matching(
    events: Sequence[RecordedEvent],
    contact_ids: set[int],
    names: set[str],
    window: tuple[datetime, datetime],
) -> list[RecordedEvent]:
    """The events the filters keep, newest first."""
    first, last = window
    kept = [
        e
        for e in events
        if e.contact_id is not None
        and (not contact_ids or e.contact_id in contact_ids)
        and (not names or e.event_name in names)
        and first <= event_moment(e) <= last
    ]
    return sorted(kept, key=lambda e: (event_moment(e), e.seq), reverse=True)


async def list_events(req: Req) -> Reply:
    """GET /events (custom events only): ``{"events": [...], "count": N}``."""
    limit, offset = paging(req, default=DEFAULT_LIMIT, maximum=MAX_LIMIT, minimum=1)
    window = _window(req)
    if _values(req, "object_type"):
        return Reply(200, {"events": [], "count": 0})
    found = matching(req.state.events, _contact_ids(req), set(_values(req, "event_name")), window)
    return Reply(200, {"events": [_item(e) for e in found[offset : offset + limit]],
                       "count": len(found)})  # fmt: skip
