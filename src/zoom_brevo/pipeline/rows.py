"""Zoom response models -> store facts. Pure.

A participant row becomes a ``facts.Session`` whose ``person_key`` is the lower-cased
e-mail when Zoom gives one, else the Zoom user id, the registrant id, the per-session id,
and as a last resort the row's content (reference zoom.md 2.3, docs/engagement.md 1).
Keying by e-mail first makes two sign-ins that differ only in letter case one person, the
same unit as a Brevo contact; rows are keyed one at a time, so collection can stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from zoom_brevo.store.facts import Kind, Registrant, Session
from zoom_brevo.zoom.models import Participant
from zoom_brevo.zoom.models import Registrant as ZoomRegistrant
from zoom_brevo.zoom.registration_form import answers_of

WAITING_ROOM = "in_waiting_room"


def clean_email(value: str | None) -> str | None:
    """Stripped, lower-cased e-mail, ``None`` when blank."""
    text = (value or "").strip().lower()
    return text or None


def email_key(email: str) -> str:
    """The person key of someone known by ``email`` (cleaned: ``clean_email``)."""
    return f"email:{email}"


def person_key(row: Participant, email: str | None) -> str:
    """The key grouping a person's rows in one instance (module docstring)."""
    user = (row.participant_user_id or row.id or "").strip()
    registrant = (row.registrant_id or "").strip()
    session = (row.user_id or "").strip()
    if email:
        return email_key(email)
    if user:
        return f"user:{user}"
    if registrant:
        return f"registrant:{registrant}"
    if session:
        return f"session:{session}"
    join = row.join_time.isoformat() if row.join_time else ""
    return f"guest:{row.name.strip()}|{join}"


def session_from_participant(row: Participant, email: str | None = None) -> Session | None:
    """The session of one participant row; ``None`` when Zoom gave no join time.

    ``email`` overrides the row's (the registration's address, found by registrant id).
    """
    if row.join_time is None:
        return None
    address = clean_email(email) or clean_email(row.user_email)
    leave = row.leave_time
    return Session(
        person_key=person_key(row, address),
        join_time=_aware(row.join_time),
        leave_time=_aware(leave) if leave is not None else None,
        email=address,
        name=row.name.strip() or None,
        status="in_waiting_room" if row.status == WAITING_ROOM else "in_meeting",
        source="final",
    )


def registrant_fact(
    row: ZoomRegistrant,
    kind: Kind,
    meeting_id: int,
    *,
    tracking_source: str | None = None,
    sources: Mapping[str, str] | None = None,
) -> Registrant | None:
    """The store's registrant for a Zoom registrant row; ``None`` without an e-mail.

    The tracking source is ``tracking_source`` (the row came from a listing filtered by
    source), else a source named on the row itself, by name or by id (``sources``).
    """
    email = clean_email(row.email)
    if email is None:
        return None
    extra = row.model_extra or {}
    by_id = (sources or {}).get(_text(extra.get("source_id") or extra.get("tracking_source_id")))
    source = tracking_source or _text(extra.get("tracking_source")) or by_id or None
    return Registrant(
        kind=kind,
        meeting_id=meeting_id,
        email=email,
        status=row.status or "approved",
        registrant_id=row.id or None,
        first_name=row.first_name.strip() or None,
        last_name=(row.last_name or "").strip() or None,
        join_url=row.join_url or None,
        tracking_source=source,
        registered_at=_aware(row.create_time) if row.create_time else None,
        answers=answers_of(
            vars(row),  # the declared fields (pydantic keeps extras apart); no model_dump copy
            [(q.title, q.value) for q in row.custom_questions],
        ),
    )


def _text(value: object) -> str:
    if isinstance(value, dict):  # some payloads nest it: {"source_name": ...}
        value = value.get("source_name")
    return value.strip() if isinstance(value, str) else ""


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
