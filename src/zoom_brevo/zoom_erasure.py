"""Erasure in Zoom (``forget --zoom``): delete a person's registrations, say what stays.

Zoom's API can delete a registration (``DELETE /meetings|webinars/{id}/registrants/{id}``)
and nothing else about a person: the rows of past meeting and webinar reports, Q&A and
poll answers and cloud recordings have no delete endpoint. Those are named to the
operator, who must ask Zoom (the account owner's data request) to remove them.

Runs before the local erasure, which removes the stored registrant ids: if a deletion
fails, nothing is erased locally, so running ``forget`` again can finish the work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy.engine import Engine

from zoom_brevo.errors import ApiError
from zoom_brevo.logging import scrub
from zoom_brevo.store import facts, registrations
from zoom_brevo.store.engine import reading
from zoom_brevo.zoom.client import ZoomClient

Outcome = Literal["deleted", "not_found", "failed", "no_registrant_id"]
ZOOM_KEEPS: tuple[str, ...] = (
    "the person's rows in past meeting and webinar reports (name, e-mail, join and leave times)",
    "their Q&A questions and poll answers in webinar reports",
    "what they said or showed in cloud recordings",
)


@dataclass(frozen=True, slots=True)
class ZoomDeletion:
    """One registration and what happened to it in Zoom (no personal data)."""

    kind: str
    meeting_id: int
    outcome: Outcome
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ZoomErasure:
    """Every stored registration of the person, deleted in Zoom or not."""

    deletions: tuple[ZoomDeletion, ...]

    @property
    def failed(self) -> bool:
        """True when a deletion failed (the local erasure must wait for a rerun)."""
        return any(d.outcome == "failed" for d in self.deletions)

    def counts(self) -> dict[str, int]:
        """Deletions by outcome."""
        found: dict[str, int] = {}
        for deletion in self.deletions:
            found[deletion.outcome] = found.get(deletion.outcome, 0) + 1
        return found

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, with what Zoom keeps."""
        return {
            "registrations": [d.to_json() for d in self.deletions],
            "zoom_keeps": list(ZOOM_KEEPS),
        }


def stored_registrations(engine: Engine, email: str) -> list[facts.Registrant]:
    """The person's registrations the store knows, with their Zoom registrant ids: those
    Zoom reported (webhooks, ``sync``) and those ``register`` made, each once."""
    with reading(engine) as conn:
        found = facts.registrations_of(conn, email)
        made = registrations.of_address(conn, email)
    known = {(r.kind, r.meeting_id, r.registrant_id) for r in found}
    for m in made:
        if (m.kind, m.meeting_id, m.registrant_id) in known:
            continue
        known.add((m.kind, m.meeting_id, m.registrant_id))
        found.append(facts.Registrant(
            kind=m.kind, meeting_id=m.meeting_id, email=m.email, status=m.status,
            registrant_id=m.registrant_id, occurrence_id=m.occurrence_id or None,
        ))  # fmt: skip
    return found


async def delete_registrations(
    client: ZoomClient, registrations: list[facts.Registrant]
) -> ZoomErasure:
    """Delete each registration in Zoom; one failure does not stop the others."""
    return ZoomErasure(tuple([await _delete(client, r) for r in registrations]))


async def _delete(client: ZoomClient, reg: facts.Registrant) -> ZoomDeletion:
    if not reg.registrant_id:  # stored from a source that gave no id: Zoom cannot be asked
        return ZoomDeletion(reg.kind, reg.meeting_id, "no_registrant_id")
    try:
        deleted = await client.delete_registrant(
            reg.kind, reg.meeting_id, reg.registrant_id, occurrence_id=reg.occurrence_id
        )
    except ApiError as exc:
        return ZoomDeletion(reg.kind, reg.meeting_id, "failed", scrub(str(exc)))
    return ZoomDeletion(reg.kind, reg.meeting_id, "deleted" if deleted else "not_found")
