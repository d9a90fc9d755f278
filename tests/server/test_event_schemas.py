"""Every event in Zoom's webhook spec, in any shape the spec allows, is taken in and handled.

For each of the webhooks in Zoom's OpenAPI 3.1 spec (``webhooks`` section of
``zoom-meeting-events-open-api-spec.json``), Hypothesis (hypothesis-jsonschema) draws a few
small payloads that validate against that event's schema. Each one is signed like Zoom
signs, POSTed over loopback to the real app on a SQLite store, and the inbox processor is
run over what was stored. The rules:

- the endpoint acknowledges every one (200: stored or duplicate), never a 5xx;
- every stored row ends ``processed``, ``ignored`` or ``failed`` with a reason, and no
  exception escapes the processor;
- nothing calls Zoom or Brevo: handlers only write facts, jobs and outbox rows (the
  processor here has no client to call them with).

Spec quirks handled while reading it (so that the drawn payloads really are schema-valid):
its three ``$ref`` s point at ``#/paths/...`` though the document keeps them under
``#/webhooks/...``; and a few objects list a ``required`` key they do not declare while
forbidding undeclared keys (unsatisfiable as written), so such keys are declared as strings.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

import httpx
import jsonschema
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sqlalchemy.engine import Engine

from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.dispatch import InboxProcessor
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.webhook_sender import encode
from zoom_brevo.server.app import WEBHOOK_PATH, create_app
from zoom_brevo.server.intake import dedupe_key
from zoom_brevo.server.webhooks import WebhookOptions
from zoom_brevo.store.engine import create_engine, reading
from zoom_brevo.store.schema import inbox as inbox_table
from zoom_brevo.zoom.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

from .conftest import SECRET

pytestmark = [pytest.mark.shared, pytest.mark.slow]

SPEC = "specs/zoom/zoom-meeting-events-open-api-spec.json"
EVENT_COUNT = 105  # webhooks in the spec (the "Real time" issue counts 105 as well)
EXAMPLES_PER_EVENT = 3
MAX_ITEMS = 2
MAX_STRING = 12
# Formats the spec invents; JSON Schema leaves unknown formats unchecked.
ODD_FORMATS = {"email or name": st.just("ann@example.com"), "string": st.text(max_size=4)}
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
ENDED = frozenset({"processed", "ignored", "failed"})


# --- the spec, read once ----------------------------------------------------------------------


def webhook_schemas(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each event's request-body schema, ``$ref`` s resolved."""
    return {
        name: resolve(item["post"]["requestBody"]["content"]["application/json"]["schema"], spec)
        for name, item in spec["webhooks"].items()
    }


def resolve(node: Any, spec: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` replaced by (a copy of) its target."""
    if isinstance(node, list):
        return [resolve(v, spec) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        # The spec's refs say "#/paths/<event>/..." but its events live under "webhooks".
        pointer = node["$ref"].removeprefix("#/").replace("paths/", "webhooks/", 1)
        target: Any = spec
        for part in pointer.split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return resolve(copy.deepcopy(target), spec)
    return {k: resolve(v, spec) for k, v in node.items()}


def repaired(node: Any) -> Any:
    """Declare (as strings) required keys an object forbids by ``additionalProperties: false``."""
    if isinstance(node, list):
        return [repaired(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: repaired(v) for k, v in node.items()}
    if out.get("additionalProperties") is False:
        declared = out.setdefault("properties", {})
        for key in out.get("required", []):
            declared.setdefault(key, {"type": "string"})
    return out


def small(node: Any) -> Any:
    """A narrower schema (every value it allows is valid for ``node``) with small values.

    Arrays get at most ``MAX_ITEMS`` items, free strings at most ``MAX_STRING`` characters,
    objects no undeclared keys, ``int32``/``int64`` integers their range. ``format`` beside
    a ``pattern`` is dropped: in OpenAPI 3.1 (JSON Schema 2020-12) a format is an
    annotation, and generating for both means filtering one by the other (very slow).
    """
    if isinstance(node, list):
        return [small(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: small(v) for k, v in node.items() if k not in ("description", "example", "examples")}
    kind = out.get("type")
    if kind == "array" or "items" in out:
        out["maxItems"] = min(out.get("maxItems", MAX_ITEMS), MAX_ITEMS)
        out.setdefault("items", {"type": ["string", "integer"]})
    if kind == "object" or "properties" in out:
        out.setdefault("additionalProperties", False)
    if kind == "integer" and out.get("format") in INT_RANGES:
        low, high = INT_RANGES[out["format"]]
        out["minimum"], out["maximum"] = (
            max(out.get("minimum", low), low),
            min(out.get("maximum", high), high),
        )
    if kind == "string" and "pattern" in out:
        out.pop("format", None)
    constrained = ("format", "pattern", "enum", "const", "anyOf", "oneOf", "allOf")
    if kind == "string" and not any(k in out for k in constrained):
        out["maxLength"] = min(out.get("maxLength", MAX_STRING), MAX_STRING)
    return out


def generator_for(name: str, schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Small payloads valid for ``schema`` whose ``event`` is ``name`` (as Zoom sends)."""
    narrowed = small(schema)
    narrowed["properties"]["event"] = {"const": name}
    # Three user.tsp_* schemas require nothing; Zoom's envelope always names the event.
    narrowed["required"] = sorted({*narrowed.get("required", []), "event"})
    return from_schema(narrowed, custom_formats=ODD_FORMATS).filter(_is_object)


def _is_object(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict)


# --- the running app -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(shared_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((shared_dir / SPEC).read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def module_engine(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: Path
) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("schemas") / "store.db"
    path.write_bytes(migrated_template.read_bytes())
    eng = create_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def http(module_engine: Engine) -> Iterator[httpx.Client]:
    app = create_app(WebhookOptions(secret_token=SECRET), module_engine)
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def post_signed(http: httpx.Client, payload: dict[str, Any]) -> httpx.Response:
    body = encode(payload)
    ts = str(int(datetime.now(UTC).timestamp()))
    headers = {
        "content-type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: sign(SECRET, ts, body),
    }
    return http.post(WEBHOOK_PATH, content=body, headers=headers)


def settle(processor: InboxProcessor) -> None:
    """Run the processor until nothing is pending (a row is tried up to max_attempts)."""
    for _ in range(processor.max_attempts + 1):
        outcome = processor.process_batch()
        if outcome.handled + outcome.deferred == 0:
            return


def row_for(engine: Engine, key: str) -> dict[str, Any]:
    with reading(engine) as conn:
        row = (
            conn.execute(inbox_table.select().where(inbox_table.c.dedupe_key == key))
            .mappings()
            .one()
        )
    return dict(row)


# --- the property ----------------------------------------------------------------------------


def exercise(
    name: str, schema: dict[str, Any], http: httpx.Client, processor: InboxProcessor
) -> Counter[str]:
    """Post ``EXAMPLES_PER_EVENT`` drawn payloads of one event; how each row ended."""
    valid = repaired(schema)
    validator = jsonschema.Draft202012Validator(valid)
    endings: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES_PER_EVENT,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(payload=generator_for(name, valid))
    def accepted_and_handled(payload: dict[str, Any]) -> None:
        assert validator.is_valid(payload), next(validator.iter_errors(payload)).message
        response = post_signed(http, payload)
        assert response.status_code == 200, response.text
        assert response.json()["status"] in ("stored", "duplicate")
        settle(processor)  # an exception escaping it fails here
        row = row_for(processor.engine, dedupe_key(payload))
        assert row["status"] in ENDED, row
        assert row["status"] != "failed" or row["error"], row
        endings[row["status"]] += 1

    accepted_and_handled()
    return endings


def test_every_spec_event_is_acknowledged_stored_and_handled_without_a_crash(
    spec: dict[str, Any], http: httpx.Client, module_engine: Engine
) -> None:
    schemas = webhook_schemas(spec)
    assert len(schemas) == EVENT_COUNT
    processor = InboxProcessor(module_engine, HandlerOptions(), clock=lambda: datetime.now(UTC))

    endings = {name: exercise(name, schema, http, processor) for name, schema in schemas.items()}

    assert {name for name, seen in endings.items() if seen.total() > 0} == set(schemas)
    with reading(module_engine) as conn:
        statuses = {s for (s,) in conn.execute(sa.select(inbox_table.c.status))}
    assert statuses <= ENDED, statuses
