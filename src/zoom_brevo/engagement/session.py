"""One participant session row, vendor-neutral.

Zoom's participant endpoints (``past_*`` and ``report/*``) and the live
``participant_joined/left`` webhooks give one row per join session (reference zoom.md 2.3).
The Zoom layer turns each into a ``SessionRow``:

- ``participant_user_id``: ``participant_user_id`` (report APIs) or ``id`` (past APIs); the
  Zoom user of a signed-in participant, empty for guests.
- ``registrant_id``: the registration the session belongs to, when known.
- ``email``: as Zoom returns it (often empty for people outside the host's account).
- ``name``: the display name typed in Zoom.
- ``session_id``: Zoom's per-session ``user_id``.
- ``leave_time``: ``None`` while the session is still open (live webhooks only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from zoom_brevo.engagement.intervals import require_aware

SessionStatus = Literal["in_meeting", "in_waiting_room"]
SESSION_STATUSES: frozenset[str] = frozenset(get_args(SessionStatus))


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One join/leave session of one participant in one meeting instance."""

    join_time: datetime
    leave_time: datetime | None = None
    status: SessionStatus = "in_meeting"
    participant_user_id: str | None = None
    registrant_id: str | None = None
    email: str | None = None
    name: str | None = None
    session_id: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.join_time, "join_time")
        if self.leave_time is not None:
            require_aware(self.leave_time, "leave_time")
        if self.status not in SESSION_STATUSES:
            allowed = ", ".join(sorted(SESSION_STATUSES))
            raise ValueError(f"unknown session status {self.status!r}; expected one of {allowed}")

    @property
    def counts_as_attendance(self) -> bool:
        """Only time inside the meeting counts; waiting-room time does not."""
        return self.status == "in_meeting"
