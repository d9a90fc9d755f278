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

The endpoint is a plain ASGI application, run ahead of Starlette's middleware and routing
(``app.create_app``): it is the one route called for every webhook, so it reads the
request headers once from the ASGI scope and sends its answers as ASGI messages, without
a request or response object per delivery.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from prometheus_client import Counter
from starlette.types import Receive, Scope, Send

from zoom_brevo.errors import StoreError, WebhookRejected
from zoom_brevo.logging import redact_mapping, redact_value
from zoom_brevo.server.body import BodyDeadlines, ClientGone, too_large
from zoom_brevo.server.inbox_writer import InboxWriter, NewEvent
from zoom_brevo.server.intake import (
    Notification,
    check_content_type,
    classify,
    declared_length,
    request_headers,
)
from zoom_brevo.server.metrics import Metrics
from zoom_brevo.zoom.webhooks import (
    DEFAULT_TOLERANCE_S,
    MAX_FUTURE_S,
    url_validation_response,
    verify,
)

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
_LOGGED_BODY_CHARS = 65_536
# uvicorn bounds no request body's duration; Zoom sends a body at once and waits 3 s for
# the answer (reference zoom.md 4.3), so a body still arriving after this is not Zoom's.
DEFAULT_BODY_TIMEOUT_S = 10.0
# The two answers of every accepted webhook, rendered once instead of per request.
_ANSWERS = {outcome: b'{"status":"%s"}' % outcome.encode() for outcome in ("stored", "duplicate")}
_JSON_TYPE = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")


@dataclass(frozen=True)
class WebhookOptions:
    """How the endpoint verifies and what it logs (plain values, read from settings once)."""

    secret_token: str = field(repr=False)
    tolerance_s: float = DEFAULT_TOLERANCE_S
    max_future_s: float = MAX_FUTURE_S
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    log_webhooks: bool = False


@dataclass(slots=True)
class _Delivery:
    """One request: its headers (``found`` for look-ups, ``kept`` masked for storage) and
    what it turned out to be, for the metrics and the debug log."""

    found: dict[str, str]
    kept: dict[str, str]
    status: int = 0
    outcome: str = ""
    raw_body: bytes = b""
    body: Any = None
    body_read: bool = False


class _ByLabel:
    """The children of a one-label counter, each looked up once (``labels`` takes a lock)."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._children: dict[str, Counter] = {}

    def inc(self, label: str) -> None:
        child = self._children.get(label)
        if child is None:
            child = self._children[label] = self._counter.labels(label)
        child.inc()


class WebhookEndpoint:
    """The route: an ASGI application for ``POST /webhooks/zoom``."""

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
        self._accepted = _ByLabel(metrics.webhooks_accepted)
        self._rejected = _ByLabel(metrics.webhooks_rejected)
        self._clock = clock
        self._deadlines = BodyDeadlines(options.body_timeout_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one delivery; never raises, never shows a traceback."""
        started = time.perf_counter()
        self._metrics.webhooks_received.inc()
        delivery = _Delivery(*request_headers(scope["headers"]))
        try:
            status, body = await self._process(delivery, receive)
            self._accepted.inc(delivery.outcome)
        except WebhookRejected as exc:
            delivery.outcome = exc.reason
            self._rejected.inc(exc.reason)
            status, body = exc.status, _error(exc.reason, str(exc))
        except StoreError:
            delivery.outcome = "store_unavailable"
            self._rejected.inc(delivery.outcome)
            log.warning("webhook_store_unavailable")
            status = 503
            body = _error(delivery.outcome, "the inbox cannot be written; retry later")
        except ClientGone:
            return
        delivery.status = status
        self._metrics.webhook_ack_seconds.observe(time.perf_counter() - started)
        if self._options.log_webhooks:
            _log_delivery(delivery)
        await _respond(send, status, body, close=not delivery.body_read)

    async def _process(self, delivery: _Delivery, receive: Receive) -> tuple[int, bytes]:
        opts = self._options
        headers = delivery.found
        length = declared_length(headers.get("content-length"))
        if length is not None and length > opts.max_body_bytes:
            raise too_large(opts.max_body_bytes)
        check_content_type(headers.get("content-type"))
        delivery.raw_body = raw = await self._deadlines.read(receive, opts.max_body_bytes)
        delivery.body_read = True
        verify(
            opts.secret_token,
            headers,
            raw,
            now=self._clock(),
            tolerance_s=opts.tolerance_s,
            max_future_s=opts.max_future_s,
        )
        intake = classify(raw)
        if not isinstance(intake, Notification):
            delivery.outcome = "url_validation"
            return 200, _json(url_validation_response(opts.secret_token, intake.plain_token))
        delivery.body = intake.body
        event = NewEvent(intake.dedupe_key, intake.event_type, raw, delivery.kept)
        stored = await self._writer.store(event)
        delivery.outcome = "stored" if stored else "duplicate"
        return 200, _ANSWERS[delivery.outcome]


async def _respond(send: Send, status: int, body: bytes, *, close: bool) -> None:
    headers = [(b"content-length", b"%d" % len(body)), _JSON_TYPE]
    if close:
        headers.append(_CLOSE)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _json(content: dict[str, str]) -> bytes:
    """Compact JSON, as Starlette's ``JSONResponse`` renders it."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def _error(reason: str, message: str) -> bytes:
    return _json({"error": reason, "message": message})


def _log_delivery(delivery: _Delivery) -> None:
    """Debug mode (``log_webhooks``): headers and body, secrets and e-mails masked."""
    try:
        body = delivery.body if delivery.body is not None else _loggable(delivery.raw_body)
        log.info(
            "webhook_received",
            status=delivery.status,
            outcome=delivery.outcome,
            headers=redact_mapping(delivery.kept),
            body=redact_value(body),
        )
    except RecursionError:  # a pathologically nested body must not break the answer
        log.info("webhook_received", status=delivery.status, outcome=delivery.outcome)


def _loggable(raw: bytes) -> Any:
    text = raw[:_LOGGED_BODY_CHARS].decode("utf-8", "replace")
    try:
        return json.loads(raw) if len(raw) <= _LOGGED_BODY_CHARS else text
    except (ValueError, RecursionError):
        return text
