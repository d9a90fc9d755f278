"""Emulated ``/webhooks`` operations and the ``listAddition`` notifications they lead to.

Operations (official spec, ``Webhooks`` tag): ``POST /webhooks`` (createWebhook: ``url``
and ``events`` required, ``type`` transactional by default, the events allowed depend on
the type, an inbound webhook needs ``domain``; 201 ``{id}``), ``GET /webhooks``
(getWebhooks: ``type`` filter, transactional by default; ``sort`` by creation, desc by
default), ``GET`` and ``DELETE /webhooks/{webhookId}`` (404 for an unknown id).

When a contact enters a list (``BrevoState.link``: contact create or import with
``listIds``, ``POST /contacts/lists/{id}/contacts/add``), each marketing webhook with the
``listAddition`` event is POSTed a notification (developers.brevo.com/docs/marketing-
webhooks, "Contact added to list": ``event`` ``"list_addition"``, ``email``, ``id`` the
webhook's, ``list_id`` an array, ``date``, ``ts``, ``key``), with the ``auth`` configured on
the webhook as ``Authorization: Bearer <token>`` and its ``headers``. A batched webhook
gets an array. The emulator posts to loopback addresses only, in the background with a
short timeout: a slow or failing receiver is logged and never delays or breaks the API
call that added the contact.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from zoom_brevo.sandbox.brevo.protocol import Op, Reply, Req, bad, body_object, int_param, not_found
from zoom_brevo.sandbox.brevo.state import LIST_ADDITION, BrevoState, Webhook, iso

log = structlog.get_logger(__name__)

TRANSACTIONAL_EVENTS = frozenset({
    "sent", "request", "delivered", "hardBounce", "softBounce", "blocked", "spam", "invalid",
    "deferred", "click", "opened", "uniqueOpened", "unsubscribed",
})  # fmt: skip
MARKETING_EVENTS = frozenset({
    "spam", "opened", "click", "hardBounce", "softBounce", "unsubscribed", "listAddition",
    "delivered", "contactUpdated", "contactDeleted",
})  # fmt: skip
EVENTS_BY_TYPE = {
    "transactional": TRANSACTIONAL_EVENTS,
    "marketing": MARKETING_EVENTS,
    "inbound": frozenset({"inboundEmailProcessed"}),
}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
NOTIFY_TIMEOUT_S = 2.0


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise bad(f"{name} is missing", "missing_parameter")
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{name} should be a non-empty string")
    return value


def _url(body: dict[str, Any]) -> str:
    url = _text(body, "url", required=True) or ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad("url should be a valid URL")
    return url


def _events(body: dict[str, Any], kind: str) -> list[str]:
    events = body.get("events")
    if events is None:
        raise bad("events is missing", "missing_parameter")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise bad("events should be a non-empty array of strings")
    allowed = EVENTS_BY_TYPE[kind]
    wrong = [e for e in events if e not in allowed]
    if wrong:
        raise bad(f"Invalid event(s) for a {kind} webhook: {', '.join(wrong)}")
    return list(dict.fromkeys(events))


def _auth(body: dict[str, Any]) -> dict[str, Any] | None:
    auth = body.get("auth")
    if auth is None:
        return None
    if not isinstance(auth, dict) or auth.get("type") != "bearer":
        raise bad('auth should be {"type": "bearer", "token": "..."}')
    token = auth.get("token")
    if not isinstance(token, str) or not token:
        raise bad("auth.token should be a non-empty string")
    return {"type": "bearer", "token": token}


def _headers(body: dict[str, Any]) -> list[dict[str, str]]:
    headers = body.get("headers") or []
    valid = isinstance(headers, list) and all(
        isinstance(h, dict) and isinstance(h.get("key"), str) and isinstance(h.get("value"), str)
        for h in headers
    )
    if not valid:
        raise bad('headers should be an array of {"key": ..., "value": ...}')
    return [{"key": h["key"], "value": h["value"]} for h in headers]


async def create_webhook(req: Req) -> Reply:
    """POST /webhooks: 201 {id}."""
    body = body_object(req)
    kind = body.get("type", "transactional")
    if kind not in EVENTS_BY_TYPE:
        raise bad("type should be one of transactional, marketing, inbound")
    if kind == "inbound":
        _text(body, "domain", required=True)
    batched = body.get("batched", False)
    if not isinstance(batched, bool):
        raise bad("batched should be a boolean")
    stamp = iso(req.now_s)
    webhook = Webhook(
        id=req.state.next_id("webhook"),
        url=_url(body),
        description=_text(body, "description") or "",
        events=_events(body, kind),
        type=kind,
        created_at=stamp,
        modified_at=stamp,
        batched=batched,
        auth=_auth(body),
        headers=_headers(body),
    )
    req.state.webhooks[webhook.id] = webhook
    return Reply(201, {"id": webhook.id})


def _shown(webhook: Webhook) -> dict[str, Any]:
    """A webhook as ``getWebhook``: ``type`` is ``transac`` for transactional ones, as in
    the spec's example of ``GET /webhooks``."""
    data: dict[str, Any] = {
        "id": webhook.id,
        "url": webhook.url,
        "description": webhook.description,
        "events": list(webhook.events),
        "type": "transac" if webhook.type == "transactional" else webhook.type,
        "createdAt": webhook.created_at,
        "modifiedAt": webhook.modified_at,
        "batched": webhook.batched,
    }
    if webhook.auth is not None:
        data["auth"] = dict(webhook.auth)
    if webhook.headers:
        data["headers"] = [dict(h) for h in webhook.headers]
    return data


async def list_webhooks(req: Req) -> Reply:
    """GET /webhooks: those of ``type`` (transactional by default), newest first by default."""
    kind = req.query.get("type", "transactional")
    if kind not in EVENTS_BY_TYPE:
        raise bad("type should be one of marketing, transactional, inbound")
    sort = req.query.get("sort", "desc")
    if sort not in ("asc", "desc"):
        raise bad("sort should be one of asc, desc")
    found = [w for w in req.state.webhooks.values() if w.type == kind]
    found.sort(key=lambda w: w.id, reverse=sort == "desc")
    return Reply(200, {"webhooks": [_shown(w) for w in found]})


def _webhook(req: Req) -> Webhook:
    webhook = req.state.webhooks.get(int_param(req, "webhookId"))
    if webhook is None:
        raise not_found("Webhook not found")
    return webhook


async def delete_webhook(req: Req) -> Reply:
    """DELETE /webhooks/{webhookId}: 204."""
    del req.state.webhooks[_webhook(req).id]
    return Reply(204)


async def get_webhook(req: Req) -> Reply:
    """GET /webhooks/{webhookId}."""
    return Reply(200, _shown(_webhook(req)))


OPS = [
    Op("GET", "/webhooks", list_webhooks),
    Op("POST", "/webhooks", create_webhook),
    Op("GET", "/webhooks/{webhookId}", get_webhook),
    Op("DELETE", "/webhooks/{webhookId}", delete_webhook),
]


class ListAdditionNotifier:
    """Posts the pending list additions of a state to its ``listAddition`` webhooks."""

    def __init__(self, timeout_s: float = NOTIFY_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent: list[tuple[str, int]] = []  # (url, status): what the receivers answered

    def flush(self, state: BrevoState, now_s: float) -> None:
        """Take the pending additions and post them in the background (call on the loop)."""
        pending, state.list_additions = state.list_additions, []
        by_contact: dict[int, list[int]] = defaultdict(list)
        for contact_id, list_id in pending:
            by_contact[contact_id].append(list_id)
        hooks = [w for w in state.webhooks.values() if LIST_ADDITION in w.events]
        for webhook in hooks:
            items = [
                _notification(webhook, state.contacts[cid].email, lists, now_s)
                for cid, lists in by_contact.items()
                if cid in state.contacts and state.contacts[cid].email
            ]
            bodies: list[Any] = [items] if webhook.batched and items else items
            for body in bodies:
                self._start(webhook, body)

    def _start(self, webhook: Webhook, body: Any) -> None:
        if urlsplit(webhook.url).hostname not in LOOPBACK_HOSTS:
            log.warning("sandbox_webhook_not_sent", webhook_id=webhook.id, reason="not loopback")
            return
        task = asyncio.create_task(self._post(webhook, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, webhook: Webhook, body: Any) -> None:
        headers = {h["key"]: h["value"] for h in webhook.headers}
        if webhook.auth is not None:
            headers["Authorization"] = f"Bearer {webhook.auth['token']}"
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                response = await client.post(webhook.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("sandbox_webhook_failed", webhook_id=webhook.id, error=type(exc).__name__)
            return
        self.sent.append((webhook.url, response.status_code))

    async def drain(self) -> None:
        """Wait for the notifications in flight (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _notification(
    webhook: Webhook, email: str | None, lists: list[int], now_s: float
) -> dict[str, Any]:
    moment = datetime.fromtimestamp(now_s, UTC)
    return {
        "id": webhook.id,
        "email": email,
        "event": "list_addition",
        "key": secrets.token_hex(8),
        "list_id": sorted(set(lists)),
        "date": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "ts": int(now_s),
        "ts_event": int(now_s),
    }
