"""The Zoom client registers people into webinars and meetings and reads their registration
forms (emulator over loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.zoom.test_client_e2e import FAST, World
from zoom_brevo.errors import NotFound, PayloadRejected, RegistrantLimitReached
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.scenario import FormQuestion, Meeting, Scenario, Webinar
from zoom_brevo.sandbox.serving import serving
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.zoom.categories import Kind, zoom_limits

LEARN = "What would you like to learn?"


@pytest.fixture
def world() -> Iterator[World]:
    sc = Scenario(seed=5)
    sc.user(email="host@example.com")
    emu = ZoomEmulator(scenario=sc, enforce_rate_limits=False)
    with serving(emu.app) as base:
        yield World(emu, base)


@pytest.fixture(params=["webinar", "meeting"])
def kind(request: pytest.FixtureRequest) -> Kind:
    """The client registers into both the same way."""
    found: Kind = request.param
    return found


def upcoming(
    world: World, kind: Kind, *, instances: int = 1, approval_type: int = 0
) -> Meeting | Webinar:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7 * instances)
    host = world.sc.users[0]
    found: Meeting | Webinar
    if kind == "meeting":
        found = world.sc.meeting(host, participants=0, instances=instances, start=start)
    else:
        found = world.sc.webinar(host, registrants=0, attendees=0, instances=instances, start=start)
    found.approval_type = approval_type
    return found


async def test_registers_and_parses_the_answer(world: World, kind: Kind) -> None:
    webinar = upcoming(world, kind, instances=3)
    async with world.client() as zoom:
        added = await zoom.add_registrant(
            kind, webinar.id, {"email": "ada@example.com", "first_name": "Ada", "last_name": "L"}
        )
        again = await zoom.add_registrant(
            kind, webinar.id, {"email": "ada@example.com", "first_name": "Ada"}
        )
    (reg,) = webinar.registrants
    assert added.registrant_id == reg.id == again.registrant_id
    assert added.join_url == reg.join_url
    assert added.topic == webinar.topic
    assert len(added.occurrences) == 3
    assert added.start_time == added.occurrences[0].start_time
    assert added.start_time is not None and added.start_time > datetime.now(UTC)
    posts = [r for r in world.emu.stats.api_calls() if r.method == "POST"]
    assert [r.status for r in posts] == [201, 201]


async def test_reads_the_form_and_the_registration_settings(world: World, kind: Kind) -> None:
    webinar = upcoming(world, kind, approval_type=1)
    webinar.form_fields = (("last_name", True), ("org", False))
    webinar.form_questions = (
        FormQuestion(LEARN, required=True, type="single_radio", answers=("A",)),
    )
    async with world.client() as zoom:
        form = await zoom.registration_questions(kind, webinar.id)
        details = await (zoom.meeting if kind == "meeting" else zoom.webinar)(webinar.id)
    assert [(f.field_name, f.required) for f in form.questions] == [
        ("last_name", True),
        ("org", False),
    ]
    (question,) = form.custom_questions
    assert (question.title, question.required, question.answers) == (LEARN, True, ["A"])
    assert details.settings is not None and details.settings.approval_type == 1


class PauseRecorder(LocalRateLimiter):
    """The Pro limits, remembering every pause asked for."""

    def __init__(self) -> None:
        super().__init__(zoom_limits("pro"))
        self.pauses: list[tuple[str, float]] = []

    async def pause(self, key: str, seconds: float) -> None:
        self.pauses.append((key, seconds))
        await super().pause(key, seconds)


async def test_the_per_person_daily_limit_does_not_pause_other_calls(
    world: World, kind: Kind
) -> None:
    webinar = upcoming(world, kind)
    body = {"email": "ada@example.com", "first_name": "Ada"}
    limiter = PauseRecorder()
    async with world.client(backoff=FAST, limiter=limiter) as zoom:
        for _ in range(3):
            await zoom.add_registrant(kind, webinar.id, body)
        with pytest.raises(RegistrantLimitReached, match="after 00:00 UTC"):
            await zoom.add_registrant(kind, webinar.id, body)
        other = await zoom.add_registrant(kind, webinar.id, body | {"email": "b@example.com"})
    assert other.registrant_id
    assert limiter.pauses == []
    assert [r.status for r in world.emu.stats.api_calls() if r.method == "POST"] == [
        201, 201, 201, 429, 201
    ]  # fmt: skip


async def test_registration_off_unknown_id_and_validation_are_errors(
    world: World, kind: Kind
) -> None:
    off = upcoming(world, kind, approval_type=2)
    form = upcoming(world, kind)
    form.form_fields = (("last_name", True),)
    async with world.client() as zoom:
        with pytest.raises(PayloadRejected, match="code 3000"):
            await zoom.add_registrant(kind, off.id, {"email": "a@example.com", "first_name": "A"})
        with pytest.raises(PayloadRejected, match="code 3000"):
            await zoom.registration_questions(kind, off.id)
        with pytest.raises(NotFound):
            await zoom.add_registrant(kind, 123, {"email": "a@example.com", "first_name": "A"})
        with pytest.raises(PayloadRejected) as invalid:
            await zoom.add_registrant(kind, form.id, {"email": "a@example.com", "first_name": "A"})
    assert invalid.value.code == 300
