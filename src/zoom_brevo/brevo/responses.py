"""The one place where Brevo's HTTP statuses and ``{code, message}`` bodies become errors.

Reference brevo.md sections 1 and 6. Messages never contain the API key; they say what the
operator should do next.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from zoom_brevo.errors import (
    ApiError,
    AuthError,
    FatalApiError,
    NotFound,
    PayloadRejected,
    RateLimited,
    RetriableApiError,
)

SERVICE = "brevo"
AUTHORISED_IPS_URL = "https://app.brevo.com/security/authorised_ips"
STATUS_PAGE = "https://status.brevo.com"
CHECK_HINT = "`zoom-brevo check` compares the configured lists and attributes with Brevo's"

# brevo.md section 1: the IP allow-list 401 and the variants reported for it.
_IP_BLOCK_MARKERS = (
    "unrecognised ip address",
    "not verified",
    "ip not authorized",
    "authorised_ips",
)
# brevo.md 2.7: list add where no contact could be added; a soft, idempotent outcome.
_ALREADY_IN_LIST = "contact already in list and/or does not exist"


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """Brevo's error body; either field may be empty when the body was not the usual JSON."""

    code: str
    message: str


def parse_error_body(body: bytes) -> ErrorBody:
    """Read ``{code, message}`` from a response body, tolerating anything else."""
    try:
        data = json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return ErrorBody(code="", message=body[:200].decode("utf-8", "replace").strip())
    if not isinstance(data, Mapping):
        return ErrorBody(code="", message="")
    return ErrorBody(code=str(data.get("code") or ""), message=str(data.get("message") or ""))


def parse_reset_s(headers: Mapping[str, str]) -> float | None:
    """Seconds until the window resets from ``x-sib-ratelimit-reset`` (relative, brevo.md 5)."""
    raw = headers.get("x-sib-ratelimit-reset")
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return max(0.0, value)


def is_ip_block(body: ErrorBody) -> bool:
    """A 401 caused by Brevo's "Authorized IPs" allow-list rather than by the key."""
    text = body.message.lower()
    return any(marker in text for marker in _IP_BLOCK_MARKERS)


def is_already_in_list(status: int, body: ErrorBody) -> bool:
    """The soft 400 of a list add whose contacts were all already members or unknown."""
    return status == 400 and _ALREADY_IN_LIST in body.message.lower()


def error_for(
    status: int, body: bytes, headers: Mapping[str, str], *, operation: str
) -> ApiError | None:
    """The error a response stands for, or ``None`` for a success (2xx).

    ``operation`` (``"POST /contacts"``) is named in messages; it never includes secrets.
    """
    if 200 <= status < 300:
        return None
    parsed = parse_error_body(body)
    code = parsed.code or None
    if status == 429:
        wait_s = parse_reset_s(headers)
        shown = "?" if wait_s is None else f"{wait_s:g}"
        return RateLimited(
            f"Brevo rate limit hit on {operation}; retry in {shown} s",
            service=SERVICE,
            status=status,
            code=code,
            retry_after_s=wait_s,
        )
    kind, message = _classify(status, parsed, operation)
    return kind(message, service=SERVICE, status=status, code=code)


def _classify(status: int, body: ErrorBody, operation: str) -> tuple[type[ApiError], str]:
    detail = _detail(body)
    if status == 401:
        return AuthError, _auth_message(body, detail)
    if status == 403:
        return AuthError, (
            f"Brevo refused {operation}: permission denied{detail}. Check that the API key "
            "(brevo.api_key) belongs to an account allowed to use this feature."
        )
    if status == 402:
        return FatalApiError, (
            f"Brevo refused {operation}: not enough credits{detail}. Buy credits or upgrade "
            "the Brevo plan, then retry."
        )
    if status == 404:
        return NotFound, f"Brevo {operation}: not found{detail}. {_capital(CHECK_HINT)}."
    if status >= 500 or status in (408, 425):
        return RetriableApiError, (
            f"Brevo {operation} failed with HTTP {status}{detail}; retried with backoff. "
            f"If this persists, check {STATUS_PAGE} and run the command again later."
        )
    return PayloadRejected, (
        f"Brevo rejected {operation} (HTTP {status}){detail}. Fix what Brevo names "
        f"({CHECK_HINT}); queued commands can then be re-sent with `zoom-brevo retry`."
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _detail(body: ErrorBody) -> str:
    # The message is quoted mid-sentence: its own final period would double ours.
    parts = [p for p in (body.code, body.message.rstrip(".")) if p]
    return f": {' - '.join(parts)}" if parts else ""


def _auth_message(body: ErrorBody, detail: str) -> str:
    if is_ip_block(body):
        return (
            "Brevo blocked the request because it came from an IP address that is not "
            "authorised for this account. Authorise this machine's IP in Brevo -> Settings "
            f"-> Security -> Authorized IPs ({AUTHORISED_IPS_URL}), or turn the IP "
            f"restriction off, then retry{detail}."
        )
    return (
        f"Brevo refused the API key{detail}. Check the API key (brevo.api_key): it must be "
        "a REST API key starting with 'xkeysib-' (an SMTP key 'xsmtpsib-' does not work)."
    )
