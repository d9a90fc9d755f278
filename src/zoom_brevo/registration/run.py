"""Register every member of a Brevo list into a Zoom webinar or meeting (``zoom-brevo
register``).

Webinars and meetings are registered the same way, through their own endpoints
(``/webinars/{webinarId}/...`` or ``/meetings/{meetingId}/...``, official spec
webinarRegistrantCreate and meetingRegistrantCreate). Order of work, so that bad input
fails before anyone is registered:

1. ``GET /webinars/{id}`` or ``GET /meetings/{id}``: it exists, registration is on
   (``settings.approval_type`` 2 is "no registration"; a meeting must also be scheduled,
   type 2, or recurring with a fixed time, type 8: Zoom registers into no other), and
   whether the host approves each registrant (1: the registration is *pending* and gets no
   join link until approved). A number that is the other kind is named as such.
2. ``GET .../registrants/questions``: the form and what it requires (``form``).
3. ``GET .../registrants?status=denied``: people the host denied or whose registration was
   cancelled (Zoom keeps both as denied) cannot register again; they are reported, not sent.
4. The list's members, a page at a time. Per member: already registered by an earlier run
   (store) -> no Zoom call; no e-mail -> skipped; a required field missing -> reported by
   name; else ``POST .../registrants``, stored at once (so a crash never registers twice),
   then the join link, registrant id and next start written back to the contact.

A refusal that concerns one person (Zoom's validation, its 3-a-day limit per person, the
host's own address) is reported for that person and the run goes on; anything else (auth,
outage, the webinar or meeting gone) stops the run with the error, registrations made so
far kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy.engine import Connection, Engine

from zoom_brevo.brevo.client import BrevoClient
from zoom_brevo.brevo.models import Contact
from zoom_brevo.config.settings import FieldMapping
from zoom_brevo.errors import NotFound, PayloadRejected, RegistrantLimitReached
from zoom_brevo.logging import scrub
from zoom_brevo.registration import writeback
from zoom_brevo.registration.form import Body, registration_body
from zoom_brevo.registration.target import (
    RegistrationClosed,
    Target,
    open_target,
    registrants,
)
from zoom_brevo.store import registrations as store
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.zoom.categories import Kind
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.models import MANUAL_APPROVAL, AddedRegistrant, RegistrationQuestions

log = structlog.get_logger(__name__)

Outcome = Literal[
    "registered", "pending", "already_registered", "missing_fields", "blocked", "no_email",
    "failed",
]  # fmt: skip
OUTCOMES: tuple[Outcome, ...] = (
    "registered",
    "pending",
    "already_registered",
    "missing_fields",
    "blocked",
    "no_email",
    "failed",
)
# Official spec, webinarRegistrantCreate "Webinar is over" (batch meeting registration:
# "Meeting is over"), then webinar batch registration and meetingRegistrantCreate: "... has
# reached maximum attendee capacity"; nobody after can be registered either.
OVER = 3038
FULL = 3043
_STOPS = {
    OVER: "is over: Zoom takes no more registrations",
    FULL: "is full (Zoom: maximum attendee capacity reached); raise its capacity in Zoom",
}


@dataclass(frozen=True, slots=True)
class AutoRegistration:
    """``connectors.zoom.registration`` as the worker uses it: the list -> webinar/meeting pairs,
    how often their lists are read (0 = never) and the field mapping that fills the form."""

    targets: tuple[Target, ...] = ()
    poll_interval_s: float = 300.0
    mapping: FieldMapping = field(default_factory=FieldMapping)

    @property
    def on(self) -> bool:
        """Whether the worker polls at all."""
        return bool(self.targets) and self.poll_interval_s > 0


@dataclass(frozen=True, slots=True)
class ContactResult:
    """What happened to one list member (``email`` is never printed unmasked)."""

    contact_id: int
    email: str
    outcome: Outcome
    missing: tuple[str, ...] = ()
    registrant_id: str | None = None
    error: str | None = None


@dataclass
class RegisterReport:
    """The run's results, one per list member, and the Zoom registrations it sent."""

    target: Target
    topic: str = ""
    approval_required: bool = False
    results: list[ContactResult] = field(default_factory=list)
    zoom_posts: int = 0

    def counts(self) -> dict[str, int]:
        """Members by outcome (every outcome present, zero or not)."""
        found = Counter(r.outcome for r in self.results)
        return {o: found.get(o, 0) for o in OUTCOMES}

    @property
    def failed(self) -> bool:
        """Some registration failed in a way running again may fix."""
        return any(r.outcome == "failed" for r in self.results)


@dataclass(frozen=True, slots=True)
class _Context:
    zoom: ZoomClient
    brevo: BrevoClient
    engine: Engine
    form: RegistrationQuestions
    mapping: FieldMapping
    blocked: frozenset[str]
    done: dict[str, store.Registration]
    now: Callable[[], datetime]


async def register_list(
    zoom: ZoomClient,
    brevo: BrevoClient,
    engine: Engine,
    target: Target,
    mapping: FieldMapping,
    *,
    now: Callable[[], datetime],
    contacts: Iterable[Contact] | None = None,
) -> RegisterReport:
    """Register the list's members into the webinar or meeting (see the module docstring).

    ``contacts``: the members already read (a poll reads only those changed since the
    last, ``members(..., modified_since=...)``); default: every member of the list.
    """
    found = await open_target(zoom, target)
    report = RegisterReport(target, found.topic, found.approval_type == MANUAL_APPROVAL)
    form = await zoom.registration_questions(target.kind, target.zoom_id)
    denied = registrants(zoom, target, "denied")
    blocked = frozenset([r.email.lower() async for r in denied if r.email])
    with reading(engine) as conn:
        done = dict(store.registered(conn, *_key(target)))
    context = _Context(zoom, brevo, engine, form, mapping, blocked, done, now)
    async for contact in _given_or_all(brevo, target.list_id, contacts):
        report.results.append(await _register(context, target, contact, report))
    log.info("register_done", kind=target.kind, zoom_id=target.zoom_id, **report.counts())
    return report


def _key(target: Target) -> tuple[Kind, int, str]:
    """The store's key of the target's registrations."""
    return target.kind, target.zoom_id, target.occurrence_id or store.EVERY_OCCURRENCE


def registered(conn: Connection, target: Target) -> Mapping[str, store.Registration]:
    """The registrations made into the target so far, by lower-cased address."""
    return store.registered(conn, *_key(target))


async def _given_or_all(
    brevo: BrevoClient, list_id: int, contacts: Iterable[Contact] | None
) -> AsyncIterator[Contact]:
    if contacts is None:
        async for contact in members(brevo, list_id):
            yield contact
        return
    for contact in contacts:
        yield contact


async def members(
    brevo: BrevoClient, list_id: int, *, modified_since: str | None = None
) -> AsyncIterator[Contact]:
    """The list's members (changed after ``modified_since`` if given); ``NotFound`` names
    the list."""
    found = brevo.list_members(list_id, modified_since=modified_since)
    try:
        first = await anext(found)
    except StopAsyncIteration:
        return
    except NotFound as exc:
        raise NotFound(
            f"Brevo has no contact list {list_id}: check the list ID (Brevo > Contacts > Lists, "
            "the ID column).",
            service="brevo",
            status=exc.status,
            code=exc.code,
        ) from exc
    yield first
    async for contact in found:
        yield contact


async def _register(
    ctx: _Context, target: Target, contact: Contact, report: RegisterReport
) -> ContactResult:
    email = (contact.email or "").strip().lower()
    if not email:
        return ContactResult(contact.id, "", "no_email")
    if email in ctx.done:
        await _repair_writeback(ctx, contact, ctx.done[email])
        return ContactResult(
            contact.id, email, "already_registered", registrant_id=ctx.done[email].registrant_id
        )
    if email in ctx.blocked:
        return ContactResult(contact.id, email, "blocked")
    body = registration_body(email, contact.attributes, ctx.form, ctx.mapping)
    if not isinstance(body, Body):
        return ContactResult(contact.id, email, "missing_fields", tuple(m.describe() for m in body))
    return await _send(ctx, target, contact, body, report)


async def _send(
    ctx: _Context, target: Target, contact: Contact, body: Body, report: RegisterReport
) -> ContactResult:
    email = str(body.fields["email"])
    occurrences = (target.occurrence_id,) if target.occurrence_id else ()
    report.zoom_posts += 1
    try:
        added = await ctx.zoom.add_registrant(
            target.kind, target.zoom_id, body.fields, occurrence_ids=occurrences
        )
    except (PayloadRejected, RegistrantLimitReached) as exc:
        if isinstance(exc.code, int) and exc.code in _STOPS:
            raise RegistrationClosed(
                f"{target.name.capitalize()} {_STOPS[exc.code]}.",
                service="zoom",
                status=exc.status,
                code=exc.code,
            ) from exc
        return ContactResult(contact.id, email, "failed", error=scrub(str(exc)))
    pending = report.approval_required
    _remember(ctx, target, email, added, pending=pending)
    await ctx.brevo.upsert_contact(
        email, attributes=writeback.attributes_of(added, pending=pending)
    )
    outcome: Outcome = "pending" if pending else "registered"
    return ContactResult(contact.id, email, outcome, registrant_id=added.registrant_id)


def _remember(
    ctx: _Context, target: Target, email: str, added: AddedRegistrant, *, pending: bool
) -> None:
    registration = store.Registration(
        kind=target.kind,
        meeting_id=target.zoom_id,
        occurrence_id=target.occurrence_id or "",
        email=email,
        registrant_id=added.registrant_id,
        join_url=added.join_url,
        status="pending" if pending else "approved",
    )
    with transaction(ctx.engine) as conn:
        store.record(conn, registration, now=ctx.now())
    ctx.done[email] = registration


async def _repair_writeback(ctx: _Context, contact: Contact, done: store.Registration) -> None:
    """A run stopped between storing a registration and writing it back: write it now."""
    if contact.attributes.get(writeback.REGISTRANT_ID):
        return
    values: dict[str, Any] = {writeback.REGISTRANT_ID: done.registrant_id}
    if done.join_url and done.status == "approved":
        values[writeback.JOIN_URL] = done.join_url
    await ctx.brevo.upsert_contact(done.email, attributes=values)
