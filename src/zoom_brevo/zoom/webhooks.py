"""Zoom webhook signatures and URL validation, as pure functions (reference zoom.md 4.2).

Zoom signs ``"v0:{x-zm-request-timestamp}:{raw body}"`` with HMAC-SHA256 under the app's
secret token and sends ``x-zm-signature: v0=<hex>``. ``verify`` runs over the raw bytes,
before anything parses them, with a constant-time comparison, and rejects timestamps
older than ``tolerance_s`` or further ahead of ``now`` than ``max_future_s``. The defaults
are the connector's one window (the server and the settings use them).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from zoom_brevo.errors import WebhookRejected

TIMESTAMP_HEADER = "x-zm-request-timestamp"
SIGNATURE_HEADER = "x-zm-signature"
VERSION = "v0"
# Zoom documents no replay window, retries a failed delivery after 5, 20 and 60 minutes
# without saying whether a retry is re-stamped, and never retries a 4xx (reference zoom.md
# 4.2, 4.3): a five-minute window could refuse a retry for good. The window outlasts the
# last retry (85 min); replays inside it are stopped by deduplication, not by the clock.
DEFAULT_TOLERANCE_S = 7200.0
# Clocks disagree a little; a timestamp further ahead than this was not made by Zoom now.
MAX_FUTURE_S = 300.0


def sign(secret: str, timestamp: str | int, raw_body: bytes) -> str:
    """The ``x-zm-signature`` value Zoom sends for ``raw_body`` at ``timestamp``."""
    message = f"{VERSION}:{timestamp}:".encode() + raw_body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = {k.lower(): v for k, v in headers.items()}
        value = lowered.get(name)
    return value


def _rejected(message: str, reason: str) -> WebhookRejected:
    return WebhookRejected(message, status=401, reason=reason)


def verify(
    secret: str,
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    max_future_s: float = MAX_FUTURE_S,
) -> None:
    """Accept the request or raise ``WebhookRejected(status=401, reason=...)``.

    ``headers`` needs ``x-zm-request-timestamp`` (epoch seconds) and ``x-zm-signature``
    (any letter case); ``now`` is epoch seconds. Timestamps older than ``tolerance_s`` or
    ahead of ``now`` by more than ``max_future_s`` are refused.
    """
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not timestamp:
        raise _rejected("webhook has no x-zm-request-timestamp header", "missing_timestamp")
    if not signature:
        raise _rejected("webhook has no x-zm-signature header", "missing_signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise _rejected("x-zm-request-timestamp is not epoch seconds", "bad_timestamp") from None
    if sent_at < now - tolerance_s:
        raise _rejected("webhook timestamp is too old (replayed?)", "stale_timestamp")
    if sent_at > now + max_future_s:
        raise _rejected("webhook timestamp is in the future", "future_timestamp")
    expected = sign(secret, timestamp, raw_body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise _rejected("webhook signature does not match the secret token", "bad_signature")


def url_validation_response(secret: str, plain_token: str) -> dict[str, str]:
    """The answer to ``endpoint.url_validation``: the token and its HMAC-SHA256 in hex."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}
