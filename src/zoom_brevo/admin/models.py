"""Read models of the dashboard and the admin API (one definition for both).

The JSON API serializes these models as they are, and the OpenAPI document takes its
schemas from them (``model_json_schema``), so the document cannot drift from the answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

SyncState = Literal["collected", "pending"]
DEAD_LETTER_REF = r"^(outbox|job):[0-9]{1,18}$"  # ids fit a 64-bit integer column


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MeetingSummary(_Model):
    """One meeting or webinar occurrence, with its headline figures."""

    uuid: str = Field(description="Zoom's instance UUID")
    meeting_id: int
    kind: Literal["meeting", "webinar"]
    topic: str | None
    start_time: datetime | None
    end_time: datetime | None
    duration_min: float | None = Field(description="Actual length, minutes")
    registrants: int = Field(description="Approved registrations (0 without registration)")
    attendees: int = Field(description="People who spent time in the meeting")
    absentees: int = Field(description="Registrants who did not attend")
    median_minutes: float | None = Field(description="Median minutes attended, attendees only")
    sync_state: SyncState = Field(description="collected once the final report is stored")
    collect_state: str = Field(description="pending | provisional | collected | reconciled")
    collected_at: datetime | None


class MeetingPage(_Model):
    """A page of meetings, newest first."""

    meetings: list[MeetingSummary]
    page: int
    pages: int
    total: int


class Attendee(_Model):
    """One person's attendance of one meeting (``score``: their overall engagement score)."""

    email: str | None
    name: str | None
    minutes: float
    ratio: float | None
    rejoins: int
    first_join: datetime | None
    last_leave: datetime | None
    score: float | None


class HistogramBin(_Model):
    """Attendees who stayed at least ``low_min`` and less than ``high_min`` minutes."""

    low_min: float
    high_min: float
    count: int


class FunnelStage(_Model):
    """One stage of registered -> attended -> stayed at least half the meeting."""

    label: str
    count: int


class Presence(_Model):
    """People in the meeting during each minute from ``start`` (union of their sessions)."""

    start: datetime | None
    per_minute: list[int]
    peak: int
    peak_minute: int | None = Field(description="Index of the first minute at the peak")


class MeetingDetail(_Model):
    """One meeting: figures, charts' data and one page of the attendee table."""

    meeting: MeetingSummary
    presence: Presence
    histogram: list[HistogramBin]
    funnel: list[FunnelStage]
    attendees: list[Attendee]
    attendee_total: int
    page: int
    pages: int
    sort: str
    order: Literal["asc", "desc"]


class PersonMeeting(_Model):
    """One meeting a person was in, and their attendance score right after it."""

    uuid: str
    kind: str
    meeting_id: int | None
    topic: str | None
    start_time: datetime | None
    occurrence_id: str | None = Field(
        default=None, description="Zoom's id of the occurrence, for a recurring one"
    )
    minutes: float
    ratio: float | None
    rejoins: int
    first_join: datetime | None
    last_leave: datetime | None
    score_after: float = Field(
        description="Score from attendance alone (ratio, frequency, recency) as of this meeting"
    )


class PersonDetail(_Model):
    """A person, their stored engagement aggregates and their meetings (newest first)."""

    email: str
    name: str | None
    meetings_attended: int
    total_minutes: float
    last_attended: datetime | None
    score: float
    meetings: list[PersonMeeting]


class Depths(_Model):
    """How many rows each queue holds per state."""

    inbox: dict[str, int]
    jobs: dict[str, int]
    outbox: dict[str, int]


class Delivery(_Model):
    """An outbox command delivered to Brevo."""

    id: int
    kind: str
    email: str | None
    detail: str | None = Field(
        description="What it carried: the event name, `template N`, or for a contact"
        " upsert `N attributes; lists A, B`"
    )
    attempts: int
    delivered_at: datetime


class DeadLetter(_Model):
    """Work that will not be tried again unless re-queued (``ref``: what retry accepts)."""

    ref: str
    source: Literal["job", "outbox"]
    kind: str
    attempts: int
    last_error: str | None
    at: datetime
    in_doubt: bool = Field(
        default=False,
        description="An event held by delivery.in_doubt: hold (Brevo may hold it already)",
    )


class InDoubt(_Model):
    """Event commands whose send began with no known outcome."""

    pending: int = Field(description="Looked up in Brevo's events listing at their next claim")
    held: int = Field(description="Dead letters held until a retry sends them")


class Rejection(_Model):
    """A contact Brevo refused in an import."""

    process_id: int
    email: str
    reason: str


class RateBucket(_Model):
    """A shared rate-limit bucket as stored (``paused_until``: set after a 429)."""

    key: str
    tokens: float
    updated_at: datetime
    paused_until: datetime | None


class CheckResult(_Model):
    """The last ``check`` run from the dashboard."""

    ran_at: datetime
    ok: bool
    problems: list[str]
    report: dict[str, Any]


class ZoomAccount(_Model):
    """Whether the served Zoom account removed the app, and deauthorizations ignored."""

    deauthorized_at: datetime | None = Field(
        description="When the served account's app_deauthorized erased its data"
    )
    account_id: str | None
    ignored_deauthorizations: int = Field(description="Of other accounts; nothing was changed")


class NotProcessed(_Model):
    """Webhooks received but not processed (ignored or failed), grouped by reason."""

    status: str
    event: str
    reason: str
    count: int
    last_received_at: datetime


class Operations(_Model):
    """What the operator watches: queues, deliveries, dead letters, rejections, limits."""

    depths: Depths
    deliveries: list[Delivery]
    dead_letters: list[DeadLetter]
    dead_letter_count: int
    in_doubt: InDoubt
    rejections: list[Rejection]
    rejection_count: int
    last_sync: datetime | None
    limits: dict[str, Any] | None = Field(description="Plans and limits in effect")
    buckets: list[RateBucket]
    check: CheckResult | None
    zoom_account: ZoomAccount
    not_processed: list[NotProcessed]


class RetryRequest(_Model):
    """Dead letters to re-queue: the given ``refs``, or every one with ``all``."""

    model_config = ConfigDict(
        json_schema_extra={  # one of the two is needed (the route answers 400 otherwise)
            "anyOf": [
                {"required": ["all"], "properties": {"all": {"const": True}}},
                {"required": ["refs"], "properties": {"refs": {"minItems": 1}}},
            ]
        }
    )

    refs: list[Annotated[str, StringConstraints(pattern=DEAD_LETTER_REF)]] = Field(
        default_factory=list, examples=[["outbox:12", "job:3"]]
    )
    all: bool = Field(default=False, strict=True)  # 0 or "yes" is a mistake, not a wish


class RetryResult(_Model):
    """How many dead letters went back to the queue."""

    requeued: int


class ErrorBody(_Model):
    """Every error answer of the admin API."""

    error: str
