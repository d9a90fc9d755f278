"""Zoom error responses map onto the exception tree in one place, with actionable messages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from zoom_brevo.errors import (
    ApiError,
    AuthError,
    FatalApiError,
    InvalidGrant,
    NotFound,
    NotReady,
    PayloadRejected,
    RateLimited,
    RetriableApiError,
)
from zoom_brevo.zoom.errors import BeyondRetention, NoSuchMeeting, NotOnPlan
from zoom_brevo.zoom.responses import is_expired_token, is_retried_here, map_error

SCOPES = ("report:read:admin", "report:read:list_meeting_participants:admin")

# (status, body, options, exception type, words the message must contain)
CASES: list[tuple[int, Any, dict[str, Any], type[ApiError], tuple[str, ...]]] = [
    (401, {"code": 124, "message": "Access token is expired."}, {}, AuthError, ("Zoom", "124")),
    (
        400,
        {"code": 300, "message": "The next page token is invalid or expired."},
        {},
        PayloadRejected,
        ("300", "next_page_token", "15 minutes"),
    ),
    (
        404,
        {"code": 3001, "message": "Meeting does not exist: 123."},
        {},
        NoSuchMeeting,
        ("3001", "ID or UUID"),
    ),
    (
        404,
        {"code": 3001, "message": "Meeting does not exist: 123."},
        {"not_ready": True},
        NotReady,
        ("3001", "not finished processing", "few minutes"),
    ),
    (
        404,
        {"code": 3301, "message": "There is no recording for this meeting."},
        {},
        NotFound,
        ("no cloud recording", "3301"),
    ),
    (
        400,
        {"code": 12702, "message": "Can not access a meeting a year ago."},
        {"not_ready": True},
        BeyondRetention,
        ("Zoom keeps past meeting details for one year;",),
    ),
    (
        400,
        {"code": 200, "message": "Only available for paid account."},
        {},
        NotOnPlan,  # an AuthError: fatal unless the caller reads an optional report
        ("paid", "Pro"),
    ),
    (
        400,
        {"code": 4700, "message": "Invalid access token, does not contain scopes."},
        {"scopes": SCOPES},
        AuthError,
        ("lacks a required scope", "report:read:admin", "Marketplace"),
    ),
    (
        400,
        {
            "code": 4711,
            "message": "Invalid access token, does not contain scopes:[webinar:read:admin].",
        },
        {"scopes": SCOPES},
        AuthError,
        ("webinar:read:admin",),
    ),
    (
        400,
        {"code": 4711, "message": "Invalid refresh token."},
        {},
        InvalidGrant,
        ("re-authorize at /oauth/authorize",),
    ),
    (
        400,
        {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
        {},
        AuthError,
        ("Zoom", "client_id", "client_secret"),
    ),
    (
        401,
        {"reason": "Invalid Token!", "error": "invalid_grant"},
        {},
        InvalidGrant,
        ("re-authorize at /oauth/authorize",),
    ),
    (
        429,
        {"code": 429, "message": "You have reached the maximum per-second rate limit."},
        {"retry_after_s": 2.0},
        RateLimited,
        ("rate limit",),
    ),
    (503, None, {}, RetriableApiError, ("unavailable", "503")),
    (500, "<html>oops</html>", {}, RetriableApiError, ("500",)),
    (403, {"code": 104, "message": "Invalid access."}, {}, AuthError, ("403",)),
    (404, {"code": 1001, "message": "User does not exist."}, {}, NotFound, ("User does not",)),
    (
        400,
        {"code": 3000, "message": "No registration."},
        {},
        PayloadRejected,
        ("code 3000", "No registration"),
    ),
    (302, None, {}, FatalApiError, ("302",)),
]


@pytest.mark.parametrize(("status", "body", "options", "kind", "words"), CASES)
def test_error_maps_to_the_exception_the_caller_acts_on(
    status: int, body: Any, options: dict[str, Any], kind: type[ApiError], words: tuple[str, ...]
) -> None:
    error = map_error(status, body, **options)
    assert type(error) is kind
    assert error.service == "zoom"
    assert error.status == status
    for word in words:
        assert word in str(error)


def test_rate_limited_carries_the_retry_after() -> None:
    error = map_error(429, {"code": 429, "message": "slow down"}, retry_after_s=7.5)
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 7.5
    assert error.code == 429


def test_zoom_code_is_kept_on_the_exception() -> None:
    assert map_error(404, {"code": 3301, "message": "x"}).code == 3301
    assert map_error(400, {"error": "invalid_client", "reason": "x"}).code == "invalid_client"


def test_a_very_long_vendor_message_is_cut() -> None:
    error = map_error(400, {"code": 9999, "message": "x" * 5000})
    assert len(str(error)) < 500


def test_expired_token_means_401_with_code_124_only() -> None:
    assert is_expired_token(401, {"code": 124, "message": "Access token is expired."})
    assert not is_expired_token(401, {"code": 4700})
    assert not is_expired_token(400, {"code": 124})
    assert not is_expired_token(401, None)


def test_client_retries_rate_limits_and_outages_but_not_not_ready_or_fatal() -> None:
    assert is_retried_here(map_error(429, None))
    assert is_retried_here(map_error(502, None))
    assert not is_retried_here(map_error(404, {"code": 3001}, not_ready=True))
    assert not is_retried_here(map_error(401, {"code": 124}))


def test_callers_catch_zoom_codes_by_type_not_by_number() -> None:
    assert isinstance(map_error(404, {"code": 3001}), NoSuchMeeting)
    assert isinstance(map_error(400, {"code": 12702}), BeyondRetention)
    assert isinstance(map_error(400, {"code": 12702}), NotFound)  # what retention means
    assert not isinstance(map_error(404, {"code": 3001}, not_ready=True), NotFound)
    assert not isinstance(map_error(404, {"code": 3301}), NoSuchMeeting | BeyondRetention)


# Errors a user reads on the command line say what to do next, not only what went wrong.
NEXT_STEP = re.compile(
    r"\b(check|run|add|re-authori[sz]e|authori[sz]e|buy|fix|try again|retry)\b", re.IGNORECASE
)
ADVICE_CASES = [
    (400, {"code": 3000, "message": "No registration."}),
    (401, {"error": "invalid_client", "reason": "Invalid client"}),
    (401, {"error": "invalid_grant", "reason": "Invalid Token!"}),
    (403, {"code": 104, "message": "Invalid access."}),
    (404, {"code": 1001, "message": "User does not exist."}),
    (404, {"code": 3001, "message": "Meeting does not exist."}),
    (400, {"code": 4700, "message": "Invalid access token, does not contain scopes:[x:y]."}),
    (429, {"code": 429, "message": "Too many requests."}),
    (503, None),
    (302, None),
]
DOUBLE_PUNCTUATION = re.compile(r"\.[.;:,)]|[;:,]\.|\)\.\)")


@pytest.mark.parametrize(("status", "body"), ADVICE_CASES)
def test_every_zoom_error_names_a_next_step(status: int, body: object) -> None:
    message = str(map_error(status, body))

    assert NEXT_STEP.search(message), message


@pytest.mark.parametrize(("status", "body"), ADVICE_CASES)
@pytest.mark.parametrize("not_ready", [False, True])
def test_no_zoom_error_doubles_its_punctuation(status: int, body: object, not_ready: bool) -> None:
    message = str(map_error(status, body, not_ready=not_ready))

    assert not DOUBLE_PUNCTUATION.search(message), message


def test_a_plan_without_the_feature_is_still_an_auth_error() -> None:
    error = map_error(400, {"code": 200, "message": "No permission."})
    assert isinstance(error, NotOnPlan) and isinstance(error, AuthError)
