"""``POST /webhooks/brevo`` over loopback: Brevo's ``listAddition`` notification makes the
list poll due now, once for a burst; anything else is refused or ignored, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.routing import Route

from zoom_brevo.registration.trigger import REGISTER_POLL_JOB
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.server.app import create_app
from zoom_brevo.server.brevo_webhook import (
    BREVO_WEBHOOK_PATH,
    BrevoWebhookOptions,
    brevo_webhook,
)
from zoom_brevo.server.webhooks import WebhookOptions
from zoom_brevo.store import jobs
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.store.schema import jobs as job_rows

from .conftest import SECRET

TOKEN = "brevo-hook-token"
WATCHED = 12
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def notification(list_id: Any = WATCHED, **changes: Any) -> dict[str, Any]:
    """A list addition as Brevo documents it (marketing webhooks, "Contact added to list")."""
    return {
        "id": 7, "email": "ada@example.com", "event": "list_addition", "key": "xyz",
        "list_id": [list_id], "date": "2026-12-07 21:00:00", "ts": 1_796_000_000,
    } | changes  # fmt: skip


@pytest.fixture
def url(engine: Engine) -> Iterator[str]:
    options = BrevoWebhookOptions(token=TOKEN, list_ids=frozenset({WATCHED}), max_body_bytes=4096)
    route = Route(BREVO_WEBHOOK_PATH, brevo_webhook(options, engine), methods=["POST"])
    app = create_app(WebhookOptions(secret_token=SECRET), engine, extra_routes=[route])
    with serving(app) as base:
        yield base + BREVO_WEBHOOK_PATH


def polls(engine: Engine) -> list[tuple[str, str]]:
    c = job_rows.c
    with reading(engine) as conn:
        rows = conn.execute(
            job_rows.select().where(c.kind == REGISTER_POLL_JOB).order_by(c.id)
        ).all()
    return [(row.state, row.unique_key) for row in rows]


def test_a_list_addition_to_a_watched_list_makes_a_poll_due_now(url: str, engine: Engine) -> None:
    before = datetime.now(UTC)
    response = httpx.post(url, json=notification(), headers=AUTH)

    assert (response.status_code, response.json()) == (200, {"status": "poll_queued"})
    ((state, key),) = polls(engine)
    assert state == "queued" and key.startswith(f"{REGISTER_POLL_JOB}:webhook:")
    with reading(engine) as conn:
        job = jobs.get_by_key(conn, key)
    assert job is not None
    assert before <= job.run_at.replace(tzinfo=UTC) <= datetime.now(UTC)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
def test_without_the_token_the_request_is_refused(
    url: str, engine: Engine, headers: dict[str, str]
) -> None:
    response = httpx.post(url, json=notification(), headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert polls(engine) == []


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        (b"\x00garbage{", "not JSON"),
        (b"[1, 2]", "event"),
        (b'{"email": "ada@example.com"}', "event"),
        (b'{"event": "list_addition", "list_id": ["twelve"]}', "list_id"),
        (b'{"event": "list_addition"}', "list_id"),
        (b'{"event": "list_addition", "list_id": []}', "list_id"),
    ],
)
def test_a_malformed_body_is_a_400_with_the_reason(
    url: str, engine: Engine, body: bytes, mentions: str
) -> None:
    response = httpx.post(url, content=body, headers=AUTH | {"content-type": "application/json"})

    assert response.status_code == 400
    assert mentions in response.json()["message"]
    assert polls(engine) == []


def test_a_body_over_the_limit_is_a_413(url: str, engine: Engine) -> None:
    response = httpx.post(url, json=notification(email="x" * 5000), headers=AUTH)

    assert response.status_code == 413
    assert polls(engine) == []


@pytest.mark.parametrize(
    "body",
    [
        notification(list_id=99),  # a list no from_lists entry watches
        notification(event="unsubscribed"),  # another event of the same webhook
    ],
)
def test_other_lists_and_events_are_acknowledged_and_ignored(
    url: str, engine: Engine, body: dict[str, Any]
) -> None:
    response = httpx.post(url, json=body, headers=AUTH)

    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert polls(engine) == []


def test_list_ids_may_come_as_a_number_a_string_or_in_a_batch(url: str, engine: Engine) -> None:
    for body in (notification() | {"list_id": WATCHED}, [notification(list_id="12")]):
        assert httpx.post(url, json=body, headers=AUTH).status_code == 200
    assert len(polls(engine)) == 1


def test_a_poll_waiting_already_is_not_queued_twice(url: str, engine: Engine) -> None:
    assert httpx.post(url, json=notification(), headers=AUTH).json()["status"] == "poll_queued"
    again = httpx.post(url, json=notification(email="bob@example.com"), headers=AUTH)

    assert again.json() == {"status": "poll_already_queued"}
    assert len(polls(engine)) == 1


def test_a_poll_waiting_out_a_backoff_is_made_due_now(url: str, engine: Engine) -> None:
    httpx.post(url, json=notification(), headers=AUTH)
    now = datetime.now(UTC)
    with transaction(engine) as conn:  # its try failed: the next is in 15 minutes
        (job,) = jobs.claim(conn, owner="worker", lease_s=60, now=now)
        later = now + timedelta(minutes=15)
        jobs.retry(conn, job.id, owner="worker", at=later, error="503", now=now)

    again = httpx.post(url, json=notification(email="bob@example.com"), headers=AUTH)

    assert again.json() == {"status": "poll_queued"}
    assert [state for state, _ in polls(engine)] == ["queued"]
    with reading(engine) as conn:
        woken = jobs.get(conn, job.id)
    assert woken is not None and woken.run_at <= datetime.now(UTC)


def test_a_poll_running_gets_one_more_behind_it(url: str, engine: Engine) -> None:
    httpx.post(url, json=notification(), headers=AUTH)
    with transaction(engine) as conn:  # a worker takes it: it may have read the list already
        jobs.claim(conn, owner="worker", lease_s=60, now=datetime.now(UTC))

    assert httpx.post(url, json=notification(), headers=AUTH).json()["status"] == "poll_queued"
    assert [state for state, _ in polls(engine)] == ["running", "queued"]


async def test_a_burst_of_500_additions_queues_one_poll(url: str, engine: Engine) -> None:
    # Notifications that arrive during a look at the store share the next one.
    async with httpx.AsyncClient(headers=AUTH, timeout=120) as client:  # a loaded machine
        sent = [client.post(url, json=notification(email=f"p{i}@example.com")) for i in range(500)]
        responses = await asyncio.gather(*sent)

    assert {r.status_code for r in responses} == {200}
    assert "poll_queued" in {r.json()["status"] for r in responses}
    assert len(polls(engine)) == 1
