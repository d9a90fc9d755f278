"""Registering people into a webinar or a meeting: ``POST /webinars/{webinarId}/registrants``,
``POST /meetings/{meetingId}/registrants`` and their ``.../registrants/questions``
(official spec, Meetings API: webinarRegistrantCreate, meetingRegistrantCreate,
webinarRegistrantsQuestionsGet, meetingRegistrantsQuestionsGet).

What Zoom does, and the emulator with it (the same for both unless said):

- 201 ``{id, registrant_id, topic, start_time, join_url, occurrences}`` (occurrences only
  when it recurs); ``email`` and ``first_name`` are required by the schema.
- Registering an address again answers the existing registration (devforum "Why are now
  limited to only 3 Add Webinar Registrant API calls per day": "it just returns the
  existing registrant if there already is one").
- At most 3 requests a day per registrant and meeting or webinar: 429 with code 429
  (reference zoom.md 3, "3 registration requests ... per registrant per meeting per day";
  devforum "429 error for user who is not registered").
- Registration off (``approval_type`` 2): webinars 400 code 3000 "This webinar does not
  have registration as required" and, on the questions endpoint, "Registration has not
  been enabled for this webinar". Meetings: 400 code 3000 (meetingRegistrantCreate's only
  code for a meeting it cannot register into) worded "Registration has not been enabled for
  this meeting" (meetingregistrantdelete's wording). Only a scheduled (type 2) or
  fixed-time recurring (type 8) meeting takes registrants; an instant (1), no-fixed-time
  recurring (3) or personal-ID (4) meeting is refused the same way (the spec's batch
  registration says "This API can only be used for scheduled meeting"; its single create
  documents no code of its own for it).
- 400 code 3043 "... has reached maximum attendee capacity." for a new registrant once it
  holds ``registration_capacity`` (a meeting: at most 4,999, meetingRegistrantCreate).
- 3027 for the host's own address; 3038 once it is over (webinarRegistrantCreate "Webinar
  is over ..."; batch meeting registration "Meeting is over, you can not register now").
- An unknown meeting is 404 code 1001 on meetingRegistrantCreate (its spec), 3001
  elsewhere.
- A manual-approval one (``approval_type`` 1) keeps new registrants ``pending``; for a
  meeting the 201 then has no ``join_url`` (meetingRegistrantCreate).
- A required field or custom question left out: 400 code 300 "Validation Failed." with
  ``errors[{field, message}]`` (Zoom's validation error shape, reference zoom.md 1.3).
- A denied (or cancelled: Zoom stores it as denied) address cannot register again. The spec
  documents no code for it; the emulator answers 400 code 3000, and the connector never
  relies on it (it lists denied registrants before registering anyone).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from zoom_brevo.sandbox.scenario import Meeting, Registrant, Webinar
from zoom_brevo.sandbox.zoom import render
from zoom_brevo.sandbox.zoom.errors import ZoomError
from zoom_brevo.sandbox.zoom.lookup import MEETING, WEBINAR

if TYPE_CHECKING:
    from zoom_brevo.sandbox.zoom.routes import Call

Json = dict[str, Any]
DAILY_REQUESTS_PER_REGISTRANT = 3
NO_REGISTRATION = 2
MANUAL_APPROVAL = 1
REGISTERING_MEETING_TYPES = (2, 8)  # scheduled, recurring with a fixed time
MEETING_CAPACITY = 4_999  # meetingRegistrantCreate: "a maximum limit of 4,999 registrants"


def _parent(call: Call) -> Meeting | Webinar:
    if "meetingId" in call.ids:
        return call.finder.scheduled(call.id("meetingId"), MEETING)
    return call.finder.scheduled(call.id("webinarId"), WEBINAR)


def _noun(parent: Meeting | Webinar) -> str:
    return "meeting" if isinstance(parent, Meeting) else "webinar"


def _registration_on(parent: Meeting | Webinar) -> bool:
    if isinstance(parent, Meeting) and parent.type not in REGISTERING_MEETING_TYPES:
        return False
    return parent.approval_type != NO_REGISTRATION


def registration_questions(call: Call) -> Json:
    """``GET /webinars/{webinarId}/registrants/questions`` (and ``/meetings/...``)."""
    parent = _parent(call)
    if not _registration_on(parent):
        raise ZoomError(
            400, 3000, f"Registration has not been enabled for this {_noun(parent)}: {parent.id}."
        )
    return {
        "questions": [{"field_name": n, "required": r} for n, r in parent.form_fields],
        "custom_questions": [
            {"title": q.title, "type": q.type, "required": q.required, "answers": list(q.answers)}
            for q in parent.form_questions
        ],
    }


def add_registrant(call: Call) -> Json:
    """``POST /webinars/{webinarId}/registrants`` (and ``/meetings/...``): 201 with the
    registration."""
    parent = _created_into(call)
    _check_open(parent, call.finder.now())
    body = call.body if isinstance(call.body, dict) else {}
    email, first_name = _required_identity(body)
    if email.lower() == parent.host.email.lower():
        raise ZoomError(400, 3027, "Host cannot register.")
    occurrences = _occurrences(parent, call)
    _count_request(parent, email, call.finder.now())
    existing = _existing(parent, email)
    if existing is not None and existing.status == "denied":
        raise ZoomError(400, 3000, "This registrant has been denied and cannot register again.")
    if existing is None:
        _check_required(parent, body)
        _check_capacity(parent)
        existing = _register(parent, email, first_name, body)
    return _answer(parent, existing, occurrences)


def _created_into(call: Call) -> Meeting | Webinar:
    try:
        return _parent(call)
    except ZoomError as exc:
        if "meetingId" not in call.ids:
            raise
        # meetingRegistrantCreate documents 404 with code 1001 for an unknown meeting.
        raise ZoomError(404, 1001, f"Meeting does not exist: {call.id('meetingId')}.") from exc


def _check_open(parent: Meeting | Webinar, now: datetime) -> None:
    if not _registration_on(parent):
        if isinstance(parent, Meeting):
            message = f"Registration has not been enabled for this meeting: {parent.id}."
        else:
            message = f"This webinar does not have registration as required: {parent.id}."
        raise ZoomError(400, 3000, message)
    if all(i.end <= now for i in parent.instances):
        noun = _noun(parent)
        raise ZoomError(
            400,
            3038,
            f"{noun.capitalize()} is over, you cannot register now. If you have any "
            f"questions, contact the {noun} host.",
        )


def _invalid(field: str, message: str) -> ZoomError:
    error = ZoomError(400, 300, "Validation Failed.")
    error.errors = [{"field": field, "message": message}]
    return error


def _required_identity(body: Json) -> tuple[str, str]:
    email, first_name = body.get("email"), body.get("first_name")
    if not isinstance(email, str) or "@" not in email or len(email) > 128:
        raise _invalid("email", "Invalid field.")
    if not isinstance(first_name, str) or not first_name.strip() or len(first_name) > 64:
        raise _invalid("first_name", "Invalid field.")
    return email, first_name


def _occurrences(parent: Meeting | Webinar, call: Call) -> list[Json]:
    upcoming = [o for o in render.occurrences(parent) if o["start_time"] > _iso_now(call)]
    wanted = [i for i in call.query.get("occurrence_ids", "").split(",") if i]
    known = {o["occurrence_id"] for o in upcoming}
    for ident in wanted:
        if ident not in known:
            raise ZoomError(404, 3001, f"Meeting {ident} is not found or has expired.")
    return [o for o in upcoming if not wanted or o["occurrence_id"] in wanted]


def _iso_now(call: Call) -> str:
    return render.iso(call.finder.now())


def _count_request(parent: Meeting | Webinar, email: str, now: datetime) -> None:
    key = (email.lower(), now.date().isoformat())
    count = parent.registration_requests.get(key, 0) + 1
    parent.registration_requests[key] = count
    if count > DAILY_REQUESTS_PER_REGISTRANT:
        raise ZoomError(
            429,
            429,
            f"You have exceeded the daily rate limit of ({DAILY_REQUESTS_PER_REGISTRANT}) for "
            f"Add a {_noun(parent)} registrant API requests for the registrant ({email}). You can "
            "resume these API requests at GMT 00:00:00.",
        )


def _existing(parent: Meeting | Webinar, email: str) -> Registrant | None:
    wanted = email.lower()
    for i in range(len(parent.registrants)):
        if i in parent.deleted:
            continue
        reg = parent.registrant(i)
        if reg.email.lower() == wanted:
            return reg
    return None


def _check_capacity(parent: Meeting | Webinar) -> None:
    capacity = parent.registration_capacity
    if capacity is None and isinstance(parent, Meeting):
        capacity = MEETING_CAPACITY
    if capacity is None:
        return
    held = sum(1 for i in range(len(parent.registrants)) if parent.status_of(i) != "deleted")
    if held >= capacity:
        noun = _noun(parent).capitalize()
        raise ZoomError(400, 3043, f"{noun} has reached maximum attendee capacity.")


def _check_required(parent: Meeting | Webinar, body: Json) -> None:
    for name, required in parent.form_fields:
        value = body.get(name)
        if required and (not isinstance(value, str) or not value.strip()):
            raise _invalid(name, "This field is required.")
    answers = {
        q.get("title"): q.get("value")
        for q in body.get("custom_questions") or []
        if isinstance(q, dict)
    }
    for question in parent.form_questions:
        value = answers.get(question.title)
        if question.required and (not isinstance(value, str) or not value.strip()):
            raise _invalid("custom_questions", f"This question is required: {question.title}")


def _register(parent: Meeting | Webinar, email: str, first_name: str, body: Json) -> Registrant:
    last_name = body.get("last_name") if isinstance(body.get("last_name"), str) else ""
    person = parent.scenario.new_person(email, first_name, str(last_name))
    fields = [(n, str(body[n])) for n in render.FORM_FIELDS if isinstance(body.get(n), str)]
    questions = [
        (str(q["title"]), str(q.get("value", "")))
        for q in body.get("custom_questions") or []
        if isinstance(q, dict) and "title" in q
    ]
    status = "pending" if parent.approval_type == MANUAL_APPROVAL else "approved"
    return parent.add_registrant(person, status=status, fields=fields, questions=questions)


def _answer(parent: Meeting | Webinar, reg: Registrant, occurrences: list[Json]) -> Json:
    body: Json = {
        "id": parent.id,
        "registrant_id": reg.id,
        "topic": parent.topic,
        "start_time": occurrences[0]["start_time"] if occurrences else None,
        "join_url": reg.join_url,
    }
    if len(parent.instances) > 1:
        body["occurrences"] = occurrences
    if body["start_time"] is None:
        body["start_time"] = render.iso(parent.latest.start)
    if isinstance(parent, Meeting) and parent.approval_type == MANUAL_APPROVAL:
        # meetingRegistrantCreate: "The API will not return this field if the meeting was
        # created with the approval_type field value of 1 (manual approval)."
        del body["join_url"]
    return body
