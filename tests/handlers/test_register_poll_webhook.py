"""Brevo's ``listAddition`` webhook, end to end over loopback: ``setup-brevo`` creates the
webhook in the emulated Brevo, a contact enters the watched list there, the emulator POSTs
the notification to the connector's ``serve`` (in-process worker on), the poll runs at
once and the contact gets its join link, long before the next ``poll_interval_s``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.cli.serve_cmd import serve_app
from zoom_brevo.config import Settings
from zoom_brevo.pipeline.setup_brevo import WEBHOOK_EVENT, needs_of, setup_brevo
from zoom_brevo.registration.trigger import REGISTER_POLL_JOB
from zoom_brevo.sandbox.combined import BREVO_API_KEY, Sandbox
from zoom_brevo.sandbox.scenario import Meeting, Webinar
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.server.brevo_webhook import BREVO_WEBHOOK_PATH
from zoom_brevo.wiring import brevo_client, command_limiter

from .test_handlers import all_jobs
from .test_register_poll import poll_settings, sign_up_world

TOKEN = "sandbox-brevo-hook-token"
HOUR = 3600  # the poll interval: no scheduled poll comes during the test
PROMPTLY_S = 10.0


@dataclass
class Live:
    """The sandbox, the connector serving it, and a client of the emulated Brevo API."""

    sandbox: Sandbox
    webinar: Meeting | Webinar
    list_id: int
    settings: Settings
    brevo: httpx.Client

    def sign_up(self, email: str, first: str) -> None:
        """``email`` enters the list through the API, as a Brevo form puts people there."""
        body = {"email": email, "attributes": {"FIRSTNAME": first, "LASTNAME": "Tester"},
                "listIds": [self.list_id]}  # fmt: skip
        assert self.brevo.post("contacts", json=body).status_code == 201

    def join_url(self, email: str) -> str | None:
        """What Brevo holds (read from the emulator: polling its API would eat the rate
        limit the connector needs)."""
        contact = self.sandbox.brevo.state.contact(email)
        found = contact.attributes.get("ZOOM_JOIN_URL") if contact else None
        return found if isinstance(found, str) else None


def wait_until(condition: Callable[[], object], timeout_s: float) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout_s``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, f"not within {timeout_s} s"
        time.sleep(0.05)
    return time.monotonic() - started


def finished_polls(engine: Engine) -> list[str]:
    return [j.unique_key or "" for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB
            and j.state == "done"]  # fmt: skip


async def run_setup(settings: Settings) -> list[str]:
    with command_limiter(settings) as limiter:
        async with brevo_client(settings, limiter) as brevo:
            result = await setup_brevo(brevo, needs_of(settings), dry_run=False)
    assert result.ok, result.plan.errors()
    return [line for line in result.to_json()["webhook"].values() if line is not None]


@pytest.fixture
async def live(engine: Engine) -> AsyncIterator[Live]:
    sandbox, webinar, list_id = sign_up_world()
    port = free_port()
    hook_url = f"http://127.0.0.1:{port}{BREVO_WEBHOOK_PATH}"
    more = f'      brevo_webhook_token: "{TOKEN}"\n      brevo_webhook_url: {hook_url}\n'
    with serving(sandbox.app) as base:
        settings = poll_settings(
            base, dict(sandbox.list_ids), list_id, webinar.id, interval_s=HOUR, more=more
        )
        await run_setup(settings)
        app = serve_app(settings, engine, worker=True)
        with (
            serving(app, port=port, lifespan="on"),
            httpx.Client(base_url=f"{base}/brevo/v3/", headers={"api-key": BREVO_API_KEY}) as http,
        ):
            # The poll the scheduler queues at start-up reads the (empty) list first.
            wait_until(lambda: finished_polls(engine), PROMPTLY_S)
            yield Live(sandbox, webinar, list_id, settings, http)


async def test_a_sign_up_is_registered_within_seconds(live: Live, engine: Engine) -> None:
    live.sign_up("ada@example.com", "Ada")

    waited = wait_until(lambda: live.join_url("ada@example.com"), PROMPTLY_S)

    (registrant,) = live.webinar.registrants
    assert registrant.email == "ada@example.com"
    assert live.join_url("ada@example.com") == registrant.join_url
    assert waited < PROMPTLY_S < HOUR
    webhook_poll = f"{REGISTER_POLL_JOB}:webhook:"  # the job is settled after the write-back
    wait_until(lambda: any(k.startswith(webhook_poll) for k in finished_polls(engine)), 5.0)


async def test_a_later_sign_up_is_found_by_the_cursor_as_promptly(
    live: Live, engine: Engine
) -> None:
    live.sign_up("ada@example.com", "Ada")
    wait_until(lambda: live.join_url("ada@example.com"), PROMPTLY_S)

    live.sign_up("bob@example.com", "Bob")  # this poll reads only what changed since Ada

    wait_until(lambda: live.join_url("bob@example.com"), PROMPTLY_S)
    assert sorted(r.email for r in live.webinar.registrants) == [
        "ada@example.com",
        "bob@example.com",
    ]


async def test_setup_brevo_creates_the_webhook_once(live: Live) -> None:
    hooks = live.brevo.get("webhooks", params={"type": "marketing"}).json()["webhooks"]
    assert [(h["url"], h["events"], h["auth"]) for h in hooks] == [
        (live.settings.connectors.zoom.registration.brevo_webhook_url, [WEBHOOK_EVENT],
         {"type": "bearer", "token": TOKEN}),
    ]  # fmt: skip

    assert await run_setup(live.settings) == [hooks[0]["id"]]  # present: nothing created
    assert len(live.brevo.get("webhooks", params={"type": "marketing"}).json()["webhooks"]) == 1


async def test_a_burst_of_sign_ups_costs_a_few_polls(live: Live, engine: Engine) -> None:
    before = len(finished_polls(engine))
    emails = [f"p{i}@example.com" for i in range(40)]
    rows = [{"email": e, "attributes": {"FIRSTNAME": "P", "LASTNAME": "Q"}} for e in emails]
    body = {"jsonBody": rows, "listIds": [live.list_id]}
    assert live.brevo.post("contacts/import", json=body).status_code == 202
    live.brevo.get("processes")  # the emulator applies an import when it is next called

    wait_until(lambda: all(live.join_url(e) for e in emails), 3 * PROMPTLY_S)

    assert len(live.webinar.registrants) == 40
    assert len(finished_polls(engine)) - before <= 3
