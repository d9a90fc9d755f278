"""Typed views of the Zoom API responses this client returns.

Field names and types follow the official Meetings/Users specs (reference zoom.md 2.2).
Every model keeps unknown fields (``extra="allow"``) and makes fields optional: Zoom adds
fields over time and omits others depending on plan, settings and email display rules.
Blank strings in time fields (e.g. ``leave_time`` of someone still in the meeting) become
``None``. The models that webhook payloads share with the REST API (participants, custom
questions, tracking sources, recording files) read text with :data:`~zoom_brevo.zoom.fields.Text`,
so the one model fits both (``zoom.webhook_models``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from zoom_brevo.zoom.fields import Text, ZoomTime


class ZoomModel(BaseModel):
    """Base: tolerant of extra fields, immutable."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class TokenInfo(ZoomModel):
    """What a credentials check learnt: granted scopes and the token's lifetime."""

    scope: str = ""
    expires_in_s: int = 0
    api_url: str | None = None


class User(ZoomModel):
    """A user of the account (``GET /users``)."""

    id: str | None = None
    email: str = ""
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    type: int | None = None
    status: str | None = None
    timezone: str | None = None
    dept: str | None = None


class Occurrence(ZoomModel):
    """One occurrence of a recurring meeting or webinar."""

    occurrence_id: str = ""
    start_time: ZoomTime = None
    duration: int | None = None
    status: str | None = None


# ``settings.approval_type`` (official spec, ``GET /webinars/{webinarId}``, ``GET
# /meetings/{meetingId}``).
MANUAL_APPROVAL = 1
NO_REGISTRATION = 2


class RegistrationSettings(ZoomModel):
    """The settings of a meeting or webinar this connector reads (official spec,
    ``settings``)."""

    approval_type: int | None = None
    """0 approved automatically, 1 the host approves each registrant, 2 no registration."""
    registration_type: int | None = None


class Meeting(ZoomModel):
    """A scheduled meeting (``GET /meetings/{id}`` or an item of ``/users/{id}/meetings``)."""

    id: int | None = None
    uuid: str | None = None
    host_id: str | None = None
    host_email: str | None = None
    topic: str = ""
    type: int | None = None
    status: str | None = None
    start_time: ZoomTime = None
    duration: int | None = None
    timezone: str | None = None
    created_at: ZoomTime = None
    join_url: str | None = None
    registration_url: str | None = None
    agenda: str | None = None
    occurrences: list[Occurrence] = Field(default_factory=list)
    settings: RegistrationSettings | None = None

    @property
    def approval_type(self) -> int | None:
        """``settings.approval_type``: 0 automatic, 1 manual, 2 no registration (spec)."""
        return self.settings.approval_type if self.settings else None

    @property
    def takes_registration(self) -> bool:
        """Whether people can register (``approval_type`` is not ``NO_REGISTRATION``)."""
        return self.approval_type != NO_REGISTRATION


class Webinar(Meeting):
    """A webinar (``GET /webinars/{id}`` or an item of ``/users/{id}/webinars``)."""

    is_simulive: bool | None = None


class FormField(ZoomModel):
    """A standard field of a registration form (``field_name`` as Zoom names it)."""

    field_name: str
    required: bool = False


class FormQuestion(ZoomModel):
    """A custom question of a registration form."""

    title: str
    required: bool = False
    type: str | None = None
    answers: list[str] = Field(default_factory=list)


class RegistrationQuestions(ZoomModel):
    """``GET /webinars/{webinarId}/registrants/questions`` (or ``/meetings/...``)."""

    questions: list[FormField] = Field(default_factory=list)
    custom_questions: list[FormQuestion] = Field(default_factory=list)


class AddedRegistrant(ZoomModel):
    """The 201 answer of ``POST /webinars/{webinarId}/registrants`` (or ``/meetings/...``)."""

    id: int | None = None
    registrant_id: str
    topic: str = ""
    start_time: ZoomTime = None
    join_url: str | None = None
    occurrences: list[Occurrence] = Field(default_factory=list)


class HeldMeeting(ZoomModel):
    """The fields Zoom's past-meeting details and usage report share for one held instance."""

    id: int | None = None
    uuid: str | None = None
    topic: str = ""
    type: int | None = None
    start_time: ZoomTime = None
    end_time: ZoomTime = None
    duration: int | None = None
    total_minutes: int | None = None
    participants_count: int | None = None
    user_name: str | None = None
    user_email: str | None = None
    source: str | None = None


class PastMeeting(HeldMeeting):
    """Details of one ended instance (``GET /past_meetings/{id}``)."""

    host_id: str | None = None
    dept: str | None = None


class WebinarReport(HeldMeeting):
    """Details of one ended webinar instance (``GET /report/webinars/{id}``, HEAVY).

    Zoom has no past-webinar details endpoint; this report is the one that says when a
    webinar instance actually started and ended (official spec: reportWebinarDetails).
    """

    dept: str | None = None


class PastInstance(ZoomModel):
    """One ended occurrence of a meeting or webinar: its UUID and start."""

    uuid: str
    start_time: ZoomTime = None


class ParticipantSession(ZoomModel):
    """One join session of one person: who it was and when.

    The fields Zoom's participant lists and its ``participant_joined``/``_left`` webhooks
    share (official specs: reportMeetingParticipants, meeting.participant_joined).
    """

    id: Text = ""
    participant_user_id: Text = ""
    user_id: Text = ""
    registrant_id: Text = ""
    customer_key: Text = ""
    join_time: ZoomTime = None
    leave_time: ZoomTime = None


class Participant(ParticipantSession):
    """One join session in a participant list (past_* and report/* participants).

    A person who rejoins appears once per session; ``duration`` is in seconds
    (reference zoom.md 2.3).
    """

    name: str = ""
    user_email: str = ""
    duration: int = 0
    failover: bool | None = None
    status: str | None = None
    internal_user: bool | None = None
    bo_mtg_id: str | None = None


class CustomQuestion(ZoomModel):
    """One of ``custom_questions[]``: the host's own question and the registrant's answer."""

    title: Text = ""
    value: Text = ""


class Registrant(ZoomModel):
    """A meeting/webinar registrant, or an absentee (registrant who did not attend)."""

    id: str | None = None
    email: str = ""
    first_name: str = ""
    last_name: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    phone: str | None = None
    industry: str | None = None
    org: str | None = None
    job_title: str | None = None
    purchasing_time_frame: str | None = None
    role_in_purchase_process: str | None = None
    no_of_employees: str | None = None
    comments: str | None = None
    custom_questions: list[CustomQuestion] = Field(default_factory=list)
    status: str | None = None
    create_time: ZoomTime = None
    join_url: str | None = None


class TrackingSource(ZoomModel):
    """A registration link shared somewhere (``/webinars/{id}/tracking_sources``).

    Registration webhooks carry the one a registrant came through, without the counts.
    """

    id: Text = ""
    source_name: Text = ""
    tracking_url: Text = ""
    registration_count: int | None = None
    visitor_count: int | None = None


class RecordingFile(ZoomModel):
    """One file of a cloud recording; CC/TIMELINE entries lack id, status, size and play_url."""

    id: Text = ""
    meeting_id: Text = ""
    recording_start: ZoomTime = None
    recording_end: ZoomTime = None
    file_type: Text = ""
    file_extension: Text = ""
    file_size: int | None = None
    play_url: Text = ""
    download_url: Text = ""
    status: Text = ""
    recording_type: Text = ""


class Recording(ZoomModel):
    """The cloud recording of one meeting instance.

    ``share_url`` is optional: the current REST schema no longer declares it
    (reference zoom.md 2.2).
    """

    id: int | None = None
    uuid: str | None = None
    account_id: str | None = None
    host_id: str | None = None
    topic: str = ""
    type: int | None = None
    start_time: ZoomTime = None
    duration: int | None = None
    total_size: int | None = None
    recording_count: int | None = None
    share_url: str | None = None
    password: str | None = None
    recording_play_passcode: str | None = None
    download_access_token: str | None = Field(default=None, repr=False)
    recording_files: list[RecordingFile] = Field(default_factory=list)


class RecordingView(ZoomModel):
    """One row of a recording's analytics details: who watched (or downloaded) it, when.

    ``duration`` is the seconds watched, for ``type=by_view`` only (Meetings spec,
    ``analytics_details``).
    """

    email: str = ""
    name: str | None = None
    date_time: ZoomTime = None
    duration: int | None = None


class RecordingDay(ZoomModel):
    """One day of a recording's analytics summary: how many people watched, downloaded."""

    date: str = ""
    views_total_count: int = 0
    downloads_total_count: int = 0


class RecordingSummary(ZoomModel):
    """A recording's analytics summary over a range of at most one month."""

    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    analytics_summary: list[RecordingDay] = Field(default_factory=list)


class ReportMeeting(HeldMeeting):
    """A held meeting in a user's meeting report (``/report/users/{id}/meetings``)."""

    has_recording: bool | None = None


class QuestionDetail(ZoomModel):
    """One Q&A question (and its answer) asked by a webinar attendee."""

    question_id: str | None = None
    question: str = ""
    answer: str | None = None
    create_time: ZoomTime = None
    question_status: str | None = None


class QAEntry(ZoomModel):
    """The questions one attendee asked."""

    user_id: str | None = None
    email: str = ""
    name: str = ""
    question_details: list[QuestionDetail] = Field(default_factory=list)


class ReportSummary(ZoomModel):
    """The report's own fields of ``GET /report/webinars/{id}/qa`` and ``.../polls``.

    Their entries (``questions``) are read one at a time by :mod:`zoom_brevo.zoom.reports`.
    """

    id: int | None = None
    uuid: str | None = None
    start_time: ZoomTime = None


class PollAnswer(ZoomModel):
    """One answer to one poll question."""

    polling_id: str | None = None
    question: str = ""
    answer: str = ""
    date_time: ZoomTime = None


class SurveyAnswer(ZoomModel):
    """One answer to one survey question."""

    question_id: str | None = None
    question: str = ""
    answer: str = ""
    date_time: ZoomTime = None


class SurveyEntry(ZoomModel):
    """The survey answers of one attendee (``GET /report/webinars/{id}/survey``)."""

    email: str = ""
    name: str = ""
    first_name: str | None = None
    last_name: str | None = None
    answer_details: list[SurveyAnswer] = Field(default_factory=list)


class PollEntry(ZoomModel):
    """The poll answers of one attendee."""

    email: str = ""
    name: str = ""
    first_name: str | None = None
    last_name: str | None = None
    question_details: list[PollAnswer] = Field(default_factory=list)
