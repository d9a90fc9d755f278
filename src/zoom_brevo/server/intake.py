"""Pure decisions of webhook intake: content type, parsing, classification, dedupe key.

Nothing here does I/O. The route verifies the signature over the raw bytes first
(``zoom.webhooks.verify``), then calls :func:`classify` on the same bytes.

The dedupe key identifies the *content* of an event, not one delivery: Zoom redelivers
(at-least-once) and has sent two ``recording.completed`` for one recording that differ
only in ``download_url``/``download_token`` (reference zoom.md 4.3). Whether
``x-zm-trackingid`` is stable across retries is unverified, so it is not used.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from zoom_brevo.errors import WebhookRejected
from zoom_brevo.logging import MASK, is_sensitive_key

URL_VALIDATION = "endpoint.url_validation"
JSON_MEDIA_TYPE = "application/json"
# Zoom's event names are "<object>.<action>" in lower case; anything else cannot be one,
# and a bounded name fits the inbox's event_type column on every database.
_EVENT_NAME = re.compile(r"[A-Za-z0-9_]+(?:[.:-][A-Za-z0-9_]+)*")
MAX_EVENT_NAME = 100
# Zoom's bodies nest about six levels deep; a cap far above that answers a pathological
# (but signed) body with the same 400 whatever the stack depth of the caller.
MAX_NESTING = 64
_PARTICIPANT_FIELDS = (
    "participant_uuid",
    "participant_user_id",
    "user_id",
    "id",
    "registrant_id",
    "customer_key",
    "email",
    "user_name",
    "join_time",
    "leave_time",
    "date_time",
)


@dataclass(frozen=True, slots=True)
class UrlValidation:
    """Zoom's challenge: answer with ``plain_token`` and its HMAC; store nothing."""

    plain_token: str


@dataclass(frozen=True, slots=True)
class Notification:
    """An event to store in the inbox under ``dedupe_key``."""

    event_type: str
    dedupe_key: str
    body: dict[str, Any]


def check_content_type(value: str | None) -> None:
    """Accept ``application/json`` (any parameters); else 415 ``unsupported_media_type``."""
    media_type = (value or "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        shown = media_type or "none"
        raise WebhookRejected(
            f"content-type must be {JSON_MEDIA_TYPE}, got {shown}",
            status=415,
            reason="unsupported_media_type",
        )


def declared_length(value: str | None) -> int | None:
    """The ``content-length`` header as a number (``None`` when absent or unreadable)."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def classify(raw_body: bytes) -> UrlValidation | Notification:
    """Parse a verified body; raise ``WebhookRejected(400)`` when it is not a Zoom event."""
    body = parse_object(raw_body)
    event = event_name(body)
    if event == URL_VALIDATION:
        return UrlValidation(plain_token(body))
    try:
        key = dedupe_key(body)
    except RecursionError:
        raise WebhookRejected("body is nested too deeply", reason="malformed_json") from None
    return Notification(event, key, body)


def parse_object(raw_body: bytes) -> dict[str, Any]:
    """The body as a JSON object (400 malformed_json, not_an_object, nested_too_deeply)."""
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise WebhookRejected("body is not valid JSON", reason="malformed_json") from None
    except RecursionError:
        raise _too_deep() from None
    if not isinstance(body, dict):
        raise WebhookRejected("body must be a JSON object", reason="not_an_object")
    if _may_nest_deeper(raw_body, MAX_NESTING) and nested_deeper_than(body, MAX_NESTING):
        raise _too_deep()
    return body


def _may_nest_deeper(raw_body: bytes, limit: int) -> bool:
    # Every array and object opens with a bracket, so a body holding at most ``limit`` of
    # them (Zoom's hold a handful) cannot nest deeper: counting in C skips the walk.
    return raw_body.count(b"{") + raw_body.count(b"[") > limit


def _too_deep() -> WebhookRejected:
    return WebhookRejected(
        f"body is nested more than {MAX_NESTING} levels deep", reason="nested_too_deeply"
    )


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` has arrays/objects more than ``limit`` levels deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item)
    return False


def event_name(body: Mapping[str, Any]) -> str:
    """The ``event`` field (400 ``no_event`` when missing or not a plausible event name)."""
    event = body.get("event")
    if not isinstance(event, str) or not event:
        raise WebhookRejected('body has no "event" name', reason="no_event")
    if len(event) > MAX_EVENT_NAME or not _EVENT_NAME.fullmatch(event):
        raise WebhookRejected('"event" is not a Zoom event name', reason="no_event")
    return event


def plain_token(body: Mapping[str, Any]) -> str:
    """``payload.plainToken`` of a URL validation (400 ``no_plain_token``)."""
    payload = body.get("payload")
    token = payload.get("plainToken") if isinstance(payload, Mapping) else None
    if not isinstance(token, str) or not token:
        raise WebhookRejected(
            "endpoint.url_validation without payload.plainToken", reason="no_plain_token"
        )
    return token


def dedupe_key(body: Mapping[str, Any]) -> str:
    """``"<event>:<sha256 of the identifying parts>"``, equal for redeliveries of one event.

    Participant events: meeting instance + participant identifiers + join/leave time.
    Registration events: meeting + registrant + ``event_ts`` (a registrant may be
    approved, cancelled and approved again). ``recording.completed``: instance + recording
    file ids (not the download URLs or token). Meeting/webinar started/ended: the
    instance. Anything else: ``event_ts`` + the whole payload, canonicalised.
    """
    event = str(body.get("event"))
    payload = _mapping(body.get("payload"))
    parts = _identity(event, body, payload) or _fallback(body, payload)
    digest = hashlib.sha256(_canonical(parts).encode()).hexdigest()
    return f"{event}:{digest}"


def _identity(event: str, body: Mapping[str, Any], payload: Mapping[str, Any]) -> list[Any]:
    obj = _mapping(payload.get("object"))
    instance = obj.get("uuid") or obj.get("id")
    if not instance:
        return []
    scope = [event, payload.get("account_id"), instance]
    if ".participant_" in event:
        who = _mapping(obj.get("participant"))
        found = [[name, who[name]] for name in _PARTICIPANT_FIELDS if who.get(name)]
        return [*scope, found] if found else []
    if ".registration_" in event:
        registrant = _mapping(obj.get("registrant"))
        person = registrant.get("id") or registrant.get("email")
        return [*scope, person, body.get("event_ts")] if person else []
    if event.startswith("recording."):
        files = obj.get("recording_files")
        listed = files if isinstance(files, list) else []
        ids = sorted(str(f["id"]) for f in listed if isinstance(f, Mapping) and f.get("id"))
        return [*scope, ids] if ids else []
    if event.endswith((".started", ".ended")):
        return scope
    return []


def _fallback(body: Mapping[str, Any], payload: Mapping[str, Any]) -> list[Any]:
    return [body.get("event"), body.get("event_ts"), payload]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# One encoder for every key: ``json.dumps`` with options builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
# ``JSONEncoder.encode`` still builds its C encoder anew on every call, half the cost of
# the canonical JSON (docs/benchmarks.md, "Open-loop intake (issue 19)"). This is the C
# encoder ``_CANONICAL.encode`` builds, with the same settings, built once: the same bytes
# for every value a JSON body can hold (the keys already stored depend on them;
# tests/server/test_intake.py checks against json.dumps). Only the check for circular
# containers is left out: parsed JSON has none.
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_ENCODE = (
    None
    if _C_ENCODER is None
    else _C_ENCODER(
        None,  # markers: no circular check
        _CANONICAL.default,
        json.encoder.encode_basestring_ascii,  # ensure_ascii
        _CANONICAL.indent,
        _CANONICAL.key_separator,
        _CANONICAL.item_separator,
        _CANONICAL.sort_keys,
        _CANONICAL.skipkeys,
        _CANONICAL.allow_nan,
    )
)


def _canonical(value: Any) -> str:
    if _ENCODE is None:  # no C accelerator (PyPy)
        return _CANONICAL.encode(value)
    return "".join(_ENCODE(value, 0))


def stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers to keep beside the raw body: lower-cased, secrets masked.

    The signature and any authorization value are masked (``is_sensitive_key``); the
    timestamp, request id and tracking id stay for support correlation.
    """
    kept = {}
    for name, value in headers.items():
        lowered, sensitive = _header_name(name)
        kept[lowered] = MASK if sensitive else value
    return kept


def request_headers(
    raw: Iterable[tuple[bytes, bytes]],
) -> tuple[dict[str, str], dict[str, str]]:
    """ASGI request headers, decoded once: ``(found, kept)``.

    ``found`` maps lower-cased names to the first value sent under them (for look-ups);
    ``kept`` is :func:`stored_headers` of the same headers (the last value of a repeated
    name, secrets masked).
    """
    found: dict[str, str] = {}
    kept: dict[str, str] = {}
    for name, value in raw:
        lowered, sensitive = _raw_header_name(name)
        text = value.decode("latin-1")
        found.setdefault(lowered, text)
        kept[lowered] = MASK if sensitive else text
    return found, kept


@functools.lru_cache(maxsize=256)  # bounded: header names are chosen by the client
def _raw_header_name(name: bytes) -> tuple[str, bool]:
    return _header_name(name.decode("latin-1"))


@functools.lru_cache(maxsize=256)  # bounded: header names are chosen by the client
def _header_name(name: str) -> tuple[str, bool]:
    """``name`` lower-cased and whether its value is a secret (a regex search, so cached)."""
    return name.lower(), is_sensitive_key(name)
