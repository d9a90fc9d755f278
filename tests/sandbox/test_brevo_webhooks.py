"""The emulated Brevo ``/webhooks`` (official spec, Webhooks tag) and the ``listAddition``
notifications it POSTs when a contact enters a list, all over loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from zoom_brevo.sandbox.brevo import BrevoEmulator
from zoom_brevo.sandbox.serving import free_port, serving

KEY = "xkeysib-webhooks"
TOKEN = "hook-token-123"


@dataclass
class Receiver:
    """A loopback endpoint that records what it is sent and answers ``status``."""

    url: str = ""
    status: int = 200
    received: list[tuple[dict[str, str], Any]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> JSONResponse:
        self.received.append((dict(request.headers), await request.json()))
        return JSONResponse({}, status_code=self.status)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Any]:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [body for _, body in self.received]


@dataclass
class Brevo:
    emulator: BrevoEmulator
    http: httpx.Client
    receiver: Receiver

    def new_list(self) -> int:
        folder = self.http.post("contacts/folders", json={"name": "F"}).json()["id"]
        return int(
            self.http.post("contacts/lists", json={"name": "L", "folderId": folder}).json()["id"]
        )

    def hook(self, **overrides: Any) -> httpx.Response:
        body = {
            "url": self.receiver.url, "type": "marketing", "events": ["listAddition"],
            "description": "sign-ups", "auth": {"type": "bearer", "token": TOKEN},
        } | overrides  # fmt: skip
        return self.http.post("webhooks", json=body)


@pytest.fixture
def brevo() -> Iterator[Brevo]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
    emulator = BrevoEmulator(api_keys={KEY})
    with serving(app) as hook_base, serving(emulator.app) as base:
        receiver.url = hook_base + "/hook"
        with httpx.Client(base_url=base + "/v3/", headers={"api-key": KEY}) as http:
            yield Brevo(emulator, http, receiver)


# -- the operations ------------------------------------------------------------------------


def test_a_marketing_webhook_is_created_listed_read_and_deleted(brevo: Brevo) -> None:
    created = brevo.hook()
    assert created.status_code == 201
    hook_id = created.json()["id"]

    listed = brevo.http.get("webhooks", params={"type": "marketing"}).json()["webhooks"]
    assert [(w["id"], w["url"], w["events"], w["type"]) for w in listed] == [
        (hook_id, brevo.receiver.url, ["listAddition"], "marketing")
    ]
    assert listed[0]["auth"] == {"type": "bearer", "token": TOKEN}
    assert brevo.http.get("webhooks").json() == {"webhooks": []}  # transactional by default
    assert brevo.http.get(f"webhooks/{hook_id}").json()["description"] == "sign-ups"

    assert brevo.http.delete(f"webhooks/{hook_id}").status_code == 204
    gone = brevo.http.get(f"webhooks/{hook_id}")
    assert (gone.status_code, gone.json()["code"]) == (404, "document_not_found")


@pytest.mark.parametrize(
    ("overrides", "code", "mentions"),
    [
        ({"url": None}, "missing_parameter", "url"),
        ({"url": "not a url"}, "invalid_parameter", "url"),
        ({"events": None}, "missing_parameter", "events"),
        ({"events": []}, "invalid_parameter", "events"),
        ({"events": ["sent"]}, "invalid_parameter", "sent"),  # a transactional event
        ({"type": "weekly"}, "invalid_parameter", "type"),
        ({"type": "inbound", "events": ["inboundEmailProcessed"]}, "missing_parameter", "domain"),
        ({"auth": {"type": "digest"}}, "invalid_parameter", "auth"),
        ({"headers": [{"key": 1}]}, "invalid_parameter", "headers"),
    ],
)
def test_an_invalid_webhook_is_refused_with_a_400(
    brevo: Brevo, overrides: dict[str, Any], code: str, mentions: str
) -> None:
    given = {"url": brevo.receiver.url, "type": "marketing", "events": ["listAddition"]}
    body = {k: v for k, v in (given | overrides).items() if v is not None}  # None: left out
    response = brevo.http.post("webhooks", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert mentions in response.json()["message"]
    assert brevo.emulator.state.webhooks == {}


def test_an_unknown_webhook_id_is_a_404(brevo: Brevo) -> None:
    assert brevo.http.delete("webhooks/99").status_code == 404


# -- the notifications ---------------------------------------------------------------------


def test_a_contact_created_into_a_list_is_announced_with_the_bearer_token(brevo: Brevo) -> None:
    list_id = brevo.new_list()
    hook_id = brevo.hook().json()["id"]

    created = brevo.http.post("contacts", json={"email": "Ada@Example.com", "listIds": [list_id]})

    assert created.status_code == 201
    (body,) = brevo.receiver.wait_for(1)
    headers, _ = brevo.receiver.received[0]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert body["event"] == "list_addition"
    assert (body["email"], body["list_id"], body["id"]) == ("ada@example.com", [list_id], hook_id)
    assert isinstance(body["ts"], int) and body["date"] and body["key"]


def test_adding_an_existing_contact_to_a_list_is_announced_once(brevo: Brevo) -> None:
    list_id = brevo.new_list()
    brevo.http.post("contacts", json={"email": "bob@example.com"})
    brevo.hook()

    path = f"contacts/lists/{list_id}/contacts/add"
    assert brevo.http.post(path, json={"emails": ["bob@example.com"]}).status_code == 201
    assert brevo.http.post(path, json={"emails": ["bob@example.com"]}).status_code == 400

    brevo.receiver.wait_for(1)
    time.sleep(0.2)  # a second notification would have arrived by now
    assert [(b["email"], b["list_id"]) for b in brevo.receiver.wait_for(1)] == [
        ("bob@example.com", [list_id])
    ]


def test_an_imported_contact_is_announced(brevo: Brevo) -> None:
    list_id = brevo.new_list()
    brevo.hook()

    rows = [{"email": "cy@example.com", "attributes": {}}]
    assert brevo.http.post(
        "contacts/import", json={"jsonBody": rows, "listIds": [list_id]}
    ).is_success
    brevo.http.get("processes")  # the emulator applies imports when it is next called

    assert [b["email"] for b in brevo.receiver.wait_for(1)] == ["cy@example.com"]


def test_only_webhooks_with_the_list_addition_event_are_called(brevo: Brevo) -> None:
    list_id = brevo.new_list()
    brevo.hook(events=["unsubscribed"])

    brevo.http.post("contacts", json={"email": "dee@example.com", "listIds": [list_id]})

    assert brevo.receiver.wait_for(1, timeout_s=0.5) == []


def test_a_receiver_that_is_down_does_not_break_the_call(brevo: Brevo) -> None:
    list_id = brevo.new_list()
    brevo.hook(url=f"http://127.0.0.1:{free_port()}/hook")  # nobody listens there
    brevo.receiver.status = 500

    created = brevo.http.post("contacts", json={"email": "eve@example.com", "listIds": [list_id]})

    assert created.status_code == 201
    assert brevo.http.get("contacts/eve@example.com").json()["listIds"] == [list_id]


def test_a_receiver_beyond_loopback_is_never_called(brevo: Brevo) -> None:
    list_id = brevo.new_list()
    brevo.hook(url="https://connector.example.com/webhooks/brevo")

    created = brevo.http.post("contacts", json={"email": "fay@example.com", "listIds": [list_id]})

    assert created.status_code == 201
    time.sleep(0.2)
    assert brevo.emulator.notifier.sent == []
