"""The OpenAPI 3.1 document of the admin API, built from the read models' JSON Schemas."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from zoom_brevo import __version__
from zoom_brevo.admin import models
from zoom_brevo.admin.context import MAX_EMAIL_CHARS, MAX_PAGE, MAX_UUID_CHARS
from zoom_brevo.admin.queries import SORT_KEYS

REF = "#/components/schemas/{model}"
_SCHEMA_MODELS: tuple[type[BaseModel], ...] = (
    models.MeetingPage,
    models.MeetingDetail,
    models.PersonDetail,
    models.Operations,
    models.RetryRequest,
    models.RetryResult,
    models.CheckResult,
    models.ErrorBody,
)
_ERRORS = {
    "400": "Malformed parameter or body",
    "401": "Missing or wrong bearer token",
    "403": "Missing or wrong CSRF token (cookie sessions only)",
    "404": "No such meeting or person",
    "429": "Too many wrong tokens from this client; see Retry-After",
    "503": "The store (or the check) is unavailable",
}


def _json(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=model)}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"description": _ERRORS[code], "content": _json("ErrorBody")} for code in codes}


def _operation(
    summary: str, model: str, *, errors: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "summary": summary,
        "responses": {
            "200": {"description": "OK", "content": _json(model)},
            **_errors("401", "429", *errors),
        },
        **extra,
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return _parameter(name, "query", description, schema)


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return _parameter(name, "path", description, {"type": "string", **schema})


def _parameter(name: str, where: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    # OpenAPI 3.1: a path parameter must be required; ours in the query never are.
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


PAGE = _query(
    "page",
    "Page number, from 1",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
)
# What the routes accept is wider (any printable text; unknown ones are 404): the schema
# names the values that can exist, Zoom's base64 UUIDs and e-mail addresses.
UUID = {"pattern": f"^[A-Za-z0-9+/=_-]{{1,{MAX_UUID_CHARS}}}$"}
EMAIL = {"format": "email", "maxLength": MAX_EMAIL_CHARS}


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole document (paths relative to the server's ``/admin`` mount)."""
    _, defs = models_json_schema([(m, "serialization") for m in _SCHEMA_MODELS], ref_template=REF)
    sort = {"type": "string", "enum": sorted(SORT_KEYS), "default": "minutes"}
    order = {"type": "string", "enum": ["asc", "desc"], "default": "desc"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "zoom-brevo admin API",
            "version": __version__,
            "description": "Meetings, attendance, people and operations of a zoom-brevo "
            "server. Authenticate with `Authorization: Bearer <server.admin_token>`.",
        },
        "servers": [{"url": "/admin"}],
        "security": [{"adminToken": []}],
        "paths": {
            "/api/meetings": {
                "get": _operation(
                    "Meetings and webinars, newest first",
                    "MeetingPage",
                    errors=("400", "503"),
                    parameters=[PAGE],
                )
            },
            "/api/meetings/{uuid}": {
                "get": _operation(
                    "One meeting: presence per minute, histogram, funnel, attendees",
                    "MeetingDetail",
                    errors=("400", "404", "503"),
                    parameters=[
                        _path("uuid", "Zoom instance UUID, URL-encoded once", UUID),
                        _query("sort", "Attendee table column", sort),
                        _query("order", "Sort direction", order),
                        PAGE,
                    ],
                )
            },
            "/api/people/{email}": {
                "get": _operation(
                    "One person and their meetings",
                    "PersonDetail",
                    errors=("400", "404", "503"),
                    parameters=[_path("email", "E-mail address", EMAIL)],
                )
            },
            "/api/operations": {
                "get": _operation(
                    "Queues, deliveries, dead letters, rejections, limits",
                    "Operations",
                    errors=("503",),
                )
            },
            "/api/dead-letters/retry": {
                "post": _operation(
                    "Re-queue dead letters",
                    "RetryResult",
                    errors=("400", "403", "503"),
                    requestBody={"required": True, "content": _json("RetryRequest")},
                )
            },
            "/api/check": {
                "post": _operation(
                    "Run `check` now (calls Zoom and Brevo)", "CheckResult", errors=("403", "503")
                )
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors("401", "429"),
                    },
                }
            },
        },
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }
