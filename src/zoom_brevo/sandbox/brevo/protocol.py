"""What emulated handlers receive and return, and Brevo's error replies."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoom_brevo.sandbox.brevo.state import BrevoState


@dataclass
class Options:
    """Tunable behaviour of the emulated account."""

    import_delay_s: float = 0.0
    idempotency_ttl_s: float = 1800.0  # brevo.md 4.1: 30 minutes
    email_credits: int | None = None  # None = unlimited; else 402 when exhausted
    events_batch_supported: bool = True
    max_import_bytes: int = 10 * 1000 * 1000  # brevo.md 2.5


@dataclass
class Req:
    """A parsed API call."""

    state: BrevoState
    options: Options
    now_s: float
    path_params: dict[str, str]
    query: Mapping[str, str]
    body: Any
    base_url: str


@dataclass
class Reply:
    """A handler's answer; ``body`` None means an empty body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiFault(Exception):
    """An error answer in Brevo's ``{code, message}`` shape."""

    def __init__(
        self, status: int, code: str, message: str, metadata: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.metadata = dict(metadata) if metadata else None

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.metadata:
            data["metadata"] = self.metadata
        return data


def bad(message: str, code: str = "invalid_parameter") -> ApiFault:
    """A 400."""
    return ApiFault(400, code, message)


def not_found(message: str) -> ApiFault:
    """A 404."""
    return ApiFault(404, "document_not_found", message)


Handler = Callable[[Req], Awaitable[Reply]]


@dataclass(frozen=True)
class Op:
    """One served operation: method, swagger path template, handler."""

    method: str
    template: str
    handler: Handler

    def pattern(self) -> re.Pattern[str]:
        """Regex of the template, one segment per ``{name}``."""
        regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        return re.compile(f"^{regex}$")


def body_object(req: Req) -> dict[str, Any]:
    """The JSON body, which must be an object."""
    if not isinstance(req.body, dict):
        raise bad("Request body must be a JSON object", "bad_request")
    return req.body


def int_param(req: Req, name: str) -> int:
    """A numeric path parameter."""
    try:
        return int(req.path_params[name])
    except ValueError:
        raise bad(f"Invalid {name}") from None


def paging(req: Req, *, default: int, maximum: int, minimum: int = 0) -> tuple[int, int]:
    """``limit`` and ``offset`` query parameters with the operation's bounds."""
    try:
        limit = int(req.query.get("limit", default))
        offset = int(req.query.get("offset", 0))
    except ValueError:
        raise bad("limit and offset must be integers") from None
    if not minimum <= limit <= maximum or offset < 0:
        raise bad(
            f"limit should be between {minimum} and {maximum}, offset at least 0", "out_of_range"
        )
    return limit, offset
