"""``webinar.registration_created|approved|cancelled|denied`` (and the meeting ones).

Every event stores the occurrences of a recurring meeting or webinar (``store.occurrences``:
how a live instance finds its occurrence) and the registration with its new status
(``facts.upsert_registrant``: the newest status wins, known names are kept). An approved
registration also:

- upserts the contact with ``ATTENDANCE_STATUS`` ``registered`` (meetings and webinars:
  it is one attribute, ``attended`` / ``absent`` once the instance is collected) and
  ``UTM_SOURCE`` from the registration link's ``tracking_source.source_name``; for a
  webinar also the webinar's title, the ``webinar_registrants`` list, and the person's own
  ``ZOOM_JOIN_URL`` and ``ZOOM_REGISTRANT_ID`` (``registration.writeback``: ``register``
  leaves the link out while the host has not approved; ``registration_approved`` carries
  it, reference zoom.md 4.4, so the Brevo invitation can be sent once approved);
- queues ``zoom_registered`` once per person and webinar (ledger key
  ``zoom_registered:<webinar id>:<email>``): ``created`` then ``approved`` sends one.

A registration created ``pending`` (manual approval) is only stored: the person is not
registered until ``registration_approved``. Cancelled and denied registrations are stored
with that status, so that the person is no longer expected (never reported absent); their
Brevo contact is left as it is.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from zoom_brevo.handlers.context import Context, enqueue, new_events, properties
from zoom_brevo.pipeline.commands import Command, SendEvent, UpsertContact
from zoom_brevo.pipeline.derive import iso
from zoom_brevo.pipeline.mapping import PersonFacts, Skipped, map_person
from zoom_brevo.pipeline.rows import clean_email
from zoom_brevo.registration import writeback
from zoom_brevo.store import facts, occurrences
from zoom_brevo.zoom.webhook_models import Envelope, RegistrationObject, event_kind

REGISTERED_EVENT = "zoom_registered"
_STATUS_OF_ACTION = {
    "registration_approved": "approved",
    "registration_cancelled": "cancelled",
    "registration_denied": "denied",
}


def status_of(event: str, given: str) -> str:
    """The registration's status after ``event`` (``created`` carries its own)."""
    action = event.split(".", 1)[-1]
    return _STATUS_OF_ACTION.get(action) or given.lower() or "approved"


def registrant_of(
    body: Envelope[RegistrationObject], *, now: datetime | None = None
) -> facts.Registrant | None:
    """The store's registration for the event; ``None`` without an e-mail address.

    It was made when the event occurred (``event_ts``, epoch milliseconds; the webhook's
    registrant carries no ``create_time``), else ``now``.
    """
    reg = body.obj.registrant
    email = clean_email(reg.email)
    if email is None:
        return None
    source = reg.tracking_source.source_name if reg.tracking_source else ""
    return facts.Registrant(
        kind=event_kind(body.event),
        meeting_id=body.obj.meeting_id,
        email=email,
        status=status_of(body.event, reg.status),
        registrant_id=reg.id or None,
        first_name=reg.first_name or None,
        last_name=reg.last_name or None,
        join_url=reg.join_url or None,
        tracking_source=source or None,
        registered_at=_occurred(body.event_ts) or now,
        answers=reg.answers(),
    )


def _occurred(event_ts: object) -> datetime | None:
    """``event_ts`` as a datetime; ``None`` when absent or not a plausible epoch in ms."""
    if isinstance(event_ts, bool) or not isinstance(event_ts, int | float | str):
        return None
    try:
        millis = float(event_ts)
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def registration_commands(
    body: Envelope[RegistrationObject], registrant: facts.Registrant, ctx: Context
) -> list[Command]:
    """The contact upsert and ``zoom_registered`` event of an approved registration. Pure."""
    if registrant.status != "approved":
        return []
    is_webinar = registrant.kind == "webinar"
    mapped = map_person(
        PersonFacts(
            email=registrant.email,
            first_name=registrant.first_name,
            last_name=registrant.last_name,
            webinar_title=body.obj.topic if is_webinar else None,
            attendance_status="registered",
            registration_source=registrant.tracking_source,
            answers=registrant.answers,
        ),
        field_mapping=ctx.options.field_mapping,
        exclude_domains=ctx.options.exclude_domains,
    )
    if isinstance(mapped, Skipped):
        return []
    attributes = {**mapped.attributes, **(_writeback(registrant) if is_webinar else {})}
    role = "webinar_registrants" if is_webinar else ""
    lists = tuple(i for i in (ctx.options.lists.get(role),) if i)
    props = properties(
        {
            f"{registrant.kind}_id": str(registrant.meeting_id),
            "uuid": body.obj.uuid,
            "topic": body.obj.topic,
            "start_time": iso(body.obj.started_at),
            "join_url": registrant.join_url,
            "registration_source": registrant.tracking_source,
        }
    )
    key = f"{REGISTERED_EVENT}:{registrant.meeting_id}:{mapped.email}"
    return [
        UpsertContact(mapped.email, attributes, lists),
        SendEvent(REGISTERED_EVENT, mapped.email, key, props),
    ]


def _writeback(registrant: facts.Registrant) -> dict[str, str]:
    """The approved registration's join link and registrant id, as ``register`` names them."""
    values = {
        writeback.JOIN_URL: registrant.join_url,
        writeback.REGISTRANT_ID: registrant.registrant_id,
    }
    return {name: value for name, value in values.items() if value}


def handle_registration(ctx: Context, body: Envelope[RegistrationObject]) -> None:
    """Store the registration; for an approved one, queue its contact and event."""
    if not body.obj.meeting_id:
        raise ValueError("the registration names no meeting or webinar (payload.object.id)")
    listed = [(o.occurrence_id, o.start_time) for o in body.obj.occurrences]
    occurrences.remember(ctx.conn, event_kind(body.event), body.obj.meeting_id, listed, now=ctx.now)
    registrant = registrant_of(body, now=ctx.now)
    if registrant is None:
        return
    facts.upsert_registrant(ctx.conn, registrant, now=ctx.now)
    if registrant.answers is None and registrant.status == "approved":
        # An approval carries no form answers: the contact gets those registration_created
        # gave (stored); a webhook with answers already holds what the merge kept.
        known = facts.registrant_answers(
            ctx.conn, registrant.kind, registrant.meeting_id, registrant.email
        )
        registrant = replace(registrant, answers=known)
    commands = registration_commands(body, registrant, ctx)
    events = new_events(ctx.conn, [c for c in commands if isinstance(c, SendEvent)])
    contacts = [c for c in commands if not isinstance(c, SendEvent)]
    enqueue(ctx.conn, [*contacts, *events], now=ctx.now)
