"""POST /webhooks/zoom over real loopback HTTP: what is stored, what is refused, and why."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from zoom_brevo.sandbox.webhook_sender import WebhookSender, encode
from zoom_brevo.server.app import WEBHOOK_PATH
from zoom_brevo.store.engine import transaction
from zoom_brevo.zoom.webhooks import sign

from .conftest import SECRET, stored

MIB = 1024 * 1024
STARTED = {
    "event": "meeting.started",
    "event_ts": 1_700_000_000_000,
    "payload": {
        "account_id": "acct",
        "object": {"id": "850", "uuid": "abc//d==", "host_id": "h", "topic": "Weekly"},
    },
}


def reason_of(response: httpx.Response | bytes) -> str:
    body = response if isinstance(response, bytes) else response.content
    document = json.loads(body)
    assert "Traceback" not in body.decode()
    return str(document["error"])


async def test_a_signed_event_is_committed_with_its_exact_bytes_then_acknowledged(
    sender: WebhookSender, engine: Engine
) -> None:
    delivery = await sender.send(STARTED)

    assert delivery.status == 200
    assert json.loads(delivery.response_body) == {"status": "stored"}
    [row] = stored(engine)
    assert row.raw_body == delivery.body
    assert row.event_type == "meeting.started"
    assert row.status == "pending"
    assert row.headers["x-zm-request-timestamp"] == delivery.headers["x-zm-request-timestamp"]
    assert row.headers["x-zm-signature"] != delivery.headers["x-zm-signature"]  # masked


async def test_a_redelivery_is_acknowledged_and_stored_once(
    sender: WebhookSender, engine: Engine
) -> None:
    first = await sender.send(STARTED)
    again = await sender.resend(first)
    byte_for_byte = await sender.resend(first, same_headers=True)

    assert [d.status for d in (first, again, byte_for_byte)] == [200, 200, 200]
    assert json.loads(again.response_body) == {"status": "duplicate"}
    assert len(stored(engine)) == 1


async def test_unknown_event_types_are_stored_for_later(
    sender: WebhookSender, engine: Engine
) -> None:
    delivery = await sender.send({"event": "meeting.chat_message_sent", "payload": {"x": 1}})
    assert delivery.status == 200
    assert [row.event_type for row in stored(engine)] == ["meeting.chat_message_sent"]


async def test_a_wrong_signature_is_401_and_stores_nothing(
    sender: WebhookSender, engine: Engine
) -> None:
    body = encode(STARTED)
    headers = sender.headers_for(body)
    headers["x-zm-signature"] = sign("another-secret", headers["x-zm-request-timestamp"], body)

    delivery = await sender.post(body, headers)

    assert delivery.status == 401
    assert reason_of(delivery.response_body) == "bad_signature"
    assert stored(engine) == []


async def test_a_body_changed_after_signing_is_401(sender: WebhookSender, engine: Engine) -> None:
    body = encode(STARTED)
    headers = sender.headers_for(body)
    delivery = await sender.post(body.replace(b"Weekly", b"Weekle"), headers)
    assert (delivery.status, reason_of(delivery.response_body)) == (401, "bad_signature")
    assert stored(engine) == []


@pytest.mark.parametrize(
    ("dropped", "reason"),
    [("x-zm-signature", "missing_signature"), ("x-zm-request-timestamp", "missing_timestamp")],
)
async def test_missing_signature_headers_are_401(
    sender: WebhookSender, engine: Engine, dropped: str, reason: str
) -> None:
    body = encode(STARTED)
    headers = sender.headers_for(body)
    del headers[dropped]
    delivery = await sender.post(body, headers)
    assert (delivery.status, reason_of(delivery.response_body)) == (401, reason)
    assert stored(engine) == []


@pytest.mark.parametrize(
    ("age_s", "status"),
    [
        (85 * 60, 200),  # Zoom's last retry comes ~85 min after the first attempt
        (7200 - 60, 200),
        (7200 + 60, 401),
        (-60, 200),  # a little clock skew
        (-301, 401),  # from the future
    ],
)
async def test_timestamp_window_accepts_zoom_retries_and_refuses_the_rest(
    sender: WebhookSender, engine: Engine, age_s: int, status: int
) -> None:
    delivery = await sender.send(STARTED, timestamp=int(time.time()) - age_s)
    assert delivery.status == status
    assert len(stored(engine)) == (1 if status == 200 else 0)
    if status == 401:
        expected = "stale_timestamp" if age_s > 0 else "future_timestamp"
        assert reason_of(delivery.response_body) == expected


def padded(size: int) -> bytes:
    """A JSON event of exactly ``size`` bytes."""
    shell = encode({"event": "meeting.started", "pad": ""})
    body = encode({"event": "meeting.started", "pad": "x" * (size - len(shell))})
    assert len(body) == size
    return body


async def test_a_body_of_exactly_one_mebibyte_is_accepted(
    sender: WebhookSender, engine: Engine
) -> None:
    delivery = await sender.send(padded(MIB))
    assert delivery.status == 200
    assert len(stored(engine)[0].raw_body) == MIB


async def send_head_only(base_url: str, headers: dict[str, str]) -> tuple[str, bytes]:
    """POST only a request head; the status line and the body of the answer, read to EOF.

    No body byte is sent: a server that closes with request bytes unread makes the kernel
    send a RST, which may discard the answer before the client reads it (RFC 9112 9.6) --
    a client still uploading gets a reset instead of the 413, depending on timing.
    """
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    lines = [f"POST {WEBHOOK_PATH} HTTP/1.1", f"host: {url.host}:{url.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        async with asyncio.timeout(10):  # answered without waiting for the body, then closed
            answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.decode().lower(), body


async def test_one_byte_over_the_limit_is_413_before_the_body_and_not_stored(
    base_url: str, sender: WebhookSender, engine: Engine
) -> None:
    headers = sender.headers_for(padded(MIB + 1)) | {"content-length": str(MIB + 1)}

    head, body = await send_head_only(base_url, headers)

    assert head.startswith("http/1.1 413 ")
    assert "\r\nconnection: close" in head
    assert reason_of(body) == "body_too_large"
    assert stored(engine) == []


async def test_a_chunked_body_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, sender: WebhookSender, engine: Engine
) -> None:
    body = padded(MIB + 1)
    headers = sender.headers_for(body)

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: the stream is counted
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post(WEBHOOK_PATH, content=chunks(), headers=headers)

    assert (response.status_code, reason_of(response)) == (413, "body_too_large")
    assert stored(engine) == []


async def test_a_body_that_is_not_json_is_400(sender: WebhookSender, engine: Engine) -> None:
    delivery = await sender.send(b"event=meeting.started")
    assert (delivery.status, reason_of(delivery.response_body)) == (400, "malformed_json")
    assert stored(engine) == []


async def test_a_json_array_is_400(sender: WebhookSender, engine: Engine) -> None:
    delivery = await sender.send(b'[{"event":"meeting.started"}]')
    assert (delivery.status, reason_of(delivery.response_body)) == (400, "not_an_object")
    assert stored(engine) == []


async def test_an_object_without_event_is_400(sender: WebhookSender, engine: Engine) -> None:
    delivery = await sender.send({"payload": {}})
    assert (delivery.status, reason_of(delivery.response_body)) == (400, "no_event")
    assert stored(engine) == []


async def test_a_content_type_other_than_json_is_415(sender: WebhookSender, engine: Engine) -> None:
    body = encode(STARTED)
    headers = sender.headers_for(body) | {"content-type": "text/plain"}
    delivery = await sender.post(body, headers)
    assert (delivery.status, reason_of(delivery.response_body)) == (415, "unsupported_media_type")
    assert stored(engine) == []


async def test_url_validation_is_answered_with_the_hmac_and_nothing_is_stored(
    sender: WebhookSender, engine: Engine
) -> None:
    body = {"event": "endpoint.url_validation", "event_ts": 1, "payload": {"plainToken": "qgg8"}}
    delivery = await sender.send(body)

    expected = hmac.new(SECRET.encode(), b"qgg8", hashlib.sha256).hexdigest()
    assert delivery.status == 200
    assert json.loads(delivery.response_body) == {"plainToken": "qgg8", "encryptedToken": expected}
    assert stored(engine) == []


async def test_an_unsigned_url_validation_gets_no_token(sender: WebhookSender) -> None:
    body = encode({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8"}})
    headers = sender.headers_for(body)
    del headers["x-zm-signature"]
    delivery = await sender.post(body, headers)
    assert delivery.status == 401
    assert b"encryptedToken" not in delivery.response_body


async def test_when_the_inbox_cannot_be_written_zoom_gets_503_and_its_retry_is_stored(
    sender: WebhookSender, engine: Engine
) -> None:
    with transaction(engine) as conn:
        conn.execute(sa.text("ALTER TABLE inbox RENAME TO inbox_away"))
    failed = await sender.send(STARTED)
    with transaction(engine) as conn:
        conn.execute(sa.text("ALTER TABLE inbox_away RENAME TO inbox"))
    retried = await sender.resend(failed)

    assert (failed.status, reason_of(failed.response_body)) == (503, "store_unavailable")
    assert retried.status == 200
    assert [row.raw_body for row in stored(engine)] == [failed.body]


async def test_a_locked_database_is_503_not_a_hang(
    sender: WebhookSender, engine: Engine, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        locked = await sender.send(STARTED)
    finally:
        other.execute("ROLLBACK")
        other.close()
    retried = await sender.resend(locked)

    assert (locked.status, reason_of(locked.response_body)) == (503, "store_unavailable")
    assert retried.status == 200
    assert len(stored(engine)) == 1


@pytest.mark.shared
async def test_every_zoom_sample_payload_is_accepted(
    sender: WebhookSender, engine: Engine, shared_dir: Path
) -> None:
    samples = sorted((shared_dir / "samples" / "zoom-webhooks").glob("*.json"))
    assert samples
    answers = {}
    for path in samples:
        delivery = await sender.send(path.read_bytes())  # Zoom's bytes, signed as they are
        assert delivery.status == 200, (path.name, delivery.response_body)
        answers[path.name] = json.loads(delivery.response_body)

    events = [json.loads(path.read_bytes())["event"] for path in samples]
    stored_events = sorted(row.event_type for row in stored(engine))
    assert stored_events == sorted(e for e in events if e != "endpoint.url_validation")
    validation = answers["docs-webhooks_endpoint_url_validation.json"]
    assert set(validation) == {"plainToken", "encryptedToken"}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_no_client_input_gets_a_5xx(base_url: str, raw: bytes) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        ts = str(int(time.time()))
        signed = {
            "content-type": "application/json",
            "x-zm-request-timestamp": ts,
            "x-zm-signature": sign(SECRET, ts, raw),
        }
        for headers in (signed, {"content-type": "application/json"}):
            response = http.post(WEBHOOK_PATH, content=raw, headers=headers)
            assert response.status_code in (200, 400, 401), response.text
            assert "Traceback" not in response.text


async def test_acknowledgements_are_compact_json(
    client: httpx.AsyncClient, sender: WebhookSender
) -> None:
    body = encode(STARTED)
    answers = [
        await client.post(WEBHOOK_PATH, content=body, headers=sender.headers_for(body))
        for _ in range(2)
    ]
    assert [a.content for a in answers] == [b'{"status":"stored"}', b'{"status":"duplicate"}']
    assert {a.headers["content-type"] for a in answers} == {"application/json"}
