"""Registering people into a webinar: ``POST /webinars/{webinarId}/registrants`` and
``GET /webinars/{webinarId}/registrants/questions`` (official spec, Meetings API:
webinarRegistrantCreate, webinarRegistrantsQuestionsGet).

What Zoom does, and the emulator with it:

- 201 ``{id, registrant_id, topic, start_time, join_url, occurrences}`` (occurrences only
  for a recurring webinar); ``email`` and ``first_name`` are required by the schema.
- Registering an address again answers the existing registration (devforum "Why are now
  limited to only 3 Add Webinar Registrant API calls per day": "it just returns the
  existing registrant if there already is one").
- At most 3 requests a day per registrant and webinar: 429 with code 429 (reference
  zoom.md 3; devforum "429 error for user who is not registered").
- 400 code 3000 "This webinar does not have registration as required" when registration
  is off (``approval_type`` 2); the questions endpoint says "Registration has not been
  enabled for this webinar". 3027 for the host's own address, 3038 once the webinar is over.
- A manual-approval webinar (``approval_type`` 1) keeps new registrants ``pending``.
- A required field or custom question left out: 400 code 300 "Validation Failed." with
  ``errors[{field, message}]`` (Zoom's validation error shape, reference zoom.md 1.3).
- A denied (or cancelled: Zoom stores it as denied) address cannot register again. The spec
  documents no code for it; the emulator answers 400 code 3000, and the connector never
  relies on it (it lists denied registrants before registering anyone).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from zoom_brevo.sandbox.scenario import Registrant, Webinar
from zoom_brevo.sandbox.zoom import render
from zoom_brevo.sandbox.zoom.errors import ZoomError
from zoom_brevo.sandbox.zoom.lookup import WEBINAR

if TYPE_CHECKING:
    from zoom_brevo.sandbox.zoom.routes import Call

Json = dict[str, Any]
DAILY_REQUESTS_PER_REGISTRANT = 3
NO_REGISTRATION = 2
MANUAL_APPROVAL = 1
_TEXT_FIELDS = (
    "last_name",
    "address",
    "city",
    "country",
    "zip",
    "state",
    "phone",
    "industry",
    "org",
    "job_title",
    "purchasing_time_frame",
    "role_in_purchase_process",
    "no_of_employees",
    "comments",
)


def _webinar(call: Call) -> Webinar:
    found = call.finder.scheduled(call.id("webinarId"), WEBINAR)
    assert isinstance(found, Webinar)
    return found


def registration_questions(call: Call) -> Json:
    """``GET /webinars/{webinarId}/registrants/questions``."""
    webinar = _webinar(call)
    if webinar.approval_type == NO_REGISTRATION:
        raise ZoomError(
            400, 3000, f"Registration has not been enabled for this webinar: {webinar.id}."
        )
    return {
        "questions": [{"field_name": n, "required": r} for n, r in webinar.form_fields],
        "custom_questions": [
            {"title": q.title, "type": q.type, "required": q.required, "answers": list(q.answers)}
            for q in webinar.form_questions
        ],
    }


def add_webinar_registrant(call: Call) -> Json:
    """``POST /webinars/{webinarId}/registrants``: 201 with the registration."""
    webinar = _webinar(call)
    _check_open(webinar, call.finder.now())
    body = call.body if isinstance(call.body, dict) else {}
    email, first_name = _required_identity(body)
    if email.lower() == webinar.host.email.lower():
        raise ZoomError(400, 3027, "Host cannot register.")
    occurrences = _occurrences(webinar, call)
    _count_request(webinar, email, call.finder.now())
    existing = _existing(webinar, email)
    if existing is not None and existing.status == "denied":
        raise ZoomError(400, 3000, "This registrant has been denied and cannot register again.")
    if existing is None:
        _check_required(webinar, body)
        existing = _register(webinar, email, first_name, body)
    return _answer(webinar, existing, occurrences)


def _check_open(webinar: Webinar, now: datetime) -> None:
    if webinar.approval_type == NO_REGISTRATION:
        raise ZoomError(
            400, 3000, f"This webinar does not have registration as required: {webinar.id}."
        )
    if all(i.end <= now for i in webinar.instances):
        raise ZoomError(
            400,
            3038,
            "Webinar is over, you cannot register now. If you have any questions, contact "
            "the webinar host.",
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


def _occurrences(webinar: Webinar, call: Call) -> list[Json]:
    upcoming = [o for o in render.occurrences(webinar) if o["start_time"] > _iso_now(call)]
    wanted = [i for i in call.query.get("occurrence_ids", "").split(",") if i]
    known = {o["occurrence_id"] for o in upcoming}
    for ident in wanted:
        if ident not in known:
            raise ZoomError(404, 3001, f"Meeting {ident} is not found or has expired.")
    return [o for o in upcoming if not wanted or o["occurrence_id"] in wanted]


def _iso_now(call: Call) -> str:
    return render.iso(call.finder.now())


def _count_request(webinar: Webinar, email: str, now: datetime) -> None:
    key = (email.lower(), now.date().isoformat())
    count = webinar.registration_requests.get(key, 0) + 1
    webinar.registration_requests[key] = count
    if count > DAILY_REQUESTS_PER_REGISTRANT:
        raise ZoomError(
            429,
            429,
            f"You have exceeded the daily rate limit of ({DAILY_REQUESTS_PER_REGISTRANT}) for "
            f"Add a webinar registrant API requests for the registrant ({email}). You can "
            "resume these API requests at GMT 00:00:00.",
        )


def _existing(webinar: Webinar, email: str) -> Registrant | None:
    wanted = email.lower()
    for i in range(len(webinar.registrants)):
        if i in webinar.deleted:
            continue
        reg = webinar.registrant(i)
        if reg.email.lower() == wanted:
            return reg
    return None


def _check_required(webinar: Webinar, body: Json) -> None:
    for name, required in webinar.form_fields:
        value = body.get(name)
        if required and (not isinstance(value, str) or not value.strip()):
            raise _invalid(name, "This field is required.")
    answers = {
        q.get("title"): q.get("value")
        for q in body.get("custom_questions") or []
        if isinstance(q, dict)
    }
    for question in webinar.form_questions:
        value = answers.get(question.title)
        if question.required and (not isinstance(value, str) or not value.strip()):
            raise _invalid("custom_questions", f"This question is required: {question.title}")


def _register(webinar: Webinar, email: str, first_name: str, body: Json) -> Registrant:
    last_name = body.get("last_name") if isinstance(body.get("last_name"), str) else ""
    person = webinar.scenario.new_person(email, first_name, str(last_name))
    fields = [(n, str(body[n])) for n in _TEXT_FIELDS[1:] if isinstance(body.get(n), str)]
    questions = [
        (str(q["title"]), str(q.get("value", "")))
        for q in body.get("custom_questions") or []
        if isinstance(q, dict) and "title" in q
    ]
    status = "pending" if webinar.approval_type == MANUAL_APPROVAL else "approved"
    return webinar.add_registrant(person, status=status, fields=fields, questions=questions)


def _answer(webinar: Webinar, reg: Registrant, occurrences: list[Json]) -> Json:
    body: Json = {
        "id": webinar.id,
        "registrant_id": reg.id,
        "topic": webinar.topic,
        "start_time": occurrences[0]["start_time"] if occurrences else None,
        "join_url": reg.join_url,
    }
    if len(webinar.instances) > 1:
        body["occurrences"] = occurrences
    if body["start_time"] is None:
        body["start_time"] = render.iso(webinar.latest.start)
    return body
