"""``both``: a webinar's Zoom listings of separate rate categories, collected side by side."""

from __future__ import annotations

import asyncio

import pytest

from zoom_brevo.errors import NotFound
from zoom_brevo.pipeline.sync import both


async def test_both_run_at_the_same_time() -> None:
    started: list[str] = []
    gate = asyncio.Event()

    async def work(name: str) -> None:
        started.append(name)
        if len(started) == 2:
            gate.set()
        await asyncio.wait_for(gate.wait(), timeout=1)  # fails if run one after the other

    await both(work("registrants"), work("reports"))
    assert sorted(started) == ["registrants", "reports"]


async def test_a_failure_is_raised_as_itself_and_cancels_the_other() -> None:
    cancelled = asyncio.Event()

    async def fails() -> None:
        await asyncio.sleep(0)
        raise NotFound("Zoom lists no such webinar.", service="zoom")

    async def waits() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(NotFound, match="no such webinar"):
        await both(waits(), fails())
    assert cancelled.is_set()
