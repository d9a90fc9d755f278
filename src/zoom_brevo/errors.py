"""One exception tree, grouped by what the caller does next.

- ``ConfigError``: the operator fixes the configuration (CLI exit code 2).
- ``WebhookRejected``: answer the HTTP request with its 4xx status; store nothing.
- ``RetriableApiError``: try again later (5xx, timeouts, 429 with its wait, data not ready).
- ``FatalApiError``: retrying cannot help (bad credentials, rejected payload -> dead letter).
- ``StoreError``: the database is unreachable or refused the write (webhooks answer 503).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Required, TypedDict, Unpack


class ZoomBrevoError(Exception):
    """Base of every error this package raises on purpose.

    ``user_input``: values the user typed (the e-mail address they asked about) that the
    command line echoes as typed; anything else in a message is scrubbed.
    """

    user_input: tuple[str, ...] = ()


class ConfigError(ZoomBrevoError):
    """The configuration is missing, malformed or invalid.

    ``key`` is the dotted path of the offending key (``connectors.zoom.client_id``) and
    ``line`` its line in the YAML file when known. ``more``: the file's other problems;
    ``problems`` lists them all, this one first, and the message joins them.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        line: int | None = None,
        more: Sequence[ConfigError] = (),
    ) -> None:
        self.key = key
        self.line = line
        where = ""
        if key:
            where = f"{key}"
            if line:
                where += f" (line {line})"
            where += ": "
        self.problems: tuple[str, ...] = (
            f"{where}{message}",
            *(p for other in more for p in other.problems),
        )
        super().__init__("; ".join(self.problems))


class WebhookRejected(ZoomBrevoError):
    """An incoming webhook failed verification or parsing; answer ``status``, store nothing."""

    def __init__(self, message: str, *, status: int = 400, reason: str = "malformed") -> None:
        self.status = status
        self.reason = reason
        super().__init__(message)


class ApiError(ZoomBrevoError):
    """A call to Zoom or Brevo failed.

    ``service`` is ``"zoom"`` or ``"brevo"``; ``status`` the HTTP status (0 for transport
    errors); ``code`` the vendor's error code (Zoom: int, Brevo: str) when the body had one.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str,
        status: int = 0,
        code: int | str | None = None,
    ) -> None:
        self.service = service
        self.status = status
        self.code = code
        super().__init__(message)


class ApiErrorFields(TypedDict, total=False):
    """The keyword arguments of :class:`ApiError`, passed on by its subclasses."""

    service: Required[str]
    status: int
    code: int | str | None


class RetriableApiError(ApiError):
    """Worth retrying later; ``retry_after_s`` is the server's requested wait, if any."""

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, **fields: Unpack[ApiErrorFields]
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, **fields)


class RateLimited(RetriableApiError):
    """HTTP 429: a rate limit was hit; wait ``retry_after_s`` before the next call."""


class NotReady(RetriableApiError):
    """Zoom has not finished processing the meeting's data yet (3001 or zero durations)."""


class FatalApiError(ApiError):
    """Retrying the same request cannot succeed."""


class AuthError(FatalApiError):
    """Credentials were refused (wrong secret, wrong API key, missing scope, IP not allowed)."""


class InvalidGrant(AuthError):
    """A user-level OAuth refresh token or code was refused; the user must re-authorize."""


class NotFound(FatalApiError):
    """The resource does not exist (or no longer: Zoom retention windows)."""


class RegistrantLimitReached(FatalApiError):
    """Zoom's limit of registration requests per person and webinar per day is reached
    (3 a day, reset at 00:00 UTC; reference zoom.md 3): try that person again tomorrow."""


class PayloadRejected(FatalApiError):
    """The vendor rejected the request body; sending it again would fail again."""


class StoreError(ZoomBrevoError):
    """The database could not be reached or refused the operation."""


class StoreConflict(StoreError):
    """The database refused a transaction that lost to another one (a deadlock, a
    serialization failure, a lock it could not get in time): running it again soon works."""
