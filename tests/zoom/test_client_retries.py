"""Client retry, backoff, Retry-After and page-token rules, on a scripted fake Zoom.

A fake clock advances only when the client sleeps, so waits are exact and instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from zoom_brevo.backoff import BackoffPolicy
from zoom_brevo.errors import (
    AuthError,
    FatalApiError,
    NotFound,
    NotReady,
    RateLimited,
    RetriableApiError,
)
from zoom_brevo.ratelimit import LocalRateLimiter
from zoom_brevo.zoom.client import ZoomClient
from zoom_brevo.zoom.models import Participant

WALL_START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC).timestamp()
Handler = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed

    def wall(self) -> float:
        return WALL_START + self.elapsed

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds


class Script:
    """Answers the token endpoint, then API calls from a list of responders."""

    def __init__(self, *responders: Handler | httpx.Response) -> None:
        self.responders = list(responders)
        self.api_calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600, "scope": ""})
        self.api_calls.append(request)
        nxt = self.responders.pop(0) if len(self.responders) > 1 else self.responders[0]
        return nxt(request) if callable(nxt) else nxt


def make_client(script: Script, clock: FakeTime, **options: Any) -> ZoomClient:
    return ZoomClient.server_to_server(
        account_id="acct",
        client_id="cid",
        client_secret="csecret",
        api_base_url="https://api.test/v2",
        oauth_base_url="https://oauth.test",
        transport=httpx.MockTransport(script),
        limiter=options.pop("limiter", LocalRateLimiter({})),
        clock=clock.monotonic,
        wall_clock=clock.wall,
        sleep=clock.sleep,
        **options,
    )


OK_MEETING = httpx.Response(200, json={"id": 85746065432, "uuid": "u==", "topic": "Weekly"})


def failing(status: int, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return httpx.Response(status, json=body or None, headers=headers)


async def test_5xx_is_retried_with_growing_jittered_backoff() -> None:
    clock, script = FakeTime(), Script(failing(503), failing(502), OK_MEETING)
    policy = BackoffPolicy(base_s=1.0, cap_s=30.0, max_attempts=5)
    async with make_client(script, clock, backoff=policy) as zoom:
        meeting = await zoom.meeting(85746065432)
    assert meeting.topic == "Weekly"
    assert len(script.api_calls) == 3
    assert 0.5 <= clock.sleeps[0] <= 1.0
    assert 1.0 <= clock.sleeps[1] <= 2.0


async def test_retry_after_seconds_is_honoured_exactly() -> None:
    busy = failing(429, {"Retry-After": "7"}, code=429, message="per-second rate limit")
    clock, script = FakeTime(), Script(busy, OK_MEETING)
    async with make_client(script, clock) as zoom:
        await zoom.meeting(1)
    assert clock.sleeps == [7.0]


async def test_retry_after_as_an_iso_date_is_honoured() -> None:
    when = datetime.fromtimestamp(WALL_START + 42, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    busy = failing(429, {"Retry-After": when}, code=429, message="daily")
    clock, script = FakeTime(), Script(busy, OK_MEETING)
    async with make_client(script, clock) as zoom:
        await zoom.meeting(1)
    assert clock.sleeps == [42.0]


async def test_a_wait_longer_than_max_wait_is_handed_to_the_caller() -> None:
    busy = failing(429, {"Retry-After": "2026-11-28T00:00:00Z"}, code=429, message="daily")
    clock, script = FakeTime(), Script(busy, OK_MEETING)
    async with make_client(script, clock, max_wait_s=120.0) as zoom:
        with pytest.raises(RateLimited) as caught:
            await zoom.meeting(1)
    assert caught.value.retry_after_s == 12 * 3600
    assert clock.sleeps == []
    assert len(script.api_calls) == 1


class RecordingLimiter:
    """A RateLimiter that lets everything through and records what it was asked."""

    def __init__(self) -> None:
        self.acquired: list[str] = []
        self.paused: list[tuple[str, float]] = []

    async def acquire(self, key: str) -> None:
        self.acquired.append(key)

    async def pause(self, key: str, seconds: float) -> None:
        self.paused.append((key, seconds))


async def test_429_pauses_the_category_in_the_limiter() -> None:
    busy = failing(429, {"Retry-After": "5"}, code=429, message="slow")
    clock, script, limiter = FakeTime(), Script(busy, OK_MEETING), RecordingLimiter()
    async with make_client(script, clock, limiter=limiter) as zoom:
        await zoom.meeting(1)
    assert limiter.paused == [("zoom:light", 5.0)]
    assert limiter.acquired == ["zoom:light", "zoom:light"]


async def test_heavy_calls_also_count_against_the_daily_cap() -> None:
    clock, limiter = FakeTime(), RecordingLimiter()
    script = Script(httpx.Response(200, json={"id": 1, "questions": []}))
    async with make_client(script, clock, limiter=limiter) as zoom:
        await zoom.webinar_qa_report(1).read_summary()
    assert limiter.acquired == ["zoom:heavy", "zoom:daily-heavy"]


async def test_attempts_are_bounded_then_the_retriable_error_is_raised() -> None:
    clock, script = FakeTime(), Script(failing(500))
    async with make_client(script, clock, backoff=BackoffPolicy(max_attempts=3)) as zoom:
        with pytest.raises(RetriableApiError, match="500"):
            await zoom.meeting(1)
    assert len(script.api_calls) == 3
    assert len(clock.sleeps) == 2


async def test_network_errors_are_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    clock, script = FakeTime(), Script(refuse, OK_MEETING)
    async with make_client(script, clock) as zoom:
        assert (await zoom.meeting(1)).id == 85746065432
    assert len(clock.sleeps) == 1


async def test_network_errors_exhausted_raise_retriable_error_from_the_cause() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    clock, script = FakeTime(), Script(refuse)
    async with make_client(script, clock, backoff=BackoffPolicy(max_attempts=2)) as zoom:
        with pytest.raises(RetriableApiError, match="Could not reach Zoom") as caught:
            await zoom.meeting(1)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


async def test_3001_right_after_the_end_is_not_ready_and_not_retried_here() -> None:
    missing = failing(404, code=3001, message="Meeting does not exist: x.")
    clock, script = FakeTime(), Script(missing)
    async with make_client(script, clock) as zoom:
        with pytest.raises(NotReady):
            await zoom.past_meeting("u==", just_ended=True)
        with pytest.raises(NotFound):
            await zoom.past_meeting("u==")
    assert len(script.api_calls) == 2
    assert clock.sleeps == []


async def test_missing_scope_message_names_the_scope_of_the_endpoint() -> None:
    refused = failing(400, code=4700, message="Invalid access token, does not contain scopes.")
    clock, script = FakeTime(), Script(refused)
    async with make_client(script, clock) as zoom:
        with pytest.raises(AuthError, match="report:read:admin"):
            await zoom.webinar_qa_report(1).read_summary()


async def test_unreadable_data_is_a_fatal_error_not_a_traceback() -> None:
    bad = httpx.Response(200, json={"participants": [{"duration": "long"}], "next_page_token": ""})
    clock, script = FakeTime(), Script(bad)
    async with make_client(script, clock) as zoom:
        with pytest.raises(FatalApiError, match="cannot read"):
            [p async for p in zoom.past_meeting_participants("u==")]


async def test_html_instead_of_json_is_a_fatal_error() -> None:
    clock, script = FakeTime(), Script(httpx.Response(200, text="<html></html>"))
    async with make_client(script, clock) as zoom:
        with pytest.raises(FatalApiError, match="not a JSON object"):
            await zoom.meeting(1)


def paged(rows: list[int], page_size: int) -> Handler:
    """A paginated participants endpoint; tokens are row offsets."""

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("next_page_token") or 0)
        end = start + page_size
        body = {
            "participants": [{"user_id": str(i), "name": f"p{i}"} for i in rows[start:end]],
            "next_page_token": str(end) if end < len(rows) else "",
        }
        return httpx.Response(200, json=body)

    return handler


async def test_wait_beyond_the_page_token_lifetime_restarts_and_skips_yielded_rows() -> None:
    rows = list(range(10))
    busy = failing(429, {"Retry-After": "100"}, code=429, message="slow")
    clock = FakeTime()
    script = Script(paged(rows, 4), busy, paged(rows, 4))
    async with make_client(script, clock, page_token_budget_s=60.0) as zoom:
        seen = [int(p.user_id or -1) async for p in zoom.past_meeting_participants("u==")]
    assert seen == rows
    tokens = [c.url.params.get("next_page_token") for c in script.api_calls]
    # page 1; page 2 answered 429 (100 s > 60 s budget) -> restart from page 1 after the wait
    assert tokens == [None, "4", None, "4", "8"]
    assert clock.elapsed >= 100.0


async def test_slow_consumer_never_sends_a_stale_page_token() -> None:
    rows = list(range(6))
    clock, script = FakeTime(), Script(paged(rows, 3))
    seen: list[int] = []
    async with make_client(script, clock, page_token_budget_s=60.0) as zoom:
        async for p in zoom.past_meeting_participants("u=="):
            seen.append(int(p.user_id or -1))
            clock.elapsed += 61.0 if len(seen) == 3 else 0.0  # the consumer dawdles
    assert seen == rows
    tokens = [c.url.params.get("next_page_token") for c in script.api_calls]
    assert tokens == [None, None, "3"]


async def test_expired_page_token_code_300_restarts_the_listing() -> None:
    rows = list(range(5))
    expired = failing(400, code=300, message="The next page token is invalid or expired.")
    clock, script = FakeTime(), Script(paged(rows, 2), expired, paged(rows, 2))
    async with make_client(script, clock) as zoom:
        seen = [p.user_id async for p in zoom.past_meeting_participants("u==")]
    assert seen == [str(i) for i in rows]


async def test_code_300_on_a_first_page_is_an_error_not_a_loop() -> None:
    refused = failing(400, code=300, message="Cannot access meeting information.")
    clock, script = FakeTime(), Script(refused)
    async with make_client(script, clock) as zoom:
        with pytest.raises(FatalApiError, match="300"):
            [p async for p in zoom.past_meeting_participants("u==")]
    assert len(script.api_calls) == 1


async def test_rows_are_typed_models() -> None:
    clock, script = FakeTime(), Script(paged([1], 300))
    async with make_client(script, clock) as zoom:
        rows = [p async for p in zoom.past_meeting_participants(85746065432)]
    assert rows == [Participant(user_id="1", name="p1")]
    assert script.api_calls[0].url.params["page_size"] == "300"


def test_a_client_without_a_limiter_is_refused() -> None:
    # No private fallback: a client that does not spend the shared budget cannot be built.
    with pytest.raises(TypeError, match="limiter"):
        ZoomClient.server_to_server(  # type: ignore[call-arg]
            account_id="acct", client_id="cid", client_secret="csecret"
        )


ADDED = httpx.Response(201, json={"registrant_id": "r1", "join_url": "https://zoom.test/w/1"})
REGISTRANT = {"email": "ada@example.com", "first_name": "Ada"}


async def test_a_registration_post_that_reached_zoom_is_not_retried_by_the_client() -> None:
    # A repeat would spend one of the person's 3 requests a day (zoom.md 3): the job that
    # registers decides, with the attempt counted in the database (retrying.decide).
    clock, script = FakeTime(), Script(failing(503), ADDED)
    async with make_client(script, clock) as zoom:
        with pytest.raises(RetriableApiError, match="503"):
            await zoom.add_registrant("webinar", 1, REGISTRANT)
    assert len(script.api_calls) == 1
    assert clock.sleeps == []


async def test_a_registration_post_is_retried_after_a_429_or_when_it_never_left() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    busy = failing(429, {"Retry-After": "3"}, code=429, message="per-second rate limit")
    clock, script = FakeTime(), Script(refuse, busy, ADDED)
    async with make_client(script, clock) as zoom:
        added = await zoom.add_registrant("webinar", 1, REGISTRANT)
    assert added.registrant_id == "r1"
    assert len(script.api_calls) == 3
    assert clock.sleeps[1] == 3.0


async def test_a_registration_post_cut_off_after_leaving_is_raised() -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    clock, script = FakeTime(), Script(cut, ADDED)
    async with make_client(script, clock) as zoom:
        with pytest.raises(RetriableApiError, match="Could not reach Zoom"):
            await zoom.add_registrant("webinar", 1, REGISTRANT)
    assert len(script.api_calls) == 1
