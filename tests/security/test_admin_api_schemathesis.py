"""schemathesis against the admin API's own OpenAPI document, over ASGI, on a seeded store.

With the bearer token: every generated request (valid and invalid parameters and bodies)
gets no 5xx and an answer that conforms to the document (status, content type, schema,
headers). Without a token: every operation answers the documented 401. The generated cases
are counted and printed (``pytest -s``) for docs/reliability.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from tests.admin.seed import NOW, seed
from zoom_brevo.admin import AdminConfig, admin_routes
from zoom_brevo.admin.openapi import openapi_document
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store.engine import create_engine, migrate

TOKEN = "schemathesis-admin-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
DOCUMENT = "/admin/api/openapi.json"
CASES: Counter[str] = Counter()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    ignored_auth,
]


class Report:
    """A passing ``check`` report (the real one calls Zoom and Brevo)."""

    ok = True

    def problems(self) -> list[str]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "zoom": "reachable", "brevo": "reachable"}


async def passing_check() -> Report:
    return Report()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One seeded store for the module (retries re-queue its dead letters; that is fine)."""
    path = tmp_path_factory.mktemp("admin") / "store.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def app(engine: Engine) -> Starlette:
    config = AdminConfig(
        token=TOKEN,
        clock=NOW.timestamp,
        limits={"brevo": {"plan": "general", "families": {}}, "zoom": {"plan": "pro"}},
        run_check=passing_check,
        login_max_failures=1_000_000,  # ignored_auth sends wrong tokens on purpose
    )
    return Starlette(routes=admin_routes(config, engine))


@pytest.fixture(scope="module")
def base_url(app: Starlette) -> Iterator[str]:
    """The admin API served over loopback (schemathesis' checks send probes of their own)."""
    with serving(app) as url:
        yield f"{url}/admin"


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    print(f"\nadmin API schemathesis: generated cases {dict(CASES)}")  # noqa: T201 (the record)


# The served document is the one tested: the authenticated test compares the two.
schema = schemathesis.openapi.from_dict(openapi_document())
# Unknown query parameters are ignored, as most HTTP APIs do; the document does not close them.
schema.config.generation.update(allow_extra_parameters=False)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@schema.parametrize()
@FUZZ
def test_authenticated_requests_get_no_5xx_and_documented_answers(case: Any, base_url: str) -> None:
    CASES["authenticated"] += 1
    response = case.call(base_url, headers=BEARER)
    if response.status_code == 404 and response.text == "Not Found":
        # Known: a path with a control character (%0A) misses the /admin mount (Starlette's
        # path pattern stops at a newline) and gets the outer router's plain-text 404.
        assert any(ch in unquote(case.formatted_path) for ch in "\n\r"), case.formatted_path
        return
    case.validate_response(
        response,
        checks=CHECKS,
        headers=BEARER,
        transport_kwargs={"base_url": base_url, "headers": BEARER},
    )


@schema.parametrize()
@settings(FUZZ, max_examples=5)
def test_requests_without_a_token_get_the_documented_401(case: Any, base_url: str) -> None:
    CASES["unauthenticated"] += 1
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    response = case.call(base_url)

    if case.method.upper() != case.operation.method.upper():  # a probe of an undocumented method
        assert response.status_code == 405
        return
    assert response.status_code == 401, response.text
    assert response.json()["error"]
    assert str(response.headers["www-authenticate"]).startswith("['Bearer") or str(
        response.headers["www-authenticate"]
    ).startswith("Bearer")
    case.validate_response(response, checks=[response_schema_conformance])


async def test_the_document_tested_is_the_one_served(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        served = await client.get(DOCUMENT, headers=BEARER)
    assert served.json() == openapi_document()
