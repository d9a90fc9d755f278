"""The admin JSON API under ``/admin/api`` (described by ``/admin/api/openapi.json``).

Answers are the read models of ``admin.models``; errors are ``{"error": "..."}`` with 400
(malformed parameter or body), 401 (no or wrong token), 403 (CSRF, cookie sessions only),
404 (unknown meeting or person), 429 (too many wrong tokens) or 503 (store unavailable).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from zoom_brevo.admin import models, queries
from zoom_brevo.admin.auth import Identity, Refusal
from zoom_brevo.admin.context import (
    AdminContext,
    email_param,
    int_param,
    meeting_query,
    retry_after_header,
)
from zoom_brevo.admin.openapi import openapi_document

MAX_BODY_BYTES = 64 * 1024


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """A model as JSON (times in ISO 8601)."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")


def error_response(
    status_code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """The API's error body."""
    return JSONResponse({"error": message}, status_code, headers=headers)


def refuse(_request: Request, refusal: Refusal) -> Response:
    """401 with a Bearer challenge, or 429 with Retry-After."""
    headers = retry_after_header(refusal)
    if refusal.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="zoom-brevo admin"'
    return error_response(refusal.status, refusal.message, headers)


def api_routes(ctx: AdminContext) -> list[BaseRoute]:
    """The API's routes, relative to the admin mount."""

    async def meetings(request: Request, _who: Identity) -> Response:
        page = int_param(request, "page", 1)
        return model_response(await ctx.read(lambda c: queries.meeting_page(c, page=page)))

    async def meeting(request: Request, _who: Identity) -> Response:
        found = await ctx.read(meeting_query(request).detail)
        if found is None:
            raise HTTPException(404, "no such meeting in the store")
        return model_response(found)

    async def person(request: Request, _who: Identity) -> Response:
        email = email_param(request)
        found = await ctx.read(lambda c: queries.person_detail(c, email))
        if found is None:
            raise HTTPException(404, "nobody with that e-mail address in the store")
        return model_response(found)

    async def operations(_request: Request, _who: Identity) -> Response:
        now = ctx.now()
        last = ctx.checks.last
        return model_response(
            await ctx.read(lambda c: queries.operations(c, now=now, limits=ctx.limits, check=last))
        )

    async def retry(request: Request, _who: Identity) -> Response:
        wanted = await _retry_request(request)
        now = ctx.now()
        try:
            count = await ctx.write(lambda c: queries.retry(c, wanted, now=now))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return model_response(models.RetryResult(requeued=count))

    async def check(_request: Request, _who: Identity) -> Response:
        result = await ctx.checks.refresh(ctx.now)
        if result is None:
            raise HTTPException(503, "no check configured for this server")
        return model_response(result)

    async def openapi(_request: Request, _who: Identity) -> Response:
        return JSONResponse(openapi_document())

    def guard(handler: Any) -> Any:
        return ctx.guarded(handler, refuse)

    return [
        Route("/api/meetings", guard(meetings), methods=["GET"]),
        Route("/api/meetings/{uuid:path}", guard(meeting), methods=["GET"]),
        Route("/api/people/{email:path}", guard(person), methods=["GET"]),
        Route("/api/operations", guard(operations), methods=["GET"]),
        Route("/api/dead-letters/retry", guard(retry), methods=["POST"]),
        Route("/api/check", guard(check), methods=["POST"]),
        Route("/api/openapi.json", guard(openapi), methods=["GET"]),
    ]


async def _retry_request(request: Request) -> models.RetryRequest:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, "request body too large")
    try:
        wanted = models.RetryRequest.model_validate(json.loads(body or b"{}"))
    except (ValueError, ValidationError) as exc:
        raise HTTPException(
            400, 'body must be JSON: {"refs": ["outbox:ID", ...]} or {"all": true}'
        ) from exc
    if not wanted.all and not wanted.refs:
        raise HTTPException(400, 'name dead letters in "refs" or set "all": true')
    return wanted
