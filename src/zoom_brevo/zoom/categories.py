"""Zoom's rate-limit categories, the limits of each plan, and the endpoints this client calls.

Rate limits are per account and per category, shared by all endpoints of a category
(reference zoom.md section 3). Each endpoint below carries the category and scopes its
operation declares in the official spec (reference zoom.md 2.1, 1.5); a test checks the
table against the spec.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from zoom_brevo.ratelimit import Limit

Plan = Literal["free", "pro", "business"]
Kind = Literal["meeting", "webinar"]
"""A scheduled Zoom object people register into (its id says nothing of which it is)."""
PLANS: tuple[Plan, ...] = ("free", "pro", "business")
_DAY_S = 86_400.0


class Category(enum.Enum):
    """A Zoom rate-limit category; the value is the limiter key suffix."""

    LIGHT = "light"
    MEDIUM = "medium"
    HEAVY = "heavy"
    RESOURCE_INTENSIVE = "resource-intensive"

    @property
    def key(self) -> str:
        """The limiter key of the category's per-second (or per-minute) limit."""
        return f"zoom:{self.value}"


DAILY_HEAVY_KEY = "zoom:daily-heavy"
"""Key of the daily cap shared by Heavy and Resource-intensive calls (Pro and Business+)."""

# Calls per second by plan (reference zoom.md section 3); resource-intensive is per minute.
_PER_SECOND: Mapping[Plan, Mapping[Category, float]] = {
    "free": {Category.LIGHT: 4, Category.MEDIUM: 2, Category.HEAVY: 1},
    "pro": {Category.LIGHT: 30, Category.MEDIUM: 20, Category.HEAVY: 10},
    "business": {Category.LIGHT: 80, Category.MEDIUM: 60, Category.HEAVY: 40},
}
_RESOURCE_INTENSIVE_PER_MIN: Mapping[Plan, float] = {"free": 10, "pro": 10, "business": 20}
# Free plans cap each category per day; paid plans cap Heavy + Resource-intensive together.
_FREE_DAILY: Mapping[Category, float] = {
    Category.LIGHT: 6_000,
    Category.MEDIUM: 2_000,
    Category.HEAVY: 1_000,
    Category.RESOURCE_INTENSIVE: 30_000,
}
_PAID_DAILY_HEAVY: Mapping[Plan, float] = {"pro": 30_000, "business": 60_000}


def per_second_limit(calls_per_s: float) -> Limit:
    """A bucket that never lets more than ``calls_per_s`` calls into any one-second window.

    With burst ``b`` and rate ``r`` a window holds at most ``b + r`` calls, so the burst
    is taken out of the rate; small limits get burst 1 and a 10 % margin instead.
    """
    burst = max(1.0, float(int(calls_per_s / 4)))
    rate = calls_per_s * 0.9 if burst == 1.0 else calls_per_s - burst
    return Limit(rate_per_s=rate, burst=burst)


def daily_limit(calls_per_day: float) -> Limit:
    """A day's allowance that may be spent at once and refills over 24 hours."""
    return Limit(rate_per_s=calls_per_day / _DAY_S, burst=calls_per_day)


def daily_key(category: Category) -> str:
    """Limiter key of a category's own daily cap (free plan)."""
    return f"zoom:daily-{category.value}"


def zoom_limits(plan: Plan) -> dict[str, Limit]:
    """Every limiter key of ``plan`` with its limit (for LocalRateLimiter or a shared one)."""
    if plan not in PLANS:
        raise ValueError(f"unknown Zoom plan {plan!r}; expected one of {', '.join(PLANS)}")
    limits = {cat.key: per_second_limit(rate) for cat, rate in _PER_SECOND[plan].items()}
    per_min = _RESOURCE_INTENSIVE_PER_MIN[plan]
    limits[Category.RESOURCE_INTENSIVE.key] = Limit(rate_per_s=per_min / 60.0 * 0.9, burst=1.0)
    if plan == "free":
        limits.update({daily_key(cat): daily_limit(n) for cat, n in _FREE_DAILY.items()})
    else:
        limits[DAILY_HEAVY_KEY] = daily_limit(_PAID_DAILY_HEAVY[plan])
    return limits


def documented_limits(plan: Plan) -> dict[str, dict[str, float | None]]:
    """Zoom's published limits of ``plan`` by category: calls per second, minute and day.

    Resource-intensive calls are limited per minute, the others per second; on paid plans
    the daily figure of Heavy and Resource-intensive is one allowance they share
    (:func:`shared_daily_note`). These are Zoom's numbers; :func:`zoom_limits` keeps under
    them with margins.
    """
    found: dict[str, dict[str, float | None]] = {}
    for category in Category:
        per_s = _PER_SECOND[plan].get(category)
        per_min = (
            _RESOURCE_INTENSIVE_PER_MIN[plan] if category is Category.RESOURCE_INTENSIVE else None
        )
        if plan == "free":
            per_day: float | None = _FREE_DAILY[category]
        elif category in (Category.HEAVY, Category.RESOURCE_INTENSIVE):
            per_day = _PAID_DAILY_HEAVY[plan]
        else:
            per_day = None
        found[category.value] = {"per_second": per_s, "per_minute": per_min, "per_day": per_day}
    return found


def shared_daily_note(plan: Plan) -> str | None:
    """The sentence saying which categories share one daily allowance, if any do."""
    if plan == "free":
        return None
    return (
        f"Heavy and resource-intensive calls share one allowance of "
        f"{_PAID_DAILY_HEAVY[plan]:,.0f} a day."
    )


def limiter_keys(category: Category, plan: Plan) -> tuple[str, ...]:
    """The keys one call of ``category`` must acquire: its own limit, then its daily cap."""
    if plan == "free":
        return (category.key, daily_key(category))
    if category in (Category.HEAVY, Category.RESOURCE_INTENSIVE):
        return (category.key, DAILY_HEAVY_KEY)
    return (category.key,)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation: path template, rate category, scopes, the list's JSON key, the method."""

    path: str
    category: Category
    scopes: tuple[str, ...]
    """Classic scope first, then the granular admin scope (reference zoom.md 1.5)."""
    items_key: str | None = None
    """Name of the array in the response of a list endpoint; ``None`` for single objects."""
    paginated: bool = True
    method: str = "GET"


_L, _M, _H = Category.LIGHT, Category.MEDIUM, Category.HEAVY

USERS = Endpoint("/users", _M, ("user:read:admin", "user:read:list_users:admin"), "users")
USER_MEETINGS = Endpoint(
    "/users/{user_id}/meetings",
    _M,
    ("meeting:read:admin", "meeting:read:list_meetings:admin"),
    "meetings",
)
MEETING = Endpoint(
    "/meetings/{meeting_id}", _L, ("meeting:read:admin", "meeting:read:meeting:admin")
)
PAST_MEETING = Endpoint(
    "/past_meetings/{meeting_id}", _L, ("meeting:read:admin", "meeting:read:past_meeting:admin")
)
PAST_MEETING_INSTANCES = Endpoint(
    "/past_meetings/{meeting_id}/instances",
    _M,
    ("meeting:read:admin", "meeting:read:list_past_instances:admin"),
    "meetings",
    paginated=False,
)
PAST_MEETING_PARTICIPANTS = Endpoint(
    "/past_meetings/{meeting_id}/participants",
    _M,
    ("meeting:read:admin", "meeting:read:list_past_participants:admin"),
    "participants",
)
MEETING_PARTICIPANT_REPORT = Endpoint(
    "/report/meetings/{meeting_id}/participants",
    _H,
    ("report:read:admin", "report:read:list_meeting_participants:admin"),
    "participants",
)
MEETING_REGISTRANTS = Endpoint(
    "/meetings/{meeting_id}/registrants",
    _M,
    ("meeting:read:admin", "meeting:read:list_registrants:admin"),
    "registrants",
)
USER_WEBINARS = Endpoint(
    "/users/{user_id}/webinars",
    _M,
    ("webinar:read:admin", "webinar:read:list_webinars:admin"),
    "webinars",
)
WEBINAR = Endpoint(
    "/webinars/{webinar_id}", _L, ("webinar:read:admin", "webinar:read:webinar:admin")
)
WEBINAR_REGISTRANTS = Endpoint(
    "/webinars/{webinar_id}/registrants",
    _M,
    ("webinar:read:admin", "webinar:read:list_registrants:admin"),
    "registrants",
)
MEETING_REGISTRATION_QUESTIONS = Endpoint(
    "/meetings/{meeting_id}/registrants/questions",
    _L,
    ("meeting:read:admin", "meeting:read:list_registration_questions:admin"),
    paginated=False,
)
WEBINAR_REGISTRATION_QUESTIONS = Endpoint(
    "/webinars/{webinar_id}/registrants/questions",
    _L,
    ("webinar:read:admin", "webinar:read:list_registration_questions:admin"),
    paginated=False,
)
WEBINAR_TRACKING_SOURCES = Endpoint(
    "/webinars/{webinar_id}/tracking_sources",
    _M,
    ("webinar:read:admin", "webinar:read:list_tracking_sources:admin"),
    "tracking_sources",
    paginated=False,
)
PAST_WEBINAR_INSTANCES = Endpoint(
    "/past_webinars/{webinar_id}/instances",
    _L,
    ("webinar:read:admin", "webinar:read:list_past_instances:admin"),
    "webinars",
    paginated=False,
)
PAST_WEBINAR_PARTICIPANTS = Endpoint(
    "/past_webinars/{webinar_id}/participants",
    _M,
    ("webinar:read:admin", "webinar:read:list_past_participants:admin"),
    "participants",
)
WEBINAR_ABSENTEES = Endpoint(
    "/past_webinars/{webinar_id}/absentees",
    _H,
    ("webinar:read:admin", "webinar:read:list_absentees:admin"),
    "registrants",
)
WEBINAR_DETAILS_REPORT = Endpoint(
    "/report/webinars/{webinar_id}", _H, ("report:read:admin", "report:read:webinar:admin")
)
WEBINAR_PARTICIPANT_REPORT = Endpoint(
    "/report/webinars/{webinar_id}/participants",
    _H,
    ("report:read:admin", "report:read:list_webinar_participants:admin"),
    "participants",
)
MEETING_RECORDINGS = Endpoint(
    "/meetings/{meeting_id}/recordings",
    _L,
    ("recording:read:admin", "cloud_recording:read:list_recording_files:admin"),
)
USER_RECORDINGS = Endpoint(
    "/users/{user_id}/recordings",
    _M,
    ("recording:read:admin", "cloud_recording:read:list_user_recordings:admin"),
    "meetings",
)
RECORDING_REGISTRANTS = Endpoint(
    "/meetings/{meeting_id}/recordings/registrants",
    _M,
    ("recording:read:admin", "cloud_recording:read:list_recording_registrants:admin"),
    "registrants",
)
# Who watched a recording later. The spec gives this operation no rate-limit label and
# only granular scopes (no classic one): it is counted as MEDIUM, like the other lists,
# and kept out of ENDPOINTS, whose entries carry a spec label and a classic scope. The same
# holds for the per-day summary.
RECORDING_VIEWS = Endpoint(
    "/meetings/{meeting_id}/recordings/analytics_details",
    _M,
    ("cloud_recording:read:recording_analytics_details:admin",),
    "analytics_details",
)
RECORDING_VIEW_SUMMARY = Endpoint(
    "/meetings/{meeting_id}/recordings/analytics_summary",
    _M,
    ("cloud_recording:read:recording_analytics_summary:admin",),
    "analytics_summary",
    paginated=False,
)
USER_MEETING_REPORT = Endpoint(
    "/report/users/{user_id}/meetings",
    _H,
    ("report:read:admin", "report:read:user:admin"),
    "meetings",
)
WEBINAR_QA_REPORT = Endpoint(
    "/report/webinars/{webinar_id}/qa",
    _H,
    ("report:read:admin", "report:read:webinar_qna:admin"),
    "questions",
    paginated=False,
)
WEBINAR_POLL_REPORT = Endpoint(
    "/report/webinars/{webinar_id}/polls",
    _H,
    ("report:read:admin", "report:read:list_webinar_polls:admin"),
    "questions",
    paginated=False,
)
WEBINAR_SURVEY_REPORT = Endpoint(
    "/report/webinars/{webinar_id}/survey",
    _H,
    ("report:read:admin", "report:read:webinar_survey:admin"),
    "survey_answers",
    paginated=False,
)

ENDPOINTS: tuple[Endpoint, ...] = (
    USERS,
    USER_MEETINGS,
    MEETING,
    PAST_MEETING,
    PAST_MEETING_INSTANCES,
    PAST_MEETING_PARTICIPANTS,
    MEETING_PARTICIPANT_REPORT,
    MEETING_REGISTRANTS,
    USER_WEBINARS,
    WEBINAR,
    WEBINAR_REGISTRANTS,
    WEBINAR_REGISTRATION_QUESTIONS,
    MEETING_REGISTRATION_QUESTIONS,
    WEBINAR_TRACKING_SOURCES,
    PAST_WEBINAR_INSTANCES,
    PAST_WEBINAR_PARTICIPANTS,
    WEBINAR_ABSENTEES,
    WEBINAR_DETAILS_REPORT,
    WEBINAR_PARTICIPANT_REPORT,
    MEETING_RECORDINGS,
    USER_RECORDINGS,
    RECORDING_REGISTRANTS,
    USER_MEETING_REPORT,
    WEBINAR_QA_REPORT,
    WEBINAR_POLL_REPORT,
    WEBINAR_SURVEY_REPORT,
)

# Writes: only erasure (``forget --zoom``) deletes registrants; a retry after a lost answer
# finds the registrant gone, which is the outcome wanted (safe to repeat).
DELETE_MEETING_REGISTRANT = Endpoint(
    "/meetings/{meeting_id}/registrants/{registrant_id}",
    _L,
    ("meeting:write:admin", "meeting:delete:registrant:admin"),
    method="DELETE",
)
DELETE_WEBINAR_REGISTRANT = Endpoint(
    "/webinars/{webinar_id}/registrants/{registrant_id}",
    _L,
    ("webinar:write:admin", "webinar:delete:registrant:admin"),
    method="DELETE",
)
# ``register`` adds registrants. Zoom answers a repeated registration with the existing one
# (devforum "Why are now limited to only 3 Add Webinar Registrant API calls per day"), so a
# retry after a lost answer registers nobody twice.
ADD_WEBINAR_REGISTRANT = Endpoint(
    "/webinars/{webinar_id}/registrants",
    _L,
    ("webinar:write:admin", "webinar:write:registrant:admin"),
    method="POST",
)
ADD_MEETING_REGISTRANT = Endpoint(
    "/meetings/{meeting_id}/registrants",
    _L,
    ("meeting:write:admin", "meeting:write:registrant:admin"),
    method="POST",
)


@dataclass(frozen=True, slots=True)
class RegistrationEndpoints:
    """What registering someone into one kind of Zoom object calls."""

    questions: Endpoint
    add: Endpoint


# A meeting and a webinar are different Zoom objects with separate ids and endpoints.
REGISTRATION: Mapping[Kind, RegistrationEndpoints] = {
    "meeting": RegistrationEndpoints(MEETING_REGISTRATION_QUESTIONS, ADD_MEETING_REGISTRANT),
    "webinar": RegistrationEndpoints(WEBINAR_REGISTRATION_QUESTIONS, ADD_WEBINAR_REGISTRANT),
}
WRITES: tuple[Endpoint, ...] = (
    DELETE_MEETING_REGISTRANT,
    DELETE_WEBINAR_REGISTRANT,
    ADD_WEBINAR_REGISTRANT,
    ADD_MEETING_REGISTRANT,
)
