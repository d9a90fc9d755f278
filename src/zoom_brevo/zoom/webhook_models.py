"""Typed, tolerant views of the Zoom webhook payloads the handlers act on.

Shapes follow reference zoom.md 4.4. Tolerances, each seen in Zoom's own examples:

- ``id`` is a string in started/ended/participant events and an integer in registration
  and recording events; both are read as text (``meeting_id`` gives the number).
- Zoom's ``participant_joined`` example has ``date_time`` instead of ``join_time`` (and
  the ``participant_left`` example a stray ``date_time`` beside ``leave_time``): the
  specific field wins, ``date_time`` is the fallback.
- Optional fields may be missing, ``null`` or blank (``zoom.fields``); unknown fields of
  the envelope and the instance are ignored.
- ``app_deauthorized`` has no ``object`` and carries ``event_ts`` inside ``payload``
  as a string (zoom.md 4.4).

What a payload shares with the REST API is the REST model itself (``zoom.models``): the
participant's session, custom questions, tracking sources and recording files.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from zoom_brevo.zoom.fields import Text, ZoomTime, aware
from zoom_brevo.zoom.models import (
    CustomQuestion,
    Occurrence,
    ParticipantSession,
    RecordingFile,
    TrackingSource,
)
from zoom_brevo.zoom.registration_form import answers_of

Kind = Literal["meeting", "webinar"]
WEBINAR_TYPES = frozenset({5, 6, 9})  # reference zoom.md 4.4: webinar ``type`` values


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MeetingObject(_Model):
    """``payload.object`` of meeting and webinar events (the instance)."""

    id: Text = ""
    uuid: Text = ""
    host_id: Text = ""
    host_email: Text = ""
    topic: Text = ""
    type: int | None = None
    start_time: ZoomTime = None
    end_time: ZoomTime = None
    duration: int | None = None
    timezone: Text = ""

    @property
    def meeting_id(self) -> int:
        """The meeting or webinar number (0 when Zoom sent no usable one)."""
        digits = self.id.replace(" ", "")
        return int(digits) if digits.isdigit() else 0

    @property
    def started_at(self) -> datetime | None:
        """Start time, timezone-aware."""
        return aware(self.start_time)

    @property
    def ended_at(self) -> datetime | None:
        """End time, timezone-aware."""
        return aware(self.end_time)


class EventParticipant(ParticipantSession):
    """``payload.object.participant`` of joined/left events."""

    user_name: Text = ""
    participant_uuid: Text = ""
    email: Text = ""
    date_time: ZoomTime = None  # Zoom's example typo (reference zoom.md 6.15)
    leave_reason: Text = ""

    @property
    def joined_at(self) -> datetime | None:
        """When this session began (``join_time``, else ``date_time``)."""
        return aware(self.join_time or self.date_time)

    @property
    def left_at(self) -> datetime | None:
        """When this session ended (``leave_time``, else ``date_time``)."""
        return aware(self.leave_time or self.date_time)


class ParticipantObject(MeetingObject):
    """The instance plus the participant who joined or left."""

    participant: EventParticipant = Field(default_factory=EventParticipant)


class RegistrantInfo(_Model):
    """``payload.object.registrant`` of registration events.

    ``registration_created`` also carries the form's standard fields (kept as extra keys)
    and ``custom_questions``; approvals and cancellations carry neither.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    id: Text = ""
    first_name: Text = ""
    last_name: Text = ""
    email: Text = ""
    status: Text = ""
    join_url: Text = ""
    tracking_source: TrackingSource | None = None
    custom_questions: list[CustomQuestion] = Field(default_factory=list)

    def answers(self) -> dict[str, str] | None:
        """The form's answers (``zoom.registration_form``), ``None`` when it carried none."""
        questions = [(q.title, q.value) for q in self.custom_questions]
        return answers_of(self.model_extra or {}, questions)


class RegistrationObject(MeetingObject):
    """The webinar plus the registrant; ``occurrences`` of a recurring one (type 8 or 9,
    official events spec: ``occurrences[]{occurrence_id, start_time}``)."""

    registrant: RegistrantInfo = Field(default_factory=RegistrantInfo)
    occurrences: list[Occurrence] = Field(default_factory=list)


class RecordingObject(MeetingObject):
    """``recording.completed``'s object: the instance, its share link and files."""

    share_url: Text = ""
    password: Text = ""
    recording_play_passcode: Text = ""
    recording_files: list[RecordingFile] = Field(default_factory=list)

    @property
    def kind(self) -> Kind:
        """Recordings of webinars carry a webinar ``type``."""
        return "webinar" if self.type in WEBINAR_TYPES else "meeting"


ObjectT = TypeVar("ObjectT", bound=_Model)


class Payload(_Model, Generic[ObjectT]):
    """``payload``: the account and the event's object."""

    account_id: Text = ""
    operator: Text = ""
    operator_id: Text = ""
    object: ObjectT


class Envelope(_Model, Generic[ObjectT]):
    """A whole webhook body: ``{"event", "event_ts", "payload"}``."""

    event: str
    event_ts: Any = None
    payload: Payload[ObjectT]

    @property
    def obj(self) -> ObjectT:
        """``payload.object``."""
        return self.payload.object


class DeauthorizationPayload(_Model):
    """``app_deauthorized``'s payload (Marketplace spec: no ``object``)."""

    account_id: Text = ""
    user_id: Text = ""
    client_id: Text = ""
    deauthorization_time: ZoomTime = None


class Deauthorization(_Model):
    """A whole ``app_deauthorized`` body."""

    event: str
    payload: DeauthorizationPayload


def event_kind(event: str) -> Kind:
    """``meeting`` or ``webinar`` from an event name like ``webinar.participant_left``."""
    return "webinar" if event.startswith("webinar.") else "meeting"


def parse_body(raw_body: bytes) -> dict[str, Any]:
    """The stored body as a JSON object (``ValueError`` when it is not one)."""
    body = json.loads(raw_body)
    if not isinstance(body, dict):
        raise ValueError("webhook body is not a JSON object")  # noqa: TRY004 (a bad value)
    return body
