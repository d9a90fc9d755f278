"""The REST endpoints the emulator serves (reference zoom.md 2.1), each with its rate-limit
category as labelled in the official spec, and their handlers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from zoom_brevo.sandbox.scenario import Instance, Meeting, Webinar
from zoom_brevo.sandbox.zoom import registration, render
from zoom_brevo.sandbox.zoom.errors import ZoomError
from zoom_brevo.sandbox.zoom.lookup import MEETING, WEBINAR, Finder
from zoom_brevo.sandbox.zoom.paging import PageTokens, Rows
from zoom_brevo.sandbox.zoom.ratelimits import HEAVY, LIGHT, MEDIUM

Json = dict[str, Any]
MAX_USERS_PAGE = 2000


@dataclass
class Call:
    """One authenticated API request, with its decoded path ids."""

    finder: Finder
    pages: PageTokens
    path: str
    query: dict[str, str]
    ids: dict[str, str]
    account_id: str
    totals: dict[tuple[object, ...], int]
    body: Any = None  # a POST's decoded JSON body

    def id(self, name: str = "id") -> str:
        """A decoded path parameter."""
        return self.ids[name]

    def page(self, rows: Rows, total: int, *, start: Any = 0, maximum: int = 300) -> Json:
        """The paging fields and one page of ``rows`` under ``items_key`` (set by caller)."""
        page = self.pages.page(self.path, self.query, rows, total, start=start, maximum=maximum)
        return page.fields | {"_items": page.items}


Handler = Callable[[Call], Json]


def _listed(call: Call, key: str, items: Sequence[Json], **extra: Any) -> Json:
    def rows(cursor: int) -> Iterator[tuple[Json, int]]:
        for i in range(cursor, len(items)):
            yield items[i], i + 1

    body = call.page(rows, len(items), maximum=extra.pop("maximum", 300))
    return {**extra, **_rename(body, key)}


def _rename(body: Json, key: str) -> Json:
    body[key] = body.pop("_items")
    return body


# --- users, meetings, webinars ----------------------------------------------------------
def list_users(call: Call) -> Json:
    status = call.query.get("status", "active")
    users = [render.user(u) for u in call.finder.scenario.users] if status == "active" else []
    return _listed(call, "users", users, maximum=MAX_USERS_PAGE)


def _hosted_by(call: Call, items: Sequence[Meeting | Webinar]) -> list[Meeting | Webinar]:
    host = call.finder.user(call.id("userId"))
    now = call.finder.now()
    kind = call.query.get("type", "scheduled")
    mine = [m for m in items if m.host.id == host.id]
    if kind in {"upcoming", "upcoming_meetings"}:
        return [m for m in mine if m.latest.start > now]
    if kind == "previous_meetings":
        return [m for m in mine if m.latest.end <= now]
    if kind == "live":
        return [m for m in mine if m.latest.start <= now < m.latest.end]
    return mine


def list_meetings(call: Call) -> Json:
    found = _hosted_by(call, call.finder.scenario.meetings)
    return _listed(
        call, "meetings", [render.meeting_item(m) for m in found if isinstance(m, Meeting)]
    )


def list_webinars(call: Call) -> Json:
    found = _hosted_by(call, call.finder.scenario.webinars)
    items = [render.webinar_item(w) for w in found if isinstance(w, Webinar)]
    return _listed(call, "webinars", items)


def get_meeting(call: Call) -> Json:
    found = call.finder.scheduled(call.id("meetingId"), MEETING)
    assert isinstance(found, Meeting)
    return render.meeting(found, upcoming_after=_upcoming_after(call))


def get_webinar(call: Call) -> Json:
    found = call.finder.scheduled(call.id("webinarId"), WEBINAR)
    assert isinstance(found, Webinar)
    return render.webinar(found, upcoming_after=_upcoming_after(call))


def _upcoming_after(call: Call) -> datetime | None:
    """Zoom lists past occurrences only with ``show_previous_occurrences=true`` (official
    spec, ``GET /webinars/{webinarId}`` and ``GET /meetings/{meetingId}``)."""
    return None if call.query.get("show_previous_occurrences") == "true" else call.finder.now()


# --- past instances ------------------------------------------------------------------------
def past_meeting(call: Call) -> Json:
    inst = call.finder.instance(call.id("meetingId"), MEETING)
    call.finder.within_a_year(inst)
    return render.past_meeting(inst, inst.attendee_count)


def _report_details(call: Call, param: str, kind: str) -> Json:
    inst = call.finder.instance(call.id(param), kind, report=True)
    call.finder.within_a_year(inst)
    return render.report_details(inst, inst.attendee_count)


def report_meeting_details(call: Call) -> Json:
    return _report_details(call, "meetingId", MEETING)


def report_webinar_details(call: Call) -> Json:
    return _report_details(call, "webinarId", WEBINAR)


def _ended(call: Call, ident: str, kind: str) -> list[Json]:
    parent = call.finder.scheduled(ident, kind)
    now = call.finder.now()
    return [render.instance_ref(i) for i in parent.instances if i.end <= now]


def past_meeting_instances(call: Call) -> Json:
    return {"meetings": _ended(call, call.id("meetingId"), MEETING)}


def past_webinar_instances(call: Call) -> Json:
    return {"webinars": _ended(call, call.id("webinarId"), WEBINAR)}


def _participant_rows(inst: Instance, *, report: bool, registrant_id: bool) -> Rows:
    def rows(cursor: tuple[int, int]) -> Iterator[tuple[Json, tuple[int, int]]]:
        pos, first = cursor
        for p in range(pos, inst.attendee_count):
            att = inst.attendance(p)
            for k in range(first if p == pos else 0, len(att.sessions)):
                after = (p, k + 1) if k + 1 < len(att.sessions) else (p + 1, 0)
                yield (
                    render.participant(
                        att, att.sessions[k], report=report, registrant_id=registrant_id
                    ),
                    after,
                )

    return rows


def _participants(call: Call, param: str, kind: str, *, report: bool) -> Json:
    inst = call.finder.instance(call.id(param), kind, report=report)
    if report:
        call.finder.within_a_year(inst)
    with_registrant = "registrant_id" in call.query.get("include_fields", "").split(",")
    rows = _participant_rows(inst, report=report, registrant_id=with_registrant)
    return _rename(call.page(rows, inst.row_count(), start=(0, 0)), "participants")


def past_meeting_participants(call: Call) -> Json:
    return _participants(call, "meetingId", MEETING, report=False)


def report_meeting_participants(call: Call) -> Json:
    return _participants(call, "meetingId", MEETING, report=True)


def past_webinar_participants(call: Call) -> Json:
    return _participants(call, "webinarId", WEBINAR, report=False)


def report_webinar_participants(call: Call) -> Json:
    return _participants(call, "webinarId", WEBINAR, report=True)


# --- registrants ---------------------------------------------------------------------------
def _registrants(call: Call, parent: Meeting | Webinar) -> Json:
    status = call.query.get("status", "approved")
    source = call.query.get("tracking_source_id", "")

    def wanted(i: int) -> bool:
        if parent.status_of(i) != status:
            return False
        return not source or getattr(parent.source_of(i), "id", "") == source

    count = len(parent.registrants)

    def rows(cursor: int) -> Iterator[tuple[Json, int]]:
        for i in range(cursor, count):
            if wanted(i):
                yield render.registrant(parent.registrant(i)), i + 1

    key = (parent.id, status, source, count, len(parent.deleted))
    if key not in call.totals:
        call.totals[key] = sum(1 for i in range(count) if wanted(i))
    return _rename(call.page(rows, call.totals[key]), "registrants")


def meeting_registrants(call: Call) -> Json:
    return _registrants(call, call.finder.scheduled(call.id("meetingId"), MEETING))


def webinar_registrants(call: Call) -> Json:
    return _registrants(call, call.finder.scheduled(call.id("webinarId"), WEBINAR))


def _delete_registrant(call: Call, parent: Meeting | Webinar) -> Json:
    """Zoom answers 204; a registrant it does not hold is 400 with code 3000 (official spec,
    ``DELETE /webinars/{webinarId}/registrants/{registrantId}``)."""
    wanted = call.id("registrantId")
    for i in range(len(parent.registrants)):
        if i not in parent.deleted and parent.registrant(i).id == wanted:
            parent.deleted.add(i)
            return {}
    raise ZoomError(400, 3000, f"Registrant {wanted} was not found.")


def delete_meeting_registrant(call: Call) -> Json:
    return _delete_registrant(call, call.finder.scheduled(call.id("meetingId"), MEETING))


def delete_webinar_registrant(call: Call) -> Json:
    return _delete_registrant(call, call.finder.scheduled(call.id("webinarId"), WEBINAR))


def tracking_sources(call: Call) -> Json:
    webinar = call.finder.scheduled(call.id("webinarId"), WEBINAR)
    counts: dict[str, int] = {}
    for i in range(len(webinar.registrants)):
        src = webinar.source_of(i)
        if src:
            counts[src.id] = counts.get(src.id, 0) + 1
    items = [render.tracking_source(s, counts.get(s.id, 0)) for s in webinar.sources]
    return {"total_records": len(items), "tracking_sources": items}


def webinar_absentees(call: Call) -> Json:
    inst = call.finder.instance(call.id("webinarId"), WEBINAR, report=True)
    webinar = inst.parent
    assert isinstance(webinar, Webinar)

    def rows(cursor: int) -> Iterator[tuple[Json, int]]:
        for reg in webinar.absentees(cursor):
            yield render.registrant(reg), reg.index + 1

    return _rename(call.page(rows, webinar.absentee_count()), "registrants")


# --- Q&A and polls ---------------------------------------------------------------------------
def _answers(call: Call, *, poll: bool, report: bool) -> Json:
    inst = call.finder.instance(call.id("webinarId"), WEBINAR, report=report)
    source = inst.poll_answers() if poll else inst.qa()
    questions = [render.answers(p, items, poll=poll) for p, items in source]
    if poll and report:
        for q, (person, _) in zip(questions, inst.poll_answers(), strict=True):
            q |= {"first_name": person.first_name, "last_name": person.last_name}
    return {
        "id": inst.parent.id,
        "uuid": inst.uuid,
        "start_time": render.iso(inst.start),
        "questions": questions,
    }


def past_webinar_qa(call: Call) -> Json:
    return _answers(call, poll=False, report=False)


def report_webinar_qa(call: Call) -> Json:
    return _answers(call, poll=False, report=True)


def past_webinar_polls(call: Call) -> Json:
    return _answers(call, poll=True, report=False)


def report_webinar_polls(call: Call) -> Json:
    return _answers(call, poll=True, report=True)


def report_webinar_survey(call: Call) -> Json:
    inst = call.finder.instance(call.id("webinarId"), WEBINAR, report=True)
    webinar = inst.parent
    assert isinstance(webinar, Webinar)
    if not webinar.survey_on_plan:
        # Official spec: 400, error code 200 "No permission." (a plan without the feature).
        raise ZoomError(400, 200, "No permission.")
    return {
        "webinar_id": webinar.id,
        "webinar_uuid": inst.uuid,
        "start_time": render.iso(inst.start),
        "survey_id": f"survey-{webinar.id}",
        "survey_name": "Survey of this webinar",
        "survey_answers": [render.survey(p, items) for p, items in inst.survey_answers()],
    }


# --- recordings and the user meeting report ------------------------------------------------
def meeting_recordings(call: Call) -> Json:
    ident = call.id("meetingId")
    try:
        inst = call.finder.instance(ident, None, ready=True)
    except ZoomError:
        inst = None
    if inst is None or inst.recording is None:
        raise ZoomError(404, 3301, "There is no recording for this meeting.")
    wants_token = "download_access_token" in call.query.get("include_fields", "")
    token = secrets.token_urlsafe(32) if wants_token else None
    return render.recording(inst, inst.recording, account_id=call.account_id, token=token)


def _recorded_instance(call: Call) -> Instance:
    try:
        inst = call.finder.instance(call.id("meetingId"), None, ready=True)
    except ZoomError:
        inst = None
    if inst is None or inst.recording is None:
        raise ZoomError(404, 3301, "There is no recording for this meeting.")
    return inst


def recording_registrants(call: Call) -> Json:
    """Registrants of a meeting's on-demand recording, by ``status`` (default approved)."""
    ident = call.id("meetingId")
    parent = call.finder.scenario.find(int(ident)) if ident.isdigit() else None
    if parent is None or not any(i.recording for i in parent.instances):
        raise ZoomError(404, 3301, "There is no recording for this meeting.")
    status = call.query.get("status", "approved")
    regs = parent.recording_registrants
    found = [render.recording_registrant(r) for r in regs if r.status == status]
    return _listed(call, "registrants", found)


def recording_analytics_details(call: Call) -> Json:
    """Who watched (``type=by_view``) or downloaded the recording, within ``from``-``to``."""
    inst = _recorded_instance(call)
    start, end = _date_range(call, required=False)
    kind = call.query.get("type", "by_view")
    if kind not in ("by_view", "by_download"):
        raise ZoomError(400, 300, "Invalid field: type must be by_view or by_download.")
    now = call.finder.now()
    found = [
        render.recording_view(v)
        for v in inst.views
        if v.kind == kind and v.at <= now and start <= v.at.date() <= end
    ]
    dates = {"from": start.isoformat(), "to": end.isoformat()}
    body = _listed(call, "analytics_details", found, **dates)
    del body["page_count"]  # not in this operation's schema (Meetings spec, analytics_details)
    return body


def recording_analytics_summary(call: Call) -> Json:
    """Per day of the range: how many people watched and downloaded the recording."""
    inst = _recorded_instance(call)
    start, end = _date_range(call, required=False)
    now = call.finder.now()
    days: dict[date, tuple[set[str], set[str]]] = {}
    for v in inst.views:
        if v.at <= now and start <= v.at.date() <= end:
            viewed, downloaded = days.setdefault(v.at.date(), (set(), set()))
            (viewed if v.kind == "by_view" else downloaded).add(v.email.lower())
    rows = [
        {"date": day.isoformat(), "views_total_count": len(w), "downloads_total_count": len(d)}
        for day, (w, d) in sorted(days.items())
    ]
    return {"from": start.isoformat(), "to": end.isoformat(), "analytics_summary": rows}


def _date_range(call: Call, *, required: bool) -> tuple[date, date]:
    today = call.finder.now().date()
    try:
        start = date.fromisoformat(call.query["from"]) if "from" in call.query else None
        end = date.fromisoformat(call.query["to"]) if "to" in call.query else None
    except ValueError:
        raise ZoomError(400, 300, "Invalid date: use yyyy-mm-dd for from and to.") from None
    if required and (start is None or end is None):
        raise ZoomError(400, 300, "The from and to fields are required.")
    start, end = start or today, end or today + timedelta(days=1)
    if end < start or (end - start).days > 31:
        raise ZoomError(400, 300, "The date range must be at most one month.")
    return start, end


def _instances_of(call: Call, user_id: str) -> Iterator[Instance]:
    host = call.finder.user(user_id)
    now = call.finder.now()
    for parent in (*call.finder.scenario.meetings, *call.finder.scenario.webinars):
        if parent.host.id == host.id:
            yield from (i for i in parent.instances if i.end <= now)


def user_recordings(call: Call) -> Json:
    start, end = _date_range(call, required=False)
    found = [
        render.recording(i, i.recording, account_id=call.account_id, token=None, detail=False)
        for i in _instances_of(call, call.id("userId"))
        if i.recording and start <= i.start.date() <= end
    ]
    return _listed(call, "meetings", found, **{"from": start.isoformat(), "to": end.isoformat()})


def report_user_meetings(call: Call) -> Json:
    start, end = _date_range(call, required=True)
    found = [
        render.report_meeting(i, i.attendee_count)
        for i in _instances_of(call, call.id("userId"))
        if start <= i.start.date() <= end and i.attendee_count >= 2
    ]
    return _listed(call, "meetings", found, **{"from": start.isoformat(), "to": end.isoformat()})


@dataclass(frozen=True, slots=True)
class Route:
    """A served endpoint: path template under ``/v2``, rate-limit category, handler."""

    template: str
    category: str
    handler: Handler
    scopes: tuple[str, ...] = ()  # any one of them (classic, granular); () = not checked

    @property
    def segments(self) -> tuple[str, ...]:
        """The template split into segments (``{name}`` marks a parameter)."""
        return tuple(self.template.strip("/").split("/"))


ROUTES: tuple[Route, ...] = (
    Route("/users", MEDIUM, list_users),
    Route("/users/{userId}/meetings", MEDIUM, list_meetings),
    Route("/users/{userId}/webinars", MEDIUM, list_webinars),
    Route("/users/{userId}/recordings", MEDIUM, user_recordings),
    Route("/meetings/{meetingId}", LIGHT, get_meeting),
    Route("/meetings/{meetingId}/registrants", MEDIUM, meeting_registrants),
    Route(
        "/meetings/{meetingId}/registrants/questions",
        LIGHT,
        registration.registration_questions,
        (
            "meeting:read:admin",
            "meeting:read",
            "meeting:read:list_registration_questions",
            "meeting:read:list_registration_questions:admin",
        ),
    ),
    Route("/meetings/{meetingId}/recordings", LIGHT, meeting_recordings),
    Route(
        "/meetings/{meetingId}/recordings/analytics_summary",
        MEDIUM,  # no label in the spec either
        recording_analytics_summary,
        (
            "cloud_recording:read:recording_analytics_summary",
            "cloud_recording:read:recording_analytics_summary:admin",
            "cloud_recording:read:recording_analytics_summary:master",
        ),
    ),
    Route(
        "/meetings/{meetingId}/recordings/registrants",
        MEDIUM,
        recording_registrants,
        (
            "recording:read:admin",
            "recording:read",
            "cloud_recording:read:list_recording_registrants",
            "cloud_recording:read:list_recording_registrants:admin",
            "cloud_recording:read:list_recording_registrants:master",
        ),
    ),
    Route(
        "/meetings/{meetingId}/recordings/analytics_details",
        MEDIUM,  # the spec gives this operation no label; the client counts it as MEDIUM
        recording_analytics_details,
        (
            "cloud_recording:read:recording_analytics_details",
            "cloud_recording:read:recording_analytics_details:admin",
            "cloud_recording:read:recording_analytics_details:master",
        ),
    ),
    Route("/past_meetings/{meetingId}", LIGHT, past_meeting),
    Route("/past_meetings/{meetingId}/instances", MEDIUM, past_meeting_instances),
    Route("/past_meetings/{meetingId}/participants", MEDIUM, past_meeting_participants),
    Route("/report/meetings/{meetingId}", HEAVY, report_meeting_details),
    Route("/report/meetings/{meetingId}/participants", HEAVY, report_meeting_participants),
    Route("/report/users/{userId}/meetings", HEAVY, report_user_meetings),
    Route("/webinars/{webinarId}", LIGHT, get_webinar),
    Route("/webinars/{webinarId}/registrants", MEDIUM, webinar_registrants),
    Route(
        "/webinars/{webinarId}/registrants/questions", LIGHT, registration.registration_questions
    ),
    Route("/webinars/{webinarId}/tracking_sources", MEDIUM, tracking_sources),
    Route("/past_webinars/{webinarId}/instances", LIGHT, past_webinar_instances),
    Route("/past_webinars/{webinarId}/participants", MEDIUM, past_webinar_participants),
    Route("/past_webinars/{webinarId}/absentees", HEAVY, webinar_absentees),
    Route("/past_webinars/{webinarId}/qa", MEDIUM, past_webinar_qa),
    Route("/past_webinars/{webinarId}/polls", MEDIUM, past_webinar_polls),
    Route("/report/webinars/{webinarId}", HEAVY, report_webinar_details),
    Route("/report/webinars/{webinarId}/participants", HEAVY, report_webinar_participants),
    Route("/report/webinars/{webinarId}/qa", HEAVY, report_webinar_qa),
    Route("/report/webinars/{webinarId}/polls", HEAVY, report_webinar_polls),
    Route("/report/webinars/{webinarId}/survey", HEAVY, report_webinar_survey),
)


# Writes the connector makes: erasure (``forget --zoom``) deletes registrants.
DELETE_ROUTES: tuple[Route, ...] = (
    Route(
        "/meetings/{meetingId}/registrants/{registrantId}",
        LIGHT,
        delete_meeting_registrant,
        ("meeting:write:admin", "meeting:delete:registrant:admin"),
    ),
    Route(
        "/webinars/{webinarId}/registrants/{registrantId}",
        LIGHT,
        delete_webinar_registrant,
        ("webinar:write:admin", "webinar:delete:registrant:admin"),
    ),
)


# Registering people (``zoom-brevo register``).
POST_ROUTES: tuple[Route, ...] = (
    Route(
        "/webinars/{webinarId}/registrants",
        LIGHT,
        registration.add_registrant,
        ("webinar:write:admin", "webinar:write:registrant:admin"),
    ),
    Route(
        "/meetings/{meetingId}/registrants",
        LIGHT,
        registration.add_registrant,
        ("meeting:write:admin", "meeting:write:registrant:admin"),
    ),
)
_BY_METHOD = {"DELETE": DELETE_ROUTES, "POST": POST_ROUTES}


def match(segments: Sequence[str], method: str = "GET") -> tuple[Route, dict[str, str]] | None:
    """The route whose template fits ``segments`` (raw, still percent-encoded params)."""
    for route in _BY_METHOD.get(method, ROUTES):
        tpl = route.segments
        if len(tpl) != len(segments):
            continue
        ids: dict[str, str] = {}
        for want, got in zip(tpl, segments, strict=True):
            if want.startswith("{"):
                ids[want[1:-1]] = got
            elif want != got:
                break
        else:
            return route, ids
    return None
