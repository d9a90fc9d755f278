"""Building Zoom API paths: meeting/webinar IDs and UUIDs as path segments."""

from __future__ import annotations

from urllib.parse import quote


def needs_double_encoding(id_or_uuid: str) -> bool:
    """Whether Zoom wants this UUID percent-encoded twice (reference zoom.md 2.0)."""
    return id_or_uuid.startswith("/") or "//" in id_or_uuid


def encode_segment(id_or_uuid: str | int) -> str:
    """A meeting/webinar ID, UUID or user ID as one path segment.

    UUIDs contain ``+``, ``/`` and ``=``, so they are always percent-encoded; those that
    start with ``/`` or contain ``//`` are encoded a second time, as Zoom documents on every
    past_*/report/* endpoint (reference zoom.md 2.0).
    """
    text = str(id_or_uuid)
    if not text:
        raise ValueError("a Zoom meeting/webinar/user ID must not be empty")
    once = quote(text, safe="")
    return quote(once, safe="") if needs_double_encoding(text) else once


def expand(template: str, **ids: str | int) -> str:
    """Fill ``{name}`` placeholders of an endpoint template with encoded segments."""
    return template.format_map({name: encode_segment(value) for name, value in ids.items()})
