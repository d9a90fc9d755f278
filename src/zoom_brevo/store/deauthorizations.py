"""What ``app_deauthorized`` did: the served account's deauthorization, and ignored ones.

Kept as one cursor (``zoom:deauthorizations``) so that ``status``, ``/admin`` and
``/metrics`` read the same fact from any process: when the served account removed the
app (nothing flows after that until it is installed again), and how many signed
deauthorizations of other accounts were received and ignored. Account ids are Zoom's
opaque account identifiers, not personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Connection

from zoom_brevo.store import cursors

CURSOR = "zoom:deauthorizations"
Outcome = Literal["erased", "ignored"]
OUTCOMES: tuple[Outcome, ...] = ("erased", "ignored")


@dataclass(frozen=True, slots=True)
class Deauthorizations:
    """The served account's deauthorization (if any) and the counts by outcome."""

    account_id: str | None = None
    deauthorized_at: datetime | None = None
    counts: dict[str, int] | None = None
    last_ignored_account_id: str | None = None

    @property
    def deauthorized(self) -> bool:
        """True once the served account removed the app."""
        return self.deauthorized_at is not None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        at = self.deauthorized_at
        return {
            "deauthorized": self.deauthorized,
            "account_id": self.account_id,
            "deauthorized_at": at.isoformat() if at else None,
            "counts": {o: (self.counts or {}).get(o, 0) for o in OUTCOMES},
            "last_ignored_account_id": self.last_ignored_account_id,
        }


def read(conn: Connection) -> Deauthorizations:
    """What is recorded (an empty record when nothing was)."""
    position = cursors.get(conn, CURSOR)
    if not isinstance(position, dict):
        return Deauthorizations(counts={})
    at = position.get("deauthorized_at")
    return Deauthorizations(
        account_id=position.get("account_id"),
        deauthorized_at=datetime.fromisoformat(at) if at else None,
        counts={o: int(position.get("counts", {}).get(o, 0)) for o in OUTCOMES},
        last_ignored_account_id=position.get("last_ignored_account_id"),
    )


def record(conn: Connection, account_id: str, outcome: Outcome, *, now: datetime) -> None:
    """Count one deauthorization; for ``erased``, remember the served account's."""
    known = read(conn).to_json()
    counts = dict(known["counts"])
    counts[outcome] += 1
    position = {**known, "counts": counts}
    if outcome == "erased":
        position |= {"account_id": account_id, "deauthorized_at": now.isoformat()}
    else:
        position["last_ignored_account_id"] = account_id
    position.pop("deauthorized", None)
    cursors.save(conn, CURSOR, position, now=now)
