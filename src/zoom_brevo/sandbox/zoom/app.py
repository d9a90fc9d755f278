"""The emulated Zoom API as one stateful Starlette app (see ``ZoomEmulator``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.zoom import routes
from zoom_brevo.sandbox.zoom.auth import OAuthServer, TokenStore
from zoom_brevo.sandbox.zoom.errors import ZoomError
from zoom_brevo.sandbox.zoom.faults import Faults, RecordedRequest, Stats
from zoom_brevo.sandbox.zoom.lookup import Finder
from zoom_brevo.sandbox.zoom.paging import PageTokens
from zoom_brevo.sandbox.zoom.ratelimits import RateLimits

_QUERY_TOKEN_MESSAGE = (
    "Invalid access token, this access token is not supported as query parameter string."
)


def decode_id(raw: str) -> str:
    """A path id from its raw segment: decode once, and again if still encoded.

    A UUID that starts with "/" or contains "//" must arrive double-encoded; single-encoded
    it is "not found", as at Zoom (reference zoom.md 2.0).
    """
    once = unquote(raw)
    if "%" in once:
        return unquote(once)
    if once.startswith("/") or "//" in once:
        raise ZoomError(404, 3001, f"Meeting does not exist: {once}.")
    return once


def raw_segments(scope: Scope) -> list[str]:
    """The request path's raw segments below the mount point (``root_path``)."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    segments = path.split("/")[1:]
    root = scope.get("root_path", "")
    if root and scope["path"].startswith(root):
        segments = segments[len([s for s in root.split("/") if s]) :]
    return segments


async def _json_body(request: Request) -> Any:
    """A POST's JSON body; Zoom answers 400 code 300 to one it cannot read."""
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        raise ZoomError(400, 300, "Request Body should be a valid JSON object.") from None


class ZoomEmulator:
    """A stateful, spec-faithful emulation of Zoom's OAuth and REST API.

    ``app`` serves ``POST /oauth/token``, ``GET /oauth/authorize`` and ``GET /v2/...``
    (the endpoints of reference zoom.md 2.1), also when mounted under a prefix. ``faults``
    scripts failures; ``stats`` records requests; ``report_delay_s`` keeps participant and
    report data "not ready" (3001) for that long after an instance ends.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        account_id: str = "acct",
        client_id: str = "cid",
        client_secret: str = "csecret",  # noqa: S107 - the sandbox's documented credentials
        plan: str = "pro",
        token_ttl_s: float = 3600,
        page_token_ttl_s: float = 900,
        clock: Callable[[], float] = time.time,
        enforce_rate_limits: bool = True,
        report_delay_s: float = 0.0,
    ) -> None:
        self.scenario = scenario or Scenario()
        self.account_id = account_id
        self.clock = clock
        self.report_delay_s = report_delay_s
        self.stats = Stats()
        self.tokens = TokenStore(clock, token_ttl_s)
        self.faults = Faults(self.tokens.expire_all, clock)
        self.pages = PageTokens(clock, page_token_ttl_s)
        self.limits = RateLimits(plan, clock, enforce=enforce_rate_limits)
        self.finder = Finder(self.scenario, clock, lambda: self.report_delay_s)
        self.oauth = OAuthServer(
            tokens=self.tokens,
            account_id=account_id,
            client_id=client_id,
            client_secret=client_secret,
            default_user=self._first_user_id,
            faults=self.faults,
            stats=self.stats,
        )
        self._totals: dict[tuple[object, ...], int] = {}
        self._starlette = Starlette(
            routes=[
                Route("/oauth/token", self.oauth.token, methods=["POST"]),
                Route("/oauth/authorize", self.oauth.authorize, methods=["GET"]),
                Route("/v2/{rest:path}", self._api, methods=["GET", "DELETE", "POST"]),
            ]
        )

    def _first_user_id(self) -> str:
        users = self.scenario.users or [self.scenario.user()]
        return users[0].id

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point; records each HTTP request and its status."""
        if scope["type"] != "http":
            await self._starlette(scope, receive, send)
            return
        record: dict[str, Any] = {"status": 500, "ids": {}, "done": False}
        scope = {**scope, "zoom.record": record}

        def append_record() -> None:
            if record["done"]:
                return
            record["done"] = True
            raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            self.stats.requests.append(
                RecordedRequest(
                    scope["method"], raw.split("?", 1)[0], record["ids"], query, record["status"]
                )
            )

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
                append_record()  # before the client can see the answer, so tests never race
            await send(message)

        try:
            await self._starlette(scope, receive, recording_send)
        finally:
            append_record()

    async def _api(self, request: Request) -> Response:
        headers: dict[str, str] = {}
        try:
            sent = await _json_body(request) if request.method == "POST" else None
            headers, body = self._answer(request, sent)
        except ZoomError as exc:
            return JSONResponse(exc.body(), exc.status, headers={**headers, **exc.headers})
        if request.method == "DELETE":
            return Response(status_code=204, headers=headers)
        return JSONResponse(body, 201 if request.method == "POST" else 200, headers=headers)

    def _check_scopes(self, route: routes.Route) -> None:
        """A token without the route's scope: 400 code 4711 naming them (reference zoom.md 1.3,
        "Invalid access token, does not contain scopes:[...]")."""
        granted = set(self.oauth.scopes.split())
        if route.scopes and not granted & set(route.scopes):
            wanted = ", ".join(route.scopes)
            raise ZoomError(400, 4711, f"Invalid access token, does not contain scopes:[{wanted}].")

    def _answer(self, request: Request, sent: Any = None) -> tuple[dict[str, str], dict[str, Any]]:
        query = dict(request.query_params)
        if "access_token" in query:
            raise ZoomError(401, 124, _QUERY_TOKEN_MESSAGE)
        self.tokens.check(request.headers.get("authorization"))
        segments = raw_segments(request.scope)[1:]  # below /v2
        found = routes.match(segments, request.method)
        if found is None:
            raise ZoomError(404, 2300, "This API endpoint is not recognized.")
        route, raw_ids = found
        self._check_scopes(route)
        ids = {name: decode_id(value) for name, value in raw_ids.items()}
        request.scope["zoom.record"]["ids"] = ids
        self.faults.check("/" + "/".join(segments))
        headers = self.limits.admit(route.category)
        call = routes.Call(
            finder=self.finder,
            pages=self.pages,
            path="/" + "/".join(segments),
            query=query,
            ids=ids,
            account_id=self.account_id,
            totals=self._totals,
            body=sent,
        )
        try:
            return headers, route.handler(call)
        except ZoomError as exc:
            exc.headers = {**headers, **exc.headers}
            raise
