"""What every admin handler shares: the store, the auth, the cached check, the guard.

``guarded`` wraps a handler: it authenticates the request, refuses it (401/429) or checks
the CSRF token of a state-changing request made with the session cookie (403), then calls
the handler with the :class:`~zoom_brevo.admin.auth.Identity` found.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from zoom_brevo.admin import models, queries
from zoom_brevo.admin.auth import CSRF_FIELD, CSRF_HEADER, AdminAuth, Identity, Refusal
from zoom_brevo.oauth_tokens import OAuthStatus
from zoom_brevo.store.engine import reading, transaction

T = TypeVar("T")
MAX_PAGE = 100_000
MAX_UUID_CHARS = 200
MAX_EMAIL_CHARS = 320
CHECK_TIMEOUT_S = 60.0
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SORTS = frozenset(queries.SORT_KEYS)


class CheckOutcome(Protocol):
    """What ``usecases.checks.run_check`` returns (``CheckReport``)."""

    @property
    def ok(self) -> bool:
        """All is well."""

    def problems(self) -> list[str]:
        """One phrase per problem."""

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-ready document."""


RunCheck = Callable[[], Awaitable[CheckOutcome]]
Handler = Callable[[Request, Identity], Awaitable[Response]]
Refuse = Callable[[Request, Refusal], Response]
ReadConnection = Callable[[], tuple[OAuthStatus, str] | None]
"""The user-level Zoom connection and where to (re-)authorize (blocking: run off the loop)."""


@dataclass
class CheckCache:
    """The last check result; one run at a time (a second click waits for the first)."""

    run: RunCheck | None
    last: models.CheckResult | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(self, now: Callable[[], datetime]) -> models.CheckResult | None:
        """Run the check now (``None`` when no check is configured)."""
        if self.run is None:
            return None
        async with self.lock:
            report = await asyncio.wait_for(self.run(), CHECK_TIMEOUT_S)
            self.last = models.CheckResult(
                ran_at=now(), ok=report.ok, problems=report.problems(), report=report.to_json()
            )
        return self.last


@dataclass
class AdminContext:
    """The objects behind every admin route."""

    engine: Engine
    auth: AdminAuth
    checks: CheckCache
    limits: dict[str, Any] | None = None
    oauth_status: ReadConnection | None = None

    def now(self) -> datetime:
        """The auth clock as an aware datetime."""
        return datetime.fromtimestamp(self.auth.clock(), UTC)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a read-only connection, off the event loop."""

        def run() -> T:
            with reading(self.engine) as conn:
                return fn(conn)

        return await run_in_threadpool(run)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a transaction, off the event loop."""

        def run() -> T:
            with transaction(self.engine) as conn:
                return fn(conn)

        return await run_in_threadpool(run)

    def guarded(self, handler: Handler, refuse: Refuse) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` behind the admin token (and CSRF for unsafe methods)."""

        async def endpoint(request: Request) -> Response:
            found = self.auth.authenticate(request)
            if isinstance(found, Refusal):
                return refuse(request, found)
            if request.method in UNSAFE_METHODS and not self.auth.csrf_valid(
                found, await csrf_of(request)
            ):
                raise HTTPException(403, "missing or wrong CSRF token; reload the page")
            return await handler(request, found)

        return endpoint


async def csrf_of(request: Request) -> str | None:
    """The CSRF token sent as a header, or as a form field of a form-encoded body."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def retry_after_header(refusal: Refusal) -> dict[str, str]:
    """A ``Retry-After`` header for a 429 refusal."""
    if refusal.status != 429:
        return {}
    return {"Retry-After": str(max(1, math.ceil(refusal.retry_after_s)))}


# -- request parameters (400 for anything malformed) -------------------------------------


def int_param(request: Request, name: str, default: int, *, maximum: int = MAX_PAGE) -> int:
    """A positive integer query parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise HTTPException(400, f"query parameter {name!r} must be a whole number from 1")
    return int(raw)


def choice_param(request: Request, name: str, default: str, allowed: frozenset[str]) -> str:
    """A query parameter from a fixed set."""
    raw = request.query_params.get(name) or default
    if raw not in allowed:
        options = ", ".join(sorted(allowed))
        raise HTTPException(400, f"query parameter {name!r} must be one of: {options}")
    return raw


def order_param(request: Request) -> Literal["asc", "desc"]:
    """The ``order`` query parameter: ``asc`` or ``desc`` (the default)."""
    raw = request.query_params.get("order") or "desc"
    if raw == "asc":
        return "asc"
    if raw == "desc":
        return "desc"
    raise HTTPException(400, "query parameter 'order' must be asc or desc")


def uuid_param(request: Request) -> str:
    """The meeting UUID path parameter (Zoom UUIDs are base64: up to 200 characters)."""
    value: str = request.path_params["uuid"]
    if not value or len(value) > MAX_UUID_CHARS or not value.isprintable():
        raise HTTPException(400, "not a meeting UUID")
    return value


def email_param(request: Request) -> str:
    """The e-mail address path parameter, lower-cased."""
    value: str = request.path_params["email"].strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or len(value) > MAX_EMAIL_CHARS or not value.isprintable():
        raise HTTPException(400, "not an e-mail address")
    return value.lower()


@dataclass(frozen=True, slots=True)
class MeetingQuery:
    """What a meeting's page asks for: ``/meetings/{uuid}?sort=&order=&page=``."""

    uuid: str
    sort: str
    order: Literal["asc", "desc"]
    page: int

    def detail(self, conn: Connection) -> models.MeetingDetail | None:
        """The meeting's page of attendees and charts (``None``: no such meeting)."""
        return queries.meeting_detail(
            conn, self.uuid, sort=self.sort, order=self.order, page=self.page
        )


def meeting_query(request: Request) -> MeetingQuery:
    """The meeting page's parameters, checked in path order (400 for anything malformed)."""
    return MeetingQuery(
        uuid_param(request),
        choice_param(request, "sort", "minutes", SORTS),
        order_param(request),
        int_param(request, "page", 1),
    )
