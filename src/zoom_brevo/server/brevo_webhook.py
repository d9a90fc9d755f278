"""``POST /webhooks/brevo``: Brevo's ``listAddition`` webhook makes the list poll due now.

Brevo calls a marketing webhook with the event ``listAddition`` when a contact enters a
list (official spec, createWebhook ``events``; developers.brevo.com/docs/marketing-webhooks,
"Contact added to list"). The notification carries ``event`` (``"list_addition"``),
``email``, ``id`` (the webhook's), ``list_id``, ``date``, ``ts`` and ``key``. The table of
that event could not be read in full while this was written: ``list_id`` is an array of
list ids in the payloads seen in public integrations, so a single number or a numeric
string is accepted too, and fields this endpoint does not use are not required. A batched
webhook (``batched: true``) sends an array of such objects; it is accepted as well.

Nothing here calls Zoom or Brevo. A notification for a list of
``connectors.zoom.registration.from_lists`` queues the ``register_poll`` job due now
(``registration.trigger.poll_now``: at most one waits, so a burst costs one poll), and
the poll registers whoever entered the lists, exactly once, as it does every
``poll_interval_s``; that periodic poll stays the safety net for a lost notification.

Statuses: 401 without the bearer token configured on the webhook (compared in constant
time, before the body is read); 400 a body that is not a list-addition notification; 413
over the size limit; 408 body too slow; 503 the job cannot be queued (Brevo retries a
non-2xx answer); 200 otherwise, also for other events and for lists not configured, which
are ignored (a non-2xx answer would only make Brevo send them again).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from zoom_brevo.config import Settings
from zoom_brevo.errors import StoreError, WebhookRejected
from zoom_brevo.registration.trigger import poll_due, poll_now
from zoom_brevo.server.body import ClientGone, read_within
from zoom_brevo.server.webhooks import DEFAULT_BODY_TIMEOUT_S
from zoom_brevo.store.engine import reading, transaction

log = structlog.get_logger(__name__)

BREVO_WEBHOOK_PATH = "/webhooks/brevo"
MAX_BODY_BYTES = 256 * 1024
LIST_ADDITION = "list_addition"
_EVENT_NAMES = (LIST_ADDITION, "listAddition")


@dataclass(frozen=True)
class BrevoWebhookOptions:
    """The token Brevo sends (``Authorization: Bearer``) and the lists that trigger a poll."""

    token: str = field(repr=False)
    list_ids: frozenset[int]
    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S


def brevo_webhook_routes(settings: Settings, engine: Engine) -> list[Route]:
    """The route when ``connectors.zoom.registration.brevo_webhook_token`` is set, else none.

    Served even when no list is watched: Brevo then gets 200 (ignored), not a 404 it
    would retry.
    """
    registration = settings.connectors.zoom.registration
    token = registration.brevo_webhook_token
    if token is None:
        return []
    options = BrevoWebhookOptions(
        token=token.get_secret_value(),
        list_ids=frozenset(r.list_id for r in registration.from_lists),
    )
    return [Route(BREVO_WEBHOOK_PATH, brevo_webhook(options, engine), methods=["POST"])]


def brevo_webhook(options: BrevoWebhookOptions, engine: Engine) -> Any:
    """The endpoint: authenticate, read (bounded), parse, queue a poll if a list is ours."""
    expected = f"Bearer {options.token}".encode()
    trigger = _Trigger(engine)

    async def endpoint(request: Request) -> JSONResponse:
        try:
            _authenticate(request.headers.get("authorization", ""), expected)
            raw = await read_within(request.receive, options.max_body_bytes, options.body_timeout_s)
            lists = list_ids(raw)
            status = await trigger(lists & options.list_ids)
        except WebhookRejected as exc:
            return JSONResponse({"error": exc.reason, "message": str(exc)}, exc.status)
        except ClientGone:
            return JSONResponse({"error": "client_gone"}, 400)
        # One line per poll queued; the rest of a burst only in debug.
        logged = log.info if status == "poll_queued" else log.debug
        logged("brevo_webhook", outcome=status, list_ids=sorted(lists))
        return JSONResponse({"status": status})

    return endpoint


def _authenticate(header: str, expected: bytes) -> None:
    if not hmac.compare_digest(header.strip().encode(), expected):
        raise WebhookRejected(
            "missing or wrong bearer token (the token configured on the Brevo webhook)",
            status=401,
            reason="unauthorized",
        )


class _Trigger:
    """Queues the poll for the notifications of this process, a burst at a time.

    A burst (an import of 500 people is 500 notifications) must not become 500 write
    transactions fighting for the store's write lock. The notifications that arrive while
    one look at the store is under way share the next look (group commit): it starts after
    they all arrived, so a poll it finds waiting will read their contacts. A look reads
    first; it writes only when no poll waits.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._next: asyncio.Future[str] | None = None  # the result of the next look

    async def __call__(self, ours: Iterable[int]) -> str:
        if not ours:
            return "ignored"
        look = self._next
        if look is None:
            look = self._next = asyncio.get_running_loop().create_future()
        async with self._lock:
            if not look.done():  # this request leads its burst's look
                self._next = None  # later arrivals share the look after this one
                try:
                    look.set_result(await self._look())
                except StoreError as exc:
                    look.set_exception(exc)
                    log.warning("brevo_webhook_store_unavailable")
        try:
            return await look
        except StoreError as exc:
            raise WebhookRejected(
                "the poll cannot be queued; retry later", status=503, reason="store_unavailable"
            ) from exc

    async def _look(self) -> str:
        if await run_in_threadpool(self._waiting):
            return "poll_already_queued"
        queued = await run_in_threadpool(self._queue)
        return "poll_queued" if queued else "poll_already_queued"

    def _waiting(self) -> bool:
        with reading(self._engine) as conn:
            return poll_due(conn, now=datetime.now(UTC))

    def _queue(self) -> bool:
        with transaction(self._engine) as conn:
            return poll_now(conn, now=datetime.now(UTC))


def list_ids(raw: bytes) -> set[int]:
    """The lists that ``listAddition`` notifications in ``raw`` name (other events: none).

    Raises ``WebhookRejected`` (400) when ``raw`` is not a notification or a list of them.
    """
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise _malformed("body is not JSON") from None
    items = body if isinstance(body, list) else [body]
    found: set[int] = set()
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            raise _malformed("expected a Brevo notification: a JSON object with an event")
        if item["event"] in _EVENT_NAMES:
            found.update(_list_field(item.get("list_id")))
    return found


def _list_field(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    ids = [_list_id(v) for v in values]
    if not ids or None in ids:
        raise _malformed(f"list_id must be a list id or an array of them, got {value!r:.80}")
    return [i for i in ids if i is not None]


def _list_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _malformed(message: str) -> WebhookRejected:
    return WebhookRejected(message, status=400, reason="malformed")
