"""``POST /webhooks/zoom``: read (bounded), verify, classify, commit, then acknowledge.

Order matters (ARCHITECTURE invariants 1 and 3): the body is read up to the size limit
only; the signature is checked over those raw bytes before anything parses them; a
notification is answered 200 only after its row is committed. Every client mistake is a
4xx with a reason; a store failure is a 503 so that Zoom retries (it retries only 5xx and
transport failures, reference zoom.md 4.3).

Statuses: 200 stored / duplicate / URL validation answered; 400 malformed; 401 bad or
missing signature or timestamp; 408 body not received within ``body_timeout_s``; 413 body
over the limit; 415 content-type not JSON; 503 the inbox cannot be written. An answer
given before the whole body was read closes the connection, so a client still sending
(slowly) cannot hold it open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from zoom_brevo.errors import StoreError, WebhookRejected
from zoom_brevo.logging import redact_mapping, redact_value
from zoom_brevo.server.inbox_writer import InboxWriter, NewEvent
from zoom_brevo.server.intake import (
    Notification,
    check_content_type,
    classify,
    declared_length,
    stored_headers,
)
from zoom_brevo.server.metrics import Metrics
from zoom_brevo.zoom.webhooks import url_validation_response, verify

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_TOLERANCE_S = 7200.0
# Clocks disagree a little; a timestamp further ahead than this was not made by Zoom now.
MAX_FUTURE_S = 300.0
_LOGGED_BODY_CHARS = 65_536
# uvicorn bounds no request body's duration; Zoom sends a body at once and waits 3 s for
# the answer (reference zoom.md 4.3), so a body still arriving after this is not Zoom's.
DEFAULT_BODY_TIMEOUT_S = 10.0
# The two answers of every accepted webhook, rendered once instead of per request.
_ANSWERS = {outcome: b'{"status":"%s"}' % outcome.encode() for outcome in ("stored", "duplicate")}


@dataclass(frozen=True)
class WebhookOptions:
    """How the endpoint verifies and what it logs (plain values, read from settings once)."""

    secret_token: str = field(repr=False)
    tolerance_s: float = DEFAULT_TOLERANCE_S
    max_future_s: float = MAX_FUTURE_S
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    log_webhooks: bool = False


@dataclass
class _Seen:
    """What one request turned out to be, for the metrics and the debug log."""

    status: int = 0
    outcome: str = ""
    raw_body: bytes = b""
    body: Any = None
    body_read: bool = False


class WebhookEndpoint:
    """The route's logic; ``handle`` is the Starlette endpoint."""

    def __init__(
        self,
        options: WebhookOptions,
        writer: InboxWriter,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._options = options
        self._writer = writer
        self._metrics = metrics
        self._clock = clock

    async def handle(self, request: Request) -> Response:
        """Answer one delivery; never raises, never shows a traceback."""
        started = time.perf_counter()
        self._metrics.webhooks_received.inc()
        seen = _Seen()
        try:
            response = await self._process(request, seen)
            self._metrics.webhooks_accepted.labels(seen.outcome).inc()
        except WebhookRejected as exc:
            seen.outcome = exc.reason
            self._metrics.webhooks_rejected.labels(exc.reason).inc()
            response = _error(exc.status, exc.reason, str(exc))
        except StoreError:
            seen.outcome = "store_unavailable"
            self._metrics.webhooks_rejected.labels(seen.outcome).inc()
            log.warning("webhook_store_unavailable")
            response = _error(503, seen.outcome, "the inbox cannot be written; retry later")
        seen.status = response.status_code
        if not seen.body_read:
            response.headers["connection"] = "close"
        self._metrics.webhook_ack_seconds.observe(time.perf_counter() - started)
        if self._options.log_webhooks:
            _log_delivery(request, seen)
        return response

    async def _process(self, request: Request, seen: _Seen) -> Response:
        opts = self._options
        length = declared_length(request.headers.get("content-length"))
        if length is not None and length > opts.max_body_bytes:
            raise _too_large(opts.max_body_bytes)
        check_content_type(request.headers.get("content-type"))
        seen.raw_body = raw = await read_within(request, opts.max_body_bytes, opts.body_timeout_s)
        seen.body_read = True
        verify(
            opts.secret_token,
            request.headers,
            raw,
            now=self._clock(),
            tolerance_s=opts.tolerance_s,
            max_future_s=opts.max_future_s,
        )
        intake = classify(raw)
        if not isinstance(intake, Notification):
            seen.outcome = "url_validation"
            return JSONResponse(url_validation_response(opts.secret_token, intake.plain_token))
        seen.body = intake.body
        event = NewEvent(intake.dedupe_key, intake.event_type, raw, stored_headers(request.headers))
        stored = await self._writer.store(event)
        seen.outcome = "stored" if stored else "duplicate"
        return Response(_ANSWERS[seen.outcome], media_type=JSONResponse.media_type)


async def read_within(request: Request, limit: int, timeout_s: float) -> bytes:
    """:func:`read_limited`, refused (408) when the body takes longer than ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            return await read_limited(request, limit)
    except TimeoutError:
        raise WebhookRejected(
            f"body not received within {timeout_s:g} s", status=408, reason="body_timeout"
        ) from None


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it grows past ``limit`` bytes."""
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise _too_large(limit)
        body += chunk
    return bytes(body)


def _too_large(limit: int) -> WebhookRejected:
    return WebhookRejected(f"body larger than {limit} bytes", status=413, reason="body_too_large")


def _error(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"error": reason, "message": message}, status_code=status)


def _log_delivery(request: Request, seen: _Seen) -> None:
    """Debug mode (``log_webhooks``): headers and body, secrets and e-mails masked."""
    try:
        body = seen.body if seen.body is not None else _loggable(seen.raw_body)
        log.info(
            "webhook_received",
            status=seen.status,
            outcome=seen.outcome,
            headers=redact_mapping(stored_headers(request.headers)),
            body=redact_value(body),
        )
    except RecursionError:  # a pathologically nested body must not break the answer
        log.info("webhook_received", status=seen.status, outcome=seen.outcome)


def _loggable(raw: bytes) -> Any:
    text = raw[:_LOGGED_BODY_CHARS].decode("utf-8", "replace")
    try:
        return json.loads(raw) if len(raw) <= _LOGGED_BODY_CHARS else text
    except (ValueError, RecursionError):
        return text
