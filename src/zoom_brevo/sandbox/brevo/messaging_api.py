"""Emulated ``/account``, ``/events``, ``/smtp/email`` and ``/emailCampaigns`` operations."""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from typing import Any

from zoom_brevo.sandbox.brevo.event_listing import list_events
from zoom_brevo.sandbox.brevo.protocol import (
    ApiFault,
    Op,
    Reply,
    Req,
    bad,
    body_object,
    int_param,
    not_found,
)
from zoom_brevo.sandbox.brevo.state import EMAIL_RE, Campaign, RecordedEvent, SentEmail

_EVENT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_IDENTIFIERS = ("email_id", "ext_id", "phone_id", "whatsapp_id", "landline_number_id", "contact_id")
_EVENT_PROPERTIES_MAX = 50 * 1024  # brevo.md 3.1
_MAX_VERSIONS, _MAX_PER_VERSION, _MAX_RECIPIENTS = 1000, 99, 2000  # brevo.md 4.1


async def get_account(req: Req) -> Reply:
    """GET /account."""
    credits = req.options.email_credits
    return Reply(
        200,
        {
            "email": "owner@sandbox.example",
            "firstName": "Sandbox",
            "lastName": "Owner",
            "companyName": "zoom-brevo sandbox",
            "address": {
                "street": "1 Loopback Way",
                "city": "Localhost",
                "zipCode": "00000",
                "country": "France",
            },
            "plan": [
                {
                    "type": "free" if credits is not None else "subscription",
                    "creditsType": "sendLimit",
                    "credits": float(credits if credits is not None else 1_000_000),
                }
            ],
            "relay": {
                "enabled": True,
                "data": {
                    "userName": "owner@sandbox.example",
                    "relay": "smtp-relay.brevo.com",
                    "port": 587,
                },
            },
            "marketingAutomation": {"enabled": False},
        },
    )


def event_problem(event: Any) -> str | None:
    """Why Brevo would refuse this event (brevo.md 3.1), or ``None``."""
    if not isinstance(event, dict):
        return "event should be an object"
    name = event.get("event_name")
    if not isinstance(name, str) or not _EVENT_NAME.match(name):
        return "event_name is required: at most 255 alphanumeric, '-' or '_' characters"
    return _identifiers_problem(event.get("identifiers")) or _properties_problem(
        event.get("event_properties")
    )


def _identifiers_problem(identifiers: Any) -> str | None:
    if not isinstance(identifiers, dict) or not any(identifiers.get(k) for k in _IDENTIFIERS):
        return "identifiers must contain at least one identifier"
    email = identifiers.get("email_id")
    if email is not None and (not isinstance(email, str) or not EMAIL_RE.match(email)):
        return "identifiers.email_id is not a valid email address"
    return None


def _properties_problem(properties: Any) -> str | None:
    if properties is None:
        return None
    if not isinstance(properties, dict):
        return "event_properties should be an object"
    if len(json.dumps(properties)) > _EVENT_PROPERTIES_MAX:
        return "event_properties exceed 50KB"
    return None


def _record_event(req: Req, event: dict[str, Any], *, via_batch: bool) -> None:
    contact_properties = event.get("contact_properties")
    email = event["identifiers"].get("email_id")
    contact = req.state.contact(email) if isinstance(email, str) else None
    if contact is not None and contact_properties:
        cleaned = req.state.clean_attributes(contact_properties, keep_empty=False)
        req.state.update_contact(contact, cleaned, req.now_s)
    req.state.events.append(
        RecordedEvent(
            seq=len(req.state.events) + 1,
            event_name=event["event_name"],
            identifiers=dict(event["identifiers"]),
            contact_properties=contact_properties,
            event_properties=event.get("event_properties"),
            event_date=event.get("event_date"),
            via_batch=via_batch,
            contact_id=None if contact is None else contact.id,
            received_s=req.now_s,
        )
    )


async def create_event(req: Req) -> Reply:
    """POST /events: 204."""
    problem = event_problem(req.body)
    if problem:
        raise bad(problem)
    _record_event(req, body_object(req), via_batch=False)
    return Reply(204)


async def create_batch_events(req: Req) -> Reply:
    """POST /events/batch: 202 all accepted, 207 partial, 400 none (brevo.md 3.2)."""
    if not req.options.events_batch_supported:
        raise not_found("Invalid route")
    events = body_object(req).get("events")
    if not isinstance(events, list) or not events:
        raise bad("events is required and should be a non-empty array", "missing_parameter")
    by_message: dict[str, list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        problem = event_problem(event)
        if problem:
            by_message[problem].append(index)
        else:
            _record_event(req, event, via_batch=True)
    failed = sum(len(v) for v in by_message.values())
    if not failed:
        return Reply(202, {"message": "Batch accepted for processing", "count": len(events)})
    return Reply(
        400 if failed == len(events) else 207,
        {
            "status": "failed" if failed == len(events) else "partial_success",
            "total_events": len(events),
            "successful_events": len(events) - failed,
            "failed_events": failed,
            "errors": [{"eventIndex": idx, "message": msg} for msg, idx in by_message.items()],
        },
    )


def _recipients(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise bad(f"{where} is required and should be a non-empty array", "missing_parameter")
    emails = []
    for item in value:
        email = item.get("email") if isinstance(item, dict) else None
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise bad(f"email is not valid in {where}")
        emails.append(email.lower())
    return emails


def _versions(body: dict[str, Any]) -> list[dict[str, Any]]:
    versions = body.get("messageVersions")
    if versions is None:
        return [
            {"to": body.get("to"), "params": body.get("params"), "subject": body.get("subject")}
        ]
    if not isinstance(versions, list) or not versions:
        raise bad("messageVersions should be a non-empty array")
    if len(versions) > _MAX_VERSIONS:
        raise bad(f"A maximum of {_MAX_VERSIONS} messageVersions is allowed", "out_of_range")
    return versions


def _check_content(body: dict[str, Any]) -> None:
    template_id = body.get("templateId")
    if template_id is not None:
        if not isinstance(template_id, int) or template_id < 1:
            raise bad("templateId should be a positive integer")
        return
    if not (body.get("htmlContent") or body.get("textContent")) or not body.get("subject"):
        raise bad(
            "subject and htmlContent/textContent, or templateId, are required", "missing_parameter"
        )
    sender = body.get("sender")
    if not isinstance(sender, dict) or not (sender.get("email") or sender.get("id")):
        raise bad("sender is required", "missing_parameter")


def _check_idempotency(req: Req, raw: Any) -> str | None:
    if raw is None:
        return None
    key = str(raw)
    seen = req.state.idempotency_keys.get(key)
    if seen is not None and req.now_s - seen < req.options.idempotency_ttl_s:
        raise ApiFault(
            400, "duplicate_parameter", "Request with the same idempotencyKey already processed"
        )
    req.state.idempotency_keys[key] = req.now_s
    return key


def _spend_credits(req: Req, count: int) -> None:
    credits = req.options.email_credits
    if credits is None:
        return
    if count > credits:
        raise ApiFault(402, "not_enough_credits", "Not enough credits to send the email(s)")
    req.options.email_credits = credits - count


async def send_email(req: Req) -> Reply:
    """POST /smtp/email: 201 {messageId} or {messageIds} with messageVersions."""
    body = body_object(req)
    _check_content(body)
    versions = _versions(body)
    recipients = []
    for number, version in enumerate(versions):
        emails = _recipients(
            version.get("to") if isinstance(version, dict) else None,
            f"messageVersions[{number}].to" if "messageVersions" in body else "to",
        )
        if len(emails) > _MAX_PER_VERSION:
            raise bad(
                f"A maximum of {_MAX_PER_VERSION} recipients per version is allowed", "out_of_range"
            )
        recipients.append(emails)
    if sum(map(len, recipients)) > _MAX_RECIPIENTS:
        raise bad(
            f"A maximum of {_MAX_RECIPIENTS} recipients per request is allowed", "out_of_range"
        )
    headers = body.get("headers")
    raw_key = headers.get("idempotencyKey") if isinstance(headers, dict) else None
    key = _check_idempotency(req, raw_key)
    _spend_credits(req, sum(map(len, recipients)))
    ids = []
    for version, emails in zip(versions, recipients, strict=True):
        message_id = f"<{uuid.uuid4().hex}@smtp-relay.sandbox.brevo>"
        params = {**(body.get("params") or {}), **(version.get("params") or {})}
        req.state.emails.append(
            SentEmail(
                message_id,
                emails,
                body.get("templateId"),
                version.get("subject") or body.get("subject"),
                params,
                key,
            )
        )
        ids.append(message_id)
    return Reply(201, {"messageIds": ids} if "messageVersions" in body else {"messageId": ids[0]})


async def create_campaign(req: Req) -> Reply:
    """POST /emailCampaigns: 201 {id}."""
    body = body_object(req)
    name, sender = body.get("name"), body.get("sender")
    if not isinstance(name, str) or not name or not isinstance(sender, dict):
        raise bad("name and sender are required", "missing_parameter")
    if not any(body.get(k) for k in ("htmlContent", "htmlUrl", "templateId")):
        raise bad("htmlContent, htmlUrl or templateId is required", "missing_parameter")
    recipients = body.get("recipients") or {}
    list_ids = recipients.get("listIds") or [] if isinstance(recipients, dict) else []
    missing = [i for i in list_ids if i not in req.state.lists]
    if missing:
        raise bad(f"List ID(s) {', '.join(map(str, missing))} does not exist")
    campaign = Campaign(
        req.state.next_id("campaign"),
        name,
        body.get("subject"),
        list(list_ids),
        body.get("templateId"),
    )
    req.state.campaigns[campaign.id] = campaign
    return Reply(201, {"id": campaign.id})


async def send_campaign_now(req: Req) -> Reply:
    """POST /emailCampaigns/{campaignId}/sendNow: 204; records who it went to."""
    campaign = req.state.campaigns.get(int_param(req, "campaignId"))
    if campaign is None:
        raise not_found("Campaign ID not found")
    if campaign.status == "sent":
        raise bad("Campaign could not be sent: it was already sent", "campaign_sent")
    if not campaign.list_ids:
        raise bad("Campaign could not be sent: it has no recipients")
    emails: dict[str, None] = {}
    for list_id in campaign.list_ids:
        for contact in req.state.members(list_id):
            if contact.email and not contact.email_blacklisted:
                emails[contact.email] = None
    _spend_credits(req, len(emails))
    campaign.sent_to = list(emails)
    campaign.status = "sent"
    return Reply(204)


OPS = [
    Op("GET", "/account", get_account),
    Op("GET", "/events", list_events),
    Op("POST", "/events", create_event),
    Op("POST", "/events/batch", create_batch_events),
    Op("POST", "/smtp/email", send_email),
    Op("POST", "/emailCampaigns", create_campaign),
    Op("POST", "/emailCampaigns/{campaignId}/sendNow", send_campaign_now),
]
