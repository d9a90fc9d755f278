"""Scenario objects in the shapes of Zoom's REST responses (field names and types as in
the official OpenAPI specs, ``zoom-meeting-open-api-spec.json`` / ``zoom-users-...``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from zoom_brevo.sandbox.scenario import (
    SURVEY_QUESTIONS,
    Attendance,
    Instance,
    Meeting,
    Person,
    QuestionAnswer,
    Recording,
    RecordingView,
    Registrant,
    Session,
    TrackingSource,
    User,
    Webinar,
)

Json = dict[str, Any]
# A registrant's standard form fields besides the names, in the order Zoom lists them.
FORM_FIELDS = (
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


def iso(moment: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ`` in UTC, as Zoom writes times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def user(u: User) -> Json:
    """An item of ``GET /users``."""
    return {
        "id": u.id,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "display_name": f"{u.first_name} {u.last_name}",
        "type": 2,
        "status": "active",
        "pmi": u.pmi,
        "timezone": u.timezone,
        "verified": 1,
        "dept": "",
        "role_id": "0",
        "user_created_at": iso(u.created_at),
        "created_at": iso(u.created_at),
        "last_login_time": iso(u.created_at),
        "login_types": [100],
    }


def _scheduled(item: Meeting | Webinar) -> Json:
    latest = item.latest
    return {
        "uuid": latest.uuid,
        "id": item.id,
        "host_id": item.host.id,
        "topic": item.topic,
        "type": item.type,
        "start_time": iso(latest.start),
        "duration": item.duration_min,
        "timezone": item.host.timezone,
        "created_at": iso(item.created_at),
        "join_url": item.join_url,
        "agenda": item.agenda,
    }


def meeting_item(m: Meeting) -> Json:
    """An item of ``GET /users/{userId}/meetings``."""
    return _scheduled(m) | {"pmi": str(m.host.pmi)}


def webinar_item(w: Webinar) -> Json:
    """An item of ``GET /users/{userId}/webinars``."""
    return _scheduled(w) | {"is_simulive": False}


def occurrences(item: Meeting | Webinar, *, after: datetime | None = None) -> list[Json]:
    """The occurrences of a recurring meeting or webinar (``occurrences`` of its details),
    those scheduled after ``after`` only when given.

    The occurrence id is the scheduled start in milliseconds since the epoch (official
    spec, ``GET /webinars/{webinarId}``: ``"occurrence_id": "1648194360000"`` for
    ``"start_time": "2022-03-25T07:46:00Z"``).
    """
    return [
        {
            "occurrence_id": str(int(i.scheduled_start.timestamp() * 1000)),
            "start_time": iso(i.scheduled_start),
            "duration": item.duration_min,
            "status": "available",
        }
        for i in item.instances
        if after is None or i.scheduled_start > after
    ]


def _details(item: Meeting | Webinar, upcoming_after: datetime | None) -> Json:
    body = _scheduled(item) | {
        "host_email": item.host.email,
        "password": item.password,
        "start_url": f"https://zoom.us/s/{item.id}",
        "creation_source": "open_api",
    }
    if len(item.instances) > 1:
        body["occurrences"] = occurrences(item, after=upcoming_after)
        body["recurrence"] = {"type": 2, "repeat_interval": 1, "end_times": len(item.instances)}
    return body


def _settings(item: Meeting | Webinar) -> Json:
    settings = {"approval_type": item.approval_type}
    if len(item.instances) > 1:
        settings["registration_type"] = 1  # register once, attend any occurrence
    return settings


def meeting(m: Meeting, *, upcoming_after: datetime | None = None) -> Json:
    """``GET /meetings/{meetingId}``; ``upcoming_after``: list only the occurrences
    scheduled after it (Zoom lists past ones only with ``show_previous_occurrences``)."""
    body = _details(m, upcoming_after) | {"status": "waiting", "pmi": str(m.host.pmi)}
    body["settings"] = _settings(m)
    if m.approval_type != 2:  # 2: no registration
        body["registration_url"] = f"https://zoom.us/meeting/register/{m.id}"
    return body


def webinar(w: Webinar, *, upcoming_after: datetime | None = None) -> Json:
    """``GET /webinars/{webinarId}``; ``upcoming_after`` as for ``meeting``."""
    reg_url = f"https://zoom.us/webinar/register/WN_{w.id}"
    return _details(w, upcoming_after) | {
        "registration_url": reg_url,
        "is_simulive": False,
        "settings": _settings(w),
    }


def past_meeting(inst: Instance, participants_count: int) -> Json:
    """``GET /past_meetings/{meetingId}``."""
    parent = inst.parent
    minutes = int((inst.end - inst.start).total_seconds() // 60)
    return {
        "id": parent.id,
        "uuid": inst.uuid,
        "host_id": parent.host.id,
        "topic": parent.topic,
        "type": parent.type,
        "start_time": iso(inst.start),
        "end_time": iso(inst.end),
        "duration": minutes,
        "total_minutes": minutes * max(1, participants_count),
        "participants_count": participants_count,
        "user_name": f"{parent.host.first_name} {parent.host.last_name}",
        "user_email": parent.host.email,
        "dept": "",
        "source": "Zoom",
        "has_meeting_summary": False,
    }


def instance_ref(inst: Instance) -> Json:
    """An item of ``/past_meetings/{id}/instances`` and ``/past_webinars/{id}/instances``."""
    return {"uuid": inst.uuid, "start_time": iso(inst.start)}


def participant(att: Attendance, session: Session, *, report: bool, registrant_id: bool) -> Json:
    """One participant row (one join session) of the past-participant or report APIs."""
    person = att.person
    row: Json = {
        "id": person.zoom_user_id,
        "name": person.name,
        "user_id": session.user_id,
        "user_email": att.registrant.email if att.registrant else person.email,
        "join_time": iso(session.join),
        "leave_time": iso(session.leave),
        "duration": session.duration_s,
        "failover": False,
        "status": session.status,
    }
    if registrant_id and att.registrant:
        row["registrant_id"] = att.registrant.id
    if report:
        row |= {"participant_user_id": person.zoom_user_id, "customer_key": "", "bo_mtg_id": ""}
    else:
        row["internal_user"] = False
    return row


def registrant(r: Registrant) -> Json:
    """A registrant of ``/meetings|webinars/{id}/registrants`` and ``/absentees``."""
    return {
        "id": r.id,
        "email": r.email,
        "first_name": r.first_name,
        "last_name": r.last_name,
        **dict.fromkeys(FORM_FIELDS, ""),  # a field the form did not ask: ""
        **dict(r.fields),
        "custom_questions": [{"title": t, "value": v} for t, v in r.questions],
        "status": r.status,
        "create_time": iso(r.create_time),
        "join_url": r.join_url,
    }


def tracking_source(ts: TrackingSource, registrations: int) -> Json:
    """An item of ``/webinars/{id}/tracking_sources``."""
    return {
        "id": ts.id,
        "source_name": ts.source_name,
        "tracking_url": ts.tracking_url,
        "visitor_count": ts.visitor_count,
        "registration_count": registrations,
    }


def recording(
    inst: Instance, rec: Recording, *, account_id: str, token: str | None, detail: bool = True
) -> Json:
    """``GET /meetings/{meetingId}/recordings``; ``detail=False``: an item of
    ``/users/{id}/recordings`` (which has no ``password``)."""
    parent = inst.parent
    body: Json = {
        "uuid": inst.uuid,
        "id": parent.id,
        "account_id": account_id,
        "host_id": parent.host.id,
        "topic": parent.topic,
        "type": str(parent.type),
        "start_time": iso(inst.start),
        "duration": int((inst.end - inst.start).total_seconds() // 60),
        "total_size": rec.total_size,
        "recording_count": len(rec.files),
        "share_url": rec.share_url,
        "recording_play_passcode": rec.passcode,
        "recording_files": [
            {
                "id": f.id,
                "meeting_id": inst.uuid,
                "recording_start": iso(f.start),
                "recording_end": iso(f.end),
                "file_type": f.file_type,
                "file_extension": f.file_extension,
                "file_size": f.file_size,
                "play_url": f"https://zoom.us/rec/play/{f.id}",
                "download_url": f"https://zoom.us/rec/download/{f.id}",
                "status": "completed",
                "recording_type": f.recording_type,
            }
            for f in rec.files
        ],
    }
    if detail:
        body["password"] = rec.passcode
    if token:
        body["download_access_token"] = token
    return body


def report_details(inst: Instance, participants_count: int) -> Json:
    """``GET /report/meetings/{meetingId}`` and ``GET /report/webinars/{webinarId}``.

    The actual start, end and length of the instance (not its schedule), as both detail
    reports give them (official spec: reportMeetingDetails, reportWebinarDetails).
    """
    parent = inst.parent
    minutes = int((inst.end - inst.start).total_seconds() // 60)
    return {
        "custom_keys": [],
        "dept": "",
        "duration": minutes,
        "end_time": iso(inst.end),
        "id": parent.id,
        "participants_count": participants_count,
        "start_time": iso(inst.start),
        "topic": parent.topic,
        "total_minutes": minutes * participants_count,
        "tracking_fields": [],
        "type": parent.type,
        "user_email": parent.host.email,
        "user_name": f"{parent.host.first_name} {parent.host.last_name}",
        "uuid": inst.uuid,
    }


def report_meeting(inst: Instance, participants_count: int) -> Json:
    """An item of ``GET /report/users/{userId}/meetings``."""
    parent = inst.parent
    minutes = int((inst.end - inst.start).total_seconds() // 60)
    return {
        "uuid": inst.uuid,
        "id": parent.id,
        "type": parent.type,
        "topic": parent.topic,
        "user_name": f"{parent.host.first_name} {parent.host.last_name}",
        "user_email": parent.host.email,
        "start_time": iso(inst.start),
        "end_time": iso(inst.end),
        "duration": minutes,
        "total_minutes": minutes * participants_count,
        "participants_count": participants_count,
        "source": "Zoom",
        "has_recording": inst.recording is not None,
        "custom_keys": [],
    }


def answers(person: Person, items: list[QuestionAnswer], *, poll: bool) -> Json:
    """One person's Q&A (``poll=False``) or poll answers."""
    details: list[Json]
    if poll:
        details = [
            {
                "question": a.question,
                "answer": a.answer,
                "polling_id": "poll-1",
                "date_time": iso(a.at),
            }
            for a in items
        ]
    else:
        details = [{"question": a.question, "answer": a.answer} for a in items]
    return {"name": person.name, "email": person.email, "question_details": details}


def survey(person: Person, items: list[QuestionAnswer]) -> Json:
    """One person's survey answers (``survey_answers[]`` of the webinar survey report)."""
    details = [
        {
            "question": a.question,
            "question_id": f"q-{SURVEY_QUESTIONS.index(a.question) + 1}",
            "answer": a.answer,
            "date_time": iso(a.at),
        }
        for a in items
    ]
    return {
        "email": person.email,
        "name": person.name,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "answer_details": details,
    }


def recording_view(view: RecordingView) -> Json:
    """One row of ``analytics_details`` (duration only for a view, in seconds)."""
    row: Json = {"date_time": iso(view.at), "name": view.name, "email": view.email}
    if view.kind == "by_view":
        row["duration"] = view.duration_s
    return row


def recording_registrant(r: Registrant) -> Json:
    """A registrant of an on-demand recording: the registrant fields of ``registrant``
    without ``create_time`` and ``join_url``, which that schema does not declare."""
    row = registrant(r)
    del row["create_time"], row["join_url"]
    return row
