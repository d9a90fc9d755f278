"""Every operation the Brevo emulator serves answers with the shapes of the official spec.

The spec is getbrevo/brevo-go ``api/swagger.yaml`` (Swagger 2.0, mid-2024), read from
``../shared``. ``POST /events/batch`` (added 2026-03) and ``GET /events`` are not in it;
their shapes come from Brevo's reference pages (developers.brevo.com/reference/
create-batch-events, /reference/get-events; docs/brevo-events-listing.md) and are written
out below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from zoom_brevo.sandbox.brevo import BrevoEmulator

KEY = "xkeysib-conformance"
SPEC_PATH = "specs/brevo/brevo-go_api_swagger.yaml"

BATCH_ACCEPTED = {
    "type": "object",
    "required": ["message", "count"],
    "properties": {"message": {"type": "string"}, "count": {"type": "integer"}},
}
BATCH_EVENTS = {
    "type": "object",
    "required": ["status", "total_events", "successful_events", "failed_events", "errors"],
    "properties": {
        "status": {"type": "string"},
        "total_events": {"type": "integer"},
        "successful_events": {"type": "integer"},
        "failed_events": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "eventIndex": {"type": "array", "items": {"type": "integer"}},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
EVENTS_LIST = {
    "type": "object",
    "required": ["count"],
    "additionalProperties": False,
    "properties": {
        "count": {"type": "integer"},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "contact_id": {"type": "integer"},
                    "event_date": {"type": "string"},
                    "event_name": {"type": "string"},
                    "event_filter_id": {"type": "string"},
                    "object_type": {"type": "string"},
                    "event_properties": {"type": "object"},
                },
            },
        },
    },
}
ERROR = {"$ref": "#/definitions/errorModel"}
# Operations newer than the spec, with their documented response schemas by status.
NEWER_THAN_SPEC: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/events/batch"): {"202": BATCH_ACCEPTED, "207": BATCH_EVENTS, "400": BATCH_EVENTS},
    ("GET", "/events"): {"200": EVENTS_LIST},
}
# Response fields documented after the spec was generated (brevo.md 2.5, getProcess).
# The listing's items have the same fields (brevo-python 5.x GetProcessesResponseProcessesItem).
NEWER_FIELDS = {
    "/processes/{processId}": {"info", "error", "created_at", "completed_at"},
    "/processes": {"info", "error", "created_at", "completed_at"},
}
# Brevo's contact error bodies may add "metadata" (brevo.md 6; sdk-v4 ContactErrorModel).
ERROR_EXTRAS = {"metadata"}


@pytest.fixture(scope="module")
def spec(shared_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((shared_dir / SPEC_PATH).read_text())
    return loaded


def response_schema(spec: dict[str, Any], method: str, template: str, status: int) -> Any:
    newer = NEWER_THAN_SPEC.get((method, template))
    if newer is not None:
        return newer.get(str(status), ERROR if status >= 400 else None)
    responses = spec["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, not in the spec"
    return responses[str(status)].get("schema")


def known_properties(schema: Any, definitions: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Properties a schema names (through $ref and allOf) and whether it is free-form."""
    if not isinstance(schema, dict):
        return {}, True
    if "$ref" in schema:
        return known_properties(definitions[schema["$ref"].split("/")[-1]], definitions)
    props: dict[str, Any] = dict(schema.get("properties") or {})
    free = "additionalProperties" in schema or schema.get("properties") == {}
    for part in schema.get("allOf", []):
        more, part_free = known_properties(part, definitions)
        props.update(more)
        free = free or part_free
    if not props and "allOf" not in schema and schema.get("type") == "object":
        free = True
    return props, free


def undocumented_keys(
    instance: Any, schema: Any, definitions: dict[str, Any], where: str = "$"
) -> list[str]:
    """Keys present in ``instance`` that the schema does not name (recursively)."""
    if isinstance(schema, dict) and "$ref" in schema:
        schema = definitions[schema["$ref"].split("/")[-1]]
    if isinstance(instance, list) and isinstance(schema, dict):
        items = schema.get("items", {})
        return [
            k
            for i, item in enumerate(instance)
            for k in undocumented_keys(item, items, definitions, f"{where}[{i}]")
        ]
    if not isinstance(instance, dict):
        return []
    props, free = known_properties(schema, definitions)
    if free:
        return []
    found = []
    for key, value in instance.items():
        if key not in props:
            found.append(f"{where}.{key}")
        else:
            found += undocumented_keys(value, props[key], definitions, f"{where}.{key}")
    return found


class Recorder:
    """Calls the emulator in-process and keeps (method, template, status, body) of each call."""

    def __init__(self, emu: BrevoEmulator, http: httpx.AsyncClient) -> None:
        self.emu = emu
        self.http = http
        self.seen: list[tuple[str, str, int, Any]] = []

    def template_of(self, method: str, path: str) -> str:
        for op in self.emu.ops:
            if op.method == method and op.pattern().match(path):
                return op.template
        raise AssertionError(f"no operation serves {method} {path}")

    async def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, f"/v3{path}", headers={"api-key": KEY}, **kwargs)
        body = response.json() if response.content else None
        self.seen.append(
            (
                method,
                self.template_of(method, path.split("?", maxsplit=1)[0]),
                response.status_code,
                body,
            )
        )
        return response


async def exercise(call: Callable[..., Any]) -> None:
    """One call (at least) to every operation, successes and the documented errors."""
    await call("GET", "/account")
    await call("POST", "/contacts/attributes/normal/MEETING_DURATION", json={"type": "float"})
    await call("POST", "/contacts/attributes/normal/MEETING_DURATION", json={"type": "float"})
    await call("GET", "/contacts/attributes")
    folder = (await call("POST", "/contacts/folders", json={"name": "Zoom"})).json()["id"]
    await call("GET", "/contacts/folders?limit=50&offset=0")
    await call("GET", "/contacts/folders?limit=500")
    list_id = (
        await call("POST", "/contacts/lists", json={"name": "L", "folderId": folder})
    ).json()["id"]
    await call("POST", "/contacts/lists", json={"name": "L"})
    await call("GET", "/contacts/lists?limit=50")
    await call("GET", f"/contacts/lists/{list_id}")
    await call("GET", "/contacts/lists/999")
    body = {"email": "a@example.com", "attributes": {"FIRSTNAME": "A"}, "listIds": [list_id]}
    await call("POST", "/contacts", json=body)
    await call("POST", "/contacts", json=body)
    await call("POST", "/contacts", json={**body, "updateEnabled": True})
    await call("GET", "/contacts/a%40example.com")
    await call("GET", "/contacts/nobody%40example.com")
    rows = [{"email": "b@example.com"}, {"email": "broken"}, {"email": "b@example.com"}]
    process = (
        await call("POST", "/contacts/import", json={"jsonBody": rows, "listIds": [list_id]})
    ).json()
    await call("POST", "/contacts/import", json={"listIds": [list_id]})
    await call("GET", f"/processes/{process['processId']}")
    await call("GET", "/processes/999")
    await call("GET", "/processes?limit=50&sort=desc")
    await call("GET", "/processes?limit=500")
    await call("POST", "/contacts", json={"email": "c@example.com", "updateEnabled": True})
    await call(
        "POST",
        f"/contacts/lists/{list_id}/contacts/add",
        json={"emails": ["c@example.com", "x@example.com"]},
    )
    await call(
        "POST", f"/contacts/lists/{list_id}/contacts/add", json={"emails": ["c@example.com"]}
    )
    await call("POST", "/contacts/lists/999/contacts/add", json={"emails": ["c@example.com"]})
    await call("GET", f"/contacts/lists/{list_id}/contacts?limit=2&offset=0&sort=asc")
    await call("GET", "/contacts/lists/999/contacts")
    event = {"event_name": "zoom_attended", "identifiers": {"email_id": "a@example.com"}}
    await call("POST", "/events", json=event)
    await call("POST", "/events", json={"event_name": "no identifiers"})
    await call("POST", "/events/batch", json={"events": [event, event]})
    await call("POST", "/events/batch", json={"events": [event, {"event_name": "x"}]})
    await call("POST", "/events/batch", json={"events": [{"event_name": "x"}]})
    held = {"event_name": "zoom_attended", "identifiers": {"email_id": "c@example.com"},
            "event_properties": {"meeting_uuid": "u"}}  # fmt: skip
    await call("POST", "/events", json=held)
    listed = await call("GET", "/events", params={"event_name": "zoom_attended"})
    assert listed.json()["count"] >= 1
    await call("GET", "/events", params={"startDate": "2026-03-01"})
    mail = {
        "templateId": 1,
        "messageVersions": [{"to": [{"email": "a@example.com"}]}],
        "headers": {"idempotencyKey": "k"},
    }
    await call("POST", "/smtp/email", json=mail)
    await call("POST", "/smtp/email", json=mail)
    await call("POST", "/smtp/email", json={"templateId": 1, "to": [{"email": "a@example.com"}]})
    campaign = {
        "name": "C",
        "sender": {"email": "z@example.com"},
        "htmlContent": "<p>x</p>",
        "recipients": {"listIds": [list_id]},
    }
    campaign_id = (await call("POST", "/emailCampaigns", json=campaign)).json()["id"]
    await call("POST", "/emailCampaigns", json={"name": "C"})
    await call("POST", f"/emailCampaigns/{campaign_id}/sendNow")
    await call("POST", f"/emailCampaigns/{campaign_id}/sendNow")
    await call("POST", "/emailCampaigns/999/sendNow")
    await call("DELETE", "/contacts/a%40example.com")
    await call("DELETE", "/contacts/a%40example.com")
    hook = {"url": "http://127.0.0.1:9/hook", "type": "marketing", "events": ["listAddition"],
            "auth": {"type": "bearer", "token": "t"}}  # fmt: skip
    hook_id = (await call("POST", "/webhooks", json=hook)).json()["id"]
    await call("POST", "/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    await call("GET", "/webhooks?type=marketing")
    await call("GET", f"/webhooks/{hook_id}")
    await call("GET", "/webhooks/999")
    await call("DELETE", f"/webhooks/{hook_id}")
    await call("DELETE", f"/webhooks/{hook_id}")


@pytest.fixture
async def recorded() -> Recorder:
    emu = BrevoEmulator(api_keys={KEY}, enforce_rate_limits=False)
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://brevo.test") as http:
        recorder = Recorder(emu, http)
        await exercise(recorder)
    return recorder


async def test_every_response_body_matches_its_schema_in_the_spec(
    spec: dict[str, Any], recorded: Recorder
) -> None:
    definitions = spec["definitions"]
    for method, template, status, body in recorded.seen:
        schema = response_schema(spec, method, template, status)
        label = f"{method} {template} -> {status}"
        if schema is None:
            assert body is None, f"{label}: the spec documents an empty body"
            continue
        assert body is not None, f"{label}: the spec documents a body"
        jsonschema.Draft4Validator({**schema, "definitions": definitions}).validate(body)
        extras = NEWER_FIELDS.get(template, set()) | (ERROR_EXTRAS if status >= 400 else set())
        unknown = [
            k
            for k in undocumented_keys(body, schema, definitions)
            if k.split(".")[-1] not in extras
        ]
        assert not unknown, f"{label}: fields not in the spec: {unknown}"


async def test_every_served_operation_is_exercised(recorded: Recorder) -> None:
    served = {(op.method, op.template) for op in recorded.emu.ops}
    called = {(method, template) for method, template, _, _ in recorded.seen}
    assert served - called == set()


async def test_errors_are_exercised_for_the_documented_statuses(recorded: Recorder) -> None:
    statuses = {status for _, _, status, _ in recorded.seen}
    assert {200, 201, 202, 204, 207, 400, 404} <= statuses


def test_the_emulator_serves_no_operation_absent_from_the_spec(spec: dict[str, Any]) -> None:
    emu = BrevoEmulator()
    for op in emu.ops:
        if (op.method, op.template) in NEWER_THAN_SPEC:
            continue
        assert op.template in spec["paths"], f"{op.template} is not in the spec"
        assert op.method.lower() in spec["paths"][op.template], f"{op.method} {op.template}"


def test_operation_templates_name_parameters_as_the_spec_does(spec: dict[str, Any]) -> None:
    for op in BrevoEmulator().ops:
        if (op.method, op.template) in NEWER_THAN_SPEC:
            continue
        operation = spec["paths"][op.template][op.method.lower()]
        declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
        assert set(re.findall(r"{(\w+)}", op.template)) == declared
