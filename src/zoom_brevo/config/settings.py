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
)

ZoomPlan = Literal["free", "pro", "business"]
BrevoPlan = Literal["general", "advanced", "extended"]
LogLevel = Literal["verbose", "debug", "info", "warning", "error"]
RecordingsMode = Literal["event", "transactional", "campaign", "off"]

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
Port = Annotated[int, BeforeValidator(_reject_bool), Field(ge=1, le=65535)]


class _Model(BaseModel):
    # Numbers written unquoted (account ids, client ids) are still text.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class ZoomSync(_Model):
    """Which kinds of Zoom data reach Brevo."""

    participants: bool = True
    webinars: bool = True
    recordings: bool = True


class ZoomWebhook(_Model):
    """Secrets used to verify Zoom's webhook requests."""

    secret_token: OptionalSecret = None
    verification_token: OptionalSecret = None  # legacy, optional
    # Zoom retries at +5, +20 and +60 min and does not say whether a retry is re-stamped
    # (reference zoom.md 4.2, 4.3): the window must exceed 85 min; dedupe stops replays.
    tolerance_s: Seconds = 7200.0


class ZoomUserOAuth(_Model):
    """``connectors.zoom.oauth``: a user-level OAuth app (authorization code + PKCE).

    Without ``client_id`` the connector's ``client_id``/``client_secret`` are used; with a
    ``client_id`` and no ``client_secret`` the app is a public PKCE client.
    """

    redirect_uri: HttpUrlStr
    client_id: Annotated[str | None, BeforeValidator(_blank_to_none)] = None
    client_secret: OptionalSecret = None


class ZoomLists(_Model):
    """Brevo list ids that Zoom people are added to (``None``: no list)."""

    meeting_participants: OptionalId = None
    webinar_attendees: OptionalId = None
    webinar_registrants: OptionalId = None
    webinar_absentees: OptionalId = None

    def ids(self) -> dict[str, int]:
        """The configured list ids by role, leaving out the unset ones."""
        return {role: list_id for role, list_id in self if isinstance(list_id, int)}


class ZoomCollect(_Model):
    """When final attendance is collected after a meeting or webinar ends."""

    delay_s: Seconds = 300.0
    reconcile_after_s: Seconds = 86400.0


class ZoomConnector(_Model):
    """``connectors.zoom``: credentials, endpoints and behaviour of the Zoom side."""

    enabled: bool = True
    account_id: RequiredText
    client_id: RequiredText
    client_secret: RequiredSecret
    api_base_url: HttpUrlStr = "https://api.zoom.us/v2"
    oauth_base_url: HttpUrlStr = "https://zoom.us"
    plan: ZoomPlan = "pro"
    sync: ZoomSync = ZoomSync()
    webhook: ZoomWebhook = ZoomWebhook()
    lists: ZoomLists = ZoomLists()
    collect: ZoomCollect = ZoomCollect()
    exclude_domains: list[Annotated[str, AfterValidator(str.lower)]] = []
    debug: bool = False
    log_level: LogLevel = "info"
    log_webhooks: bool = False
    oauth: ZoomUserOAuth | None = None


class Connectors(_Model):
    """``connectors``: the sources (only Zoom for now)."""

    zoom: ZoomConnector


class Sender(_Model):
    """Sender of recording campaigns."""

    name: str
    email: EmailStr


class Recordings(_Model):
    """How a recording link reaches attendees through Brevo."""

    mode: RecordingsMode = "event"
    template_id: OptionalId = None
    sender: Sender | None = None


class BrevoSettings(_Model):
    """``brevo``: the Brevo account."""

    api_key: RequiredSecret
    base_url: HttpUrlStr = "https://api.brevo.com/v3"
    plan: BrevoPlan = "general"
    recordings: Recordings = Recordings()


class FieldMapping(_Model):
    """Logical field -> Brevo attribute name (``email`` is Brevo's contact identifier)."""

    email: AttributeName = "email"
    name: AttributeName = "FIRSTNAME"
    last_name: AttributeName = "LASTNAME"
    join_time: AttributeName = "MEETING_JOIN_DATE"
    duration: AttributeName = "MEETING_DURATION"
    webinar_title: AttributeName = "WEBINAR_NAME"
    attendance_status: AttributeName = "ATTENDANCE_STATUS"
    registration_source: AttributeName = "UTM_SOURCE"
    attendance_ratio: AttributeName = "ZOOM_ATTENDANCE_RATIO"
    meetings_attended: AttributeName = "ZOOM_MEETINGS_ATTENDED"
    total_minutes: AttributeName = "ZOOM_TOTAL_MINUTES"
    last_attended: AttributeName = "ZOOM_LAST_ATTENDED"
    engagement_score: AttributeName = "ZOOM_ENGAGEMENT_SCORE"

    def attributes(self) -> dict[str, str]:
        """Logical key -> Brevo attribute, without the ``email`` identifier."""
        return {key: name for key, name in self if key != "email"}


class Storage(_Model):
    """Where the connector keeps its state."""

    url: str = "sqlite:///zoom-brevo.db"
    # One key, or several newest first (a list or comma-separated): see zoom_brevo.crypto.
    encryption_key: Annotated[OptionalSecret, BeforeValidator(_join_keys)] = None


class Server(_Model):
    """The webhook/admin HTTP server."""

    host: str = "127.0.0.1"
    port: Port = 8080
    admin_token: OptionalSecret = None


class Settings(_Model):
    """The whole configuration file."""

    connectors: Connectors
    brevo: BrevoSettings
    field_mapping: FieldMapping = FieldMapping()
    storage: Storage = Storage()
    server: Server = Server()
