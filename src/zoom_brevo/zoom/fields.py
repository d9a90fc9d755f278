"""The coercions every Zoom model shares, REST responses and webhook payloads alike.

Zoom's specs type ids and names as strings and times as ``date-time``; its payloads and
examples also send numbers for ids (``id`` is an integer in registration and recording
events, reference zoom.md 4.4), ``null`` for absent text and ``""`` for times not known
yet (``leave_time`` of someone still in the meeting, reference zoom.md 2.2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator


def _text(value: Any) -> Any:
    """``null`` -> ``""``; numbers -> their decimal text; strings stripped."""
    if type(value) is str:  # nearly always: the one check for most of Zoom's rows
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value.strip() if isinstance(value, str) else value


def _time(value: Any) -> Any:
    """Blank or ``null`` times are unknown (``None``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


Text = Annotated[str, BeforeValidator(_text)]
ZoomTime = Annotated[datetime | None, BeforeValidator(_time)]


def aware(value: datetime | None) -> datetime | None:
    """``value`` with UTC assumed when Zoom left the offset out."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
