"""Reading a request body: bounded in size (413) and in time (408), one timer for all reads."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from zoom_brevo.errors import WebhookRejected
from zoom_brevo.server.body import BodyDeadlines, ClientGone, read_limited


def sent(*chunks: bytes, then_wait: asyncio.Event | None = None) -> Any:
    """An ASGI ``receive`` giving ``chunks`` (the last one final), then waiting if asked."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        if not messages and then_wait is not None:
            await then_wait.wait()
        return messages.pop(0)

    return receive


def stalled(first: bytes = b"") -> Any:
    """A client that sends ``first`` (more to come) and then nothing."""
    forever = asyncio.Event()
    messages = [{"type": "http.request", "body": first, "more_body": True}]

    async def receive() -> dict[str, Any]:
        if not messages:
            await forever.wait()
        return messages.pop(0)

    return receive


async def test_a_body_in_one_message_is_returned_as_sent() -> None:
    deadlines = BodyDeadlines(5.0)
    assert await deadlines.read(sent(b'{"event":"x"}'), 100) == b'{"event":"x"}'


async def test_a_body_in_several_messages_is_joined() -> None:
    assert await BodyDeadlines(5.0).read(sent(b"ab", b"cd", b"e"), 100) == b"abcde"


async def test_a_body_past_the_limit_is_refused_with_413() -> None:
    with pytest.raises(WebhookRejected) as refused:
        await read_limited(sent(b"abc", b"def"), 5)
    assert (refused.value.status, refused.value.reason) == (413, "body_too_large")


async def test_a_client_gone_before_its_body_is_reported() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    with pytest.raises(ClientGone):
        await read_limited(receive, 100)


async def test_a_body_that_stops_coming_is_refused_with_408_after_the_timeout() -> None:
    deadlines = BodyDeadlines(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(WebhookRejected) as refused:
        await deadlines.read(stalled(b"half"), 100)
    assert (refused.value.status, refused.value.reason) == (408, "body_timeout")
    assert 0.05 <= loop.time() - started < 1.0


async def test_each_read_is_cut_off_at_its_own_deadline_and_others_finish() -> None:
    deadlines = BodyDeadlines(0.2)
    loop = asyncio.get_running_loop()
    late = asyncio.create_task(deadlines.read(stalled(), 100))
    await asyncio.sleep(0.1)
    later = asyncio.create_task(deadlines.read(stalled(), 100))
    release = asyncio.Event()
    in_time = asyncio.create_task(deadlines.read(sent(b"a", b"b", then_wait=release), 100))
    ends = {}
    for name, task in (("late", late), ("later", later)):
        with pytest.raises(WebhookRejected):
            await task
        ends[name] = loop.time()
    release.set()
    assert await in_time == b"ab"
    assert ends["later"] - ends["late"] >= 0.05  # the second timed out after the first


async def test_a_read_cancelled_by_someone_else_stays_cancelled() -> None:
    deadlines = BodyDeadlines(5.0)
    task = asyncio.create_task(deadlines.read(stalled(), 100))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_task_goes_on_normally_after_its_read_timed_out() -> None:
    deadlines = BodyDeadlines(0.02)

    async def answer() -> str:
        try:
            await deadlines.read(stalled(), 100)
        except WebhookRejected:
            await asyncio.sleep(0.01)  # would raise CancelledError if still cancelled
            return "408 sent"
        return "read"

    assert await asyncio.create_task(answer()) == "408 sent"


def test_the_deadlines_keep_working_in_a_new_event_loop() -> None:
    deadlines = BodyDeadlines(0.05)
    # A read in time leaves the timer set in the first loop, which then ends.
    assert asyncio.run(deadlines.read(sent(b"x"), 100)) == b"x"
    with pytest.raises(WebhookRejected):
        asyncio.run(deadlines.read(stalled(), 100))
