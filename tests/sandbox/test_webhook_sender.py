"""The sender signs like Zoom, and its payloads have Zoom's webhook shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zoom_brevo.errors import WebhookRejected
from zoom_brevo.sandbox.scenario import Scenario
from zoom_brevo.sandbox.webhook_sender import WebhookSender, ZoomEvents
from zoom_brevo.zoom.webhooks import DEFAULT_TOLERANCE_S, verify

SECRET = "sandbox-secret"
ANCHOR = datetime(2026, 6, 1, 12, tzinfo=UTC)


class Receiver:
    """A tiny endpoint that verifies like the real server and keeps what it accepted."""

    def __init__(self) -> None:
        self.accepted: list[bytes] = []
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        raw = await request.body()
        try:
            verify(SECRET, request.headers, raw, now=ANCHOR.timestamp())
        except WebhookRejected as exc:
            return JSONResponse({"reason": exc.reason}, exc.status)
        self.accepted.append(raw)
        return Response(status_code=204)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def sender(receiver: Receiver) -> AsyncIterator[WebhookSender]:
    transport = httpx.ASGITransport(app=receiver.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
        yield WebhookSender("/hook", SECRET, client=client, clock=ANCHOR.timestamp)


@pytest.fixture
def scenario() -> Scenario:
    sc = Scenario(seed=5, anchor=ANCHOR)
    host = sc.user(email="host@example.com")
    sc.meeting(host, participants=3, recording=True)
    sc.webinar(host, registrants=4, attendees=2)
    return sc


async def test_signed_delivery_is_accepted_and_resend_repeats_the_same_bytes(
    sender: WebhookSender, receiver: Receiver, scenario: Scenario
) -> None:
    events = ZoomEvents(clock=ANCHOR.timestamp)
    first = await sender.send(events.ended(scenario.meetings[0].latest))
    again = await sender.resend(first)
    assert (first.status, again.status) == (204, 204)
    assert receiver.accepted == [first.body, first.body]


async def test_tampered_or_foreign_signatures_are_refused(
    sender: WebhookSender, receiver: Receiver
) -> None:
    good = await sender.send({"event": "meeting.started"})
    forged = await sender.post(good.body + b" ", good.headers)
    assert forged.status == 401
    too_old = int(ANCHOR.timestamp() - DEFAULT_TOLERANCE_S) - 60
    old = await sender.send({"event": "x"}, timestamp=too_old)
    assert json.loads(old.response_body) == {"reason": "stale_timestamp"}
    assert len(receiver.accepted) == 1


def test_payloads_carry_the_required_fields_of_zoom_samples(
    scenario: Scenario, shared_dir: Path
) -> None:
    events = ZoomEvents(clock=ANCHOR.timestamp)
    meeting, webinar = scenario.meetings[0].latest, scenario.webinars[0]
    att = next(meeting.attendances())
    reg = webinar.registrants[0]
    built = {
        "meeting_started": events.started(meeting),
        "meeting_ended": events.ended(meeting),
        "meeting_participant_joined": events.joined(meeting, att, att.sessions[0]),
        "meeting_participant_left": events.left(meeting, att, att.sessions[0]),
        "webinar_started": events.started(webinar.latest),
        "webinar_ended": events.ended(webinar.latest),
        "webinar_registration_created": events.registration_created(webinar, reg),
        "webinar_registration_approved": events.registration_approved(webinar, reg),
        "webinar_registration_cancelled": events.registration_cancelled(webinar, reg),
        "recording_completed": events.recording_completed(meeting),
    }
    for name, payload in built.items():
        sample = json.loads(
            (shared_dir / "samples" / "zoom-webhooks" / f"apihub-{name}.json").read_text()
        )
        assert payload["event"] == sample["event"]
        assert set(sample) == set(payload), name
        sample_obj, obj = sample["payload"]["object"], payload["payload"]["object"]
        assert type(obj["id"]) is type(sample_obj["id"]), name
        missing = (
            set(sample_obj)
            - set(obj)
            - {"occurrences", "on_prem", "auto_delete", "auto_delete_date"}
        )
        assert not missing, (name, missing)
        for nested in ("participant", "registrant"):
            if nested in sample_obj:
                extra_ok = {
                    "date_time",
                    "customer_key",
                    "phone_number",
                    "address",
                    "city",
                    "country",
                    "zip",
                    "state",
                    "phone",
                    "industry",
                    "org",
                    "job_title",
                    "purchasing_time_frame",
                    "role_in_purchase_process",
                    "no_of_employees",
                    "comments",
                    "custom_questions",
                }
                assert not set(sample_obj[nested]) - set(obj[nested]) - extra_ok, name


def test_url_validation_event_shape() -> None:
    body = ZoomEvents().url_validation("abc")
    assert body["event"] == "endpoint.url_validation"
    assert body["payload"] == {"plainToken": "abc"}


def test_registrations_of_a_recurring_webinar_list_its_occurrences_as_the_spec_says(
    shared_dir: Path,
) -> None:
    spec = json.loads((shared_dir / "specs" / "zoom" / "zoom-meeting-events-open-api-spec.json")
                      .read_text())  # fmt: skip
    body = spec["webhooks"]["webinar.registration_created"]["post"]["requestBody"]
    obj = body["content"]["application/json"]["schema"]["properties"]["payload"]["properties"]
    item = obj["object"]["properties"]["occurrences"]["items"]["anyOf"][0]
    sc = Scenario(seed=5, anchor=ANCHOR)
    host = sc.user(email="host@example.com")
    weekly = sc.webinar(host, registrants=1, attendees=0, instances=2)
    one_off = sc.webinar(host, registrants=1, attendees=0)
    events = ZoomEvents(clock=ANCHOR.timestamp)
    listed = events.registration_created(weekly, weekly.registrants[0])["payload"]["object"]
    assert [set(o) for o in listed["occurrences"]] == [set(item["properties"])] * 2
    assert [o["start_time"] for o in listed["occurrences"]] == [
        i.scheduled_start.strftime("%Y-%m-%dT%H:%M:%SZ") for i in weekly.instances
    ]
    plain = events.registration_created(one_off, one_off.registrants[0])["payload"]["object"]
    assert "occurrences" not in plain  # "only returns when the webinar's type value is 9"
