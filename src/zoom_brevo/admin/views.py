"""The dashboard's pages: server-rendered HTML with inline SVG charts, no JavaScript.

Unauthenticated page requests get the login form with status 401. Forms post back with
the session's CSRF token; the login form uses a double-submit cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from zoom_brevo.admin import charts, models, queries
from zoom_brevo.admin.auth import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Identity,
    Refusal,
    site_root,
    tokens_equal,
)
from zoom_brevo.admin.context import (
    AdminContext,
    email_param,
    int_param,
    meeting_query,
    retry_after_header,
)
from zoom_brevo.errors import ConfigError, StoreError
from zoom_brevo.oauth_tokens import AUTHORIZE_PATH

TICK_STEPS_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 240)
# Sized to the cards they sit in, so that text renders at about its nominal size.
FULL_WIDTH = charts.Frame(width=1100, height=300)
HALF_WIDTH = charts.Frame(width=540, height=280, left=44)
MAX_TICKS = 8
MISSING = "\u2013"  # en dash: the one mark of an unknown value, in filters and templates


# -- formatting ---------------------------------------------------------------------------


def fmt_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time for a table cell (:data:`MISSING` when unknown)."""
    return MISSING if value is None else value.strftime(fmt)


def fmt_number(value: float | None, digits: int = 1) -> str:
    """A number to ``digits`` decimals (:data:`MISSING` when unknown)."""
    return MISSING if value is None else f"{value:,.{digits}f}"


def fmt_ratio(value: float | None) -> str:
    """A 0..1 ratio as a percentage (:data:`MISSING` when unknown)."""
    return MISSING if value is None else f"{value * 100:.0f}%"


def path_segment(value: str) -> str:
    """``value`` encoded as one URL path segment ("/" included)."""
    return quote(value, safe="")


def templates() -> Jinja2Templates:
    """The packaged templates, autoescaped."""
    env = Environment(
        loader=PackageLoader("zoom_brevo.admin", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time=fmt_time, number=fmt_number, ratio=fmt_ratio, segment=path_segment)
    env.globals["missing"] = MISSING
    return Jinja2Templates(env=env)


# -- charts of one meeting / person --------------------------------------------------------


def tick_step(minutes: int) -> int:
    """Minutes between x-axis labels so that at most ``MAX_TICKS`` fit."""
    return next((s for s in TICK_STEPS_MIN if minutes / s <= MAX_TICKS), TICK_STEPS_MIN[-1])


def presence_chart(presence: models.Presence) -> str:
    """People present per minute, with clock-time labels (UTC)."""
    counts = presence.per_minute
    if presence.start is None or not counts:
        return charts.empty_chart("People present per minute: no attendance recorded")
    start = presence.start
    step = tick_step(len(counts))
    ticks = [
        (float(m), (start + timedelta(minutes=m)).strftime("%H:%M"))
        for m in range(0, len(counts), step)
    ]
    points = [(float(i), float(n)) for i, n in enumerate(counts)]
    if len(points) == 1:
        points.append((1.0, points[0][1]))
    return charts.line_chart(
        points, label="People present per minute", x_ticks=ticks, frame=FULL_WIDTH
    )


def histogram_chart(bins: Sequence[models.HistogramBin]) -> str:
    """Attendees by minutes attended."""
    bars = [(f"{b.low_min:g}\u2013{b.high_min:g}", b.count) for b in bins]
    return charts.bar_chart(
        bars, label="Attendees by minutes attended", unit="attendees", frame=HALF_WIDTH
    )


def funnel_chart(stages: Sequence[models.FunnelStage]) -> str:
    """Registered -> attended -> stayed at least half."""
    return charts.funnel_chart(
        [(s.label, s.count) for s in stages], label="Attendance funnel", width=HALF_WIDTH.width
    )


def score_chart(meetings: Sequence[models.PersonMeeting]) -> str:
    """The person's attendance score after each meeting, oldest first."""
    ordered = list(reversed(meetings))
    days = [fmt_time(m.start_time, "%b %d") for m in ordered]
    if len(set(days)) < len(days):  # two meetings on one day: tell them apart
        days = [fmt_time(m.start_time, "%b %d %H:%M") for m in ordered]
    label = "Score after each meeting"
    if len(ordered) == 1:
        return charts.bar_chart([(days[0], round(ordered[0].score_after))], label=label,
                                unit="points", frame=HALF_WIDTH)  # fmt: skip
    return charts.line_chart(
        [(float(i), m.score_after) for i, m in enumerate(ordered)],
        label=label,
        x_ticks=list(enumerate(days)),
        point_labels=[f"{m.topic or m.uuid}: {m.score_after:.1f}" for m in ordered],
        y_max=100,
        frame=charts.Frame(width=1100, height=280),
    )


# -- the user-level Zoom connection ---------------------------------------------------------

CONNECTION_LABELS = {
    "connected": "connected",
    "not_connected": "not connected",
    "reauthorize": "re-authorize needed",
    "unknown": "unknown",
}


@dataclass(frozen=True, slots=True)
class ZoomUser:
    """The user-level OAuth connection as the operations page shows it."""

    state: str
    detail: str
    authorize_url: str

    @property
    def label(self) -> str:
        """Connected, not connected, re-authorize needed (or unknown)."""
        return CONNECTION_LABELS[self.state]

    @property
    def action(self) -> str:
        """The button's label."""
        return "Connect Zoom user" if self.state == "not_connected" else "Reconnect Zoom user"


async def zoom_user(ctx: AdminContext, prefix: str) -> ZoomUser | None:
    """The connection, when ``connectors.zoom.oauth`` is configured (else ``None``)."""
    if ctx.oauth_status is None:
        return None
    fallback = site_root(prefix).rstrip("/") + AUTHORIZE_PATH
    try:
        found = await run_in_threadpool(ctx.oauth_status)
    except (StoreError, ConfigError) as exc:
        return ZoomUser("unknown", f"the stored connection could not be read: {exc}", fallback)
    if found is None:
        return None
    status, url = found
    return ZoomUser(status.state, status.describe(url), url)


# -- pages -------------------------------------------------------------------------------


class Pages:
    """The page handlers over one :class:`AdminContext`."""

    def __init__(self, ctx: AdminContext) -> None:
        """Pages reading through ``ctx``."""
        self.ctx = ctx
        self.templates = templates()

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        who: Identity | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """A template with the shared context (prefix, CSRF token, signed-in state)."""
        shared = {
            "prefix": request.scope.get("root_path", ""),
            "csrf": self.ctx.auth.csrf_token(who) if who else "",
            "csrf_field": CSRF_FIELD,
            "signed_in": who is not None,
            "session": who is not None and who.method == "session",
        }
        return self.templates.TemplateResponse(
            request, name, {**shared, **context}, status_code=status_code, headers=headers
        )

    def refuse(self, request: Request, refusal: Refusal) -> Response:
        """The login page (401) or a wait notice (429)."""
        return self.login_form(request, error=refusal.message, status_code=refusal.status,
                               headers=retry_after_header(refusal))  # fmt: skip

    def login_form(
        self,
        request: Request,
        *,
        error: str | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """The sign-in form, with a fresh double-submit CSRF cookie."""
        token = secrets.token_urlsafe(24)
        target = _next_target(request, request.query_params.get("next") or request.url.path)
        response = self.render(request, "login.html",
                               {"error": error, "login_csrf": token, "next": target},
                               status_code=status_code, headers=headers)  # fmt: skip
        self._cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    def _cookie(
        self,
        request: Request,
        response: Response,
        name: str,
        value: str,
        *,
        max_age: int,
        path: str | None = None,
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path or request.scope.get("root_path") or "/",
            secure=self.ctx.auth.cookie_secure(request),
            httponly=True,
            samesite="strict",
        )

    async def login_page(self, request: Request) -> Response:
        """GET /login: the form, or straight on when already signed in."""
        found = self.ctx.auth.authenticate(request)
        if isinstance(found, Identity):
            return _redirect(request, _next_target(request, request.query_params.get("next")))
        return self.login_form(request)

    async def login(self, request: Request) -> Response:
        """POST /login: check the rate limit, the CSRF cookie, then the token."""
        auth = self.ctx.auth
        refusal = auth.blocked(request)
        if refusal is not None:
            return self.refuse(request, refusal)
        form = await request.form()
        sent, cookie = form.get(CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE)
        if not isinstance(sent, str) or not cookie or not tokens_equal(sent, cookie):
            raise HTTPException(403, "the sign-in form expired; reload it and try again")
        token = form.get("token")
        if not isinstance(token, str) or not auth.token_valid(token):
            auth.failed(request)
            return self.login_form(request, error="That is not the admin token.", status_code=401)
        auth.limiter.forget(request.client.host if request.client else "unknown")
        value, _nonce = auth.sessions.issue(auth.clock())
        next_value = form.get("next")
        response = _redirect(
            request, _next_target(request, next_value if isinstance(next_value, str) else None)
        )
        # Path=/ (not /admin): /oauth/authorize takes the session too (reconnect Zoom user).
        self._cookie(request, response, SESSION_COOKIE, value,
                     max_age=int(auth.sessions.ttl_s), path=_session_path(request))  # fmt: skip
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=request.scope.get("root_path") or "/")
        return response

    async def logout(self, request: Request, _who: Identity) -> Response:
        """POST /logout: drop the session cookie (and one an older version set on /admin)."""
        response = _redirect(request, "/login")
        for path in {_session_path(request), request.scope.get("root_path") or "/"}:
            response.delete_cookie(SESSION_COOKIE, path=path,
                                   secure=self.ctx.auth.cookie_secure(request), httponly=True,
                                   samesite="strict")  # fmt: skip
        return response

    async def home(self, request: Request, _who: Identity) -> Response:
        """GET /: the meetings list."""
        return _redirect(request, "/meetings")

    async def meetings(self, request: Request, who: Identity) -> Response:
        """GET /meetings: meetings and webinars, newest first."""
        page = int_param(request, "page", 1)
        found = await self.ctx.read(lambda c: queries.meeting_page(c, page=page))
        context = {"data": found, "nav": "meetings", "page_link": lambda n: f"?page={n}"}
        return self.render(request, "meetings.html", context, who=who)

    async def meeting(self, request: Request, who: Identity) -> Response:
        """GET /meetings/{uuid}: charts and the attendee table."""
        query = meeting_query(request)
        found = await self.ctx.read(query.detail)
        if found is None:
            raise HTTPException(404, "No such meeting in the store. Has it been synced?")
        context = {
            "data": found,
            "nav": "meetings",
            "presence_svg": Markup(presence_chart(found.presence)),  # noqa: S704 (escaped in charts)
            "histogram_svg": Markup(histogram_chart(found.histogram)),  # noqa: S704
            "funnel_svg": Markup(funnel_chart(found.funnel)),  # noqa: S704
            "sort_link": lambda key: _sort_link(found, key),
            "page_link": lambda n: (
                "?" + urlencode({"sort": query.sort, "order": query.order, "page": n})
            ),
        }
        return self.render(request, "meeting.html", context, who=who)

    async def person(self, request: Request, who: Identity) -> Response:
        """GET /people/{email}: meetings attended, minutes, score over time."""
        email = email_param(request)
        found = await self.ctx.read(lambda c: queries.person_detail(c, email))
        if found is None:
            raise HTTPException(404, "Nobody with that e-mail address in the store.")
        score_svg = Markup(score_chart(found.meetings))  # noqa: S704 (escaped in charts)
        return self.render(request, "person.html",
                           {"data": found, "nav": "meetings", "score_svg": score_svg},
                           who=who)  # fmt: skip

    async def operations(self, request: Request, who: Identity) -> Response:
        """GET /operations: queues, deliveries, dead letters, rejections, limits, check."""
        now = self.ctx.now()
        last = self.ctx.checks.last
        found = await self.ctx.read(
            lambda c: queries.operations(c, now=now, limits=self.ctx.limits, check=last)
        )
        context = {
            "data": found,
            "nav": "operations",
            "requeued": request.query_params.get("requeued"),
            "check_available": self.ctx.checks.run is not None,
            "zoom_user": await zoom_user(self.ctx, request.scope.get("root_path", "")),
        }
        return self.render(request, "operations.html", context, who=who)

    async def retry(self, request: Request, _who: Identity) -> Response:
        """POST /operations/retry: re-queue one dead letter (``ref``) or all (``all``)."""
        form = await request.form()
        ref = form.get("ref")
        try:
            wanted = models.RetryRequest(
                refs=[ref] if isinstance(ref, str) and ref else [], all=form.get("all") == "1"
            )
        except ValueError as exc:  # pydantic's ValidationError: a malformed reference
            raise HTTPException(400, "not a dead letter reference (job:ID or outbox:ID)") from exc
        if not wanted.all and not wanted.refs:
            raise HTTPException(400, "name a dead letter to retry")
        now = self.ctx.now()
        try:
            count = await self.ctx.write(lambda c: queries.retry(c, wanted, now=now))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return _redirect(request, f"/operations?requeued={count}")

    async def check(self, request: Request, _who: Identity) -> Response:
        """POST /operations/check: run ``check`` now, then show the operations page."""
        if self.ctx.checks.run is None:
            raise HTTPException(503, "no check configured for this server")
        await self.ctx.checks.refresh(self.ctx.now)
        return _redirect(request, "/operations#check")

    def routes(self) -> list[BaseRoute]:
        """The page routes, relative to the admin mount."""
        guard = self.ctx.guarded
        return [
            Route("/", guard(self.home, self.refuse), methods=["GET"]),
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", guard(self.logout, self.refuse), methods=["POST"]),
            Route("/meetings", guard(self.meetings, self.refuse), methods=["GET"]),
            Route("/meetings/{uuid:path}", guard(self.meeting, self.refuse), methods=["GET"]),
            Route("/people/{email:path}", guard(self.person, self.refuse), methods=["GET"]),
            Route("/operations", guard(self.operations, self.refuse), methods=["GET"]),
            Route("/operations/retry", guard(self.retry, self.refuse), methods=["POST"]),
            Route("/operations/check", guard(self.check, self.refuse), methods=["POST"]),
        ]


def _sort_link(detail: models.MeetingDetail, key: str) -> str:
    """Sort by ``key``; clicking the current column flips the order."""
    default = "asc" if key in ("name", "email", "first_join") else "desc"
    flipped = "asc" if detail.order == "desc" else "desc"
    order = flipped if key == detail.sort else default
    return "?" + urlencode({"sort": key, "order": order})


def _next_target(request: Request, value: str | None) -> str:
    """Where to go after signing in: a page of this admin app, never another site."""
    prefix = request.scope.get("root_path", "")
    if value and value.startswith(prefix + "/") and not value.startswith("//"):
        rest = value[len(prefix) :]
        if rest not in ("/login", "/logout") and "\\" not in rest:
            return rest
    return "/meetings"


def _session_path(request: Request) -> str:
    return site_root(request.scope.get("root_path", ""))


def _redirect(request: Request, path: str) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + path, status_code=303)
