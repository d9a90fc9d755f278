"""Send Zoom-shaped, Zoom-signed webhooks to an endpoint (tests, benchmarks, the demo).

``ZoomEvents`` builds event payloads from a ``Scenario`` in the shapes of Zoom's webhook
spec (reference zoom.md 4.4; note the meeting ``id`` is a string in started/ended/participant
events and an integer in registration and recording events). ``WebhookSender`` serialises a
payload once, signs it like Zoom and POSTs it; ``resend`` posts the same bytes again, as a
Zoom retry does.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from zoom_brevo.sandbox.scenario import (
    Attendance,
    Instance,
    Registrant,
    Session,
    Webinar,
    mix,
    salt,
    token,
)
from zoom_brevo.sandbox.zoom.render import iso, occurrences, recording
from zoom_brevo.zoom.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

Json = dict[str, Any]
RECURRING_WEBINAR = 9  # webinar type: recurring with fixed times


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST: the exact bytes and headers sent, and the status received."""

    body: bytes
    headers: dict[str, str]
    status: int
    response_body: bytes


class WebhookSender:
    """POSTs signed webhooks to ``url`` with ``client`` (httpx; ASGI transport works too)."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._secret = secret
        self._client = client
        self._clock = clock

    def headers_for(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """The headers Zoom would send with ``body`` now (or at ``timestamp``)."""
        ts = str(int(self._clock()) if timestamp is None else timestamp)
        return {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "Zoom Marketplace/1.0a",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(self._secret, ts, body),
            "x-zm-request-id": secrets.token_hex(16),
            "x-zm-trackingid": f"v=2.0;clid=us06;rid={secrets.token_hex(8)}",
        }

    async def send(self, payload: Json | bytes, *, timestamp: int | None = None) -> Delivery:
        """Serialise (compactly, like Zoom), sign and POST ``payload``."""
        body = payload if isinstance(payload, bytes) else encode(payload)
        return await self.post(body, self.headers_for(body, timestamp=timestamp))

    async def resend(self, previous: Delivery, *, same_headers: bool = False) -> Delivery:
        """Redeliver the same bytes: re-signed with a fresh timestamp, or byte-for-byte."""
        headers = previous.headers if same_headers else self.headers_for(previous.body)
        return await self.post(previous.body, headers)

    async def post(self, body: bytes, headers: dict[str, str]) -> Delivery:
        """POST ``body`` with exactly ``headers`` (to send tampered requests, too)."""
        response = await self._client.post(self.url, content=body, headers=headers)
        return Delivery(body, headers, response.status_code, response.content)


def encode(payload: Json) -> bytes:
    """JSON bytes without spaces, as Zoom sends them."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class ZoomEvents:
    """Builds Zoom webhook payloads for scenario objects."""

    def __init__(self, account_id: str = "acct", clock: Callable[[], float] = time.time) -> None:
        self.account_id = account_id
        self._clock = clock

    def envelope(self, event: str, obj: Json, *, at_ms: int | None = None, **extra: Any) -> Json:
        """``{"event", "event_ts", "payload": {"account_id", "object", ...}}``."""
        event_ts = at_ms if at_ms is not None else int(self._clock() * 1000)
        payload = {"account_id": self.account_id, **extra, "object": obj}
        return {"event": event, "event_ts": event_ts, "payload": payload}

    def _object(self, inst: Instance, *, string_id: bool = True) -> Json:
        parent = inst.parent
        return {
            "id": str(parent.id) if string_id else parent.id,
            "uuid": inst.uuid,
            "host_id": parent.host.id,
            "topic": parent.topic,
            "type": parent.type,
            "start_time": iso(inst.start),
            "timezone": parent.host.timezone,
            "duration": parent.duration_min,
        }

    def _prefix(self, inst: Instance) -> str:
        return "webinar" if isinstance(inst.parent, Webinar) else "meeting"

    def started(self, inst: Instance) -> Json:
        """``meeting.started`` or ``webinar.started``."""
        obj = self._object(inst) | {"host_email": inst.parent.host.email}
        return self.envelope(
            f"{self._prefix(inst)}.started", obj, at_ms=_ms(inst.start.timestamp())
        )

    def ended(self, inst: Instance) -> Json:
        """``meeting.ended`` or ``webinar.ended``."""
        obj = self._object(inst) | {"host_email": inst.parent.host.email, "end_time": iso(inst.end)}
        if isinstance(inst.parent, Webinar):
            obj["practice_session"] = False
        return self.envelope(f"{self._prefix(inst)}.ended", obj, at_ms=_ms(inst.end.timestamp()))

    def _participant(self, att: Attendance, session: Session) -> Json:
        person = att.person
        return {
            "user_id": session.user_id,
            "user_name": person.name,
            "id": person.zoom_user_id,
            "participant_uuid": person.zoom_user_id,
            "email": att.registrant.email if att.registrant else person.email,
            "registrant_id": att.registrant.id if att.registrant else "",
            "participant_user_id": person.zoom_user_id,
        }

    def joined(self, inst: Instance, att: Attendance, session: Session) -> Json:
        """``meeting.participant_joined`` or ``webinar.participant_joined``."""
        who = self._participant(att, session) | {"join_time": iso(session.join)}
        obj = self._object(inst) | {"participant": who}
        event = f"{self._prefix(inst)}.participant_joined"
        return self.envelope(event, obj, at_ms=_ms(session.join.timestamp()))

    def left(
        self, inst: Instance, att: Attendance, session: Session, reason: str = "left the meeting"
    ) -> Json:
        """``meeting.participant_left`` or ``webinar.participant_left``."""
        who = self._participant(att, session) | {
            "leave_time": iso(session.leave),
            "leave_reason": reason,
        }
        obj = self._object(inst) | {"participant": who}
        event = f"{self._prefix(inst)}.participant_left"
        return self.envelope(event, obj, at_ms=_ms(session.leave.timestamp()))

    def _registration(self, webinar: Webinar, reg: Registrant, *, full: bool) -> Json:
        inst = webinar.latest
        who: Json = {
            "id": reg.id,
            "first_name": reg.first_name,
            "last_name": reg.last_name,
            "email": reg.email,
        }
        if full:
            who |= {"status": reg.status, "join_url": reg.join_url}
        if reg.tracking_source:
            src = reg.tracking_source
            who["tracking_source"] = {
                "id": src.id,
                "source_name": src.source_name,
                "tracking_url": src.tracking_url,
            }
        obj = self._object(inst, string_id=False) | {"registrant": who}
        if webinar.type == RECURRING_WEBINAR:  # events spec: only "when the type value is 9"
            keys = ("occurrence_id", "start_time")  # the spec's items have no other property
            obj["occurrences"] = [{k: o[k] for k in keys} for o in occurrences(webinar)]
        return obj

    def registration_created(self, webinar: Webinar, reg: Registrant) -> Json:
        """``webinar.registration_created`` (the only one with the form's answers)."""
        obj = self._registration(webinar, reg, full=True)
        obj["registrant"] |= {
            **dict(reg.fields),
            "custom_questions": [{"title": t, "value": v} for t, v in reg.questions],
        }
        return self.envelope(
            "webinar.registration_created", obj, at_ms=_ms(reg.create_time.timestamp())
        )

    def registration_approved(self, webinar: Webinar, reg: Registrant) -> Json:
        """``webinar.registration_approved`` (by the host)."""
        obj = self._registration(webinar, reg, full=True)
        obj["registrant"].pop("status")
        host = webinar.host
        return self.envelope(
            "webinar.registration_approved", obj, operator=host.email, operator_id=host.id
        )

    def registration_cancelled(self, webinar: Webinar, reg: Registrant) -> Json:
        """``webinar.registration_cancelled`` (by the host)."""
        obj = self._registration(webinar, reg, full=False)
        host = webinar.host
        return self.envelope(
            "webinar.registration_cancelled", obj, operator=host.email, operator_id=host.id
        )

    def recording_completed(self, inst: Instance, download_token: str | None = None) -> Json:
        """``recording.completed`` (integer ``id``, top-level ``download_token``)."""
        if inst.recording is None:
            raise ValueError(f"instance {inst.uuid} has no recording")
        rec = recording(inst, inst.recording, account_id=self.account_id, token=None)
        rec["type"] = inst.parent.type
        rec |= {"host_email": inst.parent.host.email, "timezone": inst.parent.host.timezone}
        rec["password"] = inst.recording.passcode
        rec["participant_audio_files"] = []
        end_ms = _ms(inst.end.timestamp()) + 600_000
        body = self.envelope("recording.completed", rec, at_ms=end_ms)
        body["download_token"] = download_token or secrets.token_urlsafe(32)
        return body

    def app_deauthorized(self, account_id: str | None = None, user_id: str = "") -> Json:
        """``app_deauthorized`` of ``account_id`` (default: this sender's account).

        Marketplace shape (reference zoom.md 4.5): no ``object``; ``event_ts`` inside
        ``payload`` as text. One endpoint receives this for every account that installed the
        app, so another account's is a normal sight.
        """
        now = self._clock()
        account = account_id or self.account_id
        payload = {
            "account_id": account,
            "user_id": user_id or token(mix(salt(account), 7), 13),
            "signature": token(mix(salt(account), 8), 64),
            "deauthorization_time": iso(datetime.fromtimestamp(now, UTC)),
            "client_id": token(mix(salt(account), 9), 22),
            "event_ts": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        return {"event": "app_deauthorized", "payload": payload}

    def url_validation(self, plain_token: str | None = None) -> Json:
        """``endpoint.url_validation`` with a random or given ``plainToken``."""
        token = plain_token or secrets.token_urlsafe(16)
        return {
            "event": "endpoint.url_validation",
            "event_ts": int(self._clock() * 1000),
            "payload": {"plainToken": token},
        }


def _ms(epoch_s: float) -> int:
    return int(epoch_s * 1000)
