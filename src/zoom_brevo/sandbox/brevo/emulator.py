"""The emulated Brevo API v3 as a Starlette app: auth, rate limits, faults, dispatch."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from zoom_brevo.sandbox.brevo import contacts_api, messaging_api, webhooks_api
from zoom_brevo.sandbox.brevo.limits import Fault, Faults, FaultWindow, RateLimits, Stats, family
from zoom_brevo.sandbox.brevo.protocol import ApiFault, Op, Options, Reply, Req
from zoom_brevo.sandbox.brevo.state import BrevoState

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
_KEY_MISSING = "authentication not found in headers"
_KEY_UNKNOWN = "Key not found"
_IP_BLOCKED = (
    "We have detected you are using an unrecognised IP address {ip}. If you performed this "
    "action make sure to add the new IP address in this link: "
    "https://app.brevo.com/security/authorised_ips"
)
_FAULT_BODIES = {
    429: {"code": "too_many_requests", "message": "The expected rate limit is exceeded."},
    500: {"code": "internal_error", "message": "Internal Server Error"},
    502: {"code": "bad_gateway", "message": "Bad Gateway"},
    503: {"code": "service_unavailable", "message": "Service Unavailable"},
}


class BrevoEmulator:
    """A stateful, scriptable Brevo account served under ``/v3``.

    ``allowed_ips`` (``None`` = no restriction) reproduces the "Authorized IPs" 401;
    ``options`` tunes import delay, idempotency window, credits and batch-event support.
    """

    def __init__(
        self,
        api_keys: Iterable[str] = ("xkeysib-sandbox",),
        *,
        enforce_rate_limits: bool = True,
        plan: str = "general",
        allowed_ips: Iterable[str] | None = None,
        options: Options | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_keys = set(api_keys)
        self.enforce_rate_limits = enforce_rate_limits
        self.allowed_ips = None if allowed_ips is None else set(allowed_ips)
        self.options = options or Options()
        self.faults = Faults()
        self.stats = Stats()
        self._state = BrevoState()
        self._limits = RateLimits(plan)
        self._clock = clock
        self.ops: list[Op] = [*contacts_api.OPS, *messaging_api.OPS, *webhooks_api.OPS]
        self.notifier = webhooks_api.ListAdditionNotifier()
        self._patterns = [(op, op.pattern()) for op in self.ops]
        self.app = Starlette(
            routes=[
                Route("/v3/{rest:path}", self._dispatch, methods=_METHODS),
                Route("/files/import-reports/{process_id:int}/{kind}.csv", self._report),
            ]
        )

    @property
    def state(self) -> BrevoState:
        """The account as Brevo would show it now (imports past their delay applied)."""
        contacts_api.settle_processes(self._req({}, {}, None, ""))
        return self._state

    def _req(self, params: dict[str, str], query: Any, body: Any, base_url: str) -> Req:
        return Req(self._state, self.options, self._clock(), params, query, body, base_url)

    async def _dispatch(self, request: Request) -> Response:
        path = "/" + request.path_params["rest"].strip("/")
        fam = family(request.method, path)
        size = len(await request.body())
        reply, limit_headers = await self._answer(request, path, fam)
        self.notifier.flush(self._state, self._clock())  # contacts this call put in lists
        self.stats.record(request.method, path, fam, reply.status, size)
        headers = {**limit_headers, **reply.headers}
        if reply.body is None:
            return Response(status_code=reply.status, headers=headers)
        return JSONResponse(reply.body, status_code=reply.status, headers=headers)

    async def _answer(self, request: Request, path: str, fam: str) -> tuple[Reply, dict[str, str]]:
        denied = self._authenticate(request)
        if denied is not None:
            return denied, {}
        now_s = self._clock()
        window = self.faults.during(path, now_s)
        if window is not None:
            return _fault_reply(window, now_s, {})
        limit_headers: dict[str, str] = {}
        if self.enforce_rate_limits:
            verdict = self._limits.check(fam, now_s)
            limit_headers = verdict.headers
            if not verdict.allowed:
                return Reply(429, _FAULT_BODIES[429]), limit_headers
        fault = self.faults.take(path)
        if fault is not None:
            return _fault_reply(fault, now_s, limit_headers)
        try:
            return await self._route(request, path), limit_headers
        except ApiFault as fault_reply:
            return Reply(fault_reply.status, fault_reply.body()), limit_headers

    def _authenticate(self, request: Request) -> Reply | None:
        key = request.headers.get("api-key")
        if not key:
            return Reply(401, {"code": "unauthorized", "message": _KEY_MISSING})
        if key not in self.api_keys:
            return Reply(401, {"code": "unauthorized", "message": _KEY_UNKNOWN})
        ip = request.client.host if request.client else "unknown"
        if self.allowed_ips is not None and ip not in self.allowed_ips:
            return Reply(401, {"code": "unauthorized", "message": _IP_BLOCKED.format(ip=ip)})
        return None

    async def _route(self, request: Request, path: str) -> Reply:
        allowed = False
        for op, pattern in self._patterns:
            match = pattern.match(path)
            if match is None:
                continue
            if op.method != request.method:
                allowed = True
                continue
            body = await _json_body(request)
            # Under a Mount (the combined sandbox), report URLs must keep the prefix.
            base_url = str(request.base_url).rstrip("/") + request.scope.get("root_path", "")
            req = self._req(match.groupdict(), request.query_params, body, base_url)
            contacts_api.settle_processes(req)
            return await op.handler(req)
        if allowed:
            raise ApiFault(
                405, "method_not_allowed", f"{request.method} Method is not allowed on this path"
            )
        raise ApiFault(404, "document_not_found", "Invalid route")

    async def _report(self, request: Request) -> Response:
        req = self._req({}, {}, None, "")
        contacts_api.settle_processes(req)
        csv_text = contacts_api.report_csv(
            req, request.path_params["process_id"], request.path_params["kind"]
        )
        if csv_text is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(csv_text, media_type="text/csv")


def _fault_reply(
    fault: Fault, now_s: float, limit_headers: dict[str, str]
) -> tuple[Reply, dict[str, str]]:
    headers = dict(limit_headers)
    if fault.status == 429:
        headers["x-sib-ratelimit-reset"] = f"{_reset_s(fault, now_s):g}"
    body = _FAULT_BODIES.get(fault.status, {"code": "bad_request", "message": "Injected fault"})
    return Reply(fault.status, body), headers


def _reset_s(fault: Fault, now_s: float) -> float:
    """Seconds a 429 fault tells the client to wait: its own, or what is left of its window."""
    if fault.retry_after is not None:
        return fault.retry_after
    if isinstance(fault, FaultWindow):
        return float(max(1, math.ceil(fault.end_s - now_s)))
    return 1.0


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiFault(400, "bad_request", "Input must be a valid JSON object") from None
