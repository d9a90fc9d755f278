"""The admin JSON API: figures from the seeded store, answers valid against its OpenAPI document."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from tests.admin.seed import LAUNCH, WEEKLY
from zoom_brevo.admin.openapi import openapi_document
from zoom_brevo.store import jobs, outbox
from zoom_brevo.store.engine import reading

DOC_URI = "urn:zoom-brevo:admin-openapi"


def segment(value: str) -> str:
    return quote(value, safe="")


def validate(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Validate ``body`` against the schema the document gives for this answer."""
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    ref = schema["$ref"].replace("#", f"{DOC_URI}#") if "$ref" in schema else None
    wrapped = {"$ref": ref} if ref else schema
    jsonschema.Draft202012Validator(wrapped, registry=registry).validate(body)


@pytest.fixture
async def document(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/admin/api/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_document_is_openapi_3_and_describes_every_api_route(app: Starlette) -> None:
    document = openapi_document()
    admin = app.routes[0].app  # type: ignore[attr-defined]
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    served = {
        (route.path.removesuffix("{uuid:path}").removesuffix("{email:path}"), method)
        for route in admin.routes
        if route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    }
    normalized = {(p.removesuffix("{uuid}").removesuffix("{email}"), m) for p, m in documented}
    assert served == normalized
    jsonschema.Draft202012Validator.check_schema(document["components"]["schemas"]["MeetingDetail"])


async def test_meetings_list_the_instances_newest_first_with_their_figures(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    response = await api.get("/admin/api/meetings")
    body = response.json()
    validate(document, "/api/meetings", "get", response.status_code, body)
    launch, weekly = body["meetings"]
    assert (launch["uuid"], weekly["uuid"]) == (LAUNCH, WEEKLY)
    assert (weekly["attendees"], weekly["registrants"], weekly["absentees"]) == (3, 0, 0)
    assert weekly["median_minutes"] == 50.0
    assert weekly["sync_state"] == "collected"
    assert (launch["attendees"], launch["registrants"], launch["absentees"]) == (2, 4, 2)
    assert launch["sync_state"] == "pending"
    assert body["total"] == 2


async def test_meeting_detail_counts_people_per_minute_from_merged_sessions(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    response = await api.get(f"/admin/api/meetings/{segment(WEEKLY)}")
    body = response.json()
    validate(document, "/api/meetings/{uuid}", "get", response.status_code, body)
    per_minute = body["presence"]["per_minute"]
    assert len(per_minute) == 60
    assert per_minute[0] == 2  # Alice and Bob (on two devices: once)
    assert per_minute[5] == per_minute[14] == 3  # and the guest from 10:05 to 10:15
    assert per_minute[15] == 2
    assert per_minute[35] == 1  # Alice away 10:30-10:40
    assert body["presence"]["peak"] == 3
    assert body["funnel"] == [{"label": "Attended", "count": 3},
                              {"label": "Stayed ≥ 50%", "count": 2}]  # fmt: skip
    counts = {(b["low_min"], b["count"]) for b in body["histogram"] if b["count"]}
    assert counts == {(10, 1), (50, 1), (55, 1)}


async def test_webinar_funnel_starts_with_the_approved_registrations(
    api: httpx.AsyncClient,
) -> None:
    body = (await api.get(f"/admin/api/meetings/{segment(LAUNCH)}")).json()
    assert [s["count"] for s in body["funnel"]] == [4, 2, 1]


async def test_attendees_sort_by_a_column_with_unknown_values_last(api: httpx.AsyncClient) -> None:
    url = f"/admin/api/meetings/{segment(WEEKLY)}"
    by_minutes = (await api.get(url)).json()["attendees"]
    assert [a["minutes"] for a in by_minutes] == [60.0, 50.0, 10.0, 0.0]
    by_email = (await api.get(url, params={"sort": "email", "order": "asc"})).json()["attendees"]
    assert [a["email"] for a in by_email] == [
        "alice@example.com", "bob@example.com", "carol@example.com", None,
    ]  # fmt: skip
    by_score = (await api.get(url, params={"sort": "score"})).json()["attendees"]
    assert [a["score"] for a in by_score][:2] == [71.5, 48.25]


async def test_person_lists_meetings_newest_first_with_the_score_after_each(
    api: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    response = await api.get("/admin/api/people/Alice%40Example.com")
    body = response.json()
    validate(document, "/api/people/{email}", "get", response.status_code, body)
    assert body["email"] == "alice@example.com"
    assert body["name"] == "Alice Liddell"
    assert body["score"] == 71.5
    assert [m["uuid"] for m in body["meetings"]] == [LAUNCH, WEEKLY]
    assert [m["minutes"] for m in body["meetings"]] == [60.0, 50.0]
    newest, oldest = (m["score_after"] for m in body["meetings"])
    assert 0 < oldest < newest <= 100  # a second, fuller meeting raises the score


async def test_operations_report_queues_deliveries_dead_letters_and_limits(
    api: httpx.AsyncClient, document: dict[str, Any], refs: dict[str, str]
) -> None:
    response = await api.get("/admin/api/operations")
    body = response.json()
    validate(document, "/api/operations", "get", response.status_code, body)
    assert body["depths"]["outbox"]["done"] == 2
    assert {d["ref"] for d in body["dead_letters"]} == {refs["outbox"], refs["job"]}
    assert body["dead_letter_count"] == 2
    assert body["in_doubt"] == {"pending": 0, "held": 0}
    assert {d["in_doubt"] for d in body["dead_letters"]} == {False}
    assert {d["detail"] for d in body["deliveries"]} == {"2 attributes; list 3", "zoom_attended"}
    assert body["rejection_count"] == 2
    assert body["buckets"][0]["key"] == "brevo:contacts"
    assert body["buckets"][0]["paused_until"] is not None
    assert body["limits"]["zoom"]["plan"] == "pro"
    assert body["check"] is None


async def test_retry_requeues_the_named_dead_letters(
    api: httpx.AsyncClient, document: dict[str, Any], refs: dict[str, str], engine: Engine
) -> None:
    response = await api.post("/admin/api/dead-letters/retry", json={"refs": [refs["outbox"]]})
    validate(document, "/api/dead-letters/retry", "post", response.status_code, response.json())
    assert response.json() == {"requeued": 1}
    with reading(engine) as conn:
        assert outbox.counts(conn)["dead"] == 0
        assert jobs.counts(conn)["dead"] == 1
    again = await api.post("/admin/api/dead-letters/retry", json={"all": True})
    assert again.json() == {"requeued": 1}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/api/meetings", {"params": {"page": "0"}}, 400),
        ("get", "/api/meetings", {"params": {"page": "x"}}, 400),
        ("get", "/api/meetings/{uuid}", {"params": {"sort": "salary"}}, 400),
        ("get", "/api/meetings/{uuid}", {"params": {"order": "up"}}, 400),
        ("get", "/api/meetings/{uuid}", {"url": "/admin/api/meetings/no%2Fsuch%3D%3D"}, 404),
        ("get", "/api/people/{email}", {"url": "/admin/api/people/not-an-address"}, 400),
        ("get", "/api/people/{email}", {"url": "/admin/api/people/nobody%40example.com"}, 404),
        ("post", "/api/dead-letters/retry", {"json": {"refs": ["mail:1"]}}, 400),
        ("post", "/api/dead-letters/retry", {"json": {}}, 400),
        ("post", "/api/dead-letters/retry", {"content": b"{not json"}, 400),
        ("post", "/api/dead-letters/retry", {"json": {"refs": "outbox:1"}}, 400),
        ("post", "/api/check", {}, 503),
    ],
)
async def test_bad_requests_get_a_documented_error_never_a_500(  # noqa: PLR0917 (one table row)
    api: httpx.AsyncClient,
    document: dict[str, Any],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    url = kwargs.pop("url", "/admin" + path.replace("{uuid}", segment(WEEKLY)))
    response = await api.request(method.upper(), url, **kwargs)
    assert response.status_code == status
    validate(document, path, method, status, response.json())


async def test_unknown_api_paths_answer_json_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/admin/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


@pytest.mark.parametrize("path", ["/admin/api/meetings/abc%0A", "/admin/api/people/%0A"])
async def test_a_path_ending_in_a_newline_gets_the_apis_json_404(
    api: httpx.AsyncClient, path: str
) -> None:
    # Found by schemathesis: the mount matched such a path with root_path "/admin/", and the
    # 404 came back as the dashboard's HTML page.
    response = await api.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}
