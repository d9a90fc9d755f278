"""Zoom error responses -> the project's exception tree, in one place.

REST errors are ``{"code": int, "message": str}`` (reference zoom.md 1.3); the OAuth token
endpoint answers ``{"error": str, "reason": str}``. ``map_error`` turns either, with the
HTTP status, into an exception whose message says what the user can do. It never puts a
token or secret in a message: it only quotes Zoom's own ``message``/``reason`` text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pydantic

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
from zoom_brevo.retrying import client_may_retry
from zoom_brevo.zoom.errors import BeyondRetention, NoSuchMeeting, NotOnPlan

SERVICE = "zoom"
REAUTHORIZE_HINT = "re-authorize at /oauth/authorize"
STATUS_PAGE = "https://status.zoom.us"
_SCOPES_IN_MESSAGE = re.compile(r"scopes?\s*:?\s*\[([^\]]*)\]", re.IGNORECASE)
_MAX_QUOTED = 300
M = TypeVar("M", bound=pydantic.BaseModel)

# Zoom error codes (reference zoom.md 1.3, 2.2); each meaning is looked up here only.
EXPIRED_TOKEN = 124
PAID_ONLY = 200
BAD_PAGE_TOKEN = 300
NO_SUCH_MEETING = 3001
# "Registrant {id} was not found." / "Registration has not been enabled" (official spec,
# DELETE /webinars/{webinarId}/registrants/{registrantId}): nothing left to delete.
NO_SUCH_REGISTRANT = 3000
GONE_CODES = frozenset({NO_SUCH_REGISTRANT, NO_SUCH_MEETING})
NO_RECORDING = 3301
TOO_OLD = 12702
MISSING_SCOPE = 4700
REFRESH_OR_SCOPE = 4711


def map_error(
    status: int,
    body: Any,
    *,
    retry_after_s: float | None = None,
    not_ready: bool = False,
    scopes: Sequence[str] = (),
) -> ApiError:
    """The exception for a failed Zoom response.

    ``body`` is the decoded JSON (anything else is treated as no body). ``not_ready``: the
    caller knows the meeting ended moments ago, so 3001 means "not processed yet"
    (NotReady) rather than "no such meeting" (NotFound). ``scopes`` are the scopes the
    endpoint needs, named in missing-scope messages.
    """
    fields = body if isinstance(body, Mapping) else {}
    code = fields.get("code")
    text = _quote(fields.get("message") or fields.get("reason") or "")
    if isinstance(fields.get("error"), str):
        return _oauth_error(status, fields["error"], text, retry_after_s)
    if isinstance(code, int) and (coded := _coded_error(status, code, text, not_ready, scopes)):
        return coded
    return _status_error(status, code if isinstance(code, int) else None, text, retry_after_s)


_FIXED: Mapping[int, tuple[type[ApiError], str]] = {
    EXPIRED_TOKEN: (
        AuthError,
        (
            "Zoom refused the access token even after renewing it (code 124: {text}). "
            "Check that the Zoom app is activated and its credentials are current."
        ),
    ),
    PAID_ONLY: (
        NotOnPlan,
        (
            "Zoom refused the call (code 200: {text}). This API needs a paid (Pro or higher) "
            "Zoom plan, the webinar add-on for webinars, or report permission for the "
            "app's account."
        ),
    ),
    TOO_OLD: (
        BeyondRetention,
        (
            "Zoom keeps past meeting details for one year; this meeting is older, so its details "
            "can no longer be fetched (code 12702: {text})."
        ),
    ),
    NO_RECORDING: (NotFound, "Zoom has no cloud recording for this meeting (code 3301: {text})."),
    BAD_PAGE_TOKEN: (
        PayloadRejected,
        (
            "Zoom refused the request (code 300: {text}). A next_page_token lasts 15 minutes; "
            "the listing must be restarted from its first page."
        ),
    ),
}


def _coded_error(
    status: int, code: int, text: str, not_ready: bool, scopes: Sequence[str]
) -> ApiError | None:
    kw: dict[str, Any] = {"service": SERVICE, "status": status, "code": code}
    if code in _FIXED:
        cls, template = _FIXED[code]
        return cls(template.format(text=text), **kw)
    if code == NO_SUCH_MEETING:
        return _no_such_meeting(text, not_ready, kw)
    if code in (MISSING_SCOPE, REFRESH_OR_SCOPE):
        return _scope_or_grant(code, text, scopes, kw)
    return None


def _scope_or_grant(code: int, text: str, scopes: Sequence[str], kw: dict[str, Any]) -> AuthError:
    # 4711 means "missing scope" on REST calls and "refresh token invalid" on the token
    # endpoint (reference zoom.md 1.3); the message tells them apart.
    if code == MISSING_SCOPE or "scope" in text.lower():
        return AuthError(_scope_message(code, text, scopes), **kw)
    return InvalidGrant(
        f"Zoom refused the refresh token (code 4711: {text}); {REAUTHORIZE_HINT}.", **kw
    )


def _no_such_meeting(text: str, not_ready: bool, kw: dict[str, Any]) -> ApiError:
    if not_ready:
        return NotReady(
            "Zoom has not finished processing this meeting's data yet (code 3001: "
            f"{text}); try again in a few minutes.",
            **kw,
        )
    return NoSuchMeeting(
        f"Zoom has no such meeting or webinar (code 3001: {text}). Check the ID or UUID; "
        "past data exists only once the meeting has ended.",
        **kw,
    )


def _scope_message(code: int, text: str, scopes: Sequence[str]) -> str:
    found = _SCOPES_IN_MESSAGE.search(text)
    named = [s.strip() for s in found.group(1).split(",") if s.strip()] if found else []
    needed = ", ".join(named or scopes) or "the scope this API declares"
    return (
        f"The Zoom app's token lacks a required scope (code {code}: {text}). Add {needed} "
        "to the app in the Zoom App Marketplace (Scopes page), then retry."
    )


def _oauth_error(status: int, error: str, text: str, retry_after_s: float | None) -> ApiError:
    detail = f"{error}: {text}" if text else error
    if error == "invalid_grant":
        return InvalidGrant(
            f"Zoom refused the OAuth grant ({detail}); {REAUTHORIZE_HINT}.",
            service=SERVICE,
            status=status,
            code=error,
        )
    if error in ("invalid_client", "unauthorized_client", "invalid_request") or status in (
        400,
        401,
        403,
    ):
        return AuthError(
            f"Zoom refused the OAuth credentials ({detail}). Check connectors.zoom.client_id "
            "and client_secret (and account_id) against the app's App Credentials page.",
            service=SERVICE,
            status=status,
            code=error,
        )
    return _status_error(status, None, detail, retry_after_s)


def _status_error(
    status: int, code: int | None, text: str, retry_after_s: float | None
) -> ApiError:
    kw: dict[str, Any] = {"service": SERVICE, "status": status, "code": code}
    said = f" ({text})" if text else ""
    if code is not None and code != status:
        said = f" (code {code}: {text})"
    if status == 429:
        return RateLimited(
            f"Zoom rate limit reached{said}; calls wait and retry by themselves. If this "
            "persists, check that connectors.zoom.plan matches the account's plan and that "
            "no other app uses up the same account's limits.",
            retry_after_s=retry_after_s,
            **kw,
        )
    if status >= 500 or status in (408, 0):
        return RetriableApiError(
            f"Zoom is unavailable (HTTP {status}){said}; retried with backoff. If this "
            f"persists, check {STATUS_PAGE} and run the command again later.",
            retry_after_s=retry_after_s,
            **kw,
        )
    if status in (401, 403):
        return AuthError(
            f"Zoom refused access (HTTP {status}){said}. Check the app's credentials, "
            "scopes and the account's permissions.",
            **kw,
        )
    if status == 404:
        return NotFound(
            f"Zoom has no such resource (HTTP 404){said}. Check the ID or UUID, and that the "
            "app's account owns it.",
            **kw,
        )
    if 400 <= status < 500:
        return PayloadRejected(
            f"Zoom rejected the request (HTTP {status}){said}. Check the ID or UUID given; "
            "to see the request, set connectors.zoom.log_level: verbose and run again.",
            **kw,
        )
    return FatalApiError(
        f"Unexpected answer from Zoom (HTTP {status}){said}. Check "
        "connectors.zoom.api_base_url (default https://api.zoom.us/v2).",
        **kw,
    )


def _quote(value: object) -> str:
    # Zoom's messages end with a period; ours put them in parentheses ("(code 3001: ...).").
    text = " ".join(str(value).split()).rstrip(".")
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 1] + "…"


def is_expired_token(status: int, body: Any) -> bool:
    """Whether a response says the access token expired or is invalid (401, code 124)."""
    return status == 401 and isinstance(body, Mapping) and body.get("code") == EXPIRED_TOKEN


def is_retried_here(error: ApiError) -> bool:
    """Whether the client retries ``error`` of a read itself (429, 5xx, transport) or hands
    it up (``retrying.client_may_retry``, the rule of every client).

    NotReady is retriable too, but after minutes, so the caller schedules it.
    """
    return client_may_retry("GET", error, never_sent=False)


def read_as(model: type[M], value: Any, path: str) -> M:
    """``value`` (a body or row Zoom answered ``path`` with) as ``model``.

    FatalApiError when it does not fit: asking again would get the same answer.
    """
    try:
        return model.model_validate(value)
    except pydantic.ValidationError as exc:
        raise FatalApiError(
            f"Zoom answered {path} with data this client cannot read "
            f"({exc.error_count()} invalid fields, first at {_first_loc(exc)}).",
            service=SERVICE,
        ) from exc


def _first_loc(exc: pydantic.ValidationError) -> str:
    errors = exc.errors()
    return ".".join(str(p) for p in errors[0]["loc"]) if errors else "?"
