"""The Zoom client against the Zoom emulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from tests.server.test_operations import samples
from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.errors import AuthError, NotFound, NotReady, RetriableApiError
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.sandbox.scenario import Scenario, Session
from zoom_brevo.sandbox.serving import free_port, serving
from zoom_brevo.sandbox.zoom import ZoomEmulator
from zoom_brevo.server.metrics import Metrics
from zoom_brevo.zoom import categories as ep
from zoom_brevo.zoom.auth import ServerToServerAuth
from zoom_brevo.zoom.categories import zoom_limits
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.errors import NotOnPlan
from zoom_brevo.zoom.models import (
    Meeting,
    Participant,
    PastInstance,
    PastMeeting,
    QAEntry,
    Recording,
    Registrant,
    ReportMeeting,
    TrackingSource,
    User,
    Webinar,
)

SECRET = "csecret"  # the emulator's default credentials
FAST = BackoffPolicy(base_s=0.05, cap_s=0.2)
SLASHY_UUID = "/abc//d=="
PLAIN_UUID = "wPUYIy/pR2mPs5r9no2GmA=="


class World:
    """A scenario, its emulator and the base URL it is served on."""

    def __init__(self, emu: ZoomEmulator, base: str) -> None:
        self.emu = emu
        self.base = base
        self.sc = emu.scenario

    def client(self, *, client_secret: str = SECRET, **options: Any) -> ZoomClient:
        clock = options.get("clock", time.monotonic)
        options.setdefault("limiter", LocalRateLimiter(zoom_limits("pro"), clock=clock))
        return ZoomClient.server_to_server(
            account_id="acct",
            client_id="cid",
            client_secret=client_secret,
            api_base_url=f"{self.base}/v2",
            oauth_base_url=self.base,
            **options,
        )


def build_scenario() -> Scenario:
    sc = Scenario(seed=7)
    host = sc.user(email="host@example.com")
    sc.meeting(host, topic="Slashy", uuid=SLASHY_UUID, participants=12, recording=True)
    sc.meeting(host, topic="Plain", uuid=PLAIN_UUID, participants=1000, registrants=8)
    sc.webinar(host, topic="Launch", registrants=40, attendees=25, qa=True, polls=True)
    return sc


@pytest.fixture
def relaxed() -> Iterator[World]:
    """An emulator that does not enforce rate limits (for tests about other things)."""
    emu = ZoomEmulator(scenario=build_scenario(), enforce_rate_limits=False)
    with serving(emu.app) as base:
        yield World(emu, base)


def by_topic(world: World, topic: str) -> Any:
    return next(m for m in (*world.sc.meetings, *world.sc.webinars) if m.topic == topic)


async def test_10000_participants_cost_exactly_34_page_calls() -> None:
    sc = Scenario(seed=3)
    host = sc.user(email="host@example.com")
    meeting = sc.meeting(host, topic="Town hall", participants=0)
    inst = meeting.instances[-1]
    for i in range(10_000):
        join = inst.start + timedelta(seconds=i % 60)
        inst.add_attendee(sc.person(i), [Session(join, inst.end, f"s{i}")])
    emu = ZoomEmulator(scenario=sc)  # Pro plan, rate limits enforced
    with serving(emu.app) as base:
        world = World(emu, base)
        async with world.client() as zoom:
            rows = [p async for p in zoom.past_meeting_participants(inst.uuid)]
    assert len(rows) == 10_000
    assert len({p.user_id for p in rows}) == 10_000
    calls = emu.stats.api_calls("/participants")
    assert len(calls) == 34
    assert all(c.status == 200 and c.query["page_size"] == "300" for c in calls)


@pytest.mark.parametrize("uuid", [SLASHY_UUID, PLAIN_UUID])
async def test_uuid_reaches_zoom_as_the_same_uuid(relaxed: World, uuid: str) -> None:
    async with relaxed.client() as zoom:
        past = await zoom.past_meeting(uuid)
        rows = [p async for p in zoom.past_meeting_participants(uuid)]
    assert isinstance(past, PastMeeting)
    assert past.uuid == uuid
    assert rows
    api = relaxed.emu.stats.api_calls()
    assert [r.ids["meetingId"] for r in api] == [uuid] * len(api)
    assert all(r.status == 200 for r in api)


async def test_expired_token_mid_pagination_renews_and_resumes_without_loss(
    relaxed: World,
) -> None:
    inst = by_topic(relaxed, "Plain").instances[-1]
    seen: list[str | None] = []
    async with relaxed.client() as zoom:
        async for p in zoom.past_meeting_participants(inst.uuid):
            seen.append(p.user_id)
            if len(seen) == 300:  # first page consumed; the next call meets a dead token
                relaxed.emu.faults.expire_tokens()
    assert len(seen) == inst.row_count() > 600
    assert len(set(seen)) == len(seen)
    assert relaxed.emu.stats.token_requests == 2
    statuses = [r.status for r in relaxed.emu.stats.api_calls("/participants")]
    assert statuses.count(401) == 1


async def test_429_with_retry_after_2_waits_about_2_seconds(relaxed: World) -> None:
    relaxed.emu.faults.fail_next(1, status=429, path_contains="/participants", retry_after=2)
    async with relaxed.client() as zoom:
        await zoom.verify_credentials()
        started = time.monotonic()
        rows = [p async for p in zoom.past_meeting_participants(SLASHY_UUID)]
        waited = time.monotonic() - started
    assert rows
    assert 1.8 <= waited < 4
    statuses = [r.status for r in relaxed.emu.stats.api_calls("/participants")]
    assert statuses == [429, 200]


async def test_5xx_is_retried_until_it_succeeds(relaxed: World) -> None:
    relaxed.emu.faults.fail_next(2, status=503, path_contains="/past_meetings")
    async with relaxed.client(backoff=FAST) as zoom:
        past = await zoom.past_meeting(SLASHY_UUID)
    assert past.topic == "Slashy"
    assert [r.status for r in relaxed.emu.stats.api_calls()] == [503, 503, 200]


async def test_50_concurrent_calls_share_one_token_fetch(relaxed: World) -> None:
    meeting_id = by_topic(relaxed, "Plain").id
    async with relaxed.client(limiter=LocalRateLimiter({})) as zoom:
        found = await asyncio.gather(*(zoom.meeting(meeting_id) for _ in range(50)))
    assert {m.id for m in found} == {meeting_id}
    assert relaxed.emu.stats.token_requests == 1
    assert len(relaxed.emu.stats.api_calls()) == 50


async def test_wrong_client_secret_is_an_auth_error_naming_zoom_and_the_fix(
    relaxed: World,
) -> None:
    async with relaxed.client(client_secret="wrong-secret") as zoom:
        with pytest.raises(AuthError) as caught:
            await zoom.verify_credentials()
        with pytest.raises(AuthError):
            await zoom.meeting(1)
    message = str(caught.value)
    assert "Zoom" in message
    assert "client_id" in message
    assert "client_secret" in message
    assert "wrong-secret" not in message


async def test_verify_credentials_reports_scopes_and_lifetime(relaxed: World) -> None:
    async with relaxed.client() as zoom:
        info = await zoom.verify_credentials()
        await zoom.meeting(by_topic(relaxed, "Plain").id)
    assert "meeting:read:admin" in info.scope.split()
    assert info.expires_in_s == 3600
    assert relaxed.emu.stats.token_requests == 1  # the checked token is reused


async def test_token_endpoint_outage_is_retried(relaxed: World) -> None:
    relaxed.emu.faults.token_endpoint_down(1)
    async with relaxed.client(backoff=FAST) as zoom:
        meeting = await zoom.meeting(by_topic(relaxed, "Plain").id)
    assert meeting.topic == "Plain"
    assert relaxed.emu.stats.token_requests == 2


async def test_participants_right_after_the_end_are_not_ready_rather_than_missing(
    relaxed: World,
) -> None:
    relaxed.emu.report_delay_s = 10 * 365 * 86_400.0
    async with relaxed.client() as zoom:
        with pytest.raises(NotReady, match="few minutes"):
            [p async for p in zoom.past_meeting_participants(PLAIN_UUID, just_ended=True)]
        with pytest.raises(NotFound, match="3001"):
            [p async for p in zoom.meeting_participant_report(PLAIN_UUID)]


async def test_meeting_without_recording_is_not_found(relaxed: World) -> None:
    async with relaxed.client() as zoom:
        with pytest.raises(NotFound, match="no cloud recording"):
            await zoom.meeting_recordings(PLAIN_UUID)


async def test_the_survey_report_streams_answers_and_a_plan_without_it_is_not_on_plan() -> None:
    sc = Scenario(seed=7)
    webinar = sc.webinar(sc.user(email="host@example.com"), registrants=20, attendees=15,
                         survey=True)  # fmt: skip
    uuid = webinar.latest.uuid
    emu = ZoomEmulator(scenario=sc, enforce_rate_limits=False)
    with serving(emu.app) as base:
        async with World(emu, base).client() as zoom:
            entries = [entry async for entry in zoom.webinar_survey_report(uuid)]
            webinar.survey_on_plan = False
            with pytest.raises(NotOnPlan, match="code 200"):
                async for _ in zoom.webinar_survey_report(uuid):
                    pass
    expected = {p.email: len(items) for p, items in webinar.latest.survey_answers()}
    assert expected and {e.email: len(e.answer_details) for e in entries} == expected
    assert all(d.date_time is not None and d.answer for e in entries for d in e.answer_details)
    assert emu.stats.api_calls("/report/webinars/")[-1].raw_path.endswith("/survey")


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("budget_s", [840.0, 100_000.0], ids=["proactive", "after-code-300"])
async def test_page_token_never_used_stale_listing_restarts_without_repeats(
    budget_s: float,
) -> None:
    """A consumer pausing 16 minutes mid-list: the client restarts and skips yielded rows.

    With the default budget the client knows the token is too old and restarts before
    sending it; with a budget longer than Zoom's 15 minutes, Zoom's code 300 triggers it.
    """
    clock = FakeClock()
    emu = ZoomEmulator(scenario=build_scenario(), clock=clock, enforce_rate_limits=False)
    inst = next(m for m in emu.scenario.meetings if m.topic == "Plain").instances[-1]
    with serving(emu.app) as base:
        world = World(emu, base)
        seen: list[str | None] = []
        async with world.client(clock=clock, page_token_budget_s=budget_s) as zoom:
            async for p in zoom.past_meeting_participants(inst.uuid):
                seen.append(p.user_id)
                if len(seen) == 450:
                    clock.now += 16 * 60
    assert len(seen) == inst.row_count()
    assert len(set(seen)) == len(seen)
    statuses = [r.status for r in emu.stats.api_calls("/participants")]
    assert statuses.count(400) == (0 if budget_s < 900 else 1)


async def test_every_endpoint_returns_typed_rows(relaxed: World) -> None:
    sc = relaxed.sc
    host = sc.users[0]
    plain, webinar = by_topic(relaxed, "Plain"), by_topic(relaxed, "Launch")
    w_uuid = webinar.instances[-1].uuid
    today = datetime.now(UTC).date()
    async with relaxed.client() as zoom:
        users = [u async for u in zoom.users()]
        meetings = [m async for m in zoom.user_meetings(host.id)]
        webinars = [w async for w in zoom.user_webinars(host.email)]
        assert isinstance(await zoom.meeting(plain.id), Meeting)
        assert isinstance(await zoom.webinar(webinar.id), Webinar)
        instances = [i async for i in zoom.past_meeting_instances(plain.id)]
        w_instances = [i async for i in zoom.past_webinar_instances(webinar.id)]
        report = [p async for p in zoom.meeting_participant_report(PLAIN_UUID)]
        registrants = [r async for r in zoom.meeting_registrants(plain.id)]
        w_registrants = [r async for r in zoom.webinar_registrants(webinar.id)]
        sources = [s async for s in zoom.webinar_tracking_sources(webinar.id)]
        attendees = [p async for p in zoom.past_webinar_participants(w_uuid)]
        absentees = [r async for r in zoom.webinar_absentees(w_uuid)]
        w_report = [p async for p in zoom.webinar_participant_report(w_uuid)]
        recording = await zoom.meeting_recordings(SLASHY_UUID, include_download_token=True)
        recordings = [
            r
            async for r in zoom.user_recordings(host.id, from_=today - timedelta(days=20), to=today)
        ]
        held = [
            m
            async for m in zoom.user_meeting_report(
                host.id, from_=today - timedelta(days=20), to=today
            )
        ]
        qa_report, poll_report = zoom.webinar_qa_report(w_uuid), zoom.webinar_poll_report(w_uuid)
        questions = [entry async for entry in qa_report]
        answers = [entry async for entry in poll_report]
    assert [type(u) for u in users] == [User] and users[0].email == "host@example.com"
    assert {m.topic for m in meetings} >= {"Slashy", "Plain"}
    assert all(isinstance(m, Meeting) for m in meetings)
    assert [w.topic for w in webinars] == ["Launch"]
    assert [i.uuid for i in instances] == [PLAIN_UUID] and isinstance(instances[0], PastInstance)
    assert [i.uuid for i in w_instances] == [w_uuid]
    assert len(report) == plain.instances[-1].row_count()
    assert all(isinstance(p, Participant) for p in report)
    assert len(registrants) == 8 and all(isinstance(r, Registrant) for r in registrants)
    assert len(w_registrants) == 40
    assert sources and all(isinstance(s, TrackingSource) for s in sources)
    assert attendees and all(isinstance(p, Participant) for p in attendees)
    assert absentees and all(r.email for r in absentees)
    assert any(p.registrant_id for p in w_report)  # include_fields=registrant_id was sent
    assert isinstance(recording, Recording) and recording.recording_files
    assert recording.download_access_token
    assert [r.uuid for r in recordings] == [SLASHY_UUID]
    assert {m.uuid for m in held} >= {SLASHY_UUID, PLAIN_UUID}
    assert all(isinstance(m, ReportMeeting) for m in held)
    assert qa_report.summary.uuid == w_uuid and questions
    assert all(isinstance(e, QAEntry) for e in questions)
    assert poll_report.summary.uuid == w_uuid and answers and answers[0].question_details
    report_calls = relaxed.emu.stats.api_calls("/report/meetings/")
    assert report_calls[0].query["include_fields"] == "registrant_id"


async def test_no_token_or_secret_is_logged(relaxed: World) -> None:
    auth = ServerToServerAuth(
        account_id="acct", client_id="cid", client_secret="csecret", oauth_base_url=relaxed.base
    )
    relaxed.emu.faults.fail_next(1, status=429, retry_after=0.1)
    relaxed.emu.faults.fail_next(1, status=500)
    with structlog.testing.capture_logs() as logs:
        limiter = LocalRateLimiter(zoom_limits("pro"))
        base = f"{relaxed.base}/v2"
        async with ZoomClient(auth, limiter=limiter, api_base_url=base, backoff=FAST) as zoom:
            rows = [p async for p in zoom.past_meeting_participants(PLAIN_UUID)]
            relaxed.emu.faults.expire_tokens()
            await zoom.past_meeting(PLAIN_UUID)
    assert rows
    assert auth.token is not None
    assert len(logs) >= 2  # the retries were logged
    dumped = repr(logs)
    assert auth.token.value not in dumped
    assert "csecret" not in dumped


async def test_every_exchange_reaches_the_observer_and_a_429_moves_the_rate_limit_counter(
    relaxed: World,
) -> None:
    metrics = Metrics()
    relaxed.emu.faults.fail_next(1, status=429, path_contains="/past_meetings", retry_after=0.1)
    relaxed.emu.faults.fail_next(1, status=503, path_contains="/past_meetings")
    async with relaxed.client(backoff=FAST, observer=metrics) as zoom:
        await zoom.past_meeting(SLASHY_UUID)

    found = samples(metrics.render()[0].decode())
    category = (("category", ep.PAST_MEETING.category.value), ("service", "zoom"))
    statuses = [r.status for r in relaxed.emu.stats.api_calls()]
    assert statuses == [429, 503, 200]
    for status in statuses:
        assert found["zoom_brevo_api_calls_total", (*category, ("status", str(status)))] == 1
    assert found["zoom_brevo_api_rate_limited_total", category] == 1
    assert found["zoom_brevo_api_call_seconds_count", (("service", "zoom"),)] == 3


async def test_an_unreachable_zoom_api_is_counted_with_status_0(relaxed: World) -> None:
    metrics = Metrics()
    twice = BackoffPolicy(base_s=0.01, cap_s=0.01, max_attempts=2)
    async with ZoomClient.server_to_server(
        account_id="acct", client_id="cid", client_secret=SECRET,
        api_base_url=f"http://127.0.0.1:{free_port()}/v2", oauth_base_url=relaxed.base,
        limiter=LocalRateLimiter({}), backoff=twice,
        observer=metrics,
    ) as zoom:  # fmt: skip
        with pytest.raises(RetriableApiError):
            await zoom.meeting(1)

    found = samples(metrics.render()[0].decode())
    labels = (("category", ep.MEETING.category.value), ("service", "zoom"), ("status", "0"))
    assert found["zoom_brevo_api_calls_total", labels] == 2
