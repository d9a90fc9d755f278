"""/healthz, /readyz and /metrics, and the debug log of webhooks."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import structlog
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from zoom_brevo.logging import configure_logging
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.webhook_sender import WebhookSender, encode
from zoom_brevo.server.app import WEBHOOK_PATH, create_app
from zoom_brevo.server.metrics import Metrics
from zoom_brevo.server.runner import stack
from zoom_brevo.server.webhooks import WebhookOptions
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import create_engine, transaction

from .conftest import SECRET, stored
from .test_webhook_endpoint import STARTED


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_healthz_answers_while_the_process_runs(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_200_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_is_503_when_migrations_are_not_current(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    with transaction(engine) as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'older'"))
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert "migration older" in response.json()["reason"]


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "store.db"
    engine = create_engine(f"sqlite:///{missing}")
    app = create_app(WebhookOptions(secret_token=SECRET), engine)
    with serving(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            ready = await http.get("/readyz")
            metrics = await http.get("/metrics")
    assert (ready.status_code, ready.json()["reason"]) == (503, "database unreachable")
    assert metrics.status_code == 200
    assert samples(metrics.text)["zoom_brevo_store_up", ()] == 0


async def test_metrics_count_outcomes_and_read_depths_from_the_store(
    sender: WebhookSender, client: httpx.AsyncClient, engine: Engine
) -> None:
    first = await sender.send(STARTED)
    await sender.resend(first)
    body = encode(STARTED)
    await sender.post(body, sender.headers_for(body) | {"x-zm-signature": "v0=00"})
    with transaction(engine) as conn:
        outbox.add_many(conn, [outbox.NewCommand("event", {"x": 1})], now=datetime.now(UTC))

    response = await client.get("/metrics")

    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found["zoom_brevo_webhooks_received_total", ()] == 3
    assert found["zoom_brevo_webhooks_accepted_total", (("outcome", "stored"),)] == 1
    assert found["zoom_brevo_webhooks_accepted_total", (("outcome", "duplicate"),)] == 1
    assert found["zoom_brevo_webhooks_rejected_total", (("reason", "bad_signature"),)] == 1
    assert found["zoom_brevo_inbox_events", (("status", "pending"),)] == 1
    assert found["zoom_brevo_inbox_events", (("status", "processed"),)] == 0
    assert found["zoom_brevo_outbox_commands", (("state", "queued"),)] == 1
    assert found["zoom_brevo_jobs", (("state", "queued"),)] == 0
    assert found["zoom_brevo_store_up", ()] == 1
    assert found["zoom_brevo_webhook_ack_seconds_count", ()] == 3


def test_each_app_has_its_own_registry_with_instruments_others_record_into() -> None:
    one, two = Metrics(), Metrics()
    one.record_api_call("brevo", "contacts", 429)
    one.record_api_call("brevo", "contacts", 201)
    one.observe_delivery("event", 2.5)

    found = samples(one.render()[0].decode())
    brevo_contacts = (("category", "contacts"), ("service", "brevo"))
    refused = (*brevo_contacts, ("status", "429"))
    assert found["zoom_brevo_api_calls_total", refused] == 1
    assert found["zoom_brevo_api_calls_total", (*brevo_contacts, ("status", "201"))] == 1
    assert found["zoom_brevo_api_rate_limited_total", brevo_contacts] == 1
    assert found["zoom_brevo_delivery_latency_seconds_count", (("kind", "event"),)] == 1
    assert ("zoom_brevo_api_calls_total", refused) not in samples(two.render()[0].decode())


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(logging.INFO, json_output=True, stream=stream)
    try:
        yield stream
    finally:
        structlog.reset_defaults()
        root.handlers, root.level = handlers, level


async def test_debug_mode_logs_headers_and_body_with_secrets_and_emails_masked(
    engine: Engine, log_stream: io.StringIO
) -> None:
    app = create_app(WebhookOptions(secret_token=SECRET, log_webhooks=True), engine)
    event = {
        "event": "meeting.participant_joined",
        "payload": {"object": {"uuid": "U", "participant": {"email": "ann@example.com"}}},
        "download_token": "dl-secret-token",
    }
    with serving(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            sender = WebhookSender(WEBHOOK_PATH, SECRET, client=http)
            delivery = await sender.send(event)

    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    [logged] = [line for line in lines if line["event"] == "webhook_received"]
    text = log_stream.getvalue()
    assert delivery.status == 200
    assert logged["outcome"] == "stored"
    assert logged["headers"]["x-zm-request-timestamp"] == delivery.headers["x-zm-request-timestamp"]
    assert "ann@example.com" not in text
    assert "<email:" in json.dumps(logged["body"])
    assert "dl-secret-token" not in text
    assert delivery.headers["x-zm-signature"] not in text


async def test_without_debug_mode_webhook_bodies_are_not_logged(
    sender: WebhookSender, log_stream: io.StringIO
) -> None:
    await sender.send(STARTED)
    assert "webhook_received" not in log_stream.getvalue()


async def test_a_client_that_hangs_up_mid_body_gets_no_answer_and_nothing_is_stored(
    base_url: str, sender: WebhookSender, client: httpx.AsyncClient, engine: Engine
) -> None:
    body = encode(STARTED)
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = [f"POST {WEBHOOK_PATH} HTTP/1.1", f"host: {url.host}:{url.port}"]
    head += [f"{name}: {value}" for name, value in sender.headers_for(body).items()]
    head.append(f"content-length: {len(body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body[:10])
    await writer.drain()
    writer.close()  # gone before the rest of the body
    await writer.wait_closed()
    async with asyncio.timeout(10):
        assert await reader.read() == b""

    after = await sender.send(STARTED)
    found = samples((await client.get("/metrics")).text)

    assert after.status == 200
    assert len(stored(engine)) == 1
    assert found["zoom_brevo_webhooks_received_total", ()] == 2
    assert found["zoom_brevo_webhooks_accepted_total", (("outcome", "stored"),)] == 1
    assert not [key for key in found if key[0] == "zoom_brevo_webhooks_rejected_total"]


async def test_other_methods_on_the_webhook_path_are_405(client: httpx.AsyncClient) -> None:
    response = await client.get(WEBHOOK_PATH)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_the_server_runs_on_uvicorns_c_parser_and_uvloop() -> None:
    assert stack() == ("httptools", "uvloop")  # dependencies of zoom-brevo
    assert stack("h11", "asyncio") == ("h11", "asyncio")


def test_the_server_process_hides_its_start_up_objects_from_the_collector() -> None:
    probe = (
        "import gc\n"
        "from zoom_brevo.server.runner import GC_YOUNG_THRESHOLD, tune_gc\n"
        "before = gc.get_freeze_count()\n"
        "tune_gc()\n"
        "print(before, gc.get_freeze_count(), gc.get_threshold()[0] == GC_YOUNG_THRESHOLD)\n"
    )
    run = subprocess.run(  # a process of its own: the settings are process-wide
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    before, frozen, raised = run.stdout.split()
    assert (int(before), raised) == (0, "True")
    assert int(frozen) > 10_000  # the modules and objects loaded by then
