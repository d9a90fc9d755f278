"""What ``register`` registers into: a Zoom webinar or meeting, opened and checked.

A meeting and a webinar are different Zoom objects with separate numbers and endpoints
(``/webinars/{webinarId}`` and ``/meetings/{meetingId}``, official spec); a number alone
does not say which it is, so the caller says (``Target.kind``). Before anyone is sent:
the object exists (a number of the other kind is named as such), registration is on
(``settings.approval_type`` 2 is "no registration"), a meeting is of a type Zoom registers
into, and the occurrence asked for is one of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from zoom_brevo.errors import ApiError, NotFound
from zoom_brevo.zoom.categories import Kind
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.models import Meeting, Registrant

# Only a scheduled meeting (2) or a recurring one with a fixed time (8) has registration:
# official spec, meeting settings.registration_type "Used for recurring meeting with fixed
# time only"; batch registration "This API can only be used for scheduled meeting"
# (meetingRegistrantCreate itself documents no code for it: the run stops before it).
REGISTERING_MEETING_TYPES = {2: "scheduled", 8: "recurring with a fixed time"}
_OTHER_MEETING_TYPES = {1: "an instant", 3: "a recurring, no fixed time,", 4: "a personal ID"}
_OTHER: dict[Kind, Kind] = {"meeting": "webinar", "webinar": "meeting"}


class RegistrationClosed(ApiError):
    """The webinar or meeting does not take registrations (registration off, a meeting
    type without registration, or it is over)."""


@dataclass(frozen=True, slots=True)
class Target:
    """What to register into what: a webinar or meeting (one occurrence or all) and a
    Brevo list. ``zoom_id`` is the webinar's or meeting's number, ``kind`` says which."""

    zoom_id: int
    list_id: int
    occurrence_id: str | None = None
    kind: Kind = "webinar"

    @property
    def name(self) -> str:
        """``webinar 91234567890`` or ``meeting 81234567890``."""
        return f"{self.kind} {self.zoom_id}"


def registrants(zoom: ZoomClient, target: Target, status: str) -> AsyncIterator[Registrant]:
    """The target's registrants of one status (``GET /webinars|meetings/{id}/registrants``)."""
    listing = zoom.meeting_registrants if target.kind == "meeting" else zoom.webinar_registrants
    return listing(target.zoom_id, status=status, occurrence_id=target.occurrence_id)


async def open_target(zoom: ZoomClient, target: Target) -> Meeting:
    """The webinar or meeting, once it is known to take registrations (and to hold the
    occurrence asked for); else ``NotFound`` or ``RegistrationClosed`` saying why."""
    try:
        found = await zoom.scheduled(target.kind, target.zoom_id)
    except NotFound as exc:
        raise NotFound(
            await _not_found(zoom, target), service="zoom", status=exc.status, code=exc.code
        ) from exc
    _check_type(target, found)
    if not found.takes_registration:
        raise RegistrationClosed(
            f"Registration is not enabled on {target.name}: in the Zoom web portal, edit the "
            f"{target.kind} and tick Registration > Required, then run again.",
            service="zoom",
        )
    known = {o.occurrence_id for o in found.occurrences}
    if target.occurrence_id is not None and target.occurrence_id not in known:
        listed = ", ".join(sorted(known)) or "none: it does not recur"
        raise NotFound(
            f"{target.name.capitalize()} has no occurrence {target.occurrence_id} "
            f"(its occurrences: {listed}).",
            service="zoom",
        )
    return found


async def _not_found(zoom: ZoomClient, target: Target) -> str:
    """Why Zoom has no such webinar (or meeting): the number may be the other kind."""
    other = _OTHER[target.kind]
    try:
        await zoom.scheduled(other, target.zoom_id)
    except ApiError:  # not the other kind either, or not readable with these scopes
        return (
            f"Zoom has no {target.name}: check the {target.kind} ID (Zoom web portal > "
            f"{target.kind.capitalize()}s; the number in its join link) and that the app's "
            "account hosts it."
        )
    option = "with --meeting" if other == "meeting" else "without --meeting"
    return (
        f"{target.zoom_id} is a Zoom {other}, not a {target.kind}: register it as a {other} "
        f"(zoom-brevo register {option}; in from_lists, {other}_id instead of "
        f"{target.kind}_id)."
    )


def _check_type(target: Target, found: Meeting) -> None:
    if target.kind != "meeting" or found.type is None:
        return
    if found.type not in REGISTERING_MEETING_TYPES:
        what = _OTHER_MEETING_TYPES.get(found.type, f"a type {found.type}")
        raise RegistrationClosed(
            f"{target.name.capitalize()} is {what} meeting: Zoom registers people only for a "
            "scheduled meeting or a recurring meeting with a fixed time. Schedule one with "
            "Registration > Required and register into it.",
            service="zoom",
        )
