"""Which occurrence of a recurring meeting or webinar a held instance was. Pure.

Zoom lists a recurring webinar's occurrences in ``GET /webinars/{webinarId}`` (with
``show_previous_occurrences=true`` for those that are over), each with its
``occurrence_id`` and scheduled ``start_time``; a past instance has only its UUID and
actual start (``/past_webinars/{webinarId}/instances``). Nothing names the link, so the
instance is the occurrence whose scheduled start is nearest its actual start: hosts start
early or late, but not by half a day (a recurrence is at most daily).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from zoom_brevo.zoom.fields import aware
from zoom_brevo.zoom.models import Occurrence

MAX_DRIFT = timedelta(hours=12)


def occurrence_of(start: datetime | None, occurrences: Sequence[Occurrence]) -> str | None:
    """The ``occurrence_id`` of the occurrence an instance that started at ``start`` was;
    ``None`` when it started more than ``MAX_DRIFT`` from every scheduled start (or its
    start is unknown, or there are no occurrences: a meeting that does not recur)."""
    return nearest(start, [(o.occurrence_id, o.start_time) for o in occurrences])


def nearest(start: datetime | None, listed: Sequence[tuple[str, datetime | None]]) -> str | None:
    """As ``occurrence_of``, for ``(occurrence_id, scheduled start)`` pairs (the store's)."""
    if start is None:
        return None
    timed = [(aware(s), ident) for ident, s in listed if ident]
    near = [(abs(s - start), ident) for s, ident in timed if s is not None]
    best = min(near, default=None)
    return best[1] if best is not None and best[0] <= MAX_DRIFT else None
