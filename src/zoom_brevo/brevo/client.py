"""Async client for the Brevo REST API v3: contacts, imports, lists, attributes, events,
transactional e-mail and campaigns.

Plain values in (never the settings object), typed models out, errors from
``zoom_brevo.errors``. Rate limits per endpoint family and retries live in ``session``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.brevo.chunking import (
    EVENTS_MAX_BODY_BYTES,
    IMPORT_MAX_BODY_BYTES,
    chunks,
    plan_byte_chunks,
    plan_count_chunks,
)
from zoom_brevo.brevo.models import (
    IMPORT_REPORT_KINDS,
    Account,
    Attribute,
    Contact,
    ContactList,
    Event,
    EventFailure,
    EventsResult,
    Folder,
    ListAddResult,
    ListedEvent,
    MessageVersion,
    Process,
    RejectedRow,
    SendResult,
    Webhook,
)
from zoom_brevo.brevo.responses import ErrorBody, is_already_in_list, parse_error_body
from zoom_brevo.brevo.session import Call, Session
from zoom_brevo.errors import PayloadRejected, RetriableApiError
from zoom_brevo.observe import IGNORE, ApiObserver
from zoom_brevo.pooled import PooledClient
from zoom_brevo.ratelimit import RateLimiter

DEFAULT_BASE_URL = "https://api.brevo.com/v3"
LIST_ADD_MAX = 150  # brevo.md 2.7 (spec addContactToList maxItems)
PAGE_LIMIT = 50  # brevo.md 2.10: folders and lists page with limit max 50
MEMBERS_PAGE_LIMIT = 500  # spec getContactsFromList: limit max 500
EVENTS_PAGE_LIMIT = 1000  # GET /events allows up to 10,000; a batch's contacts' events fit a page
PROCESS_PAGE_MAX = 50  # spec getProcesses: limit max 50
VERSIONS_PER_EMAIL = 1000  # brevo.md 4.1
RECIPIENTS_PER_EMAIL = 2000  # brevo.md 4.1
_ROW_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_EVENTS_PREFIX = b'{"events":['
_EVENTS_SUFFIX = b"]}"
_KEY_NAMESPACE = uuid.UUID("6f1c3a52-5d0b-4a55-9d3e-2b7a0c1e9f10")


class BrevoClient(PooledClient):
    """Talks to one Brevo account. Use as ``async with BrevoClient(...) as brevo:``.

    ``limiter`` is required: Brevo's limits are per account, so every client spends the
    budget the caller shares with the other processes (``wiring.shared_limiter``).
    ``observer`` is told of every HTTP exchange (``zoom_brevo.observe``).
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        plan: str = "general",
        *,
        limiter: RateLimiter,
        timeout_s: float = 30.0,
        backoff: BackoffPolicy | None = None,
        max_wait_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observer: ApiObserver = IGNORE,
    ) -> None:
        if not api_key:
            raise ValueError("a Brevo API key is required (brevo.api_key)")
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/", timeout=timeout_s, transport=transport
        )
        self._session = Session(
            self._http,
            api_key,
            plan=plan,
            limiter=limiter,
            backoff=backoff or BackoffPolicy(),
            max_wait_s=max_wait_s,
            sleep=sleep,
            observer=observer,
        )
        self._batch_events_supported = True
        self._plan = plan

    @property
    def plan(self) -> str:
        """The Brevo plan whose limits this client keeps to."""
        return self._plan

    def __repr__(self) -> str:
        return f"BrevoClient(base_url={str(self._http.base_url)!r})"

    async def _json(self, call: Call) -> Any:
        response = await self._session.send(call)
        return response.json() if response.content else None

    # -- account ----------------------------------------------------------------------

    async def get_account(self) -> Account:
        """The account owning the key; raises ``AuthError`` for a bad key or blocked IP."""
        return Account.model_validate(await self._json(Call("GET", "/account", "/account")))

    # -- contacts ---------------------------------------------------------------------

    async def upsert_contact(
        self,
        email: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        list_ids: Sequence[int] = (),
        ext_id: str | None = None,
    ) -> int | None:
        """Create or update a contact; the new id when created, ``None`` when updated."""
        body: dict[str, Any] = {"email": email.strip().lower(), "updateEnabled": True}
        if attributes:
            body["attributes"] = dict(attributes)
        if list_ids:
            body["listIds"] = list(list_ids)
        if ext_id is not None:
            body["ext_id"] = ext_id
        data = await self._json(Call("POST", "/contacts", "/contacts", json_body=body))
        return int(data["id"]) if isinstance(data, dict) and "id" in data else None

    async def get_contact(self, identifier: str | int) -> Contact:
        """A contact by e-mail or numeric id; ``NotFound`` if unknown."""
        path = f"/contacts/{_identifier(identifier)}"
        return Contact.model_validate(await self._json(Call("GET", path, "/contacts/{identifier}")))

    async def delete_contact(self, identifier: str | int) -> bool:
        """Delete a contact (GDPR erase); ``False`` when it did not exist."""
        path = f"/contacts/{_identifier(identifier)}"
        call = Call("DELETE", path, "/contacts/{identifier}", soft=lambda s, _b: s == 404)
        response = await self._session.send(call)
        return response.status_code != 404

    # -- bulk import ------------------------------------------------------------------

    async def import_contacts(
        self,
        rows: Sequence[Mapping[str, Any]],
        list_ids: Sequence[int],
        *,
        notify_url: str | None = None,
        max_body_bytes: int = IMPORT_MAX_BODY_BYTES,
    ) -> list[int]:
        """Import ``{email, attributes}`` rows into ``list_ids``; one process id per request.

        Rows are sent as ``jsonBody`` in requests under ``max_body_bytes`` each, updating
        existing contacts without blanking attributes and without notification e-mails.
        """
        encoded = [encode_import_row(row) for row in rows]
        return await self.import_encoded(
            encoded, list_ids, notify_url=notify_url, max_body_bytes=max_body_bytes
        )

    async def import_encoded(
        self,
        rows: Sequence[bytes],
        list_ids: Sequence[int],
        *,
        notify_url: str | None = None,
        max_body_bytes: int = IMPORT_MAX_BODY_BYTES,
    ) -> list[int]:
        """``import_contacts`` for rows already encoded with ``encode_import_row``.

        Lets a caller keep only the encoded rows of a large import in memory.
        """
        if not list_ids:
            raise ValueError("Brevo imports need at least one target list id")
        envelope: dict[str, Any] = {
            "listIds": list(list_ids),
            "updateExistingContacts": True,
            "emptyContactsAttributes": False,
            "disableNotification": True,
        }
        if notify_url:
            envelope["notifyUrl"] = notify_url
        prefix = json.dumps(envelope, separators=(",", ":"))[:-1].encode() + b',"jsonBody":['
        suffix = b"]}"
        plans = plan_byte_chunks(
            [len(item) for item in rows],
            max_body_bytes=max_body_bytes,
            envelope_bytes=len(prefix) + len(suffix),
        )
        process_ids = []
        for span in plans:
            body = prefix + b",".join(rows[span.start : span.stop]) + suffix
            call = Call("POST", "/contacts/import", "/contacts/import", content=body)
            data = await self._json(call)
            process_ids.append(int(data["processId"]))
        return process_ids

    async def get_process(self, process_id: int) -> Process:
        """State of an asynchronous process (imports), with report URLs once completed."""
        data = await self._json(Call("GET", f"/processes/{process_id}", "/processes/{processId}"))
        return _process(data)

    async def list_processes(
        self, *, limit: int = PROCESS_PAGE_MAX, offset: int = 0, newest_first: bool = True
    ) -> list[Process]:
        """One page of the account's processes, newest first by default.

        One call answers for many imports at once (completed ones with their report URLs,
        as ``get_process``): it shares the 100-an-hour "other" budget with ``get_process``
        (brevo.md 2.5, 5).
        """
        params: dict[str, str | int] = {
            "limit": min(max(limit, 0), PROCESS_PAGE_MAX),
            "offset": max(offset, 0),
            "sort": "desc" if newest_first else "asc",
        }
        data = await self._json(Call("GET", "/processes", "/processes", params=params)) or {}
        items = data.get("processes") if isinstance(data, dict) else None
        return [_process(item) for item in items or [] if isinstance(item, dict)]

    async def get_import_rejections(self, process: Process) -> list[RejectedRow]:
        """The rows Brevo dropped, read from the process's CSV reports.

        The reports are fetched without the API key: they are plain file URLs.
        """
        rejected: list[RejectedRow] = []
        for kind, url in process.import_reports.items():
            try:
                response = await self._http.get(url)
            except httpx.TransportError as exc:
                raise RetriableApiError(
                    f"could not download the Brevo import report {kind}", service="brevo"
                ) from exc
            if response.is_error:
                raise RetriableApiError(
                    f"Brevo import report {kind} answered HTTP {response.status_code}",
                    service="brevo",
                    status=response.status_code,
                )
            rejected.extend(_parse_report(kind, response.text))
        return rejected

    # -- lists, folders, attributes -----------------------------------------------------

    async def add_to_list(self, list_id: int, emails: Sequence[str]) -> ListAddResult:
        """Add existing contacts to a list, 150 per call.

        Addresses already in the list or unknown to Brevo come back in ``failure``; a call
        where none could be added (Brevo's 400 "Contact already in list and/or does not
        exist", brevo.md 2.7) is not an error: its addresses are reported in ``failure``.
        """
        success: list[str] = []
        failure: list[str] = []
        normalised = [email.strip().lower() for email in emails]
        path = f"/contacts/lists/{int(list_id)}/contacts/add"
        for chunk in chunks(normalised, LIST_ADD_MAX):
            call = Call(
                "POST",
                path,
                "/contacts/lists/{listId}/contacts/add",
                json_body={"emails": list(chunk)},
                soft=is_already_in_list,
            )
            response = await self._session.send(call)
            if response.status_code == 400:
                failure.extend(chunk)
                continue
            contacts = response.json().get("contacts", {})
            success.extend(contacts.get("success", []))
            failure.extend(contacts.get("failure", []))
        return ListAddResult(success=success, failure=failure)

    async def list_attributes(self) -> list[Attribute]:
        """Every contact attribute of the account."""
        data = await self._json(Call("GET", "/contacts/attributes", "/contacts/attributes"))
        return [Attribute.model_validate(item) for item in data.get("attributes", [])]

    async def create_attribute(
        self,
        name: str,
        attribute_type: str,
        *,
        category: str = "normal",
        enumeration: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Create an attribute (``text | date | float | boolean | ...``), name in capitals."""
        body: dict[str, Any] = {"type": attribute_type}
        if enumeration is not None:
            body["enumeration"] = [dict(item) for item in enumeration]
        path = f"/contacts/attributes/{quote(category, safe='')}/{quote(name.upper(), safe='')}"
        template = "/contacts/attributes/{attributeCategory}/{attributeName}"
        await self._session.send(Call("POST", path, template, json_body=body))

    async def list_folders(self) -> list[Folder]:
        """Every contact folder (all pages)."""
        items = await self._pages("/contacts/folders", "folders")
        return [Folder.model_validate(item) for item in items]

    async def create_folder(self, name: str) -> int:
        """Create a folder; its id."""
        call = Call("POST", "/contacts/folders", "/contacts/folders", json_body={"name": name})
        return int((await self._json(call))["id"])

    async def list_lists(self) -> list[ContactList]:
        """Every contact list (all pages)."""
        items = await self._pages("/contacts/lists", "lists")
        return [ContactList.model_validate(item) for item in items]

    async def list_members(
        self, list_id: int, *, modified_since: str | None = None
    ) -> AsyncIterator[Contact]:
        """The contacts of a list, oldest first, a page at a time (spec getContactsFromList:
        ``limit`` at most 500); only those modified after ``modified_since`` (UTC ISO 8601)
        when given; ``NotFound`` for an unknown list."""
        template = "/contacts/lists/{listId}/contacts"
        path = f"/contacts/lists/{int(list_id)}/contacts"
        offset = 0
        while True:
            params: dict[str, str | int] = {"limit": MEMBERS_PAGE_LIMIT, "offset": offset}
            params["sort"] = "asc"  # by creation: contacts added meanwhile come last
            if modified_since is not None:
                params["modifiedSince"] = modified_since
            data = await self._json(Call("GET", path, template, params=params)) or {}
            page = data.get("contacts") or []
            for item in page:
                yield Contact.model_validate(item)
            offset += len(page)
            total = data.get("count")
            if len(page) < MEMBERS_PAGE_LIMIT or (isinstance(total, int) and offset >= total):
                return

    async def create_list(self, name: str, folder_id: int) -> int:
        """Create a list in a folder; its id."""
        body = {"name": name, "folderId": int(folder_id)}
        call = Call("POST", "/contacts/lists", "/contacts/lists", json_body=body)
        return int((await self._json(call))["id"])

    # -- webhooks ---------------------------------------------------------------------

    async def list_webhooks(self, kind: str = "marketing") -> list[Webhook]:
        """The account's webhooks of one type (spec getWebhooks, not paged)."""
        call = Call("GET", "/webhooks", "/webhooks", params={"type": kind})
        data = await self._json(call) or {}
        return [Webhook.model_validate(item) for item in data.get("webhooks") or []]

    async def create_webhook(
        self, url: str, events: Sequence[str], *, description: str, token: str, kind: str
    ) -> int:
        """Create a webhook that sends ``Authorization: Bearer <token>``; its id."""
        body = {
            "url": url, "events": list(events), "type": kind, "description": description,
            "auth": {"type": "bearer", "token": token},
        }  # fmt: skip
        return int((await self._json(Call("POST", "/webhooks", "/webhooks", json_body=body)))["id"])

    async def _pages(self, path: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            params = {"limit": PAGE_LIMIT, "offset": len(items)}
            data = await self._json(Call("GET", path, path, params=params)) or {}
            page = data.get(key) or []
            items.extend(page)
            total = data.get("count")
            if len(page) < PAGE_LIMIT or (isinstance(total, int) and len(items) >= total):
                return items

    # -- events -----------------------------------------------------------------------

    async def send_event(self, event: Event) -> None:
        """Send one custom event (not idempotent at Brevo: keep a ledger)."""
        await self._session.send(Call("POST", "/events", "/events", json_body=event.body()))

    async def list_events(
        self, contact_ids: int | Sequence[int], event_name: str, start: datetime, end: datetime
    ) -> list[ListedEvent]:
        """The custom events Brevo holds for these contacts (``contact_id`` is repeatable) and
        name between ``start`` and ``end`` (RFC 3339 bounds; Brevo has no e-mail filter:
        find the ids with ``get_contact``), every page read."""
        ids = [contact_ids] if isinstance(contact_ids, int) else list(contact_ids)
        found: list[ListedEvent] = []
        while True:
            params: dict[str, str | int | Sequence[int]] = {
                "contact_id": ids,
                "event_name": event_name,
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
                "limit": EVENTS_PAGE_LIMIT,
                "offset": len(found),
            }
            data = await self._json(Call("GET", "/events", "/events", params=params)) or {}
            page = [ListedEvent.model_validate(item) for item in data.get("events") or []]
            found.extend(page)
            total = data.get("count")
            if len(page) < EVENTS_PAGE_LIMIT or (isinstance(total, int) and len(found) >= total):
                return found

    async def send_events(
        self,
        events: Sequence[Event],
        *,
        max_body_bytes: int = EVENTS_MAX_BODY_BYTES,
        encoded: Sequence[bytes] | None = None,
    ) -> EventsResult:
        """Send many events through ``/events/batch``; refused events are reported by index.

        Requests are cut by body size (``event_batches``), so a chunk that fits is one call.
        A batch Brevo refuses as a whole (413, or 400 without per-event errors) is sent
        again in halves: nothing of it was accepted, and an undocumented limit then costs a
        few calls instead of the events. Falls back to one ``/events`` call per event when
        the batch endpoint is missing (404/405; it exists only since 2026-03, brevo.md 3.2).
        ``encoded``: the events already encoded with ``encode_event`` (``event_spans``), not
        encoded again.
        """
        if encoded is None:
            encoded = [encode_event(event) for event in events]
        result = EventsResult()
        for span in event_spans(encoded, max_body_bytes):
            part = await self._send_event_span(events, encoded, span)
            result = _joined(result, part)
        return result

    async def _send_event_span(
        self, events: Sequence[Event], encoded: Sequence[bytes], span: range
    ) -> EventsResult:
        if not self._batch_events_supported:
            alone = await self._send_events_one_by_one(events[span.start : span.stop])
            return _shifted(alone, span)
        body = _EVENTS_PREFIX + b",".join(encoded[span.start : span.stop]) + _EVENTS_SUFFIX
        call = Call(
            "POST",
            "/events/batch",
            "/events/batch",
            content=body,
            soft=lambda status, _body: status in (400, 404, 405, 413),
        )
        response = await self._session.send(call)
        if response.status_code in (404, 405):
            self._batch_events_supported = False
            part = await self._send_event_span(events, encoded, span)
            return part.model_copy(update={"requests": part.requests + 1})
        refused_whole = response.status_code == 413 or (
            response.status_code == 400 and not _per_event_errors(response)
        )
        if refused_whole and len(span) > 1:
            middle = span.start + len(span) // 2
            first = await self._send_event_span(events, encoded, range(span.start, middle))
            second = await self._send_event_span(events, encoded, range(middle, span.stop))
            joined = _joined(first, second)
            return joined.model_copy(update={"requests": joined.requests + 1})
        return _shifted(_batch_result(response, len(span)), span)

    async def _send_events_one_by_one(self, chunk: Sequence[Event]) -> EventsResult:
        failures: list[EventFailure] = []
        for index, event in enumerate(chunk):
            try:
                await self.send_event(event)
            except PayloadRejected as exc:
                failures.append(EventFailure(index=index, message=str(exc)))
        return EventsResult(
            accepted=len(chunk) - len(failures), failures=failures, requests=len(chunk)
        )

    # -- transactional e-mail and campaigns ---------------------------------------------

    async def send_transactional(
        self,
        *,
        template_id: int,
        versions: Sequence[MessageVersion],
        idempotency_key: str,
        sender: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
    ) -> SendResult:
        """Send a template to many people, one personalised version each.

        Requests carry at most 1000 versions / 2000 recipients, each with its own
        idempotency key derived from ``idempotency_key`` (the key itself when one request
        suffices), so replaying the call within Brevo's 30 minutes sends nothing twice;
        a replayed request is reported in ``duplicate_keys``.
        """
        if not idempotency_key:
            raise ValueError("an idempotency key is required for transactional e-mail")
        plans = plan_count_chunks(
            [len(v.to) for v in versions],
            max_items=VERSIONS_PER_EMAIL,
            max_weight=RECIPIENTS_PER_EMAIL,
        )
        result = SendResult()
        for number, span in enumerate(plans):
            key = idempotency_key if len(plans) == 1 else _derived_key(idempotency_key, number)
            body: dict[str, Any] = {
                "templateId": int(template_id),
                "messageVersions": [
                    v.model_dump(exclude_none=True) for v in versions[span.start : span.stop]
                ],
                "headers": {"idempotencyKey": key},
            }
            if sender is not None:
                body["sender"] = dict(sender)
            if params:
                body["params"] = dict(params)
            if tags:
                body["tags"] = list(tags)
            result = await self._send_email_request(body, key, result)
        return result

    async def _send_email_request(
        self, body: dict[str, Any], key: str, so_far: SendResult
    ) -> SendResult:
        call = Call("POST", "/smtp/email", "/smtp/email", json_body=body, soft=_is_duplicate)
        response = await self._session.send(call)
        if response.status_code == 400:
            return SendResult(
                message_ids=so_far.message_ids, duplicate_keys=[*so_far.duplicate_keys, key]
            )
        data = response.json()
        ids = data.get("messageIds") or ([data["messageId"]] if data.get("messageId") else [])
        return SendResult(
            message_ids=[*so_far.message_ids, *ids], duplicate_keys=so_far.duplicate_keys
        )

    async def create_email_campaign(
        self,
        *,
        name: str,
        subject: str,
        sender: Mapping[str, Any],
        list_ids: Sequence[int],
        template_id: int | None = None,
        html_content: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Create an e-mail campaign to ``list_ids``; its id."""
        if (template_id is None) == (html_content is None):
            raise ValueError("give exactly one of template_id and html_content")
        body: dict[str, Any] = {
            "name": name,
            "subject": subject,
            "sender": dict(sender),
            "recipients": {"listIds": list(list_ids)},
        }
        if template_id is not None:
            body["templateId"] = int(template_id)
        if html_content is not None:
            body["htmlContent"] = html_content
        if params:
            body["params"] = dict(params)
        call = Call("POST", "/emailCampaigns", "/emailCampaigns", json_body=body)
        return int((await self._json(call))["id"])

    async def send_campaign_now(self, campaign_id: int) -> None:
        """Send a campaign immediately (not idempotent: call once per campaign)."""
        path = f"/emailCampaigns/{int(campaign_id)}/sendNow"
        template = "/emailCampaigns/{campaignId}/sendNow"
        await self._session.send(Call("POST", path, template))


def _identifier(identifier: str | int) -> str:
    if isinstance(identifier, int):
        return str(identifier)
    # brevo.md 8.13: URL-encode e-mail identifiers ("+" must travel as %2B).
    return quote(identifier.strip().lower(), safe="@")


def encode_import_row(row: Mapping[str, Any]) -> bytes:
    """One ``jsonBody`` row of an import (``{email, attributes}``), compact, e-mail lowered."""
    item = dict(row)
    email = item.get("email")
    if isinstance(email, str):
        item["email"] = email.strip().lower()
    return _ROW_ENCODER.encode(item).encode()


def encode_event(event: Event) -> bytes:
    """One item of an ``/events/batch`` body, compact."""
    return _ROW_ENCODER.encode(event.body()).encode()


def event_batches(
    events: Sequence[Event], *, max_body_bytes: int = EVENTS_MAX_BODY_BYTES
) -> list[range]:
    """How ``send_events`` cuts ``events`` into requests: consecutive spans under the budget."""
    return event_spans([encode_event(event) for event in events], max_body_bytes)


def event_spans(
    encoded: Sequence[bytes], max_body_bytes: int = EVENTS_MAX_BODY_BYTES
) -> list[range]:
    """``event_batches`` for events already encoded with ``encode_event``."""
    return plan_byte_chunks(
        [len(item) for item in encoded],
        max_body_bytes=max_body_bytes,
        envelope_bytes=len(_EVENTS_PREFIX) + len(_EVENTS_SUFFIX),
    )


def _process(data: Any) -> Process:
    info = data.get("info") if isinstance(data, dict) else None
    imports = info.get("import") if isinstance(info, dict) else None
    reports = {
        kind: url
        for kind, url in (imports or {}).items()
        if kind in IMPORT_REPORT_KINDS and isinstance(url, str) and url
    }
    return Process.model_validate({**data, "import_reports": reports})


def _derived_key(key: str, number: int) -> str:
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{key}/{number}"))


def _is_duplicate(status: int, body: ErrorBody) -> bool:
    return status == 400 and body.code == "duplicate_parameter"


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:  # a proxy's HTML page, say
        return None


def _per_event_errors(response: httpx.Response) -> bool:
    data = _json_or_none(response)
    return isinstance(data, dict) and isinstance(data.get("errors"), list)


def _shifted(result: EventsResult, span: range) -> EventsResult:
    failures = [
        EventFailure(index=f.index + span.start, message=f.message) for f in result.failures
    ]
    return result.model_copy(update={"failures": failures})


def _joined(first: EventsResult, second: EventsResult) -> EventsResult:
    return EventsResult(
        accepted=first.accepted + second.accepted,
        failures=[*first.failures, *second.failures],
        requests=first.requests + second.requests,
    )


def _batch_result(response: httpx.Response, size: int) -> EventsResult:
    """What one answered batch did: 202 all accepted, 207/400 per-event errors, or a 400/413
    refusing the request as a whole (then every event of it is reported refused)."""
    data = _json_or_none(response)
    errors = data.get("errors") if isinstance(data, dict) else None
    if response.status_code in (400, 413) and not isinstance(errors, list):
        body = parse_error_body(response.content)
        message = (
            f"Brevo rejected POST /events/batch (HTTP {response.status_code}): "
            f"{body.code} - {body.message}"
        )
        refused = [EventFailure(index=index, message=message) for index in range(size)]
        return EventsResult(accepted=0, failures=refused, requests=1)
    failures = [
        EventFailure(index=int(index), message=str(error.get("message", "")))
        for error in errors or []
        for index in error.get("eventIndex", [])
    ]
    accepted = size - len({f.index for f in failures})
    return EventsResult(accepted=accepted, failures=failures, requests=1)


def _parse_report(kind: str, text: str) -> list[RejectedRow]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for record in reader:
        clean = {str(k): str(v) for k, v in record.items() if k is not None}
        email = next((v for k, v in clean.items() if k.strip().lower() == "email"), None)
        rows.append(RejectedRow(reason=kind, email=email, row=clean))
    return rows
