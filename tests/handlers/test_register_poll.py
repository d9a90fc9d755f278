"""The ``register_poll`` job: people who enter a Brevo list are registered into a webinar
(``webinar_id``) or a meeting (``meeting_id``), against both emulators over loopback HTTP
and a real SQLite store. Each behaviour is the same for both kinds: the tests run for each."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.config import Settings, parse_settings
from zoom_brevo.handlers.context import HandlerOptions
from zoom_brevo.handlers.jobs import JobDeps, JobRunner
from zoom_brevo.handlers.register_poll import cursor_name, register_poll_tick
from zoom_brevo.registration.run import AutoRegistration
from zoom_brevo.registration.target import Target
from zoom_brevo.registration.trigger import REGISTER_POLL_JOB, poll_now
from zoom_brevo.sandbox.brevo.state import ContactList
from zoom_brevo.sandbox.combined import BREVO_API_KEY, Sandbox, build_sandbox, sandbox_config
from zoom_brevo.sandbox.scenario import Meeting, Scenario, Webinar
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.store import cursors, jobs
from zoom_brevo.store.engine import reading, transaction
from zoom_brevo.wiring import brevo_client, shared_limiter, zoom_client
from zoom_brevo.worker import handler_options, scheduler_ticks

from .test_handlers import all_jobs

NOW = datetime.now(UTC).replace(microsecond=0)
INTERVAL_S = 300


@dataclass
class Poll:
    """The sandbox, the webinar or meeting, the watched list and a job runner wired from
    the config."""

    sandbox: Sandbox
    parent: Meeting | Webinar
    list_id: int
    runner: JobRunner
    options: HandlerOptions
    clock: list[datetime]  # the runner's "now", moved by ``poll``
    brevo_url: str  # the emulated Brevo API, as the connector reaches it

    def join(self, email: str, first: str) -> None:
        """``email`` enters the list now (as a Brevo form would put them there)."""
        state = self.sandbox.brevo.state
        attributes = {"FIRSTNAME": first, "LASTNAME": "Tester"}
        contact = state.create_contact(email, attributes, time.time(), None)
        state.link(contact, self.list_id)

    def zoom_posts(self) -> int:
        calls = self.sandbox.zoom.stats.api_calls("/registrants")
        return sum(1 for c in calls if c.method == "POST")

    @property
    def kind(self) -> str:
        return "meeting" if isinstance(self.parent, Meeting) else "webinar"

    def zoom_calls(self) -> int:
        return len(self.sandbox.zoom.stats.api_calls(f"/{self.kind}s"))

    def attributes(self, email: str) -> dict[str, Any]:
        contact = self.sandbox.brevo.state.contact(email)
        assert contact is not None
        return dict(contact.attributes)

    async def poll(self, engine: Engine, at: datetime) -> None:
        """The scheduler's tick at ``at``, then every due job."""
        self.clock[0] = at
        register_poll_tick(INTERVAL_S)(engine, at)
        while await self.runner.step():
            pass


def poll_settings(
    base_url: str, list_ids: dict[str, int], list_id: int, zoom_id: int,
    *, key: str = "webinar_id", interval_s: float = INTERVAL_S, more: str = "",
) -> Settings:  # fmt: skip
    """The sandbox's configuration watching ``list_id`` for ``zoom_id`` (``key``: webinar_id
    or meeting_id; ``more``: further ``registration`` keys, indented as they are)."""
    text = sandbox_config(base_url, list_ids).replace(
        "/brevo/v3\n", "/brevo/v3\n  plan: extended\n"
    )
    registration = f"""\
    registration:
      poll_interval_s: {interval_s}
      from_lists:
        - {{list_id: {list_id}, {key}: {zoom_id}, occurrence_id: null}}
{more}"""
    return parse_settings(text.replace("brevo:\n", registration + "brevo:\n", 1), {})


def sign_up_world(kind: str = "webinar") -> tuple[Sandbox, Meeting | Webinar, int]:
    """A webinar (or meeting) in a week that requires a last name, and an empty Brevo list
    for it."""
    scenario = Scenario(seed=21)
    host = scenario.user(email="host@example.com")
    start = NOW.replace(minute=0, second=0) + timedelta(days=8)
    parent: Meeting | Webinar
    if kind == "meeting":
        parent = scenario.meeting(
            host, topic="Spring launch", participants=0, start=start, approval_type=0
        )
    else:
        parent = scenario.webinar(
            host, topic="Spring launch", registrants=0, attendees=0, start=start
        )
    parent.form_fields = (("last_name", True),)
    sandbox = build_sandbox(scenario, prepare_brevo=True, brevo_plan="extended")
    state = sandbox.brevo.state
    list_id = state.next_id("list")
    state.lists[list_id] = ContactList(list_id, "Sign-ups", next(iter(state.folders)), "2026-01-01")
    return sandbox, parent, list_id


@pytest.fixture(params=["webinar", "meeting"])
async def poll(engine: Engine, request: pytest.FixtureRequest) -> AsyncIterator[Poll]:
    sandbox, parent, list_id = sign_up_world(request.param)
    with serving(sandbox.app) as base_url:
        key = f"{request.param}_id"
        settings = poll_settings(base_url, dict(sandbox.list_ids), list_id, parent.id, key=key)
        options = handler_options(settings)
        limiter = shared_limiter(settings, engine)
        quick = BackoffPolicy(base_s=0.01, cap_s=0.01, max_attempts=2)  # client retries
        async with (
            zoom_client(settings, limiter) as zoom,
            brevo_client(settings, limiter, backoff=quick) as brevo,
        ):
            deps = JobDeps(engine, zoom, options, brevo)
            clock = [NOW]
            runner = JobRunner(deps, owner="test", clock=lambda: clock[0])
            brevo_url = f"{base_url}/brevo/v3"
            yield Poll(sandbox, parent, list_id, runner, options, clock, brevo_url)


async def test_a_poll_registers_the_members_and_writes_the_join_link_back(
    engine: Engine, poll: Poll
) -> None:
    poll.join("ada@example.com", "Ada")
    poll.join("bob@example.com", "Bob")

    await poll.poll(engine, NOW)

    by_email = {r.email: r for r in poll.parent.registrants}
    assert set(by_email) == {"ada@example.com", "bob@example.com"}
    assert poll.zoom_posts() == 2
    for email, registrant in by_email.items():
        assert poll.attributes(email)["ZOOM_JOIN_URL"] == registrant.join_url
        assert poll.attributes(email)["ZOOM_REGISTRANT_ID"] == registrant.id
    jobs = [j for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB]
    assert [j.state for j in jobs] == ["done"]
    (target,) = poll.options.registration.targets
    assert (target.kind, target.zoom_id) == (poll.kind, poll.parent.id)
    with reading(engine) as conn:
        assert cursors.get(conn, cursor_name(target))["newest"]
    other = Target(
        poll.parent.id, poll.list_id, kind="meeting" if poll.kind == "webinar" else "webinar"
    )
    assert cursor_name(other) != cursor_name(target)


async def test_a_later_poll_registers_only_the_new_member(engine: Engine, poll: Poll) -> None:
    poll.join("ada@example.com", "Ada")
    poll.join("bob@example.com", "Bob")
    await poll.poll(engine, NOW)
    assert poll.zoom_posts() == 2

    poll.join("cy@example.com", "Cy")
    await poll.poll(engine, NOW + timedelta(seconds=INTERVAL_S))

    assert poll.zoom_posts() == 3  # one Zoom registration: Cy's
    cy = next(r for r in poll.parent.registrants if r.email == "cy@example.com")
    assert poll.attributes("cy@example.com")["ZOOM_JOIN_URL"] == cy.join_url
    assert len(poll.parent.registrants) == 3


async def test_an_existing_contact_added_to_the_list_through_the_api_is_registered(
    engine: Engine, poll: Poll
) -> None:
    state = poll.sandbox.brevo.state
    state.create_contact("eve@example.com", {"FIRSTNAME": "Eve", "LASTNAME": "Old"},
                         time.time() - 86_400, None)  # fmt: skip
    poll.join("ada@example.com", "Ada")
    await poll.poll(engine, NOW)
    assert [r.email for r in poll.parent.registrants] == ["ada@example.com"]

    # Brevo stamps the contact modified when it joins a list, so ``modifiedSince`` finds it.
    async with httpx.AsyncClient(headers={"api-key": BREVO_API_KEY}) as brevo:
        added = await brevo.post(
            f"{poll.brevo_url}/contacts/lists/{poll.list_id}/contacts/add",
            json={"emails": ["eve@example.com"]},
        )
    assert added.status_code == 201, added.text
    await poll.poll(engine, NOW + timedelta(seconds=INTERVAL_S))

    eve = next(r for r in poll.parent.registrants if r.email == "eve@example.com")
    assert poll.attributes("eve@example.com")["ZOOM_JOIN_URL"] == eve.join_url
    assert poll.zoom_posts() == 2


async def test_a_poll_with_nobody_new_calls_zoom_not_at_all(engine: Engine, poll: Poll) -> None:
    poll.join("ada@example.com", "Ada")
    await poll.poll(engine, NOW)
    calls = poll.zoom_calls()

    # The write-back changed Ada's contact, so Brevo lists her again: registered already.
    await poll.poll(engine, NOW + timedelta(seconds=INTERVAL_S))
    await poll.poll(engine, NOW + timedelta(seconds=2 * INTERVAL_S))

    assert poll.zoom_calls() == calls
    assert poll.zoom_posts() == 1
    polls = [j for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB]
    assert [j.state for j in polls] == ["done", "done", "done"]


async def test_a_member_missing_a_required_field_is_tried_again_once_filled(
    engine: Engine, poll: Poll
) -> None:
    state = poll.sandbox.brevo.state
    contact = state.create_contact("dee@example.com", {"FIRSTNAME": "Dee"}, time.time(), None)
    state.link(contact, poll.list_id)
    await poll.poll(engine, NOW)
    assert poll.zoom_posts() == 0  # Zoom's form requires a last name

    state.update_contact(contact, {"LASTNAME": "Doe"}, time.time())
    await poll.poll(engine, NOW + timedelta(seconds=INTERVAL_S))

    assert [r.email for r in poll.parent.registrants] == ["dee@example.com"]


async def test_a_failing_poll_is_retried_by_the_job_runner(engine: Engine, poll: Poll) -> None:
    poll.join("ada@example.com", "Ada")
    poll.sandbox.brevo.faults.fail_next(2, status=503, path_contains="/contacts/lists/")

    await poll.poll(engine, NOW)

    (job,) = [j for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB]
    assert (job.state, job.attempts) == ("queued", 1)
    assert (job.last_error or "").startswith("RetriableApiError")
    assert not list(poll.parent.registrants)

    poll.clock[0] = job.run_at
    while await poll.runner.step():
        pass

    assert [r.email for r in poll.parent.registrants] == ["ada@example.com"]
    (job,) = [j for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB]
    assert job.state == "done"


async def test_brevo_s_word_makes_a_poll_waiting_out_a_backoff_due_now(
    engine: Engine, poll: Poll
) -> None:
    poll.join("ada@example.com", "Ada")
    poll.sandbox.brevo.faults.fail_next(2, status=503, path_contains="/contacts/lists/")
    await poll.poll(engine, NOW)
    (failed,) = [j for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB]
    assert failed.state == "queued" and failed.run_at.replace(tzinfo=UTC) > NOW

    with transaction(engine) as conn:
        assert poll_now(conn, now=NOW)  # the webhook's notification: it runs now
        assert not poll_now(conn, now=NOW)  # due already: nothing more to do
    while await poll.runner.step():
        pass

    assert [r.email for r in poll.parent.registrants] == ["ada@example.com"]
    (job,) = [j for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB]
    assert (job.id, job.state, job.attempts) == (failed.id, "done", 2)


async def test_a_poll_queued_behind_a_running_one_waits_without_spending_attempts(
    engine: Engine, poll: Poll
) -> None:
    poll.join("ada@example.com", "Ada")
    with transaction(engine) as conn:
        poll_now(conn, now=NOW)  # Brevo's webhook, then another worker takes that poll
        (running,) = jobs.claim(conn, owner="other-worker", lease_s=600, now=NOW)
        assert poll_now(conn, now=NOW)  # the next notification queues one behind it

    assert await poll.runner.step()  # it looks, sees the other poll running, waits

    waiting = next(j for j in all_jobs(engine) if j.id != running.id)
    assert (waiting.state, waiting.attempts) == ("queued", 0)
    assert waiting.run_at.replace(tzinfo=UTC) > NOW
    assert poll.zoom_calls() == 0

    with transaction(engine) as conn:  # the other poll ends
        jobs.complete(conn, running.id, owner="other-worker", now=NOW)
    poll.clock[0] = waiting.run_at.replace(tzinfo=UTC)
    while await poll.runner.step():
        pass

    assert [r.email for r in poll.parent.registrants] == ["ada@example.com"]


def test_the_worker_schedules_the_poll_only_when_lists_are_configured(poll: Poll) -> None:
    base = len(scheduler_ticks(HandlerOptions()))
    assert len(scheduler_ticks(poll.options)) == base + 1
    targets = poll.options.registration.targets
    off = HandlerOptions(registration=AutoRegistration(targets=targets, poll_interval_s=0))
    assert len(scheduler_ticks(off)) == base
    names = {getattr(t, "__name__", "") for t in scheduler_ticks(poll.options)}
    assert "queue_register_poll" in names


async def test_one_poll_is_queued_per_interval_and_never_two_at_once(
    engine: Engine, poll: Poll
) -> None:
    tick = register_poll_tick(INTERVAL_S)
    at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert tick(engine, at) == 1
    assert [tick(engine, at + timedelta(seconds=s)) for s in (10, 299, 300, 301)] == [0] * 4
    poll.clock[0] = at + timedelta(seconds=301)
    while await poll.runner.step():  # the first poll runs: this interval's may now be queued
        pass
    queued = [tick(engine, at + timedelta(seconds=s)) for s in (301, 599, 600, 601)]
    assert queued == [1, 0, 0, 0]


def test_a_webinar_pair_keeps_its_cursor_name_and_a_meeting_pair_has_its_own() -> None:
    """Cursors stored before meetings could be registered into still apply."""
    assert cursor_name(Target(84712389925, 12)) == "register:12:84712389925:"
    meeting = Target(84712389925, 12, "1648194360000", kind="meeting")
    assert cursor_name(meeting) == "register:12:meeting:84712389925:1648194360000"


async def test_registration_off_fails_the_poll_with_the_reason_and_sends_nobody(
    engine: Engine, poll: Poll
) -> None:
    poll.parent.approval_type = 2
    poll.join("ada@example.com", "Ada")

    await poll.poll(engine, NOW)

    (job,) = [j for j in all_jobs(engine) if j.kind == REGISTER_POLL_JOB]
    assert f"Registration is not enabled on {poll.kind} {poll.parent.id}" in (job.last_error or "")
    assert poll.zoom_posts() == 0
