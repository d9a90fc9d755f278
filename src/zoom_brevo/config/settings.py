"""Typed settings: the configuration file's shape, defaults and value rules.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored
setting. Secrets are :class:`~pydantic.SecretStr` and print as ``**********``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from zoom_brevo.zoom.registration_form import POLL_PREFIX, SURVEY_PREFIX, question_key
from zoom_brevo.zoom.webhooks import DEFAULT_TOLERANCE_S

ZoomPlan = Literal["free", "pro", "business"]
BrevoPlan = Literal["general", "advanced", "extended"]
LogLevel = Literal["verbose", "debug", "info", "warning", "error"]
RecordingsMode = Literal["event", "transactional", "campaign", "off"]
InDoubt = Literal["resend", "hold"]

_Text = TypeVar("_Text", str, SecretStr)
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _blank_to_none(value: Any) -> Any:
    """``""`` (e.g. from ``${VAR:-}``) means "not set" for optional values."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _join_keys(value: Any) -> Any:
    """A YAML list of keys becomes the comma-separated form."""
    if isinstance(value, list):
        return ",".join(str(item).strip() for item in value)
    return value


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")  # noqa: TRY004 (pydantic wants ValueError)
    return value


def _http_url(value: str) -> str:
    """Validate an http(s) URL; keep the text as written, minus a trailing slash."""
    try:
        _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}") from None
    return value.rstrip("/")


def _not_empty(value: _Text) -> _Text:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text.strip():
        raise ValueError("expected a non-empty value, got an empty one")
    return value


def _attribute_name(value: str) -> str:
    if not _ATTRIBUTE_NAME.fullmatch(value):
        raise ValueError(
            f"expected a Brevo attribute name (letters, digits and _, starting with a letter),"
            f" got {value!r}"
        )
    return value


RequiredText = Annotated[str, AfterValidator(_not_empty)]
RequiredSecret = Annotated[SecretStr, AfterValidator(_not_empty)]
HttpUrlStr = Annotated[str, AfterValidator(_http_url)]
ListId = Annotated[int, BeforeValidator(_reject_bool), Field(gt=0)]
OptionalId = Annotated[ListId | None, BeforeValidator(_blank_to_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_to_none)]
Seconds = Annotated[float, BeforeValidator(_reject_bool), Field(ge=0)]
AttributeName = Annotated[str, AfterValidator(_attribute_name)]
OptionalAttributeName = Annotated[AttributeName | None, BeforeValidator(_blank_to_none)]
Port = Annotated[int, BeforeValidator(_reject_bool), Field(ge=1, le=65535)]
Percent = Annotated[int, BeforeValidator(_reject_bool), Field(ge=1, le=100)]


def _tiers(value: list[int]) -> list[int]:
    """Thresholds, highest first; a threshold given twice is a mistake worth naming."""
    repeated = sorted({t for t in value if value.count(t) > 1})
    if repeated:
        raise ValueError(f"each tier once, got {', '.join(map(str, repeated))} more than once")
    return sorted(value, reverse=True)


class _Model(BaseModel):
    # Numbers written unquoted (account ids, client ids) are still text.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        use_attribute_docstrings=True,  # the docstring under a field is its description
    )


class ZoomSync(_Model):
    """Which kinds of Zoom data reach Brevo."""

    participants: bool = True
    """Meeting participants become Brevo contacts (their attendance is collected after each
    meeting).
    """
    webinars: bool = True
    """Webinar registrants, attendees and absentees become Brevo contacts."""
    recordings: bool = True
    """Recording links reach attendees when Zoom finishes a cloud recording (how:
    `brevo.recordings.mode`); false is the same as mode `off`.
    """
    replay_days: Annotated[int, BeforeValidator(_reject_bool), Field(ge=0, le=30)] = 7
    """For how many days after a recording is completed the connector looks daily who watched it
    (Zoom's recording analytics) and sends each viewer one `zoom_replay_watched` event; 0 = off
    (also off when recording follow-ups are: `brevo.recordings.mode` `off`).
    Needs the scope `cloud_recording:read:recording_analytics_details:admin`.
    """
    attendance_tiers: Annotated[list[Percent], AfterValidator(_tiers)] = []
    """Attendance thresholds in percent of the actual length, e.g. `[90, 50]`: each attendee gets
    one `zoom_attended_tier` event per meeting or webinar with the highest tier reached (`0` below
    them all); empty = no tier events (docs/engagement.md).
    """


class ZoomWebhook(_Model):
    """Secrets used to verify Zoom's webhook requests."""

    secret_token: OptionalSecret = None
    """Your Zoom app's Secret Token (Features -> Event Subscriptions); signs every webhook and
    answers URL validation. Required by `serve`.
    """
    verification_token: OptionalSecret = None  # legacy, optional
    """Zoom's retired verification token; accepted so old configurations load, not used (the secret
    token verifies).
    """
    # Why two hours: zoom.webhooks.DEFAULT_TOLERANCE_S (the one window of the connector).
    tolerance_s: Seconds = DEFAULT_TOLERANCE_S
    """Oldest signed request accepted, in seconds. Keep it above 85 minutes: Zoom retries a failed
    delivery after 5, 20 and 60 minutes. Timestamps more than 5 minutes ahead are always refused.
    """


class ZoomUserOAuth(_Model):
    """``connectors.zoom.oauth``: a user-level OAuth app (authorization code + PKCE).

    Without ``client_id`` the connector's ``client_id``/``client_secret`` are used; with a
    ``client_id`` and no ``client_secret`` the app is a public PKCE client.
    """

    redirect_uri: HttpUrlStr
    """This server's callback, registered in the Zoom app (e.g.
    https://connector.example.com/oauth/callback).
    """
    client_id: Annotated[str | None, BeforeValidator(_blank_to_none)] = None
    """Client ID of the user-level app; default: `connectors.zoom.client_id` and `client_secret`."""
    client_secret: OptionalSecret = None
    """Client secret of the user-level app; leave out for a public (PKCE-only) client."""


class ZoomLists(_Model):
    """Brevo list ids that Zoom people are added to (``None``: no list)."""

    meeting_participants: OptionalId = None
    """Brevo list for people who attended a meeting."""
    webinar_attendees: OptionalId = None
    """Brevo list for people who attended a webinar (registered or not)."""
    webinar_registrants: OptionalId = None
    """Brevo list for every approved webinar registrant."""
    webinar_absentees: OptionalId = None
    """Brevo list for approved webinar registrants who did not attend."""

    def ids(self) -> dict[str, int]:
        """The configured list ids by role, leaving out the unset ones."""
        return {role: list_id for role, list_id in self if isinstance(list_id, int)}


class ZoomCollect(_Model):
    """When final attendance is collected after a meeting or webinar ends."""

    delay_s: Seconds = 300.0
    """After a meeting or webinar ends, wait this long before collecting the final attendance (0 =
    at once; retried while Zoom is still processing).
    """
    reconcile_after_s: Seconds = 86400.0
    """A second collection this long after the first, to catch late data (0 = none). Events are
    never sent twice.
    """
    sweep_interval_s: Seconds = 3600.0
    """How often one worker lists the meetings and webinars that ended in the last `sweep_days`
    days and collects any the webhooks did not announce (endpoint down longer than Zoom's
    retries, events not subscribed); 0 = never.
    """
    sweep_days: Annotated[int, BeforeValidator(_reject_bool), Field(ge=1, le=30)] = 2
    """How many days back the sweep looks (Zoom's report lists meetings by day)."""


class ListRegistration(_Model):
    """Brevo lists whose members are registered into Zoom webinars or meetings: every
    `poll_interval_s` one worker reads the members of each list changed since its last look
    and registers those not registered yet, writing `ZOOM_JOIN_URL` back to the contact (as
    `zoom-brevo register`). Give `webinar_id` or `meeting_id`, not both.
    """

    list_id: ListId
    """The Brevo list to watch (Brevo -> Contacts -> Lists, the ID column)."""
    webinar_id: Annotated[ListId | None, BeforeValidator(_blank_to_none)] = None
    """The Zoom webinar its members are registered into (the number in its join link)."""
    meeting_id: Annotated[
        ListId | None, BeforeValidator(_blank_to_none), Field(validate_default=True)
    ] = None
    """Or the Zoom meeting (scheduled or recurring with a fixed time, Registration
    required); a meeting's and a webinar's numbers are different objects in Zoom.
    """
    occurrence_id: Annotated[str | None, BeforeValidator(_blank_to_none)] = None
    """Register for this occurrence only of a recurring webinar or meeting; null = all
    occurrences."""

    @field_validator("meeting_id")
    @classmethod
    def _one_target(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "webinar_id" not in info.data:  # webinar_id itself is invalid: reported there
            return value
        if value is None and info.data["webinar_id"] is None:
            raise ValueError("required: give webinar_id (a webinar) or meeting_id (a meeting)")
        if value is not None and info.data["webinar_id"] is not None:
            raise ValueError("give webinar_id or meeting_id, not both")
        return value

    @property
    def kind(self) -> Literal["meeting", "webinar"]:
        """Which kind of Zoom object the members are registered into."""
        return "webinar" if self.webinar_id is not None else "meeting"

    @property
    def zoom_id(self) -> int:
        """The webinar's or meeting's number."""
        found = self.webinar_id if self.webinar_id is not None else self.meeting_id
        assert found is not None  # _one_target
        return found


MIN_WEBHOOK_TOKEN_CHARS = 16


def _strong_token(value: SecretStr | None) -> SecretStr | None:
    if value is not None and len(value.get_secret_value().strip()) < MIN_WEBHOOK_TOKEN_CHARS:
        raise ValueError(
            f"expected at least {MIN_WEBHOOK_TOKEN_CHARS} characters (a random secret, e.g. the"
            " output of `openssl rand -hex 32`)"
        )
    return value


def _each_pair_once(value: list[ListRegistration]) -> list[ListRegistration]:
    pairs = [(r.list_id, r.kind, r.zoom_id, r.occurrence_id) for r in value]
    repeated = sorted({f"list {p[0]} -> {p[1]} {p[2]}" for p in pairs if pairs.count(p) > 1})
    if repeated:
        raise ValueError(
            f"each list and webinar or meeting once, got {', '.join(repeated)} more than once"
        )
    return value


class ZoomRegister(_Model):
    """Brevo -> Zoom: people who enter a Brevo list are registered into a webinar or a
    meeting."""

    from_lists: Annotated[list[ListRegistration], AfterValidator(_each_pair_once)] = []
    """`{list_id, webinar_id or meeting_id, occurrence_id}` entries, one per list and webinar
    or meeting; empty = off."""
    poll_interval_s: Seconds = 300.0
    """How often the lists of `from_lists` are read, in seconds; 0 = never."""
    brevo_webhook_token: Annotated[OptionalSecret, AfterValidator(_strong_token)] = None
    """Secret Brevo sends with its `listAddition` webhook (`Authorization: Bearer`); set, `serve`
    answers `POST /webhooks/brevo` and a sign-up is registered within seconds. Null = polling only.
    """
    brevo_webhook_url: Annotated[HttpUrlStr | None, BeforeValidator(_blank_to_none)] = None
    """This server's public address of that webhook (e.g.
    https://connector.example.com/webhooks/brevo); `setup-brevo` creates it in Brevo.
    """

    @field_validator("brevo_webhook_url")
    @classmethod
    def _url_needs_token(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("brevo_webhook_token") is None:
            raise ValueError("needs brevo_webhook_token: the secret Brevo sends to this URL")
        return value


class ZoomConnector(_Model):
    """``connectors.zoom``: credentials, endpoints and behaviour of the Zoom side."""

    enabled: bool = True
    """Whether the Zoom connector is on; `check` skips the Zoom credentials when false."""
    account_id: RequiredText
    """Account ID of the Server-to-Server OAuth app (Zoom Marketplace -> App Credentials)."""
    client_id: RequiredText
    """Client ID of the Server-to-Server OAuth app."""
    client_secret: RequiredSecret
    """Client secret of the Server-to-Server OAuth app."""
    api_base_url: HttpUrlStr = "https://api.zoom.us/v2"
    """Zoom REST API base; point it at the sandbox to test without an account."""
    oauth_base_url: HttpUrlStr = "https://zoom.us"
    """Zoom OAuth base; the token endpoint is `{oauth_base_url}/oauth/token`."""
    plan: ZoomPlan = "pro"
    """Your Zoom plan; sets the per-category API rate limits the connector keeps to (Business,
    Education and Enterprise: `business`).
    """
    sync: ZoomSync = ZoomSync()
    webhook: ZoomWebhook = ZoomWebhook()
    lists: ZoomLists = ZoomLists()
    collect: ZoomCollect = ZoomCollect()
    registration: ZoomRegister = ZoomRegister()
    exclude_domains: list[Annotated[str, AfterValidator(str.lower)]] = []
    """E-mail domains (and their subdomains) never sent to Brevo, e.g. your own company's."""
    debug: bool = False
    """JSON log lines with every field, at debug level."""
    log_level: LogLevel = "info"
    """Log level; `verbose` is info with JSON lines carrying every field."""
    log_webhooks: bool = False
    """Log every incoming webhook's headers and body (secrets and e-mail addresses masked)."""
    oauth: ZoomUserOAuth | None = None


class Connectors(_Model):
    """``connectors``: the sources (only Zoom for now)."""

    zoom: ZoomConnector


class Sender(_Model):
    """Sender of recording campaigns."""

    name: str
    """Sender name of recording campaigns."""
    email: EmailStr
    """Sender address of recording campaigns (a sender verified in Brevo)."""


class Recordings(_Model):
    """How a recording link reaches attendees through Brevo."""

    mode: RecordingsMode = "event"
    """How a recording link reaches people: `event` sends `zoom_recording_ready` for your Brevo
    automation; `transactional` sends template `template_id` to each person; `campaign` creates a
    list and sends a campaign from `template_id`; `off` does nothing.
    """
    template_id: OptionalId = None
    """Brevo template ID for the `transactional` and `campaign` modes."""
    sender: Sender | None = None
    """`{name, email}` sender for the `campaign` mode."""


class BrevoSettings(_Model):
    """``brevo``: the Brevo account."""

    api_key: RequiredSecret
    """Brevo REST API key (`xkeysib-...`, Brevo -> SMTP & API -> API keys); an SMTP key does not
    work.
    """
    base_url: HttpUrlStr = "https://api.brevo.com/v3"
    """Brevo API base; point it at the sandbox to test without an account."""
    plan: BrevoPlan = "general"
    """Your Brevo plan's API rate-limit tier; sets the per-endpoint limits the connector keeps to.
    """
    recordings: Recordings = Recordings()


class FieldMapping(_Model):
    """Logical field -> Brevo attribute name (``email`` is Brevo's contact identifier)."""

    email: AttributeName = "email"
    """Brevo's contact identifier (always `email`)."""
    name: AttributeName = "FIRSTNAME"
    """Text attribute for the first name (from the registration, else the Zoom display name)."""
    last_name: AttributeName = "LASTNAME"
    """Text attribute for the last name."""
    join_time: AttributeName = "MEETING_JOIN_DATE"
    """Date attribute: the day the person first joined the latest meeting or webinar."""
    duration: AttributeName = "MEETING_DURATION"
    """Number attribute: minutes attended in the latest meeting or webinar (overlapping sessions
    counted once).
    """
    webinar_title: AttributeName = "WEBINAR_NAME"
    """Text attribute: topic of the latest webinar."""
    occurrence: AttributeName = "ZOOM_LAST_OCCURRENCE"
    """Text attribute: Zoom's occurrence id (scheduled start, ms since 1970) of the latest
    meeting or webinar attended, when that one recurs; kept when a later one does not.
    """
    replay_watched: AttributeName = "ZOOM_REPLAY_WATCHED"
    """Date attribute: the day the person first watched the recording of a meeting or webinar
    later (Zoom's recording analytics; the latest recording they watched), set with the
    `zoom_replay_watched` event.
    """
    attendance_status: AttributeName = "ATTENDANCE_STATUS"
    """Text attribute: `registered`, `attended` or `absent` in the latest meeting or webinar."""
    registration_source: AttributeName = "UTM_SOURCE"
    """Text attribute: the tracking source of the latest registration that had one."""
    attendance_ratio: AttributeName = "ZOOM_ATTENDANCE_RATIO"
    """Number attribute: share of the latest meeting attended, 0 to 1."""
    attendance_percent: AttributeName = "ZOOM_ATTENDANCE_PERCENT"
    """Number attribute: the same share as a whole percentage, 0 to 100."""
    meetings_attended: AttributeName = "ZOOM_MEETINGS_ATTENDED"
    """Number attribute: meetings and webinars attended in total."""
    total_minutes: AttributeName = "ZOOM_TOTAL_MINUTES"
    """Number attribute: minutes attended in total."""
    last_attended: AttributeName = "ZOOM_LAST_ATTENDED"
    """Date attribute: the last day the person attended."""
    engagement_score: AttributeName = "ZOOM_ENGAGEMENT_SCORE"
    """Number attribute: engagement score 0 to 100 (docs/engagement.md)."""
    questions_asked: OptionalAttributeName = None
    """Number attribute: questions the person asked in the latest webinar's Q&A (deleted ones
    not counted); null = not sent.
    """
    polls_answered: OptionalAttributeName = None
    """Number attribute: polls the person answered in the latest webinar; null = not sent."""
    org: OptionalAttributeName = None
    """Text attribute for the registration form's organization (`org`); null = not sent. The
    other standard fields of Zoom's form map the same way: `job_title`, `industry`, `country`,
    `city`, `state`, `zip`, `address`, `phone`, `purchasing_time_frame`,
    `role_in_purchase_process`, `no_of_employees`, `comments`.
    """
    job_title: OptionalAttributeName = None
    """Text attribute for the registration form's job title; null = not sent."""
    industry: OptionalAttributeName = None
    """Text attribute for the registration form's industry; null = not sent."""
    country: OptionalAttributeName = None
    """Text attribute for the registration form's country; null = not sent."""
    city: OptionalAttributeName = None
    """Text attribute for the registration form's city; null = not sent."""
    state: OptionalAttributeName = None
    """Text attribute for the registration form's state or province; null = not sent."""
    zip: OptionalAttributeName = None
    """Text attribute for the registration form's postal code; null = not sent."""
    address: OptionalAttributeName = None
    """Text attribute for the registration form's address; null = not sent."""
    phone: OptionalAttributeName = None
    """Text attribute for the registration form's phone number; null = not sent."""
    purchasing_time_frame: OptionalAttributeName = None
    """Text attribute for the registration form's purchasing time frame; null = not sent."""
    role_in_purchase_process: OptionalAttributeName = None
    """Text attribute for the registration form's role in the purchase; null = not sent."""
    no_of_employees: OptionalAttributeName = None
    """Text attribute for the registration form's number of employees; null = not sent."""
    comments: OptionalAttributeName = None
    """Text attribute for the registration form's questions and comments; null = not sent."""
    custom_questions: dict[str, AttributeName] = {}
    """The webinar's own registration questions: question title (as written in Zoom) -> text
    attribute for the answer, e.g. `{"What would you like to learn?": LEARNING_GOAL}`. Read
    both ways: Zoom's answers are written to the attribute, and `register` answers the
    question from it (as it fills `last_name` and the mapped standard fields).
    """
    poll_questions: dict[str, AttributeName] = {}
    """Webinar poll questions: question (as written in Zoom) -> text attribute for the person's
    last answer (by answer time) in the latest webinar synced, e.g.
    `{"Which plan are you on?": ZOOM_POLL_PLAN}`. Other questions are ignored.
    """
    survey_questions: dict[str, AttributeName] = {}
    """Webinar survey questions: question -> text attribute for the last answer, as
    `poll_questions`. The survey report is read only when this maps a question; a Zoom plan
    without surveys is reported once and skipped.
    """

    def attributes(self) -> dict[str, str]:
        """Logical key -> Brevo attribute, without the ``email`` identifier.

        Unmapped form fields are left out; a custom question's key is
        ``question:<title>`` (``zoom.registration_form.question_key``), a poll's
        ``poll:<title>``, a survey's ``survey:<title>``.
        """
        found = {key: name for key, name in self if key not in _KEYED and isinstance(name, str)}
        for title, name in self.custom_questions.items():
            found[question_key(title)] = name
        for title, name in self.poll_questions.items():
            found[question_key(title, POLL_PREFIX)] = name
        for title, name in self.survey_questions.items():
            found[question_key(title, SURVEY_PREFIX)] = name
        return found


_KEYED = frozenset({"email", "custom_questions", "poll_questions", "survey_questions"})


class Storage(_Model):
    """Where the connector keeps its state."""

    url: str = "sqlite:///zoom-brevo.db"
    """Database URL: a SQLite file, or `postgresql+psycopg://user@host/db` for several processes."""
    # One key, or several newest first (a list or comma-separated): see zoom_brevo.crypto.
    encryption_key: Annotated[OptionalSecret, BeforeValidator(_join_keys)] = None
    """Key for tokens stored at rest (required for user-level OAuth). To rotate, give several keys
    newest first, then run `zoom-brevo rotate-key`.
    """


class Server(_Model):
    """The webhook/admin HTTP server."""

    host: str = "127.0.0.1"
    """Interface `serve` listens on."""
    port: Port = 8080
    """TCP port `serve` listens on."""
    admin_token: OptionalSecret = None
    """Bearer token for the dashboard and admin API under /admin; null = admin pages disabled."""


class Delivery(_Model):
    """How workers hold the work they take (outbox batches and jobs)."""

    lease_s: Annotated[float, BeforeValidator(_reject_bool), Field(ge=2, le=600)] = 8.0
    """Seconds a worker holds an outbox batch or a job without renewing it (renewed every third of
    it while the work runs): a worker that dies (kill -9, a lost machine) has its work taken over
    by another this long after its last renewal.
    """
    in_doubt: InDoubt = "hold"
    """An event batch whose send began and whose outcome was never recorded (its worker died)
    is looked up in Brevo's events listing before it is sent again, and only what Brevo lacks
    is sent. When the listing is refused, or still fails once the events are out of attempts:
    `hold` keeps those events as dead letters marked "in doubt" (shown by `status`, sent by
    `zoom-brevo retry`), `resend` sends them (one may then reach Brevo twice).
    """


class Settings(_Model):
    """The whole configuration file."""

    connectors: Connectors
    brevo: BrevoSettings
    field_mapping: FieldMapping = FieldMapping()
    storage: Storage = Storage()
    server: Server = Server()
    delivery: Delivery = Delivery()
