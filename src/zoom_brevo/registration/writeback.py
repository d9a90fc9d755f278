"""What ``register`` writes back to the Brevo contact, and the attributes setup-brevo makes.

``ZOOM_JOIN_URL`` (the person's own join link, for the invitation e-mail:
``{{ contact.ZOOM_JOIN_URL }}``), ``ZOOM_REGISTRANT_ID`` and ``ZOOM_NEXT_START`` (when the
next occurrence starts, ISO 8601 UTC: for a recurring webinar or meeting the first
occurrence still to come, else its start). Text attributes: Brevo's date type keeps no time of day
(reference brevo.md 2.9). A registration awaiting the host's approval gets no join link:
Zoom e-mails it on approval, and a link sent before would not let the person in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from zoom_brevo.zoom.models import AddedRegistrant

JOIN_URL = "ZOOM_JOIN_URL"
REGISTRANT_ID = "ZOOM_REGISTRANT_ID"
NEXT_START = "ZOOM_NEXT_START"
ATTRIBUTE_TYPES: Mapping[str, str] = {JOIN_URL: "text", REGISTRANT_ID: "text", NEXT_START: "text"}


def next_start(added: AddedRegistrant) -> datetime | None:
    """The start of the next occurrence (recurring) or of the webinar."""
    starts = [o.start_time for o in added.occurrences if o.start_time is not None]
    return min(starts) if starts else added.start_time


def attributes_of(added: AddedRegistrant, *, pending: bool) -> dict[str, str]:
    """The attributes to set on the contact (nothing blank is sent)."""
    found = {REGISTRANT_ID: added.registrant_id}
    if added.join_url and not pending:
        found[JOIN_URL] = added.join_url
    start = next_start(added)
    if start is not None:
        found[NEXT_START] = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return found
